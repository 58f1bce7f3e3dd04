"""The dashboard's decision flows, driven by keys only: a run pauses, a modal opens, the person
decides, and the run continues. Real runtime, real store, real toolbox, the offline DemoModel."""

from __future__ import annotations

import json
import mailbox
from typing import Any

from chatserver import ChatServer, call, text, tools
from local_hn_server import HNServer
from ui_support import WIDE, hn_server, make_app, screen_text, settle, type_text  # noqa: F401 (fixture)

from tui.agent import tool
from tui.agent.models import OpenAIChat
from tui.screens.confirm_modal import ConfirmModal
from tui.screens.dashboard import Dashboard
from tui.screens.user_input_modal import UserInputModal
from tui.widgets.approvals_pane import ApprovalsPane
from tui.widgets.tool_log import ToolLog

HN_PROMPT = "Fetch the top 2 hackernews stories"
EMAIL_PROMPT = "Send an email with the subject 'Hello' and the body 'Hello, world!'"


async def ask(pilot: Any, app: Any, prompt: str, *, type_it: bool = False) -> None:
    """Send a prompt. An example prompt is recalled with ↑ (as a user would; typing is slow)."""
    examples = app.dashboard.conversation.prompt.recall_list
    if prompt in examples and not type_it:
        await pilot.press(*["up"] * (len(examples) - examples.index(prompt)))
        assert app.dashboard.conversation.prompt.value == prompt
    else:
        await type_text(pilot, prompt)
    await pilot.press("enter")
    await settle(pilot, app)


def tool_states(app: Any) -> list[tuple[str, str]]:
    return [(e.tool.tool_name, e.tool.status) for e in app.query_one(ToolLog).entries]


async def test_approving_with_y_runs_the_tool_and_streams_the_models_answer(hn_server: HNServer) -> None:
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await ask(pilot, app, HN_PROMPT, type_it=True)
        assert isinstance(app.screen, ConfirmModal)
        assert app.query_one(ApprovalsPane).count == 1  # the pane lists it while the modal is open
        await pilot.press("y")
        await settle(pilot, app)
        assert isinstance(app.screen, Dashboard)
        assert tool_states(app) == [("get_top_hackernews_stories", "completed")]
        text = screen_text(app)
        assert "A tiny SQLite trick" in text  # the model's answer, streamed into the conversation
        assert "by you" in text  # the log says who decided
        assert app.query_one(ApprovalsPane).count == 0
        assert app.agent.run_response.status == "completed"


async def test_rejecting_with_a_reason_tells_the_model_the_reason(hn_server: HNServer) -> None:
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await ask(pilot, app, HN_PROMPT)
        await pilot.press("r")
        await type_text(pilot, "not today")
        await pilot.press("enter")
        await settle(pilot, app)
        run = app.agent.run_response
        assert run.status == "completed"
        tool_message = next(m for m in run.messages if m.role == "tool")
        assert "Reason given: not today" in tool_message.content
        assert hn_server.requests == []  # nothing ran
        assert tool_states(app) == [("get_top_hackernews_stories", "rejected")]
        text = screen_text(app)
        assert "not today" in text  # the model acknowledged it, and the log shows the reason


async def test_editing_the_arguments_runs_the_edited_ones(hn_server: HNServer) -> None:
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await ask(pilot, app, HN_PROMPT)
        await pilot.press("e", "f7")  # edit, select all the JSON
        await type_text(pilot, '{"num_stories": 1}')
        await pilot.press("ctrl+s")  # check the edit: the modal shows what changes
        await pilot.press("y")
        await settle(pilot, app)
        t = app.agent.run_response.tools[0]
        assert t.status == "completed"
        assert t.executed_args == {"num_stories": 1}
        assert t.proposed_args == {"num_stories": 2}
        assert len(json.loads(t.result)) == 1
        assert "edited" in screen_text(app)


async def test_the_input_form_refuses_an_empty_address_then_sends_with_a_valid_one() -> None:
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await ask(pilot, app, EMAIL_PROMPT)
        assert isinstance(app.screen, UserInputModal)
        await pilot.press("ctrl+s")  # nothing typed: refused, the form stays open
        await settle(pilot, app)
        assert isinstance(app.screen, UserInputModal)
        assert app.agent.run_response.is_paused
        await type_text(pilot, "ann@example.com")
        await pilot.press("enter")
        await settle(pilot, app)
        assert isinstance(app.screen, Dashboard)
        run = app.agent.run_response
        assert run.status == "completed"
        assert run.tools[0].executed_args["to_address"] == "ann@example.com"
        box = mailbox.mbox(str(app.settings.outbox))
        assert [m["To"] for m in box] == ["ann@example.com"]


@tool(requires_user_input=True, user_input_fields=["copies"])
def print_pages(copies: int) -> str:
    """Print the report.

    Args:
        copies: How many copies to print.
    """
    return f"printed {copies} copies"


