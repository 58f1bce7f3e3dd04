"""Beyond yes/no in the dashboard: session and saved rules, batch decisions, timeouts, invalid rules."""

from __future__ import annotations

from typing import Any

from chatserver import ChatServer, call, text, tools
from ui_support import WIDE, make_app, screen_text, settle, type_text, wait_for

from tui.agent import tool
from tui.agent.clock import ManualClock, use_clock
from tui.agent.models import OpenAIChat
from tui.screens.confirm_modal import ConfirmModal
from tui.screens.dashboard import TIMEOUT_POLL
from tui.screens.rule_dry_run_modal import RuleDryRunModal
from tui.screens.rules_screen import RulesScreen
from tui.widgets.approvals_pane import ApprovalsPane

ran: list[str] = []


@tool(requires_confirmation=True)
def restart_service(name: str) -> str:
    """Restart a service.

    Args:
        name: The service to restart.
    """
    ran.append(name)
    return f"restarted {name}"


@tool(requires_confirmation=True, approval_timeout=600)
def drop_cache(name: str) -> str:
    """Drop a cache (times out after 10 minutes without a decision: tests move the clock).

    Args:
        name: Which cache.
    """
    ran.append(f"drop {name}")
    return f"dropped {name}"


async def prompt(pilot: Any, app: Any, text_: str) -> None:
    await type_text(pilot, text_)
    await pilot.press("enter")
    await settle(pilot, app)


def ledger(app: Any) -> list[tuple[str, str, str]]:
    run = app.agent.run_response
    return [(e.tool_name, e.decision, e.decided_by) for e in app.store.ledger(run.run_id)]


async def test_a_allows_the_tool_for_the_session_and_the_ledger_says_session_allow():
    ran.clear()
    app = make_app(tools=[restart_service], builtin_tools=False)
    async with app.run_test(size=WIDE) as pilot:
        await prompt(pilot, app, 'call restart_service {"name": "web"}')
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("a")
        await settle(pilot, app)
        assert ran == ["web"]
        assert ledger(app) == [("restart_service", "approved", "user")]

        await prompt(pilot, app, 'call restart_service {"name": "db"}')
        assert not isinstance(app.screen, ConfirmModal)  # no modal: the session allows it
        assert ran == ["web", "db"]
        assert ledger(app) == [("restart_service", "auto_allowed", "session-allow")]


async def test_A_shows_a_dry_run_then_writes_a_rule_that_a_fresh_app_obeys():
    ran.clear()
    app = make_app(tools=[restart_service], builtin_tools=False)
    async with app.run_test(size=WIDE) as pilot:
        # history: one call rejected by the user
        await prompt(pilot, app, 'call restart_service {"name": "web"}')
        await pilot.press("r", *"not now", "enter")
        await settle(pilot, app)
        await prompt(pilot, app, 'call restart_service {"name": "db"}')
        await pilot.press("A")
        await pilot.pause()
        assert isinstance(app.screen, RuleDryRunModal)
        summary = str(app.screen.query_one("#dryrun-summary").render())
        assert "would have matched 1 past call; WARNING: 1 of them was rejected by a person" in summary
        rows = [str(w.render()) for w in app.screen.query(".dryrun-row")]
        assert len(rows) == 1 and rows[0].startswith("✗ rejected by you") and "not now" in rows[0]
        await pilot.press("y")
        await settle(pilot, app)
        assert ran == ["db"]
        await prompt(pilot, app, 'call restart_service {"name": "queue"}')
        assert not isinstance(app.screen, ConfirmModal)
        assert ledger(app) == [("restart_service", "auto_allowed", "rule:allow-restart_service")]
    rules_file = app.settings.rules
    assert 'effect = "allow"' in rules_file.read_text()

    fresh = make_app(tools=[restart_service], builtin_tools=False, db=app.settings.db)
    async with fresh.run_test(size=WIDE) as pilot:
        await prompt(pilot, fresh, 'call restart_service {"name": "cache"}')
        assert not isinstance(fresh.screen, ConfirmModal)
        assert ran == ["db", "queue", "cache"]
        assert ledger(fresh) == [("restart_service", "auto_allowed", "rule:allow-restart_service")]


async def test_backing_out_of_the_dry_run_returns_to_the_decision_and_saves_nothing():
    ran.clear()
    app = make_app(tools=[restart_service], builtin_tools=False)
    async with app.run_test(size=WIDE) as pilot:
        await prompt(pilot, app, 'call restart_service {"name": "web"}')
        await pilot.press("A")
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        assert not app.settings.rules.exists()
        assert ran == []


