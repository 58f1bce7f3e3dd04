"""The prompt while the agent works: a spinner with the time, queued prompts, several lines, pane keys.

The agent is kept busy by a real synchronous tool that waits for the test (a `threading.Event`),
and the elapsed time comes from the runtime's clock, moved by the test: nothing waits on a timer.
"""

from __future__ import annotations

import threading
from typing import Any, Iterator

import pytest
from textual import events
from textual.widgets import Markdown
from ui_support import WIDE, make_app, screen_text, settle, type_text, wait_for

from tui.agent import tool
from tui.agent.clock import ManualClock, use_clock
from tui.screens.confirm_modal import ConfirmModal
from tui.screens.dashboard import Dashboard
from tui.widgets.approvals_pane import ApprovalsList
from tui.widgets.prompt import PromptArea
from tui.widgets.tool_log import ToolLog

gate = threading.Event()


@tool
def slow_lookup(topic: str) -> str:
    """Look something up (slowly: it waits until the test lets it go).

    Args:
        topic: What to look up.
    """
    gate.wait(60)
    return f"found {topic}"


@tool(requires_confirmation=True)
def restart_service(name: str) -> str:
    """Restart a service.

    Args:
        name: The service.
    """
    return f"restarted {name}"


@pytest.fixture(autouse=True)
def _closed_gate() -> Iterator[None]:
    gate.clear()
    yield
    gate.set()  # never leave a tool thread waiting


@pytest.fixture
def clock() -> Iterator[ManualClock]:
    with use_clock(ManualClock()) as manual:
        yield manual


def status_line(app: Any) -> str:
    return screen_text(app).splitlines()[-2]


async def send(pilot: Any, text: str) -> None:
    await type_text(pilot, text)
    await pilot.press("enter")


async def test_while_a_tool_runs_a_spinner_shows_what_runs_for_how_long_and_how_to_cancel(clock: ManualClock) -> None:
    app = make_app(tools=[slow_lookup], builtin_tools=False)
    async with app.run_test(size=WIDE) as pilot:
        await send(pilot, 'call slow_lookup {"topic": "tides"}')
        await wait_for(pilot, lambda: "Running slow_lookup… 0s · esc esc to cancel" in status_line(app))
        clock.advance(7)
        await wait_for(pilot, lambda: "Running slow_lookup… 7s · esc esc to cancel" in status_line(app))
        first = status_line(app).strip()[0]
        await wait_for(pilot, lambda: status_line(app).strip()[0] != first)  # the spinner turns
        gate.set()
        await settle(pilot, app)
        assert status_line(app).strip() == "Ready"
        assert app.agent.run_response.status == "completed"


async def test_a_prompt_sent_while_the_agent_works_is_queued_and_sent_when_it_is_free() -> None:
    app = make_app(tools=[slow_lookup], builtin_tools=False)
    async with app.run_test(size=WIDE) as pilot:
        await send(pilot, 'call slow_lookup {"topic": "tides"}')
        await wait_for(pilot, lambda: app.dashboard.is_busy and "Running slow_lookup" in status_line(app))
        first_run = app.agent.run_response
        await send(pilot, "and the moon?")
        await pilot.pause()
        shown = screen_text(app)
        assert "queued, sent when the agent is free" in shown and "› and the moon?" in shown
        assert "1 prompt queued" in status_line(app)
        assert app.dashboard.conversation.prompt.text == ""  # taken, not refused
        assert app.agent.run_response is first_run  # not sent yet
        gate.set()
        await settle(pilot, app)
        await settle(pilot, app)
        second = app.agent.run_response
        assert second is not first_run and second.input == "and the moon?" and second.status == "completed"
        assert first_run.status == "completed"
        assert "queued" not in screen_text(app)


async def test_a_queued_prompt_waits_for_an_open_decision_and_goes_when_it_is_deferred() -> None:
    app = make_app(tools=[slow_lookup, restart_service], builtin_tools=False)
    async with app.run_test(size=WIDE) as pilot:
        await send(pilot, 'call slow_lookup {"topic": "tides"}')
        await wait_for(pilot, lambda: app.dashboard.is_busy)
        await send(pilot, 'call restart_service {"name": "web"}')
        await send(pilot, "hello again")
        assert app.dashboard.conversation.queued.items == ['call restart_service {"name": "web"}', "hello again"]
        gate.set()
        await settle(pilot, app)
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await settle(pilot, app)
        assert app.dashboard.conversation.queued.items == ["hello again"]  # the dialog is open: it waits
        await pilot.press("escape")  # decide later
        await settle(pilot, app)
        await settle(pilot, app)
        assert app.agent.run_response.input == "hello again" and app.agent.run_response.status == "completed"
        assert app.dashboard.approvals.count == 1  # the deferred call still waits


