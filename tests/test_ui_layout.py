"""The dashboard's layout and chrome: three panes when wide, tabs when narrow, header, footer keys,
command palette, help."""

from __future__ import annotations

from ui_support import NARROW, WIDE, hn_server, make_app, palette_has, screen_text, settle, wait_for  # noqa: F401

from textual.widgets import Collapsible

from tui.screens.confirm_modal import ConfirmModal
from tui.screens.dashboard import Dashboard
from tui.widgets.approvals_pane import ApprovalsPane
from tui.widgets.conversation import Conversation
from tui.widgets.tool_log import ToolLog


def visible_panes(app) -> list[str]:
    return [pane.id for pane in app.dashboard.query(".pane") if pane.display and pane.region.area > 0]


async def test_a_wide_terminal_shows_the_three_panes_side_by_side_with_titles() -> None:
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot, app)
        assert visible_panes(app) == ["conversation", "tool-log", "approvals"]
        assert not app.dashboard.query_one("#pane-tabs").display
        regions = [app.dashboard.query_one(f"#{pane}").region for pane in ("conversation", "tool-log", "approvals")]
        assert regions[0].x < regions[1].x < regions[2].x
        assert regions[0].width > regions[2].width  # the conversation gets the most room
        shown = screen_text(app)
        for title in ("Conversation", "Tool calls", "Approvals", "demo model (offline)", "Nothing waits for you"):
            assert title in shown
        for key in ("tab", "^n", "^q", "f1"):
            assert key in shown.splitlines()[-1]


async def test_a_narrow_terminal_shows_one_pane_at_a_time_behind_tabs() -> None:
    app = make_app()
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot, app)
        assert app.dashboard.query_one("#pane-tabs").display
        assert visible_panes(app) == ["conversation"]
        assert app.dashboard.query_one(Conversation).region.width >= 78
        # the run pauses; deferring leaves the call in the Approvals tab, whose label counts it
        await pilot.press("up", "up", "up", "enter")  # ↑ recalls the first example prompt
        await settle(pilot, app)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("escape")
        await settle(pilot, app)
        assert "Approvals (1)" in screen_text(app)
        # shift+tab moves the focus up to the tab bar (past the conversation's scroll); → switches panes
        await pilot.press("shift+tab", "shift+tab")
        assert app.focused is app.dashboard.query_one("#pane-tabs")
        await pilot.press("right")
        await settle(pilot, app)
        assert visible_panes(app) == ["tool-log"]
        await pilot.press("right")
        await settle(pilot, app)
        assert visible_panes(app) == ["approvals"]
        await pilot.press("tab", "enter")  # into the list, open the call
        await settle(pilot, app)
        assert isinstance(app.screen, ConfirmModal)


async def test_resizing_switches_between_panes_and_tabs() -> None:
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot, app)
        await pilot.resize_terminal(*NARROW)
        await settle(pilot, app)
        assert app.dashboard.has_class("-narrow")
        assert visible_panes(app) == ["conversation"]
        await pilot.resize_terminal(*WIDE)
        await settle(pilot, app)
        assert visible_panes(app) == ["conversation", "tool-log", "approvals"]


async def test_j_and_k_move_through_the_tool_log(hn_server) -> None:
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        for ups in (3, 1):  # the first example prompt, then the same prompt again from the history
            await pilot.press(*["up"] * ups, "enter")
            await settle(pilot, app)
            await pilot.press("y")
            await settle(pilot, app)
        log = app.query_one(ToolLog)
        assert len(log.entries) == 2
        await pilot.press("tab")
        assert app.focused is log
        assert log.cursor == 1  # focus lands on the newest call
        await pilot.press("k")
        assert log.cursor == 0 and log.entries[0].has_class("-highlight")
        await pilot.press("j", "j")
        assert log.cursor == 1
        # a long result starts folded; enter unfolds it
        collapsible = log.entries[1].query_one(Collapsible)
        assert collapsible.collapsed
        await pilot.press("enter")
        assert not collapsible.collapsed


async def test_the_command_palette_offers_the_dashboards_actions() -> None:
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot, app)
        await pilot.press("ctrl+p")
        await pilot.press(*"model info")
        await wait_for(pilot, palette_has(app, "model info"))
        await pilot.press("enter")
        await settle(pilot, app)
        messages = [n.message for n in app._notifications]
        assert any("demo model (offline)" in m and "get_top_hackernews_stories" in m for m in messages)
        await pilot.press("ctrl+p")
        await pilot.press(*"auto-open")
        await wait_for(pilot, palette_has(app, "auto-open"))
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.auto_open is False and app.dashboard.auto_open is False


async def test_question_mark_opens_the_help_and_ctrl_n_starts_a_new_session() -> None:
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("f1")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        await settle(pilot, app)
        assert isinstance(app.screen, Dashboard)
        first_session = app.agent.session_id
        await pilot.press("up", "enter")
        await settle(pilot, app)
        await pilot.press("y")
        await settle(pilot, app)
        await pilot.press("ctrl+n")
        await settle(pilot, app)
        assert app.agent.session_id != first_session
        assert app.query_one(ToolLog).entries == []
        assert "New session" in screen_text(app)
        assert app.query_one(ApprovalsPane).count == 0


async def test_hitl_app_with_no_arguments_is_the_default_dashboard() -> None:
    from tui.app import HitlApp
    from tui.config import load_settings

    app = HitlApp()
    assert app.store is not None and app.store.path == load_settings().db
    assert app.agent.store is app.store
    assert "get_top_hackernews_stories" in app.agent.functions
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        assert app.sub_title == "demo model (offline)"
    app.store.close()


def test_force_demo_uses_the_demo_model_even_with_an_api_key(monkeypatch) -> None:
    from tui.agent.models import DemoModel
    from tui.app import HitlApp

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert not isinstance(HitlApp().agent.model, DemoModel)
    assert isinstance(HitlApp(force_demo=True).agent.model, DemoModel)