async def test_batch_approval_of_three_marked_items_gives_three_ledger_rows(chat_server: ChatServer):
    ran.clear()
    chat_server.add(
        tools(
            call("restart_service", {"name": "a"}),
            call("restart_service", {"name": "b"}),
            call("restart_service", {"name": "c"}),
            call("restart_service", {"name": "d"}),
        ),
        text("Restarted three services; d was rejected."),
    )
    model = OpenAIChat(id="test-model", base_url=chat_server.url, api_key="test", max_retries=0, timeout=5)
    app = make_app(model=model, tools=[restart_service], builtin_tools=False)
    async with app.run_test(size=WIDE) as pilot:
        await prompt(pilot, app, "restart everything")
        # defer every dialog: the four calls wait in the approvals pane
        for _ in range(4):
            assert isinstance(app.screen, ConfirmModal)
            await pilot.press("escape")
            await pilot.pause()
        pane = app.query_one(ApprovalsPane)
        assert pane.count == 4
        pane.focus_list()
        await pilot.press("space", "space", "space")  # marks a, b, c (the cursor moves down)
        await pilot.press("Y")
        await pilot.pause()
        assert pane.count == 1
        assert chat_server.requests and len(chat_server.requests) == 1  # d is still undecided
        await pilot.press("N")  # nothing marked: the rest of the turn (d) is rejected
        await settle(pilot, app)
        assert ran == ["a", "b", "c"]
        rows = ledger(app)
        assert sorted(rows) == [
            ("restart_service", "approved", "user"),
            ("restart_service", "approved", "user"),
            ("restart_service", "approved", "user"),
            ("restart_service", "rejected", "user"),
        ]
        assert "Restarted three services; d was rejected." in screen_text(app)


async def test_an_approval_timeout_rejects_the_call_and_the_model_is_told():
    ran.clear()
    app = make_app(tools=[drop_cache], builtin_tools=False)
    with use_clock(ManualClock()) as clock:
        async with app.run_test(size=WIDE) as pilot:
            await prompt(pilot, app, 'call drop_cache {"name": "sessions"}')
            assert isinstance(app.screen, ConfirmModal)
            clock.advance(599)  # not yet: the dialog stays (a few checks of the clock go by)
            await pilot.pause(3 * TIMEOUT_POLL)
            assert isinstance(app.screen, ConfirmModal)
            clock.advance(2)  # nobody decided within 600 s
            await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmModal))
            await settle(pilot, app)
            assert ran == []
            run = app.agent.run_response
            assert run.status == "completed"
            assert (run.tools[0].status, run.tools[0].decided_by) == ("rejected", "timeout")
            tool_message = [m.content for m in run.messages if m.role == "tool"][0]
            assert "No decision came in time" in tool_message
            assert ledger(app) == [("drop_cache", "timed_out", "timeout")]


async def test_the_header_says_when_calls_wait_for_you():
    app = make_app(tools=[restart_service], builtin_tools=False)
    async with app.run_test(size=WIDE) as pilot:
        await prompt(pilot, app, 'call restart_service {"name": "web"}')
        assert app.sub_title.startswith("⏸ 1 waiting for you")
        await pilot.press("y")
        await settle(pilot, app)
        assert "waiting" not in app.sub_title


async def test_an_invalid_rules_file_gives_a_clear_startup_message_and_disables_rules():
    ran.clear()
    probe = make_app(tools=[restart_service], builtin_tools=False)
    probe.settings.rules.parent.mkdir(parents=True, exist_ok=True)
    probe.settings.rules.write_text('[[rule]]\nname = "r"\ntool = "restart_service"\neffect = "always"\n')
    app = make_app(tools=[restart_service], builtin_tools=False)
    async with app.run_test(size=WIDE) as pilot:
        await wait_for(pilot, lambda: "Approval rules are off" in screen_text(app))  # a condition, not a pause
        shown = screen_text(app)
        assert "Approval rules are off" in shown and "line 1" in shown
        assert app.agent.policy.rules == []
        # the app keeps working, and asks as if there were no rules
        await prompt(pilot, app, 'call restart_service {"name": "web"}')
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot, app)
        assert ran == ["web"]
        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.screen, RulesScreen)
        assert "disabled" in screen_text(app)


async def test_t_allows_the_tool_for_the_rest_of_this_run_only():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await prompt(pilot, app, "Write a file named a.txt with 'x' then write a file named b.txt with 'y'")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("t")
        await settle(pilot, app)
        run = app.agent.run_response
        assert run.status == "completed"
        assert [(t.tool_args["path"], t.decided_by) for t in run.tools] == [("a.txt", "user"), ("b.txt", "run-allow")]
        assert (app.settings.workspace / "b.txt").read_text() == "y"
        # a new run asks again
        await prompt(pilot, app, "Write a file named c.txt with 'z'")
        assert isinstance(app.screen, ConfirmModal)