async def test_esc_esc_gives_back_the_cancelled_prompt_and_the_queued_ones() -> None:
    app = make_app(tools=[slow_lookup], builtin_tools=False)
    async with app.run_test(size=WIDE) as pilot:
        await send(pilot, 'call slow_lookup {"topic": "tides"}')
        await wait_for(pilot, lambda: app.dashboard.is_busy)
        await send(pilot, "second")
        await pilot.press("escape", "escape")
        await settle(pilot, app)
        assert app.agent.run_response.status == "cancelled"
        prompt = app.dashboard.conversation.prompt
        assert prompt.text == 'call slow_lookup {"topic": "tides"}\n\nsecond'
        assert app.focused is prompt
        assert app.dashboard.conversation.queued.items == []
        assert "esc again" not in screen_text(app)


@pytest.mark.parametrize("newline", ["ctrl+j", "shift+enter", "alt+enter"])
async def test_the_prompt_takes_several_lines(newline: str) -> None:
    app = make_app(builtin_tools=False)
    async with app.run_test(size=WIDE) as pilot:
        await type_text(pilot, "line one")
        await pilot.press(newline)
        await type_text(pilot, "line two")
        assert app.dashboard.conversation.prompt.text == "line one\nline two"
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.agent.run_response.input == "line one\nline two"
        assert "line one" in screen_text(app) and "line two" in screen_text(app)
        await pilot.press("up")  # recalls the two-line prompt
        assert app.dashboard.conversation.prompt.text == "line one\nline two"


def terminal_key(app: Any, key: str) -> None:
    """A key as a terminal delivers it: alt+t arrives as esc + "t", so with the character "t".

    Pilot's own press() carries no character for alt keys, which would hide a key typed into the prompt.
    """
    app.post_message(events.Key(key, key.rpartition("+")[2]))


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_alt_keys_go_to_each_pane(size: tuple[int, int]) -> None:
    app = make_app(tools=[restart_service], builtin_tools=False)
    async with app.run_test(size=size) as pilot:
        await send(pilot, 'call restart_service {"name": "web"}')
        await settle(pilot, app)
        await pilot.press("escape")  # decide later: it waits in Approvals
        await settle(pilot, app)
        dashboard = app.dashboard
        assert isinstance(app.screen, Dashboard)

        def visible(pane_id: str) -> bool:
            region = dashboard.query_one(f"#{pane_id}").region
            return region.width > 0 and region.height > 0

        for key, pane_id, kind in [
            ("alt+a", "approvals", ApprovalsList),
            ("alt+t", "tool-log", ToolLog),
            ("alt+c", "conversation", PromptArea),
            ("alt+3", "approvals", ApprovalsList),  # terminals with the kitty keyboard protocol
            ("alt+2", "tool-log", ToolLog),
            ("alt+1", "conversation", PromptArea),
        ]:
            terminal_key(app, key)
            await wait_for(pilot, lambda: isinstance(app.focused, kind) and visible(pane_id))
            if size[0] < 100:  # one pane at a time: the others are hidden behind their tabs
                assert [p for p in ("conversation", "tool-log", "approvals") if visible(p)] == [pane_id]
        assert dashboard.conversation.prompt.text == ""  # no key landed in the prompt as a letter


async def test_deciding_the_last_call_says_the_run_continues() -> None:
    app = make_app(tools=[restart_service], builtin_tools=False)
    async with app.run_test(size=WIDE) as pilot:
        await send(pilot, 'call restart_service {"name": "web"}')
        await settle(pilot, app)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot, app)
        notes = [str(note.content) for note in app.dashboard.conversation.query(".note")]
        assert "▶ Every call of this turn is decided: the run continues." in notes
        assert app.agent.run_response.status == "completed"


async def test_waiting_calls_are_counted_in_words() -> None:
    app = make_app(tools=[restart_service], builtin_tools=False)
    async with app.run_test(size=WIDE) as pilot:
        await send(pilot, 'call restart_service {"name": "web"}')
        await settle(pilot, app)
        await pilot.press("escape")
        await settle(pilot, app)
        assert "1 call waits for you" in status_line(app)
        assert "(s)" not in screen_text(app)
        assert any(isinstance(w, Markdown) for w in app.dashboard.conversation.query(Markdown))
