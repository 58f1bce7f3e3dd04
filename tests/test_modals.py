"""The decision modals, driven by keys: each one only ever returns a `Decision`.

The calls they decide on are proposed by a real `Agent` (offline `DemoModel`) with real `@tool`s,
and edited arguments are checked by `Agent.validate_edit`.
"""

from __future__ import annotations

import pytest
from textual.app import App
from textual.binding import Binding
from textual.widgets import Input, Select, Switch, TextArea

from modal_helpers import DecisionApp, make_agent, paused_call, screen_text
from tui.agent.decisions import Decision, apply_decision
from tui.screens.confirm_modal import ConfirmModal
from tui.screens.decision_modals import modal_for
from tui.screens.external_result_modal import ExternalResultModal
from tui.screens.help_screen import HelpScreen
from tui.screens.user_input_modal import UserInputModal

EMAIL = {"to": "ann@example.com", "subject": "Hello", "body": "Hi Ann"}


async def confirm_app(args: dict | None = None):
    agent = make_agent()
    call = await paused_call(agent, "send_email", args or EMAIL)
    return agent, call, DecisionApp(modal_for(call, agent))


# ----------------------------------------------------------------------------- confirmation


async def test_y_approves_the_call_as_proposed():
    _, _, app = await confirm_app()
    async with app.run_test(size=(100, 30)) as pilot:
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        assert app.decisions == [Decision("approve")]
        assert not isinstance(app.screen, ConfirmModal)


async def test_n_rejects_the_call_without_a_reason():
    _, _, app = await confirm_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("n")
        assert app.decisions == [Decision("reject")]


async def test_r_asks_for_a_reason_and_enter_rejects_with_it():
    _, _, app = await confirm_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("r")
        assert isinstance(app.focused, Input)
        assert app.decisions == []
        await pilot.press(*"spam", "enter")
        assert app.decisions == [Decision("reject", note="spam")]


async def test_esc_in_the_reason_box_goes_back_without_deciding():
    _, _, app = await confirm_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("r", "n", "o", "escape")
        assert app.decisions == []
        assert app.screen.mode == "decide"
        # typing in the reason box never triggered the n (reject) key; y still approves
        await pilot.press("y")
        assert app.decisions == [Decision("approve")]


@pytest.mark.parametrize(
    "key, action",
    [
        ("a", "allow_session"),
        ("A", "allow_always"),
        ("d", "deny_session"),
        ("D", "deny_always"),
        ("escape", "defer"),
    ],
)
async def test_lower_case_decides_for_the_session_upper_case_always_and_esc_defers(key: str, action: str):
    _, _, app = await confirm_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(key)
        assert app.decisions == [Decision(action)]  # type: ignore[arg-type]


async def test_the_modal_shows_the_tool_its_description_why_it_asks_and_the_keys():
    _, _, app = await confirm_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "Run send_email?" in text
        assert "Send an email from your account." in text
        assert "needing your confirmation" in text
        assert "to" in text and '"ann@example.com"' in text  # named fields, values as JSON
        for key_label in ("y Approve", "n Reject", "r Reason", "e Edit", "esc Later"):
            assert key_label in text
        assert "a / A allow this tool" in text and "d / D deny it" in text


async def test_long_arguments_are_shown_in_full_and_scroll():
    body = "\n".join(f"line {i:03d} of a long message" for i in range(80))
    _, _, app = await confirm_app({**EMAIL, "body": body})
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.screen.query_one("#args")
        static = view.query_one(".args-fields")
        assert "body  text, 80 lines" in str(static.render())
        assert "│ line 079 of a long message" in str(static.render())
        assert view.max_scroll_y > 0
        await pilot.press("end")
        assert view.scroll_y == view.max_scroll_y


async def test_markup_and_escape_sequences_in_the_arguments_are_shown_literally_and_do_nothing():
    hostile = {"to": "[@click=app.quit]", "subject": "[bold red]x[/]", "body": "\x1b[31mred\x1b[0m"}
    _, _, app = await confirm_app(hostile)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "[@click=app.quit]" in text
        assert "[bold red]x[/]" in text
        assert "␛[31mred␛[0m" in text
        await pilot.press("tab", "enter", "space", "down", "up")
        assert app.is_running and app.decisions == []
        await pilot.press("y")
        assert app.decisions == [Decision("approve")]
        assert app.is_running


