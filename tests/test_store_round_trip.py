"""A run's full state survives the store exactly, and the queryable rows follow every save."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Literal

from tui.agent import Message, RunOutput, RunStatus, ToolExecution, UserInputField
from tui.agent.run import utcnow
from tui.store import RunStore, open_store


def rich_run() -> RunOutput:
    """A paused run with one of everything: edit, user input, external result, rejection, pending."""
    now = utcnow()
    run = RunOutput(session_id="ses_roundtrip", agent_name="tester", model="demo", input="Plan my day — ünïcödé ✓")
    calls = [
        ("c1", "get_calendar", '{"day": "today"}'),
        ("c2", "send_email", '{"subject": "Hi"}'),
        ("c3", "run_shell_command", '{"command": "uname -a"}'),
        ("c4", "delete_files", '{"pattern": "*.log"}'),
        ("c5", "publish_post", '{"title": "Draft"}'),
    ]
    run.messages = [
        Message(role="system", content="Be brief."),
        Message(role="user", content=run.input),
        Message(
            role="assistant",
            content="Let me look.",
            tool_calls=[{"id": i, "type": "function", "function": {"name": n, "arguments": a}} for i, n, a in calls],
        ),
    ]
    edited = ToolExecution(tool_call_id="c1", tool_name="get_calendar", tool_args={"day": "today"}, turn=1,
                           requires_confirmation=True, description="Read the calendar.")
    edited.proposed_args = {"day": "today"}
    edited.confirm(args={"day": "tomorrow"})
    edited.status = "completed"
    edited.executed_args = {"day": "tomorrow"}
    edited.result = "3 meetings"
    edited.started_at, edited.finished_at = now, now + timedelta(seconds=1.5)

    form = ToolExecution(
        tool_call_id="c2", tool_name="send_email", tool_args={"subject": "Hi"}, proposed_args={"subject": "Hi"}, turn=1,
        requires_user_input=True,
        user_input_schema=[
            UserInputField(name="to", field_type=str, description="Recipient"),
            UserInputField(name="priority", field_type=Literal["low", "high"], description="How urgent"),
            UserInputField(name="copies", field_type=int, suggested=1),
        ],
    )
    assert form.provide_user_input({"to": "ada@example.org", "priority": "high", "copies": "3"}) == {}

    external = ToolExecution(tool_call_id="c3", tool_name="run_shell_command", tool_args={"command": "uname -a"},
                             proposed_args={"command": "uname -a"}, turn=1, external_execution_required=True)
    external.set_result("Linux box 6.1.0")

    rejected = ToolExecution(tool_call_id="c4", tool_name="delete_files", tool_args={"pattern": "*.log"},
                             proposed_args={"pattern": "*.log"}, turn=1, requires_confirmation=True,
                             approval_timeout=30.0, on_timeout="approve")
    rejected.reject("Keep the logs until Friday")
    rejected.status = "rejected"
    rejected.result = "The user declined to run delete_files."

    pending = ToolExecution(tool_call_id="c5", tool_name="publish_post", tool_args={"title": "Draft"},
                            proposed_args={"title": "Draft"}, turn=1, requires_confirmation=True)
    run.tools = [edited, form, external, rejected, pending]
    run.status = RunStatus.paused
    run.open_turn = 1
    run.turns = 1
    return run


def stored_state(db: Path | str, run_id: str) -> dict:
    """The run as stored: its header, one row per message and one row per call (schema v3), read
    with the store's own connection (so on either backend)."""
    with open_store(db, recover=False) as store:
        query = store._query
        state = json.loads(query("SELECT state FROM run_states WHERE run_id = ?", (run_id,))[0][0])
        state["messages"] = [json.loads(m[0]) for m in query(
            "SELECT message FROM run_messages WHERE run_id = ? ORDER BY position", (run_id,))]
        state["tools"] = [json.loads(t[0]) for t in query(
            "SELECT state FROM tool_executions WHERE run_id = ? ORDER BY position", (run_id,))]
    return state


