"""The dashboard decides only what the person meant: type-ahead, hidden characters, truthful log and outcomes.

Whole flows through a real HitlApp (Pilot), the demo model or the real chat server, a real store.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chatserver import ChatServer, call, fault, text, tools
from ui_support import NARROW, WIDE, make_app, screen_text, settle, type_text, wait_for

from tui.agent import tool
from tui.agent.models import OpenAIChat
from tui.screens.confirm_modal import ConfirmModal
from tui.screens.dashboard import Dashboard
from tui.widgets.approvals_pane import ApprovalsPane
from tui.widgets.tool_log import ToolLog

ran: list[str] = []


@tool(requires_confirmation=True)
def restart_service(name: str) -> str:
    """Restart a service.

    Args:
        name: The service to restart.
    """
    ran.append(f"restart {name}")
    return f"restarted {name}"


@tool(requires_confirmation=True)
def stop_service(name: str) -> str:
    """Stop a service.

    Args:
        name: The service to stop.
    """
    ran.append(f"stop {name}")
    return f"stopped {name}"


@tool(requires_confirmation=True, approval_timeout=30)
def drop_cache(name: str) -> str:
    """Drop a cache.

    Args:
        name: Which cache.
    """
    ran.append(f"drop {name}")
    return f"dropped {name}"


def server_model(chat_server: ChatServer) -> OpenAIChat:
    return OpenAIChat(id="test-model", base_url=chat_server.url, api_key="test", max_retries=0, timeout=5)


async def prompt(pilot: Any, app: Any, text_: str) -> None:
    await type_text(pilot, text_)
    await pilot.press("enter")
    await settle(pilot, app)


def conversation_text(app: Any) -> str:
    return "\n".join(str(w.render()) for w in app.dashboard.conversation.query(".tool-note, .note"))


# ----------------------------------------------------------------------------- type-ahead


async def test_typing_ahead_while_a_gated_call_arrives_decides_nothing_and_keeps_the_text(chat_server: ChatServer):
    chat_server.add(
        fault("delay", seconds=0.6, calls=[call("write_file", {"path": "footgun.txt", "content": "boom"})]),
        text("I did not write it."),
    )
    app = make_app(model=server_model(chat_server))
    async with app.run_test(size=WIDE) as pilot:
        await type_text(pilot, "Write a file named footgun.txt with 'boom'")
        await pilot.press("enter")
        await type_text(pilot, "and yes also please")  # typed while the model is still answering
        await wait_for(pilot, lambda: app.query_one(ApprovalsPane).count == 1)
        await settle(pilot, app)
        await type_text(pilot, " dyn")  # and the person keeps typing after the call arrived
        await pilot.pause()
        assert isinstance(app.screen, Dashboard)  # no dialog opened under the fingers
        assert app.dashboard.conversation.prompt.value == "and yes also please dyn"
        run = app.agent.run_response
        assert run.is_paused and run.tools[0].is_awaiting_decision  # the call waits, undecided
        assert not (app.settings.workspace / "footgun.txt").exists()
        assert app.agent.policy.session_deny == set() and app.agent.policy.session_allow == set()
        assert "Not opened while you were typing: ctrl+o opens the waiting call" in conversation_text(app)
        # the person decides when they choose to: ctrl+o opens it
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")
        await settle(pilot, app)
        assert app.dashboard.conversation.prompt.value == "and yes also please dyn"  # still there


# ----------------------------------------------------------------------------- hidden characters


async def test_a_bidi_override_in_the_arguments_is_a_visible_marker_in_modal_log_and_pane_at_80x24():
    app = make_app()
    async with app.run_test(size=NARROW) as pilot:
        await prompt(pilot, app, "call write_file {\"path\": \"invoice\\u202egpj.sh\", \"content\": \"x\"}")
        assert isinstance(app.screen, ConfirmModal)
        text = screen_text(app)
        assert "invoice⟨U+202E⟩gpj.sh" in text and "\u202e" not in text
        assert "⚠ Hidden characters: ⟨U+202E⟩" in text
        await pilot.press("escape")  # decide later
        await pilot.pause()
        app.dashboard.show_pane("tool-log")
        await pilot.pause()
        text = screen_text(app)
        assert "invoice⟨U+202E⟩gpj.sh" in text and "\u202e" not in text
        app.dashboard.show_pane("approvals")
        await pilot.pause()
        text = screen_text(app)
        assert "invoice⟨U+202E⟩gpj.sh" in text and "\u202e" not in text
        app.dashboard.show_pane("conversation")
        await pilot.pause()
        assert "invoice⟨U+202E⟩gpj.sh" in screen_text(app)


# ----------------------------------------------------------------------------- the log tells the truth


async def test_an_ungated_call_of_a_paused_turn_shows_as_done_before_anything_is_decided():
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await prompt(pilot, app, "Write a file named a.txt with 'x' and list the workspace and write a file named b.txt with 'y'")
        assert isinstance(app.screen, ConfirmModal)  # nothing decided yet
        assert "Confirm tool call · 1 of 2" in screen_text(app)
        states = [(e.tool.tool_name, e.tool.status) for e in app.query_one(ToolLog).entries]
        assert states == [("write_file", "pending"), ("list_workspace", "completed"), ("write_file", "pending")]
        log_text = screen_text(app)
        assert "✔ list_workspace" in log_text and "⏸ write_file" in log_text
        await pilot.press("y")
        await settle(pilot, app)
        assert "Confirm tool call · 2 of 2" in screen_text(app)


# ----------------------------------------------------------------------------- the conversation's outcomes


async def test_the_conversation_line_of_each_call_becomes_its_outcome(tmp_path, monkeypatch):
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rule]]\nname = "web-ok"\ntool = "restart_service"\neffect = "allow"\n[rule.args.name]\nequals = "web"\n')
    monkeypatch.setenv("HITL_TUI_RULES", str(rules))
    ran.clear()
    app = make_app(tools=[restart_service, stop_service, drop_cache], builtin_tools=False)
    async with app.run_test(size=WIDE) as pilot:
        await prompt(pilot, app, 'call stop_service {"name": "db"}')
        assert "Waiting for your decision: stop_service" in conversation_text(app)
        await pilot.press("y")
        await settle(pilot, app)
        text = conversation_text(app)
        assert '⚙ stop_service {"name": "db"}  — ✔ approved by you · done' in text
        assert "Waiting for your decision" not in text
        assert "▶ Decided: stop_service ✔ approved by you" in text

        await prompt(pilot, app, 'call stop_service {"name": "mail"}')
        await pilot.press("e")
        app.screen.query_one("#editor").load_text('{"name": "cache"}')
        await pilot.press("ctrl+s", "y")
        await settle(pilot, app)
        assert '⚙ stop_service {"name": "mail"}  — ✎ edited by you to {"name": "cache"}, then approved · done' in conversation_text(app)

        await prompt(pilot, app, 'call stop_service {"name": "api"}')
        await pilot.press("r", *"not now", "enter")
        await settle(pilot, app)
        assert '⚙ stop_service {"name": "api"}  — ⊘ rejected by you with reason “not now”' in conversation_text(app)

        await prompt(pilot, app, 'call restart_service {"name": "web"}')
        assert isinstance(app.screen, Dashboard)  # the rule decided
        assert '⚙ restart_service {"name": "web"}  — ✔ allowed by rule web-ok · done' in conversation_text(app)

        await prompt(pilot, app, 'call drop_cache {"name": "sessions"}')
        assert isinstance(app.screen, ConfirmModal)
        run = app.agent.run_response
        waiting = run.tools[0]
        waiting.created_at -= timedelta(seconds=60)  # the clock moved on: nobody decided in 30 s
        app.dashboard._timeout_due(run.run_id, waiting.tool_call_id)
        await settle(pilot, app)
        text = conversation_text(app)
        assert '⚙ drop_cache {"name": "sessions"}  — ⏱ timed out: not run' in text
        assert "⏱ Timed out: no decision on drop_cache in time." in text
        assert ran == ["stop db", "stop cache", "restart web"]


# ----------------------------------------------------------------------------- scopes that can fail


async def test_a_allows_only_that_tool_for_the_session_another_tool_still_asks():
    ran.clear()
    app = make_app(tools=[restart_service, stop_service], builtin_tools=False)
    async with app.run_test(size=WIDE) as pilot:
        await prompt(pilot, app, 'call restart_service {"name": "web"}')
        await pilot.press("a")
        await settle(pilot, app)
        await prompt(pilot, app, 'call stop_service {"name": "web"}')
        assert isinstance(app.screen, ConfirmModal), "a allowed a tool it was not pressed for"
        assert ran == ["restart web"]
        await pilot.press("n")
        await settle(pilot, app)
        await prompt(pilot, app, 'call restart_service {"name": "db"}')
        assert isinstance(app.screen, Dashboard)  # the tool a was pressed for no longer asks
        assert ran == ["restart web", "restart db"]


async def test_batch_decisions_decide_only_the_intended_calls_across_two_runs_and_two_turns(chat_server: ChatServer):
    ran.clear()
    chat_server.add(
        tools(call("restart_service", {"name": "a1"}), call("restart_service", {"name": "a2"})),  # run A, turn 1
        tools(call("restart_service", {"name": "b1"}), call("restart_service", {"name": "b2"})),  # run B, turn 1
        tools(call("restart_service", {"name": "a3"})),  # run A, turn 2
        text("Run A is done."),
    )
    app = make_app(model=server_model(chat_server), tools=[restart_service], builtin_tools=False)
    async with app.run_test(size=WIDE) as pilot:
        pane = app.query_one(ApprovalsPane)
        await prompt(pilot, app, "first")
        run_a = app.agent.run_response
        for _ in range(2):
            await pilot.press("escape")
            await pilot.pause()
        await prompt(pilot, app, "second")
        run_b = app.agent.run_response
        for _ in range(2):
            await pilot.press("escape")
            await pilot.pause()
        assert pane.count == 4 and run_a is not run_b
        pane.focus_list()
        await pilot.pause()
        await pilot.press("Y")  # nothing marked: the highlighted item's turn (run A, turn 1) only
        await settle(pilot, app)
        assert ran == ["restart a1", "restart a2"]
        assert [t.status for t in run_b.tools] == ["pending", "pending"]
        # run A went on and paused at its second turn: a3 opens; decide it later
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("escape")
        await pilot.pause()
        assert pane.count == 3
        pane.focus_list()
        await pilot.press("down", "down")  # b1, b2, a3: the cursor on a3 (run A, turn 2)
        await pilot.press("Y")
        await settle(pilot, app)
        assert ran == ["restart a1", "restart a2", "restart a3"]
        assert run_a.status == "completed"
        assert [t.status for t in run_b.tools] == ["pending", "pending"]  # the other run is untouched
        pane.focus_list()
        await pilot.press("up", "up", "space", "N")  # mark b1 only; N rejects the marked one
        await settle(pilot, app)
        assert [t.confirmed for t in run_b.tools] == [False, None]
        assert ran == ["restart a1", "restart a2", "restart a3"]


async def test_a_dialog_that_opens_as_the_person_starts_typing_steps_aside_and_keeps_every_key(monkeypatch):
    monkeypatch.setenv("HITL_TUI_DECISION_DELAY", "3600")  # the grace period never ends by itself here
    app = make_app()
    async with app.run_test(size=NARROW) as pilot:
        await prompt(pilot, app, "Write a file named footgun.txt with 'boom'")
        assert isinstance(app.screen, ConfirmModal)  # the prompt was empty: the dialog opened
        await type_text(pilot, "why did you do that")  # the person was already typing their next thought
        await settle(pilot, app)
        assert isinstance(app.screen, Dashboard)
        assert app.dashboard.conversation.prompt.value == "why did you do that"
        run = app.agent.run_response
        assert run.is_paused and run.tools[0].is_awaiting_decision
        assert app.agent.policy.session_deny == set() and app.agent.policy.session_allow == set()
        assert not (app.settings.workspace / "footgun.txt").exists()
        assert app.query_one(ApprovalsPane).count == 1
        assert "Not opened while you were typing" in conversation_text(app)
