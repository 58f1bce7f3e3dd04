"""Deliberate decisions in the modals: nothing decided by a stray key, nothing approved unseen.

Real calls proposed by a real Agent (DemoModel), real modals driven by Pilot keys. The grace
period is never waited for on the wall clock: a test either gives the modal a delay it will not
reach (and arms it with `arm()`), or the default of the suite (0).
"""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, TextArea

from modal_helpers import DecisionApp, make_agent, paused_call, screen_text
from tui.agent import Agent
from tui.agent.decisions import Decision
from tui.agent.models import DemoModel
from tui.screens.confirm_modal import ConfirmModal
from tui.screens.decision_modals import modal_for
from tui.screens.user_input_modal import UserInputModal
from tui.toolbox.files import make_file_tools
from tui.toolbox.shell import run_shell_command
from tui.widgets.args_fields import ArgsFields

EMAIL = {"to": "ann@example.com", "subject": "Hello", "body": "Hi Ann"}
NEVER = 3600.0  # a grace period no test reaches: the test arms the modal itself


async def _confirm(args: dict | None = None, **kwargs):
    agent = make_agent()
    call = await paused_call(agent, "send_email", args or EMAIL)
    return DecisionApp(modal_for(call, agent, **kwargs))


# ----------------------------------------------------------------------------- grace period


async def test_keys_do_nothing_until_the_modal_is_armed_and_the_countdown_says_so():
    app = await _confirm(arm_delay=NEVER)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert "the keys work in" in screen_text(app)
        await pilot.press("enter", "ctrl+s", "tab")
        assert app.decisions == []
        assert isinstance(app.screen, ConfirmModal)
        app.screen.arm()
        await pilot.pause()
        assert "the keys work in" not in screen_text(app)
        await pilot.press("y")
        assert app.decisions == [Decision("approve")]


async def test_a_typed_character_before_arming_never_decides_the_modal_steps_aside_with_it():
    for key in ("y", "a", "A", "d", "D", "t", "n"):
        app = await _confirm(arm_delay=NEVER)
        async with app.run_test(size=(100, 30)) as pilot:
            modal = app.screen
            await pilot.press(key)
            assert app.decisions == [Decision("defer")], key  # decide later: the call keeps waiting
            assert modal.typed_ahead == key


async def test_a_form_takes_no_typed_ahead_text_and_no_enter_before_it_is_armed():
    agent = make_agent()
    call = await paused_call(agent, "send_letter", {"subject": "Invoice"})
    app = DecisionApp(modal_for(call, agent, arm_delay=NEVER))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("enter", "ctrl+s", "ctrl+r")
        assert app.decisions == []
        assert app.screen.query_one("#input-0", Input).value == ""  # the keys went nowhere
        app.screen.arm()
        await pilot.pause()
        assert app.focused is app.screen.query_one("#input-0")


async def test_the_default_grace_period_is_half_a_second_and_configurable(monkeypatch):
    from tui.screens.decision_modal import default_arm_delay

    monkeypatch.delenv("HITL_TUI_DECISION_DELAY")
    assert default_arm_delay() == 0.5
    monkeypatch.setenv("HITL_TUI_DECISION_DELAY", "1.5")
    assert default_arm_delay() == 1.5
    monkeypatch.setenv("HITL_TUI_DECISION_DELAY", "soon")
    assert default_arm_delay() == 0.5  # a bad value never turns the protection off


# ----------------------------------------------------------------------------- every argument seen


LONG = {
    "to": "ann@example.com",
    "subject": "Notes",
    "body": "Hi Ann,\n" + "\n".join(f"line {i:02d}" for i in range(40)) + "\nrm -rf ~/important\n-- the end",
}


async def test_at_80x24_a_long_multi_line_argument_cannot_be_approved_before_its_end_was_shown():
    app = await _confirm(LONG)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        modal = app.screen
        view = modal.query_one("#args", ArgsFields)
        assert "body  text, 43 lines" in screen_text(app)  # a text block, not one JSON string
        assert "rm -rf" not in screen_text(app)
        presses = 0
        while app.decisions == [] and presses < 20:
            seen_before = view.seen_end and modal.query_one("#dialog").seen_end
            await pilot.press("y")
            presses += 1
            if not seen_before:
                assert app.decisions == [], "approved before the end of the arguments was on screen"
                assert "Not approved yet" in screen_text(app)
        assert app.decisions == [Decision("approve")]
        assert presses > 2
        assert view.seen_end


async def test_a_widening_scope_key_also_needs_the_end_seen_but_reject_does_not():
    app = await _confirm(LONG)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("a")
        assert app.decisions == []
        assert "Not approved yet" in screen_text(app)
        await pilot.press("end")  # the person scrolls to the end themselves
        await pilot.press("a")
        assert app.decisions == [Decision("allow_session")]
    app = await _confirm(LONG)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        assert app.decisions == [Decision("reject")]


async def test_n_of_m_when_several_calls_wait_in_one_turn():
    app = await _confirm(position=(2, 3))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert "Confirm tool call · 2 of 3" in screen_text(app)