def test_a_saved_run_loads_back_identical_and_saves_again_to_the_same_json(tmp_path: Path, store_url: str) -> None:
    db = store_url
    run = rich_run()
    store = open_store(db)
    store.save_run(run)
    first = stored_state(db, run.run_id)

    loaded = open_store(db).load_run(run.run_id)
    assert loaded is not None
    assert loaded.model_dump_json() == run.model_dump_json()
    assert first == json.loads(run.model_dump_json())

    open_store(db).save_run(loaded)
    assert stored_state(db, run.run_id) == first


def test_a_reloaded_run_keeps_its_decisions_and_pending_calls(tmp_path: Path, store_url: str) -> None:
    store = open_store(store_url)
    run = rich_run()
    store.save_run(run)
    loaded = store.load_run(run.run_id)
    assert loaded is not None and loaded.is_paused
    assert [t.tool_call_id for t in loaded.pending_tools] == ["c5"]
    edited, form, external, rejected, _ = loaded.tools
    assert edited.was_edited and edited.executed_args == {"day": "tomorrow"} and edited.decided_by == "user"
    assert [f.value for f in form.user_input_schema or []] == ["ada@example.org", "high", 3]
    assert form.user_input_schema[1].choices == ["low", "high"]  # the Literal still restricts choices
    assert external.result == "Linux box 6.1.0"
    assert rejected.confirmation_note == "Keep the logs until Friday" and rejected.on_timeout == "approve"
    assert loaded.messages[2].tool_calls[0]["function"]["arguments"] == '{"day": "today"}'


def test_load_run_of_an_unknown_id_is_none(tmp_path: Path, store_url: str) -> None:
    assert open_store(store_url).load_run("run_nope") is None


def test_every_save_rewrites_the_tool_rows_and_counters(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    store = RunStore(db)
    run = rich_run()
    store.save_run(run)

    def rows() -> list[tuple]:
        with sqlite3.connect(db) as conn:
            return conn.execute(
                "SELECT tool_call_id, position, tool_name, kind, status, decided_by, confirmed, note"
                " FROM tool_executions WHERE run_id = ? ORDER BY position",
                (run.run_id,),
            ).fetchall()

    assert rows() == [
        ("c1", 0, "get_calendar", "confirmation", "completed", "user", 1, None),
        ("c2", 1, "send_email", "user_input", "pending", "user", None, None),
        ("c3", 2, "run_shell_command", "external", "pending", "user", None, None),
        ("c4", 3, "delete_files", "confirmation", "rejected", "user", 0, "Keep the logs until Friday"),
        ("c5", 4, "publish_post", "confirmation", "pending", None, None, None),
    ]
    summary = store.get_summary(run.run_id)
    assert summary is not None
    assert (summary.tool_count, summary.rejection_count, summary.pending_count) == (5, 1, 1)

    run.tools[4].reject(None)
    run.tools[4].status = "rejected"
    run.tools = run.tools[1:]  # a state with fewer calls: the stale row goes
    store.save_run(run)
    assert [r[0] for r in rows()] == ["c2", "c3", "c4", "c5"]
    assert rows()[-1][4] == "rejected"
    summary = store.get_summary(run.run_id)
    assert summary is not None
    assert (summary.tool_count, summary.rejection_count, summary.pending_count) == (4, 2, 0)


def test_the_store_creates_missing_folders_and_uses_wal_with_full_sync(tmp_path: Path) -> None:
    db = tmp_path / "deep" / "er" / "runs.db"
    store = RunStore(db)
    assert db.exists()
    assert store.journal_mode == "wal"
    with store._lock:  # the store's own connection: pragmas are per connection
        conn = store._connection()
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000


def test_a_batch_is_one_transaction_all_or_nothing(tmp_path: Path, store_url: str) -> None:
    store = open_store(store_url)
    runs = [RunOutput(input=f"prompt {i}") for i in range(3)]
    try:
        with store.batch():
            for r in runs:
                store.save_run(r)
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert store.count_runs() == 0
    with store.batch():
        for r in runs:
            store.save_run(r)
    assert store.count_runs() == 3
