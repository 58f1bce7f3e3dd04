"""The headless approvals core: what waits, what comes next, batches, deadlines, and the one rule
for when a run may continue. The dashboard and the terminal demo are views of it: when the core
says "not yet", neither continues a run."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from durability_agent import make_agent, publish_post
from ui_support import WIDE, make_app, settle, type_text

from tui.agent import Agent, tool
from tui.agent.approvals import ApprovalsCore
from tui.agent.decisions import Decision
from tui.cli.demo import run_prompt
from tui.agent.models import DemoModel
from tui.agent.run import utcnow
from tui.screens.confirm_modal import ConfirmModal
from tui.screens.dashboard import Dashboard
from tui.store import RunStore


@tool(requires_confirmation=True, approval_timeout=30)
def deploy(env: str) -> str:
    """Deploy the service.

    Args:
        env: Where to deploy.
    """
    return f"deployed to {env}"


async def test_next_item_is_the_oldest_undeferred_call_and_the_run_may_continue_once_all_are_decided(tmp_path: Path) -> None:
    agent = make_agent(RunStore(tmp_path / "runs.db"))
    core = ApprovalsCore(agent)
    run = core.track(await agent.arun('call publish_post {"title": "Hello"}'))
    assert run.is_paused
    first = core.next_item()
    assert first is not None and first[1].tool_name == "publish_post"
    assert not core.may_continue(run)
    core.defer(run.run_id, first[1].tool_call_id)
    assert core.next_item() is None  # deferred: not offered again until opened
    assert [t.tool_name for _, t in core.pending()] == ["publish_post"]  # but still waiting
    assert not core.may_continue(run)
    assert core.decide(run.run_id, first[1].tool_call_id, Decision("approve"))
    assert core.after_decision(run) is None
    assert core.may_continue(run)
    assert core.request_continue(run, busy=False)


async def test_a_batch_approves_confirmations_and_leaves_input_calls_waiting(tmp_path: Path) -> None:
    agent = make_agent(RunStore(tmp_path / "runs.db"))
    core = ApprovalsCore(agent)
    run = core.track(await agent.arun('call publish_post {"title": "Hello"}'))
    run2 = core.track(await agent.arun('call send_message {"body": "hi"}'))
    keys = [(r.run_id, t.tool_call_id) for r, t in core.pending()]
    outcome = core.decide_batch(keys, "approve")
    assert (outcome.decided, outcome.skipped) == (1, 1)
    assert outcome.ready == [run]  # the input call's run still waits for its field
    assert "1 needs your input or result" in outcome.message("approve")
    assert [t.tool_name for _, t in core.pending()] == ["send_message"]
    assert not core.may_continue(run2)


async def test_a_busy_surface_queues_the_continue_and_gets_it_back_when_free(tmp_path: Path) -> None:
    agent = make_agent(RunStore(tmp_path / "runs.db"))
    core = ApprovalsCore(agent)
    run = core.track(await agent.arun('call publish_post {"title": "Hello"}'))
    core.decide(run.run_id, run.tools[0].tool_call_id, Decision("reject", note="no"))
    assert not core.request_continue(run, busy=True)
    assert core.next_queued() is run
    assert core.next_queued() is None


async def test_a_deadline_makes_the_run_continuable_only_once_it_has_passed(tmp_path: Path) -> None:
    agent = Agent(model=DemoModel(delay=0), tools=[deploy], store=RunStore(tmp_path / "runs.db"))
    clock = {"now": utcnow()}
    core = ApprovalsCore(agent, now=lambda: clock["now"])
    run = core.track(await agent.arun('call deploy {"env": "prod"}'))
    call = run.tools[0]
    clock["now"] = call.created_at + timedelta(seconds=10)
    [(key, left)] = core.deadlines(run)
    assert key == (run.run_id, call.tool_call_id) and left == pytest.approx(20)
    assert not core.timeout_due(*key)
    clock["now"] = call.created_at + timedelta(seconds=31)
    assert core.timeout_due(*key)
    assert core.may_continue(run)


# ---------------------------------------------------------------------------- one core, every surface


def _never(self: ApprovalsCore, run: Any, **kwargs: Any) -> bool:
    return False


async def test_the_dashboard_continues_a_run_only_when_the_core_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for core_allows in (True, False):
        if not core_allows:
            monkeypatch.setattr(ApprovalsCore, "may_continue", _never)
        app = make_app(tools=[publish_post], db=tmp_path / f"dash-{core_allows}.db")
        async with app.run_test(size=WIDE) as pilot:
            assert isinstance(app.dashboard.core, ApprovalsCore)
            await type_text(pilot, 'call publish_post {"title": "Hello"}')
            await pilot.press("enter")
            await settle(pilot, app)
            assert isinstance(app.screen, ConfirmModal)
            await pilot.press("y")
            await settle(pilot, app)
            assert isinstance(app.screen, Dashboard)
            run = app.agent.run_response
            assert run.tools[0].confirmed is True
            assert run.status == ("completed" if core_allows else "paused")


def test_the_terminal_demo_continues_a_run_only_when_the_core_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    answers = iter(["y"])
    for core_allows in (True, False):
        if not core_allows:
            monkeypatch.setattr(ApprovalsCore, "may_continue", _never)
            answers = iter(["y"])
        agent = make_agent(RunStore(tmp_path / f"demo-{core_allows}.db"))
        core = ApprovalsCore(agent)
        run = run_prompt(agent, 'call publish_post {"title": "Hello"}', lambda _prompt: next(answers), markdown=False, core=core)
        assert run.tools[0].confirmed is True
        assert run.status == ("completed" if core_allows else "paused")


async def test_an_owner_that_dies_without_writing_is_noticed_on_the_next_liveness_check(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "runs.db"
    owner = make_agent(RunStore(db))
    run = await owner.arun('call publish_post {"title": "Hello"}')
    ticks = {"now": 0.0}
    core = ApprovalsCore(make_agent(RunStore(db)), clock=lambda: ticks["now"], liveness_interval=2.0)
    # Seen as held by another process that is alive (a pid that exists: our parent).
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET owner_pid = ?, owner_started = NULL WHERE run_id = ?", (os.getppid(), run.run_id))
    assert core.poll()
    assert core.holder(run.run_id).alive  # type: ignore[union-attr]
    # The owner dies: nothing is written, so the change token does not move.
    token = core.store.change_token()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET owner_pid = ? WHERE run_id = ?", (2**22 + 12345, run.run_id))
        conn.execute("UPDATE changes SET counter = ? WHERE id = 1", (token,))
    ticks["now"] = 1.0
    assert not core.poll()  # too soon: one cheap read, nothing re-read
    assert core.holder(run.run_id).alive  # type: ignore[union-attr]
    ticks["now"] = 2.5
    assert core.poll()  # the liveness check sees the owner is gone
    assert not core.holder(run.run_id).alive  # type: ignore[union-attr]