async def test_hidden_characters_are_markers_and_the_call_is_flagged():
    app = await _confirm({"to": "ann@example.com", "subject": "invoice\u202egpj.sh", "body": "a\u200bb\u2060c\ufeff"})
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "invoice⟨U+202E⟩gpj.sh" in text
        assert "a⟨U+200B⟩b⟨U+2060⟩c⟨U+FEFF⟩" in text
        assert "⚠ Hidden characters: ⟨U+202E⟩ ⟨U+200B⟩ ⟨U+2060⟩ ⟨U+FEFF⟩" in text
        assert "\u202e" not in text and "\u200b" not in text


# ----------------------------------------------------------------------------- decline every kind


async def test_a_user_input_call_can_be_declined_with_a_reason():
    agent = make_agent()
    call = await paused_call(agent, "send_letter", {"subject": "Invoice"})
    app = DecisionApp(modal_for(call, agent))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+r")
        assert app.focused is app.screen.query_one("#decline-reason")
        await pilot.press("escape")  # back to the form, nothing decided
        assert app.decisions == [] and isinstance(app.screen, UserInputModal)
        await pilot.press("ctrl+r", *"wrong person", "enter")
        assert app.decisions == [Decision("reject", note="wrong person")]


async def test_an_external_call_can_be_declined_and_its_command_is_shown_and_copied():
    agent = Agent(model=DemoModel(delay=0), tools=[run_shell_command])
    call = await paused_call(agent, "run_shell_command", {"command": "rm -rf /tmp/x && echo 'done'"})
    app = DecisionApp(modal_for(call, agent))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert "$ rm -rf /tmp/x && echo 'done'" in screen_text(app)
        await pilot.press("ctrl+o")
        assert app.clipboard == "rm -rf /tmp/x && echo 'done'"
        await pilot.press("ctrl+r", "enter")
        assert app.decisions == [Decision("reject")]


# ----------------------------------------------------------------------------- edit draft


async def test_esc_keeps_a_broken_draft_and_ctrl_r_resets_it_to_the_proposed_arguments():
    app = await _confirm()
    async with app.run_test(size=(100, 30)) as pilot:
        modal = app.screen
        await pilot.press("e", "ctrl+a", *"{broken", "escape")
        assert modal.mode == "decide"
        await pilot.press("e")
        editor = modal.query_one("#editor", TextArea)
        assert "{broken" in editor.text  # kept, as the notice said
        await pilot.press("ctrl+r")
        assert '"to": "ann@example.com"' in editor.text and "broken" not in editor.text
        await pilot.press("ctrl+s", "y")
        assert app.decisions == [Decision("approve")]


# ----------------------------------------------------------------------------- previews


async def test_write_file_shows_a_diff_against_the_existing_file_or_says_it_creates_one(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("HITL_TUI_WORKSPACE", str(tmp_path))
    (tmp_path / "notes.txt").write_text("alpha\nbeta\n", encoding="utf-8")
    write_file, _, _ = make_file_tools()
    agent = Agent(model=DemoModel(delay=0), tools=[write_file])
    call = await paused_call(agent, "write_file", {"path": "notes.txt", "content": "alpha\ngamma\n"})
    app = DecisionApp(modal_for(call, agent))
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "Replaces the existing file notes.txt: 1 line added, 1 removed." in text
        assert "-beta" in text and "+gamma" in text
    call = await paused_call(agent, "write_file", {"path": "new/today.md", "content": "hi"})
    app = DecisionApp(modal_for(call, agent))
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        assert "Creates a new file new/today.md (2 bytes, 1 line)." in screen_text(app)


# ----------------------------------------------------------------------------- form fields


async def test_letters_in_a_whole_number_field_are_reported_not_dropped():
    agent = make_agent()
    call = await paused_call(agent, "send_letter", {"subject": "Invoice"})
    app = DecisionApp(modal_for(call, agent))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.click("#input-1")
        await pilot.press("3", "x")
        copies = app.screen.query_one("#input-1", Input)
        assert copies.value == "3x"
        assert app.screen.query_one("#error-1").message == "must be a whole number"
        await pilot.press("backspace")
        assert app.screen.query_one("#error-1").message == ""


def test_the_email_field_accepts_a_name_and_an_address():
    from tui.toolbox.email import send_email

    (field,) = send_email.user_input_schema()
    assert field.coerce("Ann <ann@example.com>") == "Ann <ann@example.com>"
    assert field.coerce(" ann@example.com ") == "ann@example.com"
    for bad in ("Ann <not an address>", "a <a@b>, b <c@d>", "Ann\n<ann@example.com>"):
        try:
            field.coerce(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was accepted")


async def test_a_reason_typed_fast_reaches_the_model_whole():
    """Keys arriving in one burst (a fast typist, a paste-like terminal write) all land before enter."""
    from textual import events

    app = await _confirm()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("r")
        for ch in "not today":
            app.post_message(events.Key(ch if ch != " " else "space", ch))
        app.post_message(events.Key("enter", "\r"))
        await pilot.pause()
        await pilot.pause()
        assert app.decisions == [Decision("reject", note="not today")]