async def test_an_earlier_refusal_of_the_call_is_shown():
    agent = make_agent()
    call = await paused_call(agent, "send_email", EMAIL)
    call.error = "The edited arguments are invalid: copies: Input should be a valid integer"
    app = DecisionApp(modal_for(call, agent))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert "copies: Input should be a valid integer" in screen_text(app)


# ----------------------------------------------------------------------------- editing


async def _start_edit(pilot, app, text: str) -> None:
    await pilot.press("e")
    editor = app.screen.query_one("#editor", TextArea)
    assert app.focused is editor
    editor.text = text  # the content a user typed (typing JSON key by key is slow and adds nothing)
    await pilot.pause()


async def test_e_opens_an_editor_with_the_arguments_as_json():
    _, _, app = await confirm_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("e")
        editor = app.screen.query_one("#editor", TextArea)
        import json

        assert json.loads(editor.text) == EMAIL
        # y and n are plain typing in the editor, not decisions
        await pilot.press("y", "n")
        assert app.decisions == []
        assert editor.text.startswith("yn")


async def test_editing_with_invalid_json_shows_the_error_inline_and_stays_open():
    _, _, app = await confirm_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await _start_edit(pilot, app, '{"to": "bob@example.com",')
        await pilot.press("ctrl+s")
        assert app.decisions == []
        assert app.screen.mode == "edit"
        assert "Not valid JSON" in screen_text(app)


async def test_editing_with_arguments_the_tool_refuses_shows_its_error_inline():
    _, _, app = await confirm_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await _start_edit(pilot, app, '{"to": "bob@example.com", "subject": "Hi", "body": "x", "copies": "many"}')
        await pilot.press("ctrl+s")
        assert app.decisions == [] and app.screen.mode == "edit"
        text = screen_text(app)
        assert "The tool does not accept these arguments" in text
        assert "copies" in text
        await _start_edit(pilot, app, '{"to": "bob@example.com", "unknown": 1}')
        await pilot.press("ctrl+s")
        text = screen_text(app)
        assert "subject" in text and "unknown" in text
        assert app.screen.mode == "edit"


async def test_a_valid_edit_shows_what_changed_then_y_approves_the_edited_arguments():
    _, _, app = await confirm_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _start_edit(pilot, app, '{"to": "bob@example.com", "subject": "Hello", "copies": "2", "body": "Hi Ann"}')
        await pilot.press("ctrl+s")
        assert app.screen.mode == "review"
        text = screen_text(app)
        assert '~ to: "ann@example.com" → "bob@example.com"' in text
        assert "+ copies: 2" in text  # coerced by the tool's schema
        assert "subject" not in app.screen.query_one("#diff").render().plain
        assert app.decisions == []
        await pilot.press("y")
        assert app.decisions == [
            Decision("edit", args={"to": "bob@example.com", "subject": "Hello", "copies": 2, "body": "Hi Ann"})
        ]


async def test_from_the_diff_e_and_esc_go_back_to_the_editor_and_esc_again_to_the_decision():
    _, _, app = await confirm_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await _start_edit(pilot, app, '{"to": "bob@example.com", "subject": "Hello", "body": "Hi"}')
        await pilot.press("ctrl+s")
        assert app.screen.mode == "review"
        await pilot.press("e")
        assert app.screen.mode == "edit"
        await pilot.press("ctrl+s", "escape")
        assert app.screen.mode == "edit"
        await pilot.press("escape")
        assert app.screen.mode == "decide"
        await pilot.press("n")
        assert app.decisions == [Decision("reject")]


async def test_an_edit_that_changes_nothing_approves_the_call_as_proposed():
    _, _, app = await confirm_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("e", "ctrl+s")
        assert "No changes" in screen_text(app)
        await pilot.press("y")
        assert app.decisions == [Decision("approve")]


