"""`agent.wait_for_decisions(run)`: a headless agent waits for a decision made by anyone.

The clock and the sleep are injected: no test waits on a wall clock. The decider is a second
RunStore on the same file (another connection, as another process would have).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from durability_agent import make_agent

from tui.agent.waiting import DecisionTimeout
from tui.store import RunStore, open_store

PUBLISH = 'call publish_post {"title": "Hello"}'


class FakeTime:
    """A clock that only moves when the waiter sleeps; `on_sleep` runs at the n-th sleep."""

    def __init__(self, on_sleep: dict[int, Any] | None = None) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.on_sleep = on_sleep or {}

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        action = self.on_sleep.get(len(self.sleeps))
        if action is not None:
            action()


async def test_the_waiter_returns_once_someone_else_decided_and_the_continue_applies_it(tmp_path: Path, store_url: str) -> None:
    db = store_url
    agent = make_agent(open_store(db))
    run = await agent.arun(PUBLISH)
    other = open_store(db)  # the deciding process's own connection
    [request] = other.pending_requests()
    fake = FakeTime({3: lambda: other.decide(request.id, "approve", approver="alice")})
    returned = await agent.wait_for_decisions(run, clock=fake.clock, sleep=fake.sleep, poll_interval=0.1)
    assert returned is run
    assert len(fake.sleeps) == 3  # woke at the first poll after the decision
    assert all(s == pytest.approx(0.1) for s in fake.sleeps)  # slept between polls: no busy loop
    await agent.acontinue_run(run)
    assert run.status == "completed" and run.tools[0].result == "published 'Hello'"
    assert [e.approver for e in other.ledger(run.run_id)] == ["alice"]


async def test_a_timeout_raises_a_clear_error_and_leaves_the_run_paused(tmp_path: Path, store_url: str) -> None:
    db = store_url
    agent = make_agent(open_store(db))
    run = await agent.arun(PUBLISH)
    fake = FakeTime()
    with pytest.raises(DecisionTimeout) as info:
        await agent.wait_for_decisions(run, timeout=2, clock=fake.clock, sleep=fake.sleep, poll_interval=0.5)
    message = str(info.value)
    [request] = open_store(db).pending_requests()
    assert "publish_post" in message and "within 2 s" in message and "stays paused" in message
    assert f"pending: {request.id}" in message
    assert fake.now - 1000.0 == pytest.approx(2.0)  # never slept past the deadline
    assert open_store(db).get_summary(run.run_id).status == "paused"  # type: ignore[union-attr]
    assert run.is_paused


async def test_polls_only_re_read_the_inbox_when_the_change_token_moved(tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    db = store_url
    store = open_store(db)
    agent = make_agent(store)
    run = await agent.arun(PUBLISH)
    reads = []
    original = store.pending_requests
    monkeypatch.setattr(store, "pending_requests", lambda run_id=None: reads.append(run_id) or original(run_id=run_id))
    fake = FakeTime()
    with pytest.raises(DecisionTimeout):
        await agent.wait_for_decisions(run, timeout=5, clock=fake.clock, sleep=fake.sleep, poll_interval=0.1)
    assert len(fake.sleeps) == 50 and reads == [run.run_id]  # 50 polls, one inbox read


async def test_waiting_needs_a_shared_store_and_a_finished_run_returns_at_once(tmp_path: Path, store_url: str) -> None:
    from durability_agent import TOOLS

    from tui.agent import Agent
    from tui.agent.models import DemoModel

    bare = Agent(model=DemoModel(delay=0), tools=TOOLS)
    run = await bare.arun(PUBLISH)
    with pytest.raises(ValueError, match="needs a store"):
        await bare.wait_for_decisions(run)
    agent = make_agent(open_store(store_url))
    done = await agent.arun("hello")
    assert await agent.wait_for_decisions(done) is done


async def test_a_passed_approval_deadline_ends_the_wait_so_the_continue_applies_the_timeout(tmp_path: Path, store_url: str) -> None:
    from datetime import timedelta

    from test_approvals_core import deploy

    from tui.agent import Agent
    from tui.agent.models import DemoModel

    agent = Agent(model=DemoModel(delay=0), tools=[deploy], store=open_store(store_url))
    run = await agent.arun('call deploy {"env": "prod"}')
    created = run.tools[0].created_at
    fake = FakeTime()
    wall = lambda: created + timedelta(seconds=(fake.now - 1000.0) + 25)  # noqa: E731 - 25 s already waited
    await agent.wait_for_decisions(run, clock=fake.clock, sleep=fake.sleep, now=wall, poll_interval=1)
    assert len(fake.sleeps) == 5  # returned when the 30 s deadline passed, not before


async def test_on_postgresql_a_waiter_wakes_on_the_decisions_notify_without_polling(postgres_server: Any) -> None:
    """LISTEN/NOTIFY: with a poll interval of a minute, the waiter still returns as soon as another
    connection decides (a waiter that polled would sit out the minute and hit the safety timeout)."""
    import asyncio
    import threading

    from tui.store import open_store

    url = postgres_server.new_schema()
    agent = make_agent(open_store(url))
    run = await agent.arun(PUBLISH)
    other = open_store(url)
    [request] = other.pending_requests()
    waiting = asyncio.ensure_future(agent.wait_for_decisions(run, poll_interval=60.0))
    await asyncio.sleep(0)  # the waiter takes its first look and blocks on the notification
    started = threading.Event()
    decider = threading.Timer(0.2, lambda: (started.set(), other.decide(request.id, "approve", approver="alice")))
    decider.start()
    returned = await asyncio.wait_for(waiting, timeout=20)
    assert started.is_set() and returned is run
    await agent.acontinue_run(run)
    assert run.status == "completed" and run.tools[0].result == "published 'Hello'"
