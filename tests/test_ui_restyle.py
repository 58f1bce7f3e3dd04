"""Moving around a dashboard that holds a long reply stays cheap: nothing restyles the reply.

Textual restyles every widget under a node whose classes (or `:focus-within`) change. A long reply
is hundreds of Markdown blocks, so a pane highlight done with `:focus-within`, a `-active` class
flipped on every focus move, or a `-busy` class on the screen cost 100-200 ms per key or turn
(tests/benchmarks/bench_stream_keys.py). These tests count the restyled widgets instead of timing.
"""

from __future__ import annotations

from typing import Any

from ui_support import NARROW, WIDE, long_markdown, make_app, settle

from textual.color import Color

from tui.widgets.conversation import Conversation


async def with_long_reply(pilot: Any, app: Any) -> Any:
    """The dashboard, with a long reply (hundreds of Markdown widgets) in its conversation."""
    await settle(pilot, app)
    app.dashboard.conversation.add_reply(long_markdown(120))
    await settle(pilot, app)
    return app.dashboard


def restyles(app: Any) -> list[Any]:
    """Every node the stylesheet is applied to from now on (a spy on the app's stylesheet)."""
    seen: list[Any] = []
    original = app.stylesheet.apply

    def apply(node: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(node)
        return original(node, *args, **kwargs)

    app.stylesheet.apply = apply
    return seen


def in_conversation(nodes: list[Any], app: Any) -> int:
    """How many of `nodes` are in the conversation's log (the replies, not the prompt below it)."""
    log = app.dashboard.query_one(Conversation).log_view
    return sum(1 for node in nodes if log in node.ancestors_with_self)


def border_colour(widget: Any) -> Color:
    return widget.styles.border_top[1]


async def test_moving_the_focus_between_panes_restyles_no_block_of_a_long_reply() -> None:
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        dashboard = await with_long_reply(pilot, app)
        blocks = len(list(dashboard.conversation.walk_children()))
        assert blocks > 150  # the reply is many widgets: restyling them is what must not happen
        accent = Color.parse(app.theme_variables["accent"])
        assert border_colour(dashboard.conversation) == accent  # the prompt has the focus

        seen = restyles(app)
        for key in ("alt+t", "alt+a", "alt+c", "tab", "shift+tab"):
            await pilot.press(key)
            await settle(pilot, app)
        assert in_conversation(seen, app) <= 10, f"a focus move restyled {in_conversation(seen, app)} widgets of the reply"

        # what the user sees: the pane with the focus, and only it, has the accent border
        await pilot.press("alt+t")
        await settle(pilot, app)
        assert border_colour(dashboard.tool_log) == accent
        assert border_colour(dashboard.conversation) != accent
        assert dashboard.tool_log.styles.border_title_color == accent


async def test_a_turn_starting_and_ending_restyles_no_block_of_a_long_reply() -> None:
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        dashboard = await with_long_reply(pilot, app)
        old = set(dashboard.conversation.log_view.walk_children())
        seen = restyles(app)
        await pilot.press(*"hello", "enter")  # the demo model answers at once
        await settle(pilot, app)
        assert not dashboard.is_busy
        # the new prompt and reply are styled as they mount; the blocks already there are not
        restyled_old = sum(1 for node in seen if node in old)
        assert restyled_old <= 5, f"a turn restyled {restyled_old} widgets of the earlier reply"
        status = dashboard.query_one("#status-line")
        assert not status.has_class("-busy")


async def test_the_pane_chosen_behind_tabs_survives_resizes() -> None:
    app = make_app()
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot, app)
        dashboard = app.dashboard
        await pilot.press("alt+t")
        await settle(pilot, app)
        shown = [pane.id for pane in dashboard.query(".pane") if pane.display]
        assert shown == ["tool-log"]
        await pilot.resize_terminal(*WIDE)
        await settle(pilot, app)
        assert [pane.id for pane in dashboard.query(".pane") if pane.display] == ["conversation", "tool-log", "approvals"]
        await pilot.resize_terminal(*NARROW)
        await settle(pilot, app)
        assert [pane.id for pane in dashboard.query(".pane") if pane.display] == ["tool-log"]
        assert app.focused is dashboard.tool_log