async def test_the_edited_arguments_decided_in_the_modal_are_the_ones_the_tool_runs_with():
    agent, call, app = await confirm_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await _start_edit(pilot, app, '{"to": "bob@example.com", "subject": "Hello", "body": "Hi Bob"}')
        await pilot.press("ctrl+s", "y")
    (decision,) = app.decisions
    run = agent.run_response
    assert apply_decision(agent, run, call, decision)
    run = await agent.acontinue_run(run)
    assert run.status == "completed"
    assert call.executed_args == {"to": "bob@example.com", "subject": "Hello", "body": "Hi Bob"}
    assert call.result == "sent 1 email(s) to bob@example.com"


# ----------------------------------------------------------------------------- user input


async def form_app():
    agent = make_agent()
    call = await paused_call(agent, "send_letter", {"subject": "Invoice"})
    modal = modal_for(call, agent)
    assert isinstance(modal, UserInputModal)
    return call, DecisionApp(modal)


async def test_the_form_has_one_widget_per_field_chosen_by_type():
    _, app = await form_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen.query_one("#input-0"), Input)  # to: str
        copies = screen.query_one("#input-1", Input)
        assert copies.placeholder == "a whole number"
        assert isinstance(screen.query_one("#input-2"), Switch)  # urgent: bool
        priority = screen.query_one("#input-3", Select)  # Literal
        assert priority.value == "normal"
        colour = screen.query_one("#input-4", Select)  # Enum
        assert colour.value == "blue"
        hints = [str(w.render()) for w in screen.query(".field-help")]
        assert "The recipient's postal address." in hints
        assert 'Prefilled with the suggested value "normal": keep it or change it.' in hints
        assert "Prefilled with the suggested value: off." in hints
        context = screen.query_one("#context")
        assert 'subject\n  "Invoice"' in str(context.query_one(".args-fields").render())  # read-only context
        assert app.focused is screen.query_one("#input-0")


async def test_an_invalid_whole_number_shows_an_error_under_the_field_then_a_valid_one_is_coerced():
    _, app = await form_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press(*"Rome", "tab", "-", "enter")
        assert app.decisions == []
        assert isinstance(app.screen, UserInputModal)
        assert app.screen.query_one("#error-1").message == "must be a whole number"
        assert "must be a whole number" in screen_text(app)
        assert app.focused is app.screen.query_one("#input-1")
        await pilot.press("backspace", "3", "enter")
        assert app.decisions == [
            Decision(
                "input",
                values={"to": "Rome", "copies": 3, "urgent": False, "priority": "normal", "colour": "blue"},
            )
        ]


async def test_an_empty_required_field_is_an_error_and_keeps_the_form_open():
    _, app = await form_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+s")
        assert app.decisions == []
        assert app.screen.query_one("#error-0").message == "a value is required"
        assert app.screen.query_one("#error-1").message == "a value is required"
        assert "2 fields need fixing." in screen_text(app)


async def test_a_bool_field_is_a_switch_toggled_from_the_keyboard():
    _, app = await form_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press(*"x", "tab", "7", "tab")
        assert app.focused is app.screen.query_one("#input-2", Switch)
        await pilot.press("space")
        await pilot.press("ctrl+s")
        assert app.decision is not None and app.decision.values["urgent"] is True


async def test_a_literal_field_is_a_select_chosen_from_the_keyboard():
    _, app = await form_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press(*"x", "tab", "7", "tab", "tab")
        assert app.focused is app.screen.query_one("#input-3", Select)
        await pilot.press("enter")  # open the list, on the current value ("normal")
        await pilot.press("down", "enter")  # -> "high"
        await pilot.press("ctrl+s")
        assert app.decision is not None
        assert app.decision.values["priority"] == "high"


async def test_esc_leaves_the_form_for_later():
    _, app = await form_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("a", "escape")
        assert app.decisions == [Decision("defer")]


async def test_values_the_runtime_refused_before_are_shown_with_their_errors():
    agent = make_agent()
    call = await paused_call(agent, "send_letter", {"subject": "Invoice"})
    errors = call.provide_user_input(
        {"to": "Somewhere", "copies": "lots", "urgent": True, "priority": "high", "colour": "red"}
    )
    assert errors == {"copies": "must be a whole number"}
    app = DecisionApp(UserInputModal(call))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.screen.query_one("#input-0", Input).value == "Somewhere"
        assert app.screen.query_one("#input-1", Input).value == "lots"
        assert app.screen.query_one("#error-1").message == "must be a whole number"
        assert app.screen.query_one("#input-2", Switch).value is True
        assert app.screen.query_one("#input-3", Select).value == "high"


