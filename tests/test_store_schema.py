"""Schema versions, migrations, the append-only ledger, and errors that name their cause."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tui.agent import RunOutput, RunStatus, ToolExecution
from tui.store import INTERRUPTED, SCHEMA_VERSION, RunStore, StoreError
from tui.store.schema import migrate


def build_v1_database(db: Path) -> dict[str, RunOutput]:
    """A database as hitl-tui's first schema wrote it, with a paused run, a rejection and a crash."""
    conn = sqlite3.connect(db, isolation_level=None)
    assert migrate(conn, target=1) == [1]
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    columns = [row[1] for row in conn.execute("PRAGMA table_info(runs)")]
    assert "owner_pid" not in columns and "rejection_count" not in columns  # really version 1

    paused = RunOutput(run_id="run_v1_paused", session_id="ses_v1", model="gpt-x", input="Clean up the logs",
                       status=RunStatus.paused, open_turn=1, turns=1)
    paused.tools = [
        ToolExecution(tool_call_id="c1", tool_name="delete_files", tool_args={"pattern": "*.log"}, turn=1,
                      requires_confirmation=True, status="rejected", confirmed=False, decided_by="user",
                      confirmation_note="not today"),
        ToolExecution(tool_call_id="c2", tool_name="publish_post", tool_args={"title": "x"}, turn=1,
                      requires_confirmation=True),
    ]
    crashed = RunOutput(run_id="run_v1_running", session_id="ses_v1", model="gpt-x", input="Summarise", turns=0)
    for run in (paused, crashed):
        ts = run.created_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        conn.execute("INSERT OR IGNORE INTO sessions VALUES (?, ?, ?, ?, ?)", (run.session_id, run.input, None, ts, ts))
        conn.execute(
            "INSERT INTO runs (run_id, session_id, agent_name, model, status, input, error, turns, tool_count,"
            " created_at, updated_at) VALUES (?, ?, NULL, ?, ?, ?, NULL, ?, ?, ?, ?)",
            (run.run_id, run.session_id, run.model, run.status.value, run.input, run.turns, len(run.tools), ts, ts),
        )
        conn.execute("INSERT INTO run_states VALUES (?, ?)", (run.run_id, run.model_dump_json()))
        for i, t in enumerate(run.tools):
            conn.execute(
                "INSERT INTO tool_executions (run_id, tool_call_id, position, turn, tool_name, kind, status, args,"
                " confirmed, note, decided_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run.run_id, t.tool_call_id, i, t.turn, t.tool_name, t.kind, t.status, json.dumps(t.tool_args),
                 None if t.confirmed is None else int(t.confirmed), t.confirmation_note, t.decided_by, ts),
            )
    conn.execute(
        "INSERT INTO decisions (run_id, tool_call_id, tool_name, decision, note, decided_by, decided_at,"
        " proposed_args, executed_args, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ("run_v1_paused", "c1", "delete_files", "rejected", "not today", "user", "2025-01-02T03:04:05.000000Z",
         '{"pattern": "*.log"}', None, "2025-01-02T03:04:05.100000Z"),
    )
    conn.close()
    return {"paused": paused, "crashed": crashed}


def test_a_version_1_database_is_upgraded_without_losing_a_row(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    runs = build_v1_database(db)

    store = RunStore(db)
    assert store.schema_version == SCHEMA_VERSION == 3
    assert store.count_runs() == 2

    loaded = store.load_run("run_v1_paused")
    assert loaded is not None and loaded.model_dump_json() == runs["paused"].model_dump_json()
    summary = store.get_summary("run_v1_paused")
    assert summary is not None
    assert (summary.tool_count, summary.rejection_count, summary.pending_count) == (2, 1, 1)  # backfilled
    [entry] = store.ledger("run_v1_paused")
    assert (entry.decision, entry.note, entry.decided_by) == ("rejected", "not today", "user")
    assert entry.proposed_args == {"pattern": "*.log"} and entry.decision_args is None
    assert [s.session_id for s in store.list_sessions()] == ["ses_v1"]
    assert [r.run_id for r in store.list_runs(tool="delete_files")] == ["run_v1_paused"]

    # A run left `running` by a version that did not record its process: settled on open.
    assert store.recovered == ["run_v1_running"]
    crashed = store.load_run("run_v1_running")
    assert crashed is not None and crashed.status == RunStatus.error and crashed.error == INTERRUPTED

    # The upgraded database takes new writes, and opening it again changes nothing.
    loaded.tools[1].confirm()
    store.record_decision(loaded, loaded.tools[1], "approved")
    assert len(store.ledger("run_v1_paused")) == 2
    again = RunStore(db)
    assert again.schema_version == 3 and again.count_runs() == 2 and again.recovered == []


def test_a_database_from_a_newer_version_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    RunStore(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(StoreError, match=r"newer hitl-tui \(schema version 99; this version knows up to 3\)"):
        RunStore(db)


def test_the_ledger_cannot_be_updated_or_deleted(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    store = RunStore(db)
    run = RunOutput(input="x", status=RunStatus.paused, open_turn=1)
    run.tools = [ToolExecution(tool_call_id="c1", tool_name="t", requires_confirmation=True, turn=1)]
    run.tools[0].confirm()
    store.record_decision(run, run.tools[0], "approved")

    conn = sqlite3.connect(db)
    with pytest.raises(sqlite3.DatabaseError, match="append-only: a decision cannot be changed"):
        conn.execute("UPDATE decisions SET decision = 'rejected'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only: a decision cannot be deleted"):
        conn.execute("DELETE FROM decisions")
    conn.rollback()
    conn.execute("PRAGMA foreign_keys = ON")  # (a no-op inside a transaction)
    with pytest.raises(sqlite3.IntegrityError):  # nor can the run it belongs to disappear
        conn.execute("DELETE FROM runs WHERE run_id = ?", (run.run_id,))
    conn.rollback()
    conn.close()
    assert [e.decision for e in store.ledger(run.run_id)] == ["approved"]


def test_a_path_that_cannot_be_created_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("I am a file")
    with pytest.raises(StoreError, match=r"cannot create the folder for the history database .*not-a-folder"):
        RunStore(blocker / "runs.db")


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    db.write_bytes(b"these are my notes, not a database" * 100)
    with pytest.raises(StoreError, match="not a SQLite database"):
        RunStore(db)


def test_a_closed_store_says_so(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.db")
    store.close()
    with pytest.raises(StoreError, match="the store was closed"):
        store.save_run(RunOutput(input="x"))