async def test_an_invalid_number_keeps_the_form_open_until_a_valid_one_is_typed() -> None:
    app = make_app(tools=[print_pages])
    async with app.run_test(size=WIDE) as pilot:
        await ask(pilot, app, "call print_pages")
        assert isinstance(app.screen, UserInputModal)
        await type_text(pilot, "many")
        await pilot.press("enter")
        await settle(pilot, app)
        assert isinstance(app.screen, UserInputModal)
        assert "whole number" in screen_text(app)
        await pilot.press("ctrl+u")  # clear the field
        await type_text(pilot, "3")
        await pilot.press("enter")
        await settle(pilot, app)
        run = app.agent.run_response
        assert run.status == "completed"
        assert run.tools[0].executed_args == {"copies": 3}
        assert run.tools[0].result == "printed 3 copies"


async def test_esc_defers_and_enter_in_the_approvals_pane_opens_the_item_later(hn_server: HNServer) -> None:
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await ask(pilot, app, HN_PROMPT)
        await pilot.press("escape")
        await settle(pilot, app)
        assert isinstance(app.screen, Dashboard)
        pane = app.query_one(ApprovalsPane)
        assert pane.count == 1
        assert app.agent.run_response.is_paused
        assert "get_top_hackernews_stories" in screen_text(app)
        await pilot.press("tab", "tab")  # prompt → tool log → approvals
        assert app.focused is pane.pending_list
        await pilot.press("enter")
        await settle(pilot, app)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot, app)
        assert app.agent.run_response.status == "completed"
        assert pane.count == 0
        assert "Nothing waits for you" in screen_text(app)


async def test_a_allows_the_tool_for_the_session_so_the_next_call_does_not_ask(hn_server: HNServer) -> None:
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await ask(pilot, app, HN_PROMPT)
        await pilot.press("a")
        await settle(pilot, app)
        await ask(pilot, app, HN_PROMPT)  # ↑ recalls it
        assert isinstance(app.screen, Dashboard)  # no modal this time
        run = app.agent.run_response
        assert run.status == "completed"
        assert run.tools[0].decided_by == "session-allow"
        assert tool_states(app) == [("get_top_hackernews_stories", "completed")] * 2
        assert "by you (session)" in screen_text(app)


async def test_two_parallel_gated_calls_from_a_real_server_are_decided_one_by_one(chat_server: ChatServer) -> None:
    chat_server.add(
        tools(
            call("write_file", {"path": "a.txt", "content": "A"}),
            call("write_file", {"path": "b.txt", "content": "B"}),
            content="Writing both files.",
        ),
        text("Wrote **a.txt**; skipped b.txt as you asked."),
    )
    model = OpenAIChat(id="test-model", base_url=chat_server.url, api_key="test", max_retries=0, timeout=5)
    app = make_app(model=model)
    async with app.run_test(size=WIDE) as pilot:
        await ask(pilot, app, "go")
        assert isinstance(app.screen, ConfirmModal)
        assert app.query_one(ApprovalsPane).count == 2
        await pilot.press("y")  # the first: approved; the second modal opens at once
        await settle(pilot, app)
        assert isinstance(app.screen, ConfirmModal)
        assert app.agent.run_response.is_paused  # nothing is sent before both are decided
        assert len(chat_server.requests) == 1
        await pilot.press("r", *"no b", "enter")
        await settle(pilot, app)
        run = app.agent.run_response
        assert run.status == "completed"
        assert [t.status for t in run.tools] == ["completed", "rejected"]
        workspace = app.settings.workspace
        assert (workspace / "a.txt").read_text() == "A"
        assert not (workspace / "b.txt").exists()
        # the model got both results together, in one request, with the reason
        results = [m["content"] for m in chat_server.tool_messages(-1)]
        assert len(results) == 2 and "Reason given: no b" in results[1]
        assert "Wrote a.txt; skipped b.txt as you asked." in screen_text(app)


@tool
def shout(text: str) -> str:
    """Echo text back, loudly."""
    return text.upper()


@tool(requires_confirmation=True)
def count_to(n: int) -> str:
    """Count to n."""
    return " ".join(str(i) for i in range(1, n + 1))


async def test_an_invalid_edit_is_refused_in_the_modal_and_the_call_still_waits() -> None:
    app = make_app(tools=[count_to])
    async with app.run_test(size=WIDE) as pilot:
        await ask(pilot, app, 'call count_to {"n": 3}')
        await pilot.press("e", "f7")
        await type_text(pilot, '{"n": "many"}')
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert isinstance(app.screen, ConfirmModal)  # still editing: the schema refused it
        assert app.agent.run_response.is_paused
        await pilot.press("escape", "escape")  # back to deciding, then decide later
        await settle(pilot, app)
        assert app.query_one(ApprovalsPane).count == 1
