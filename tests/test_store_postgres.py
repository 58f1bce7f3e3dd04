"""What only the PostgreSQL store has to show: its schema version table and migration, the
append-only ledger enforced by the server, the URL plumbing (`--db`, HITL_TUI_DB), clear errors,
and no password in messages. Everything else runs on both backends in the tests/test_store_*.py
and inbox tests (the `store_url` fixture, tests/conftest.py)."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from tui.agent import RunOutput, RunStatus, ToolExecution
from tui.store import SCHEMA_VERSION, StoreError, open_store


def decided_run(store: Any) -> RunOutput:
    run = RunOutput(input="x", status=RunStatus.paused, open_turn=1)
    run.tools = [ToolExecution(tool_call_id="c1", tool_name="t", requires_confirmation=True, turn=1)]
    run.tools[0].confirm()
    store.record_decision(run, run.tools[0], "approved")
    return run


def test_the_ledger_cannot_be_updated_deleted_or_truncated_on_the_server(postgres_server: Any) -> None:
    import psycopg

    url = postgres_server.new_schema()
    store = open_store(url)
    run = decided_run(store)
    with psycopg.connect(url, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.RaiseException, match="append-only: a decision cannot be changed"):
            conn.execute("UPDATE decisions SET decision = 'rejected'")
        with pytest.raises(psycopg.errors.RaiseException, match="append-only: a decision cannot be deleted"):
            conn.execute("DELETE FROM decisions")
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            conn.execute("TRUNCATE decisions CASCADE")
        with pytest.raises(psycopg.errors.ForeignKeyViolation):  # nor can its run disappear
            conn.execute("DELETE FROM runs WHERE run_id = %s", (run.run_id,))
    assert [e.decision for e in store.ledger(run.run_id)] == ["approved"]


def test_a_new_database_is_migrated_once_by_concurrent_openers(postgres_server: Any) -> None:
    import psycopg

    url = postgres_server.new_schema()
    opened: list[Any] = []
    errors: list[BaseException] = []

    def opener() -> None:
        try:
            opened.append(open_store(url))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and len(opened) == 6
    assert {s.schema_version for s in opened} == {SCHEMA_VERSION}
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*), max(version) FROM hitl_tui_schema").fetchone() == (1, SCHEMA_VERSION)
        assert conn.execute("SELECT counter FROM changes").fetchone() == (0,)


def test_a_database_from_a_newer_version_is_refused_with_a_clear_message(postgres_server: Any) -> None:
    import psycopg

    url = postgres_server.new_schema()
    open_store(url).close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE hitl_tui_schema SET version = 99")
    with pytest.raises(StoreError, match=rf"newer hitl-tui \(schema version 99; this version knows up to {SCHEMA_VERSION}\)"):
        open_store(url)


def test_an_unreachable_server_is_a_clear_error_without_the_password(tmp_path: Path) -> None:
    url = f"postgresql://ada:hunter2@/hitl?host={tmp_path}&port=1"
    with pytest.raises(StoreError, match="cannot connect to the PostgreSQL server") as caught:
        open_store(url, busy_timeout=1)
    assert "hunter2" not in str(caught.value) and "ada:***@" in str(caught.value)


def test_runstore_refuses_a_url_instead_of_making_a_folder_of_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tui.store import RunStore

    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError, match="open a URL with tui.store.open_store"):
        RunStore("postgresql://ada@db/hitl")
    assert list(tmp_path.iterdir()) == []


def test_the_db_setting_keeps_a_url_and_expands_a_path(monkeypatch: pytest.MonkeyPatch) -> None:
    from tui.config import Settings

    assert Settings(db="postgresql://ada@db.internal:5432/hitl").db == "postgresql://ada@db.internal:5432/hitl"
    assert Settings(db="~/runs.db").db == Path.home() / "runs.db"


def test_the_cli_decides_on_a_postgresql_store_named_by_hitl_tui_db(postgres_server: Any) -> None:
    import os

    url = postgres_server.new_schema()
    store = open_store(url)
    run = RunOutput(input="x", status=RunStatus.paused, open_turn=1, agent_name="team-agent")
    run.tools = [ToolExecution(tool_call_id="c1", tool_name="publish_post", tool_args={"title": "Hi"},
                               requires_confirmation=True, turn=1)]
    store.save_run(run)
    [request] = store.pending_requests()
    env = {**os.environ, "HITL_TUI_DB": url}
    done = subprocess.run([sys.executable, "-m", "tui", "approve", request.id, "--as", "carol"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Approved publish_post" in done.stdout
    [entry] = store.ledger(run.run_id)
    assert (entry.decision, entry.approver) == ("approved", "carol")
    bad = subprocess.run([sys.executable, "-m", "tui", "pending", "--db", "postgresql://ada:hunter2@/nope?host=/nonexistent&port=1"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "cannot connect to the PostgreSQL server" in bad.stderr
    assert "hunter2" not in bad.stderr
