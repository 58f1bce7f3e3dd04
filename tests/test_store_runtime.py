"""The agent writes to the store as it goes, and another Agent (with another store) finishes the run."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

from durability_agent import PUBLISH, make_agent

from tui.agent import Agent, Policy, RunStatus, tool
from tui.agent.events import RunError
from tui.agent.models import DemoModel
from tui.store import RunStore, open_store

HN_AND_EMAIL = "Fetch the top 2 hackernews stories and send an email with the subject 'Digest' and the body 'See below'"
ran: list[tuple[str, dict[str, Any]]] = []


@tool(requires_confirmation=True)
def get_top_hackernews_stories(num_stories: int) -> str:
    """The top stories on Hacker News.

    Args:
        num_stories: How many stories.
    """
    ran.append(("hn", {"num_stories": num_stories}))
    return f"[{num_stories} stories]"


@tool(user_input_fields=["to"])
def send_email(subject: str, body: str, to: str) -> str:
    """Send an email.

    Args:
        subject: The subject line.
        body: The text.
        to: The recipient's address.
    """
    ran.append(("email", {"subject": subject, "body": body, "to": to}))
    return f"sent to {to}"


def agent_on(db: Path | str, **kwargs: Any) -> Agent:
    return Agent(model=DemoModel(delay=0), tools=[get_top_hackernews_stories, send_email], store=open_store(db), **kwargs)


async def test_a_paused_run_is_stored_and_a_new_agent_and_store_finish_it(tmp_path: Path, store_url: str) -> None:
    db = store_url
    ran.clear()
    first = agent_on(db)
    run = await first.arun(HN_AND_EMAIL)
    assert run.is_paused

    # What another process sees: the paused run with both pending calls, and nothing decided.
    reader = open_store(db)
    [summary] = reader.list_runs(status="paused")
    assert summary.run_id == run.run_id and summary.pending_count == 2 and summary.tool_count == 2
    stored = reader.load_run(run.run_id)
    assert stored is not None
    assert [t.tool_name for t in stored.pending_tools] == ["get_top_hackernews_stories", "send_email"]
    assert reader.ledger(run.run_id) == []

    # Decide in a second "process": a fresh store and agent, decisions saved before continuing.
    second = agent_on(db)
    resumed = second.get_run(run.run_id)
    assert resumed is not None
    hn, email = resumed.tools
    hn.confirm(args={"num_stories": 3})
    assert email.provide_user_input({"to": "ada@example.org"}) == {}
    second.save_decisions(resumed)

    third = agent_on(db)
    final = await third.acontinue_run(run_id=run.run_id)
    assert final.status == RunStatus.completed
    assert ran == [("hn", {"num_stories": 3}), ("email", {"subject": "Digest", "body": "See below", "to": "ada@example.org"})]

    after = open_store(db)
    assert after.load_run(run.run_id).model_dump_json() == final.model_dump_json()  # type: ignore[union-attr]
    entries = after.ledger(run.run_id)
    assert [(e.tool_name, e.decision, e.decided_by) for e in entries] == [
        ("get_top_hackernews_stories", "edited", "user"),
        ("send_email", "input_provided", "user"),
    ]
    assert entries[0].proposed_args == {"num_stories": 2}
    assert entries[0].decision_args == {"num_stories": 3}
    assert entries[0].executed_args == {"num_stories": 3}
    assert entries[1].proposed_args == {"subject": "Digest", "body": "See below"}
    assert entries[1].executed_args == {"subject": "Digest", "body": "See below", "to": "ada@example.org"}
    [done] = after.list_runs()
    assert (done.status, done.tool_count, done.rejection_count, done.pending_count) == ("completed", 2, 0, 0)


async def test_rejections_and_policy_decisions_are_in_the_ledger_with_who_decided(tmp_path: Path, store_url: str) -> None:
    db = store_url
    policy = Policy()
    policy.allow_for_session("publish_post")
    allowed = await make_agent(open_store(db), policy=policy).arun(PUBLISH)
    assert allowed.status == RunStatus.completed

    agent = make_agent(open_store(db))
    rejected = await agent.arun(PUBLISH)
    rejected.tools[0].reject("Not before the review")
    rejected = await agent.acontinue_run(rejected)
    assert rejected.status == RunStatus.completed

    store = open_store(db)
    [auto] = store.ledger(allowed.run_id)
    assert (auto.decision, auto.decided_by, auto.executed_args) == ("auto_allowed", "session-allow", {"title": "Hello"})
    [no] = store.ledger(rejected.run_id)
    assert (no.decision, no.decided_by, no.note, no.executed_args) == ("rejected", "user", "Not before the review", None)
    assert store.get_summary(rejected.run_id).rejection_count == 1  # type: ignore[union-attr]
    assert [r.run_id for r in store.list_runs(tool="publish_post")] == [rejected.run_id, allowed.run_id]


async def test_every_step_is_on_disk_before_the_next_one(tmp_path: Path) -> None:
    """Watch the database from outside while the run streams: it never lags behind the events."""
    db = tmp_path / "runs.db"
    agent = make_agent(RunStore(db))
    seen: list[tuple[str, str]] = []

    def on_disk(run_id: str) -> str:
        with sqlite3.connect(db) as conn:
            return conn.execute("SELECT status FROM runs WHERE run_id = ?", (run_id,)).fetchone()[0]

    async for event in agent.arun(PUBLISH, stream=True):
        seen.append((type(event).__name__, on_disk(event.run_id)))
    assert seen[0] == ("RunStarted", "running")
    assert seen[-1] == ("RunPaused", "paused")


async def test_a_store_that_cannot_write_ends_the_run_with_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    agent = make_agent(RunStore(db, busy_timeout=0.2))
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock for too long
    try:
        events = [event async for event in agent.arun(PUBLISH, stream=True)]
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    run = agent.run_response
    assert run is not None and run.status == RunStatus.error
    assert isinstance(events[-1], RunError) and events[-1].error == run.error
    assert run.error.startswith(f"could not save run {run.run_id} to the history database: {db}: ")
    assert "the database is locked: another process kept it busy for more than 0.2 s" in (run.error or "")


async def test_a_failing_store_is_never_swallowed_when_continuing(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    store = RunStore(db, busy_timeout=0.1)
    agent = make_agent(store)
    run = await agent.arun(PUBLISH)
    run.tools[0].confirm()
    store.close()  # e.g. the UI closed the store under a running agent
    run = await agent.acontinue_run(run)
    assert run.status == RunStatus.error
    assert "the store was closed" in (run.error or "")


@tool(user_input_fields=["to"], approval_timeout=0.05)
def slow_to_answer_form(body: str, to: str) -> str:
    """Send a message; the user must name the recipient in time.

    Args:
        body: The text.
        to: The recipient.
    """
    raise AssertionError("must not run without the user's input")


@tool(external_execution=True, approval_timeout=0.05)
def slow_to_answer_external(command: str) -> str:
    """A command the user runs elsewhere and pastes back, in time.

    Args:
        command: The command.
    """
    raise AssertionError("external tools never run here")


async def test_a_call_that_timed_out_waiting_for_a_person_is_in_the_ledger_and_never_completed(tmp_path: Path, store_url: str) -> None:
    store = open_store(store_url)
    for name, args in (("slow_to_answer_form", '{"body": "hi"}'), ("slow_to_answer_external", '{"command": "ls"}')):
        agent = Agent(model=DemoModel(delay=0), tools=[slow_to_answer_form, slow_to_answer_external], store=store)
        run = await agent.arun(f"call {name} {args}")
        assert run.is_paused
        run.tools[0].created_at -= timedelta(seconds=1)  # nobody answered within the timeout
        run = await agent.acontinue_run(run)
        assert run.status == RunStatus.completed
        t = run.tools[0]
        assert (t.status, t.decided_by, t.executed_args) == ("rejected", "timeout", None)
        [entry] = store.ledger(run.run_id)
        assert (entry.tool_name, entry.decision, entry.decided_by, entry.executed_args) == (name, "timed_out", "timeout", None)
        assert store.get_summary(run.run_id).rejection_count == 1  # type: ignore[union-attr]
