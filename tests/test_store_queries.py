"""What the history screen and the CLI ask the store: filtered lists, counts, sessions, the ledger."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Callable

import pytest

from tui.agent import RunOutput, RunStatus, ToolExecution
from tui.agent.run import utcnow
from tui.store import RunStore


def make_run(prompt: str, *, status: RunStatus = RunStatus.completed, tools: tuple[str, ...] = (), session: str = "ses_a",
             minutes_ago: int = 0, model: str = "demo") -> RunOutput:
    when = utcnow() - timedelta(minutes=minutes_ago)
    run = RunOutput(input=prompt, status=status, session_id=session, model=model, created_at=when, updated_at=when)
    for i, name in enumerate(tools):
        t = ToolExecution(tool_call_id=f"c{i}", tool_name=name, requires_confirmation=True, turn=1)
        if status == RunStatus.paused:
            run.open_turn = 1
        else:
            t.status = "completed"
        run.tools.append(t)
    return run


@pytest.fixture
def store(make_store: Callable[..., RunStore]) -> RunStore:
    s = make_store()
    s.save_run(make_run("Fetch the top 3 hackernews stories", tools=("get_top_hackernews_stories",), minutes_ago=50))
    s.save_run(make_run("Send an email to Ada", status=RunStatus.paused, tools=("send_email",), minutes_ago=40))
    s.save_run(make_run("Write 100% of notes_v2.txt", tools=("write_file", "read_file"), minutes_ago=30, session="ses_b"))
    s.save_run(make_run("What is on hacker news", status=RunStatus.error, minutes_ago=20, session="ses_b"))
    s.save_run(make_run("Email the weekly report", status=RunStatus.paused, tools=("send_email",), minutes_ago=10))
    return s


def make_empty_store(store: RunStore) -> RunStore:
    """An empty store on the same backend as `store`."""
    if isinstance(store.path, Path):
        return RunStore(store.path.parent / "empty.db")
    import psycopg

    from tui.store import open_store

    url: str = store.url  # type: ignore[attr-defined]
    schema = "empty_" + url.rsplit("search_path%3D", 1)[1]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return open_store(url.replace("search_path%3D", "search_path%3Dempty_"))


def prompts(runs: list) -> list[str]:
    return [r.prompt for r in runs]


def test_runs_are_listed_most_recently_updated_first(store: RunStore) -> None:
    assert prompts(store.list_runs()) == [
        "Email the weekly report",
        "What is on hacker news",
        "Write 100% of notes_v2.txt",
        "Send an email to Ada",
        "Fetch the top 3 hackernews stories",
    ]
    first = store.list_runs(limit=1)[0]
    assert first.model == "demo" and first.status == "paused" and first.tool_count == 1 and first.pending_count == 1


def test_pages_follow_each_other(store: RunStore) -> None:
    assert prompts(store.list_runs(limit=2)) + prompts(store.list_runs(limit=2, offset=2)) + prompts(
        store.list_runs(limit=2, offset=4)
    ) == prompts(store.list_runs())


def test_filtering_by_status_tool_session_and_text(store: RunStore) -> None:
    assert prompts(store.list_runs(status="paused")) == ["Email the weekly report", "Send an email to Ada"]
    assert prompts(store.list_runs(status=RunStatus.error)) == ["What is on hacker news"]
    assert len(store.list_runs(status=["paused", "error"])) == 3
    assert prompts(store.list_runs(tool="read_file")) == ["Write 100% of notes_v2.txt"]
    assert prompts(store.list_runs(tool="send_email", status="paused", limit=1)) == ["Email the weekly report"]
    assert prompts(store.list_runs(session_id="ses_b")) == ["What is on hacker news", "Write 100% of notes_v2.txt"]
    assert prompts(store.list_runs(text="HACKER")) == ["What is on hacker news", "Fetch the top 3 hackernews stories"]
    assert prompts(store.list_runs(text="on hacker")) == ["What is on hacker news"]
    assert prompts(store.list_runs(text="email ada")) == ["Send an email to Ada"]  # every word must match


def test_text_search_treats_like_wildcards_literally(store: RunStore) -> None:
    assert prompts(store.list_runs(text="100%")) == ["Write 100% of notes_v2.txt"]
    assert prompts(store.list_runs(text="notes_v2")) == ["Write 100% of notes_v2.txt"]
    assert store.list_runs(text="notes_v3") == []
    assert store.list_runs(text="%") == [r for r in store.list_runs() if "%" in (r.prompt or "")]
    assert store.list_runs(text="_") == [r for r in store.list_runs() if "_" in (r.prompt or "")]


def test_a_run_can_be_found_by_its_id_or_the_start_of_it(store: RunStore) -> None:
    run_id = store.list_runs()[2].run_id
    assert [r.run_id for r in store.list_runs(text=run_id)] == [run_id]
    assert run_id in [r.run_id for r in store.list_runs(text=run_id[:8])]
    assert len(store.list_runs(text="ses_b")) == 2


def test_an_unknown_status_is_a_clear_error(store: RunStore) -> None:
    with pytest.raises(ValueError, match="unknown run status 'finished'"):
        store.list_runs(status="finished")


def test_counting_uses_the_same_filters(store: RunStore) -> None:
    assert store.count_runs() == 5
    assert store.count_runs(status="paused") == 2
    assert store.count_runs(tool="send_email", text="weekly") == 1


def test_paused_runs_come_oldest_first_with_their_pending_calls(store: RunStore) -> None:
    paused = store.paused_runs()
    assert [r.input for r in paused] == ["Send an email to Ada", "Email the weekly report"]
    assert all(r.is_paused and [t.tool_name for t in r.pending_tools] == ["send_email"] for r in paused)


def test_latest_run_overall_and_per_session(store: RunStore) -> None:
    latest = store.latest_run()
    assert latest is not None and latest.input == "Email the weekly report"
    latest_b = store.latest_run("ses_b")
    assert latest_b is not None and latest_b.input == "What is on hacker news"
    assert store.latest_run("ses_none") is None
    assert make_empty_store(store).latest_run() is None


def test_sessions_list_their_first_prompt_and_runs_oldest_first(store: RunStore) -> None:
    sessions = {s.session_id: s for s in store.list_sessions()}
    assert sessions["ses_a"].title == "Fetch the top 3 hackernews stories"
    assert sessions["ses_a"].run_count == 3 and sessions["ses_a"].last_status == "paused"
    assert sessions["ses_b"].run_count == 2 and sessions["ses_b"].last_status == "error"
    assert [s.session_id for s in store.list_sessions()] == ["ses_a", "ses_b"]
    assert [r.input for r in store.session_runs("ses_b")] == ["Write 100% of notes_v2.txt", "What is on hacker news"]
    assert store.session_runs("ses_none") == []


def test_the_ledger_keeps_the_first_decision_for_a_call(make_store: Callable[..., RunStore]) -> None:
    store = make_store()
    run = make_run("Publish", status=RunStatus.paused, tools=("publish_post",))
    tool = run.tools[0]
    tool.proposed_args = {"title": "A"}
    tool.confirm(args={"title": "B"})
    tool.executed_args = {"title": "B"}
    store.record_decision(run, tool, "edited")
    store.record_decision(run, tool, "edited")  # a continue retried after a crash
    tool.reject("changed my mind")
    store.record_decision(run, tool, "rejected")  # never overwrites what was recorded
    [entry] = store.ledger(run.run_id)
    assert entry.decision == "edited" and entry.decided_by == "user"
    assert entry.proposed_args == {"title": "A"} and entry.decision_args == {"title": "B"}
    assert entry.executed_args == {"title": "B"}
    assert store.ledger("run_other") == []


def test_recording_a_decision_saves_the_run_that_carries_it(make_store: Callable[..., RunStore]) -> None:
    store = make_store()
    run = make_run("Publish", status=RunStatus.paused, tools=("publish_post",))
    run.tools[0].confirm()
    store.record_decision(run, run.tools[0], "approved")  # never saved before: no foreign-key failure
    loaded = store.load_run(run.run_id)
    assert loaded is not None and loaded.tools[0].confirmed is True


def test_iterating_every_run_goes_oldest_first_in_pages(store: RunStore) -> None:
    everything = [r.input for r in store.iter_runs(page=2)]
    assert everything == list(reversed(prompts(store.list_runs())))
    assert [r.input for r in store.iter_runs(status="paused", page=1)] == ["Send an email to Ada", "Email the weekly report"]
    assert [r.input for r in store.iter_runs(session_id="ses_b")] == ["Write 100% of notes_v2.txt", "What is on hacker news"]
    assert list(store.iter_runs(text="nothing like this")) == []
