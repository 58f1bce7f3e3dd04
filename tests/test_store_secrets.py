"""Secrets never reach the history database or an export, while the live run keeps using them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tui.agent import Agent, RunStatus, tool
from tui.agent.models import DemoModel
from tui.store import REDACTED, Redactor, RunStore
from tui.cli.history import export_command
from tui.store.export import export_json, export_markdown

PASSWORD = "hunter2-correct-horse"
API_KEY = "sk-proj-Ab12Cd34Ef56Gh78Ij90"
BEARER = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJl"
ENV_SECRET = "zz-literal-secret-777"
received: list[dict[str, Any]] = []


@tool(requires_confirmation=True)
def login(username: str, password: str, api_key: str, max_tokens: int = 100) -> str:
    """Log in to the service.

    Args:
        username: Who logs in.
        password: Their password.
        api_key: The service key.
        max_tokens: A budget (not a secret).
    """
    received.append({"username": username, "password": password, "api_key": api_key})
    return f"logged in; server said: Authorization: Bearer {BEARER}; session token={ENV_SECRET}"


@tool(user_input_fields=["password"])
def connect(host: str, password: str) -> str:
    """Connect to a host with a password the user types.

    Args:
        host: The host.
        password: The user's password.
    """
    received.append({"host": host, "password": password})
    return f"connected to {host}"


def all_bytes(folder: Path) -> bytes:
    """Every byte SQLite wrote: the database, its WAL and its shared-memory index."""
    return b"".join(p.read_bytes() for p in sorted(folder.glob("runs.db*")))


def leaks(blob: bytes | str) -> list[str]:
    data = blob.encode() if isinstance(blob, str) else blob
    return [s for s in (PASSWORD, API_KEY, BEARER, ENV_SECRET) if s.encode() in data]


async def test_secrets_in_arguments_prompts_and_results_never_reach_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACME_SERVICE_TOKEN", ENV_SECRET)
    received.clear()
    store = RunStore(tmp_path / "runs.db")
    agent = Agent(model=DemoModel(delay=0), tools=[login], store=store)
    args = {"username": "ada", "password": PASSWORD, "api_key": API_KEY, "max_tokens": 512}
    run = await agent.arun("call login " + json.dumps(args))
    assert run.is_paused
    run.tools[0].confirm()
    run = await agent.acontinue_run(run)
    assert run.status == RunStatus.completed

    # The live run used the real values...
    assert received == [{"username": "ada", "password": PASSWORD, "api_key": API_KEY}]
    assert run.tools[0].tool_args["password"] == PASSWORD
    # ...and nothing secret was ever written, in any file SQLite keeps.
    assert leaks(all_bytes(tmp_path)) == []

    stored = RunStore(tmp_path / "runs.db").load_run(run.run_id)
    assert stored is not None
    t = stored.tools[0]
    assert t.tool_args == {"username": "ada", "password": REDACTED, "api_key": REDACTED, "max_tokens": 512}
    assert t.executed_args == t.tool_args
    assert f"Bearer {REDACTED}" in (t.result or "") and ENV_SECRET not in (t.result or "")
    assert "ada" in (stored.input or "") and "max_tokens" in (stored.input or "")
    [entry] = store.ledger(run.run_id)
    assert entry.proposed_args == {"username": "ada", "password": REDACTED, "api_key": REDACTED, "max_tokens": 512}

    assert leaks(export_json(store, run.run_id)) == []
    assert leaks(export_markdown(store, run.run_id)) == []


async def test_a_secret_typed_into_a_form_is_not_stored_and_is_asked_again_after_a_restart(tmp_path: Path) -> None:
    received.clear()
    db = tmp_path / "runs.db"
    agent = Agent(model=DemoModel(delay=0), tools=[connect], store=RunStore(db))
    run = await agent.arun('call connect {"host": "db.internal"}')
    assert run.tools[0].provide_user_input({"password": PASSWORD}) == {}
    agent.save_decisions(run)
    assert leaks(all_bytes(tmp_path)) == []

    # After a restart the field is empty again: the run waits for it instead of using a placeholder.
    restarted = RunStore(db).load_run(run.run_id)
    assert restarted is not None and restarted.is_paused
    assert [t.tool_name for t in restarted.tools_requiring_user_input] == ["connect"]

    # The process that was told the password still finishes with it; only the placeholder is stored.
    run = await agent.acontinue_run(run)
    assert run.status == RunStatus.completed
    assert received == [{"host": "db.internal", "password": PASSWORD}]
    assert leaks(all_bytes(tmp_path)) == []
    done = RunStore(db).load_run(run.run_id)
    assert done is not None
    assert done.tools[0].user_input_schema[0].value == REDACTED  # type: ignore[index]
    assert done.tools[0].executed_args == {"host": "db.internal", "password": REDACTED}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"key is {API_KEY}.", f"key is {REDACTED}."),
        ("Authorization: Bearer abcdefgh12345678", f"Authorization: Bearer {REDACTED}"),
        ('{"api_key": "abc123", "model": "x"}', f'{{"api_key": "{REDACTED}", "model": "x"}}'),
        ('{\\"password\\": \\"abc123\\"}', f'{{\\"password\\": \\"{REDACTED}\\"}}'),
        ("password=abc123&user=ada", f"password={REDACTED}&user=ada"),
        ("github_token: ghp_" + "a" * 36, f"github_token: {REDACTED}"),
        ("AWS AKIAABCDEFGHIJKLMNOP here", f"AWS {REDACTED} here"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", REDACTED),
        # Not secrets: left exactly as they were.
        ("max_tokens: 512, token_count=3", "max_tokens: 512, token_count=3"),
        ("ask-the-team-about-it and sk-learn-tutorial-basics", "ask-the-team-about-it and sk-learn-tutorial-basics"),
        ("The token budget is large.", "The token budget is large."),
    ],
)
def test_what_the_redactor_hides_in_text(text: str, expected: str) -> None:
    assert Redactor(include_environment=False).text(text) == expected


def test_secret_named_arguments_are_hidden_at_any_depth_but_not_their_neighbours() -> None:
    r = Redactor(include_environment=False)
    args = {"user": "ada", "auth": {"client_secret": "s3", "scopes": ["read"]}, "headers": [{"Authorization": "x"}],
            "max_tokens": 5, "enabled_token": True, "password": None}
    assert r.args(args) == {"user": "ada", "auth": {"client_secret": REDACTED, "scopes": ["read"]},
                            "headers": [{"Authorization": REDACTED}], "max_tokens": 5, "enabled_token": True,
                            "password": None}


def test_the_cli_export_never_prints_a_secret(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tui.agent import RunOutput

    store = RunStore(tmp_path / "runs.db", secrets=["custom-secret-value"])
    run = RunOutput(input=f"use {API_KEY} and custom-secret-value", status=RunStatus.completed)
    store.save_run(run)
    for fmt in ("md", "json"):
        assert export_command(store, run.run_id, fmt) == 0
        out = capsys.readouterr().out
        assert API_KEY not in out and "custom-secret-value" not in out and REDACTED in out
