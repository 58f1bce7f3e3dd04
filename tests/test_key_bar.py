"""The decision dialogs' key bar (tui/widgets/key_bar.py): the Footer's line in one widget.

It must show what the Footer showed (the dialog snapshots are unchanged by it), say which keys
do nothing yet (dimmed during the grace period), follow the dialog's mode, and press a key when
it is clicked.
"""

from __future__ import annotations

from modal_helpers import DecisionApp, make_agent, paused_call, screen_text
from tui.agent.decisions import Decision
from tui.screens.decision_modals import modal_for
from tui.widgets.key_bar import KeyBar

EMAIL = {"to": "ann@example.com", "subject": "Hello", "body": "Hi Ann"}
NEVER = 3600.0


def keys_shown(bar: KeyBar) -> dict[str, bool]:
    """Each shown key and whether it is drawn enabled (not dimmed)."""
    shown: dict[str, bool] = {}
    text = bar.render()
    for span in text.spans:
        style = span.style
        if getattr(style, "bold", False):
            shown[text.plain[span.start : span.end].strip()] = not style.dim
    return shown


async def test_the_bar_dims_keys_until_the_dialog_is_armed_and_follows_its_mode():
    agent = make_agent()
    call = await paused_call(agent, "send_email", EMAIL)
    app = DecisionApp(modal_for(call, agent, arm_delay=NEVER))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        bar = app.screen.query_one(KeyBar)
        shown = keys_shown(bar)
        assert {"y", "n", "r", "e", "t", "a", "A", "d", "D", "esc"} <= set(shown)
        assert not shown["y"] and not shown["n"]  # nothing decides yet
        assert shown["esc"]  # "later" always works
        app.screen.arm()
        await pilot.pause()
        shown = keys_shown(bar)
        assert shown["y"] and shown["n"] and shown["A"]
        await pilot.press("r")  # the reason mode has its own keys
        await pilot.pause()
        assert "y" not in keys_shown(bar)
        last_line = screen_text(app).splitlines()[-1]  # what the terminal shows
        assert "Back" in last_line and "Approve" not in last_line


async def test_clicking_a_key_on_the_bar_presses_it():
    agent = make_agent()
    call = await paused_call(agent, "send_email", EMAIL)
    app = DecisionApp(modal_for(call, agent, arm_delay=0))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        bar = app.screen.query_one(KeyBar)
        plain = bar.render().plain
        await pilot.click(KeyBar, offset=(plain.index(" n ") + 1, 0))
        await pilot.pause()
        assert app.decisions == [Decision("reject")]
