"""Streaming turns in the dashboard: cancelling with esc esc, API failures shown as messages, and
untrusted text (model replies, tool results) shown literally, never as markup or escapes."""

from __future__ import annotations

import pytest
from chatserver import ChatServer, call, closed_port, fault, text, tools
from ui_support import WIDE, make_app, screen_text, settle, type_text, wait_for

from tui.agent import tool
from tui.agent.models import DemoModel, OpenAIChat
from tui.screens.confirm_modal import ConfirmModal
from tui.screens.dashboard import Dashboard
from tui.widgets.conversation import Conversation
from tui.widgets.tool_log import ToolLog

HOSTILE = "[@click=app.quit]click me[/] [bold red]x[/] \x1b[31mred\x1b[0m"


def openai_model(base_url: str) -> OpenAIChat:
    return OpenAIChat(id="test-model", base_url=base_url, api_key="test", max_retries=0, timeout=5)


async def test_esc_twice_cancels_a_streaming_turn_and_the_app_stays_usable() -> None:
    app = make_app(model=DemoModel(delay=0.2))  # slow enough to catch it mid-stream
    async with app.run_test(size=WIDE) as pilot:
        await type_text(pilot, "hi")
        await pilot.press("enter")
        dashboard = app.dashboard
        await wait_for(pilot, lambda: dashboard.is_busy and "Writing…" in dashboard.status_text())  # mid-stream
        await pilot.press("tab")  # keys still work while it streams
        assert isinstance(app.focused, ToolLog)
        await pilot.press("escape")
        await pilot.pause()
        assert dashboard.is_busy  # one esc only warns
        assert "Press esc again to cancel the turn" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot, app)
        assert not dashboard.is_busy
        run = app.agent.run_response
        assert run.status == "cancelled"
        assert app.agent.store.load_run(run.run_id).status == "cancelled"
        shown = screen_text(app)
        assert "Cancelled" in shown and "esc again" not in shown
        # the cancelled prompt is back in the prompt box, focused: enter sends it again
        assert dashboard.conversation.prompt.text == "hi" and app.focused is dashboard.conversation.prompt
        app.agent.model.delay = 0
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.agent.run_response.status == "completed"


async def test_a_server_error_is_shown_as_a_message_in_the_conversation(chat_server: ChatServer) -> None:
    chat_server.add(fault("500"))
    app = make_app(model=openai_model(chat_server.url))
    async with app.run_test(size=WIDE) as pilot:
        await type_text(pilot, "hi")
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.is_running
        run = app.agent.run_response
        assert run.status == "error"
        shown = screen_text(app)
        assert "The run stopped" in shown
        assert "Traceback" not in shown
        errors = app.query(".error-message")
        assert len(errors) == 1
        assert "500" in run.error or "server" in run.error.lower()


async def test_a_refused_connection_is_shown_and_ctrl_r_retries_the_run(chat_server: ChatServer) -> None:
    app = make_app(model=openai_model(closed_port()))
    async with app.run_test(size=WIDE) as pilot:
        await type_text(pilot, "hi")
        await pilot.press("enter")
        await settle(pilot, app)
        run = app.agent.run_response
        assert run.status == "error"
        assert len(app.query(".error-message")) == 1
        assert "ctrl+r" in screen_text(app)
        # the server comes back: ctrl+r continues the same run
        chat_server.add(text("Back online."))
        app.agent.model = openai_model(chat_server.url)
        await pilot.press("ctrl+r")
        await settle(pilot, app)
        assert app.agent.run_response.run_id == run.run_id
        assert run.status == "completed"
        assert "Back online." in screen_text(app)


@tool
def hostile_text() -> str:
    """Return text that looks like markup and terminal escapes."""
    return HOSTILE


async def test_markup_and_escapes_in_a_tool_result_and_a_reply_are_shown_literally() -> None:
    app = make_app(tools=[hostile_text])
    async with app.run_test(size=WIDE) as pilot:
        await type_text(pilot, "call hostile_text")
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.is_running and app.return_code is None
        assert app.agent.run_response.status == "completed"
        shown = screen_text(app)
        # in the tool log (the result) and in the conversation (the model quotes it)
        assert shown.count("[@click=app.quit]") >= 2
        assert shown.count("[bold red]x[/]") >= 2
        assert "␛[31m" in shown
        assert "\x1b" not in "".join(str(w.render()) for w in app.query(".tool-result"))


async def test_markup_in_a_streamed_reply_from_a_real_server_is_shown_literally(chat_server: ChatServer) -> None:
    chat_server.add(tools(call("hostile_text", {})), text(f"Result: {HOSTILE} done"))
    app = make_app(model=openai_model(chat_server.url), tools=[hostile_text])
    async with app.run_test(size=(200, 40)) as pilot:
        await type_text(pilot, "go")
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.is_running
        shown = screen_text(app)
        assert "Result: [@click=app.quit]click me[/] [bold red]x[/] ␛[31mred␛[0m done" in shown


@tool(requires_confirmation=True)
def slow_tool() -> str:
    """A tool."""
    return "ok"


async def test_a_run_paused_with_auto_open_off_waits_in_the_pane_and_rings_no_modal() -> None:
    app = make_app(tools=[slow_tool])
    app.action_toggle_auto_open()
    async with app.run_test(size=WIDE) as pilot:
        await type_text(pilot, "call slow_tool")
        await pilot.press("enter")
        await settle(pilot, app)
        assert isinstance(app.screen, Dashboard)
        assert app.agent.run_response.is_paused
        assert "1 waiting for you" in screen_text(app)
        assert app.query_one(Conversation).query(".note.-paused")
        app.action_decide_next()
        await settle(pilot, app)
        assert isinstance(app.screen, ConfirmModal)