async def test_submitted_form_values_complete_the_call_in_the_runtime():
    agent, app = make_agent(), None
    call = await paused_call(agent, "send_letter", {"subject": "Invoice"})
    app = DecisionApp(modal_for(call, agent))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press(*"Rome", "tab", "2", "enter")
    run = agent.run_response
    assert apply_decision(agent, run, call, app.decision)
    run = await agent.acontinue_run(run)
    assert run.status == "completed"
    assert call.result == "posted 2 letter(s) to Rome"


# ----------------------------------------------------------------------------- external result


async def external_app():
    agent = make_agent()
    call = await paused_call(agent, "run_shell_command", {"command": "uname -a"})
    modal = modal_for(call, agent)
    assert isinstance(modal, ExternalResultModal)
    return DecisionApp(modal)


async def test_the_external_modal_shows_the_call_and_returns_the_typed_result():
    app = await external_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "run_shell_command" in text and '"uname -a"' in text
        assert isinstance(app.focused, TextArea)
        await pilot.press(*"Linux", "enter", *"ok", "ctrl+s")
        assert app.decisions == [Decision("result", result="Linux\nok")]


async def test_an_empty_external_result_is_refused_inline():
    app = await external_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("space", "ctrl+s")
        assert app.decisions == []
        assert "Type the result of running the tool" in screen_text(app)
        await pilot.press("escape")
        assert app.decisions == [Decision("defer")]


async def test_modal_for_refuses_a_call_that_needs_no_decision():
    agent = make_agent()
    call = await paused_call(agent, "send_email", EMAIL)
    call.requires_confirmation = False
    with pytest.raises(ValueError, match="needs no decision"):
        modal_for(call, agent)


# ----------------------------------------------------------------------------- help


class HelpHost(App[None]):
    """An app with dashboard-like keys; `?` opens the help over it."""

    BINDINGS = [
        Binding("question_mark", "help", "Help", tooltip="Keys and how decisions work"),
        Binding("h", "history", "History", tooltip="Browse, resume and export past runs"),
        Binding("ctrl+q", "quit", "Quit"),
    ]

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_history(self) -> None:
        pass


async def test_help_lists_the_apps_keys_and_every_modals_keys_and_explains_decisions():
    app = HelpHost()
    async with app.run_test(size=(120, 200)) as pilot:  # tall: the whole help on screen
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = "\n".join(str(s.render()) for s in app.screen.query(".help-group-title"))
        assert text.split("\n") == [
            "Everywhere",
            "Dashboard",
            "Prompt",
            "Approvals pane",
            "Tool calls pane",
            "Input and result dialogs",
            "Confirmation dialog",
            "User-input form",
            "External result",
            "A run whose process has ended",
            "Viewing a run (read-only)",
            "An MCP server asks for input",
            "Saving an always rule",
            "History",
            "Approval rules (f2)",
            "MCP servers",
            "Help",
        ]
        shown = screen_text(app)
        assert "Browse, resume and export past runs" in shown  # read from the app's bindings
        assert "Approve, and always allow this tool (saved rule)" in shown
        assert "Nothing gated ever runs without your decision." in str(
            app.screen.query_one(".help-text").render()
        )


@pytest.mark.parametrize("key", ["escape", "q", "question_mark"])
async def test_esc_q_or_question_mark_close_the_help(key: str):
    app = HelpHost()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press(key)
        assert not isinstance(app.screen, HelpScreen)
        assert app.is_running


async def test_help_lists_app_keys_that_are_hidden_while_a_screen_covers_the_dashboard():
    class GuardedHost(HelpHost):
        def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
            if action == "history":  # like HitlApp: not over another screen
                return self.screen is self.screen_stack[0]
            return True

    app = GuardedHost()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        assert "Browse, resume and export past runs" in screen_text(app)
