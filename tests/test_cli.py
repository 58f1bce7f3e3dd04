"""`hitl-tui` on the command line: global flags, resume defaults, read-only commands, bad input.

The commands run as a user runs them (`python -m tui ...` in a subprocess, in the isolated HOME of
the root conftest); what the dashboard of a command would run on is built with
`launch_for(argv).parts()` (the factory the app uses) and inspected without starting the app.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from chatserver import ChatServer, call, text, tools

from tui.agent.models import DemoModel, OpenAIChat
from tui.bootstrap import build_agent
from tui.cli import launch_for
from tui.config import load_settings
from tui.store import RunStore

USER_TOOLS = '''
from tui.agent import tool

@tool(requires_confirmation=True)
def launch_rocket(target: str) -> str:
    """Launch a rocket.

    Args:
        target: Where to.
    """
    return f"launched to {target}"

not_a_list = 42
plain = len
'''


def hitl(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )


def record_run(db: Path, prompt: str = "What can you do?") -> str:
    """A finished demo run in `db`; its id."""
    settings = load_settings()
    agent = build_agent(settings, store=RunStore(db), model=DemoModel(delay=0))
    return agent.run(prompt).run_id


def default_db() -> Path:
    return Path(os.environ["HITL_TUI_DB"])


# ----------------------------------------------------------------------------- global flags


def test_a_db_flag_before_the_subcommand_is_honoured(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    run_id = record_run(other)
    done = hitl("--db", str(other), "history")
    assert done.returncode == 0, done.stderr
    assert run_id in done.stdout
    assert not default_db().exists(), "history read (and created) the default database instead"
    # After the subcommand, as before.
    assert run_id in hitl("history", "--db", str(other)).stdout


def test_model_base_url_and_tools_before_resume_are_honoured(tmp_path: Path) -> None:
    (tmp_path / "my_tools.py").write_text(USER_TOOLS)
    run_id = record_run(default_db())
    launch = launch_for(
        ["--base-url", "http://127.0.0.1:9/v1", "--model", "x", "--tools", str(tmp_path / "my_tools.py"), "resume", run_id]
    )
    agent = launch.parts().agent
    assert isinstance(agent.model, OpenAIChat)
    assert (agent.model.id, agent.model.base_url) == ("x", "http://127.0.0.1:9/v1")
    assert "launch_rocket" in agent.functions
    assert launch.resume_run_id == run_id


async def test_a_run_records_its_model_base_url_and_tools_and_resume_defaults_to_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tools_file = tmp_path / "my_tools.py"
    tools_file.write_text(USER_TOOLS)
    with ChatServer([tools(call("launch_rocket", {"target": "moon"}))]) as server:
        # Started with a relative path: the run records where the file is, to load it from anywhere.
        monkeypatch.chdir(tmp_path)
        agent = launch_for(["--model", "served-model", "--base-url", server.url, "--tools", "my_tools.py"]).parts().agent
        monkeypatch.chdir(Path(__file__).parent)
        run = await agent.arun("Launch a rocket to the moon")
        assert run.is_paused
        stored = RunStore(default_db()).load_run(run.run_id)
        assert stored is not None
        assert (stored.model, stored.base_url, stored.tool_specs) == ("served-model", server.url, [str(tools_file)])

        # `resume RUN` with no flags: the same model, server and tools, whatever the config says.
        resumed = launch_for(["resume", run.run_id])
        assert resumed.resume_run_id == run.run_id
        resumed_agent = resumed.parts().agent
        assert isinstance(resumed_agent.model, OpenAIChat)
        assert (resumed_agent.model.id, resumed_agent.model.base_url) == ("served-model", server.url)
        assert "launch_rocket" in resumed_agent.functions
        # A flag still wins over the record.
        assert launch_for(["resume", run.run_id, "--model", "other"]).parts().agent.model.id == "other"


def test_resume_of_a_demo_run_stays_on_the_demo_model_when_an_api_is_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    run_id = record_run(default_db())
    monkeypatch.setenv("HITL_TUI_MODEL", "gpt-4o-mini")
    assert isinstance(launch_for(["resume", run_id]).parts().agent.model, DemoModel)
    assert isinstance(launch_for([]).parts().agent.model, OpenAIChat)


# ----------------------------------------------------------------------------- clear failures


def test_resume_of_an_unknown_run_exits_with_a_message_and_no_dashboard() -> None:
    record_run(default_db())
    done = hitl("resume", "run_nope")
    assert done.returncode == 1
    assert done.stderr == f"hitl-tui: no run 'run_nope' in {default_db()} (`hitl-tui history` lists the runs)\n"
    assert done.stdout == "", "the dashboard started"


def test_read_only_commands_never_create_a_database(tmp_path: Path) -> None:
    typo = tmp_path / "typo.db"
    for args in (
        ["history", "--db", str(typo)],
        ["--db", str(typo), "history"],
        ["export", "run_x", "--db", str(typo)],
        ["resume", "run_x", "--db", str(typo)],
        ["--db", str(typo), "pending"],
        ["approve", "req_x", "--db", str(typo)],
    ):
        done = hitl(*args)
        assert done.returncode == 1, args
        assert f"no history database at {typo}" in done.stderr
        assert "Traceback" not in done.stderr
        assert not typo.exists(), f"{args} created the database"


def test_rules_test_without_a_history_dry_runs_over_nothing_and_creates_nothing(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rule]]\nname = "a"\ntool = "write_file"\neffect = "allow"\n')
    done = hitl("rules", "test", str(rules))
    assert done.returncode == 0, done.stderr
    assert "over 0 recorded tool calls" in done.stdout
    assert not default_db().exists()


@pytest.mark.parametrize(
    "content, complaint",
    [
        ('rule = "x"\n', "'rule' must be an array of tables, written [[rule]] above each rule, not str 'x'"),
        ('[rule]\nname = "a"\ntool = "t"\neffect = "allow"\n', "'rule' must be an array of tables, written [[rule]] above each rule, not dict"),
        ("rules = 5\n", "'rules' must be an array of tables, written [[rules]] above each rule, not int 5"),
    ],
)
def test_a_rules_file_of_the_wrong_shape_is_a_clear_error(tmp_path: Path, content: str, complaint: str) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(content)
    done = hitl("rules", "test", str(rules))
    assert done.returncode == 2
    assert complaint in done.stderr and "Traceback" not in done.stderr
    # At start-up: rules off, with the same message (the app shows it; it does not crash).
    policy = launch_for(["--rules", str(rules)]).parts().agent.policy
    assert complaint in (policy.error or "")
    assert policy.rules == []


def test_tools_that_are_not_tools_are_refused_clearly(tmp_path: Path) -> None:
    (tmp_path / "my_tools.py").write_text(USER_TOOLS)
    done = hitl("--tools", "my_tools.py:not_a_list", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == (
        "hitl-tui: --tools my_tools.py:not_a_list: int 42 is not a tool "
        "(expected an @tool function or a list of them)\n"
    )
    for spec in ("os:system", "my_tools.py:plain"):
        done = hitl("--tools", spec, cwd=tmp_path)
        assert done.returncode == 2, spec
        assert "is a plain function, not a tool" in done.stderr and "@tool" in done.stderr
        assert "Traceback" not in done.stderr


def test_an_invalid_environment_variable_is_named(tmp_path: Path) -> None:
    done = hitl("history", env={"HITL_TUI_DEMO_DELAY": "soon"})
    assert done.returncode == 2
    assert done.stderr.startswith("hitl-tui: invalid settings (HITL_TUI_DEMO_DELAY: demo_delay: Input should be a valid number")


def test_the_demo_subcommand_and_config_path() -> None:
    assert hitl("config-path").stdout.strip() == os.environ["HITL_TUI_CONFIG"]
    done = hitl("demo", "--prompt", "hello", "--delay", "0", "--no-markdown")
    assert done.returncode == 0, done.stderr
    assert "> hello" in done.stdout
