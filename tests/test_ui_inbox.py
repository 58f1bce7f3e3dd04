"""The dashboard as an inbox: runs paused by other processes appear live and are decided by keys.

The other process is a real headless agent (tests/inbox_agent.py) on the same SQLite file; it
waits with `wait_for_decisions` and finishes the run itself once the dashboard has decided.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from inbox_agent import publish_post
from inbox_support import AgentProcess
from ui_support import WIDE, make_app, screen_text, settle, wait_for

from tui.screens.confirm_modal import ConfirmModal
from tui.screens.dashboard import Dashboard
from tui.screens.foreign_run_modal import ForeignRunModal
from tui.screens.run_view_screen import RunViewScreen
from tui.store import RunStore
from tui.widgets.approvals_pane import ApprovalsPane

PUBLISH = 'call publish_post {"title": "Hello"}'


def effects(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


async def test_a_run_paused_by_another_process_appears_and_is_approved_by_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db, fx = tmp_path / "runs.db", tmp_path / "effects.txt"
    monkeypatch.setenv("HITL_TUI_APPROVER", "carol")  # the dashboard's approver setting
    app = make_app(db=db)
    async with app.run_test(size=WIDE) as pilot:
        with AgentProcess(db, PUBLISH, "--effects", str(fx)) as agent:
            run_id = await asyncio.to_thread(agent.expect, "PAUSED")
            pane = app.query_one(ApprovalsPane)
            await wait_for(pilot, lambda: pane.count == 1, timeout=2.0)
            text = screen_text(app)
            assert "publish_post" in text
            assert "inbox-test-agent · " in text and f"/{agent.pid}" in text  # agent name and host/pid

            pane.focus_list()
            await pilot.press("v")  # the foreign run's conversation, read-only
            assert isinstance(app.screen, RunViewScreen)
            assert PUBLISH in screen_text(app)
            await pilot.press("escape")

            await pilot.press("enter")
            assert isinstance(app.screen, ConfirmModal)
            text = screen_text(app)
            assert "held by " in text and "allow this tool" not in text  # no scopes for another's run
            await pilot.press("a")  # "allow for the session" does not apply here: nothing happens
            await pilot.pause()
            assert isinstance(app.screen, ConfirmModal) and RunStore(db).pending_requests()
            await pilot.press("y")
            await pilot.pause()
            assert isinstance(app.screen, Dashboard)
            status = await asyncio.to_thread(agent.expect, "DONE")
            await wait_for(pilot, lambda: pane.count == 0, timeout=5.0)
    assert status.startswith("completed")
    assert effects(fx) == [f"publish_post Hello pid={agent.pid}"]  # run once, by its owner
    [entry] = RunStore(db).ledger(run_id)
    assert (entry.decision, entry.approver) == ("approved", "carol")


async def test_a_run_whose_process_died_can_be_taken_over_and_finished_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db, fx = tmp_path / "runs.db", tmp_path / "effects.txt"
    monkeypatch.setenv("INBOX_EFFECTS", str(fx))  # the tool run here records itself too
    app = make_app(db=db, tools=[publish_post])
    async with app.run_test(size=WIDE) as pilot:
        agent = AgentProcess(db, PUBLISH, "--effects", str(fx))
        run_id = await asyncio.to_thread(agent.expect, "PAUSED")
        agent.stop()  # kill -9: nobody will continue it
        pane = app.query_one(ApprovalsPane)
        await wait_for(pilot, lambda: pane.count == 1 and "gone" in screen_text(app), timeout=5.0)
        pane.focus_list()
        await pilot.press("enter")
        assert isinstance(app.screen, ForeignRunModal)
        await pilot.press("t")  # take over
        await settle(pilot, app)
        assert isinstance(app.screen, ConfirmModal)
        assert PUBLISH in screen_text(app)  # its conversation is shown here now
        await pilot.press("y")
        await settle(pilot, app)
        assert isinstance(app.screen, Dashboard)
    assert RunStore(db).load_run(run_id).status == "completed"  # type: ignore[union-attr]
    [line] = effects(fx)
    assert line.startswith("publish_post Hello pid=") and not line.endswith(f"pid={agent.pid}")  # ran here, once


async def test_the_dashboards_own_run_decided_from_the_shell_goes_on_here(tmp_path: Path) -> None:
    from inbox_support import hitl

    from ui_support import type_text

    db = tmp_path / "runs.db"
    app = make_app(db=db, tools=[publish_post])
    async with app.run_test(size=WIDE) as pilot:
        await type_text(pilot, PUBLISH)
        await pilot.press("enter")
        await settle(pilot, app)
        assert isinstance(app.screen, ConfirmModal)  # its modal is open here...
        [request] = RunStore(db).pending_requests()
        done = await asyncio.to_thread(hitl, db, "approve", request.id, "--as", "dave")
        assert done.returncode == 0, done.stderr
        run = app.agent.run_response
        # ...and someone approved it from a shell: the modal closes and the run goes on here.
        await wait_for(pilot, lambda: run.status == "completed", timeout=5.0)
        await settle(pilot, app)
        assert isinstance(app.screen, Dashboard)
        assert run.tools[0].result == "published 'Hello'"
        assert app.query_one(ApprovalsPane).count == 0
    [entry] = RunStore(db).ledger(run.run_id)
    assert entry.approver == "dave"


async def test_another_processes_form_is_filled_here_with_the_same_validation(tmp_path: Path) -> None:
    from ui_support import type_text

    from tui.screens.user_input_modal import UserInputModal

    db, fx = tmp_path / "runs.db", tmp_path / "effects.txt"
    app = make_app(db=db)  # this dashboard does not even have the tool: the stored field types suffice
    async with app.run_test(size=WIDE) as pilot:
        with AgentProcess(db, 'call print_report {"name": "q3"}', "--effects", str(fx)) as agent:
            await asyncio.to_thread(agent.expect, "PAUSED")
            pane = app.query_one(ApprovalsPane)
            await wait_for(pilot, lambda: pane.count == 1, timeout=2.0)
            pane.focus_list()
            await pilot.press("enter")
            assert isinstance(app.screen, UserInputModal)
            await type_text(pilot, "many")
            await pilot.press("enter")
            await settle(pilot, app)
            assert isinstance(app.screen, UserInputModal)  # refused here, nothing recorded
            assert "whole number" in screen_text(app)
            assert RunStore(db).pending_requests()  # still waiting
            await pilot.press("ctrl+u")
            await type_text(pilot, "3")
            await pilot.press("enter")
            await settle(pilot, app)
            assert isinstance(app.screen, Dashboard)
            status = await asyncio.to_thread(agent.expect, "DONE")
    assert status.startswith("completed") and "printed 3 copies of q3" in status
    assert effects(fx) == ["print_report q3 x3"]
