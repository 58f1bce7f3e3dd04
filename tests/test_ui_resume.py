"""Paused runs found in the history: announced on launch, resumed from `hitl-tui resume RUN_ID`
or from the history screen, decided in the dashboard and continued to the end."""

from __future__ import annotations

from pathlib import Path

from ui_support import WIDE, make_app, screen_text, settle

from tui.agent.models import DemoModel
from tui.bootstrap import build_agent
from tui.config import load_settings
from tui.screens.confirm_modal import ConfirmModal
from tui.screens.dashboard import Dashboard
from tui.store import RunStore
from tui.widgets.approvals_pane import ApprovalsPane


async def paused_run_in_history(prompt: str = "Fetch the top 2 hackernews stories") -> tuple[str, Path]:
    """A run paused by an earlier process (here: an agent on the same history DB, now gone)."""
    settings = load_settings()
    store = RunStore(settings.db)
    agent = build_agent(settings, store=store, model=DemoModel(delay=0))
    run = await agent.arun(prompt)
    assert run.is_paused
    store.close()
    return run.run_id, settings.db


async def test_resume_run_id_opens_the_dashboard_on_the_paused_run_and_its_first_call() -> None:
    run_id, db = await paused_run_in_history()
    app = make_app(db=db, resume_run_id=run_id)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot, app)
        assert isinstance(app.screen, ConfirmModal)
        stored = app.agent.store.load_run(run_id)
        assert app.query_one(ApprovalsPane).keys() == [(run_id, stored.tools[0].tool_call_id)]
        await pilot.press("y")
        await settle(pilot, app)
        assert isinstance(app.screen, Dashboard)
        run = app.agent.store.load_run(run_id)
        assert run.status == "completed"
        assert run.tools[0].decided_by == "user"
        shown = screen_text(app)
        assert "Fetch the top 2 hackernews stories" in shown  # the run's prompt is shown again
        assert "Could not reach Hacker News" in shown  # the tool ran (offline here) and the model said so


async def test_paused_runs_are_announced_and_h_opens_the_history_where_enter_resumes_one() -> None:
    run_id, db = await paused_run_in_history()
    app = make_app(db=db)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot, app)
        assert any("1 paused run" in n.message and "press h" in n.message.lower() for n in app._notifications)
        await pilot.press("tab")  # out of the prompt, so h is a key and not a letter
        await pilot.press("h")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "HistoryScreen"
        await pilot.press("enter")
        await settle(pilot, app)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")
        await settle(pilot, app)
        assert app.agent.store.load_run(run_id).status == "completed"
        assert app.query_one(ApprovalsPane).count == 0
