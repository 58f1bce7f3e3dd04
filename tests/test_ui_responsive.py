"""What keeps keys and dialogs quick while a long reply streams, checked by what it does, not by time.

- streamed text gives way to input: it waits a moment after a key, and while a dialog covers the
  conversation, but never longer than MAX_HOLD, and all of it is shown when the reply ends;
- a finished reply part remembers its height per width: never a stale height after a resize;
- the dimmed screen behind a dialog is rendered once, and again when that screen changed;
- a footer keeps its keys when they did not change (a dialog opening and closing over it);
- every stylesheet is loaded at start: the first dialog re-parses no CSS.

The timings these buy are measured in tests/benchmarks/bench_stream_keys.py.
"""

from __future__ import annotations

from typing import Any

from ui_support import WIDE, LongReply, hn_server, long_markdown, make_app, screen_text, settle  # noqa: F401
from textual.widgets import Footer, Markdown

from tui.screens.confirm_modal import ConfirmModal
from tui.screens.help_screen import HelpScreen
from tui.widgets.conversation import Conversation
from tui.widgets.reply_stream import ReplyPart


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def shown_reply(conversation: Conversation) -> str:
    return "".join(m.source for m in conversation.query(Markdown) if m.has_class("reply"))


async def test_streamed_text_waits_after_a_key_and_under_a_dialog_but_never_too_long() -> None:
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot, app)
        conversation = app.dashboard.conversation
        clock = Clock()
        conversation._clock = clock
        await conversation.write("Hello ")
        assert shown_reply(conversation) == "Hello "

        # a key: the next text waits INPUT_HOLD seconds
        clock.now += 1
        await pilot.press("tab")
        assert conversation._hold_until == clock.now + Conversation.INPUT_HOLD
        await conversation.write("world")
        assert shown_reply(conversation) == "Hello "
        clock.now += Conversation.INPUT_HOLD + 0.01
        await conversation.write("!")
        assert shown_reply(conversation) == "Hello world!"

        # someone typing without pause holds the text, but it shows at least every MAX_HOLD
        flushed_at = clock.now
        while clock.now - flushed_at < Conversation.MAX_HOLD - 0.1:
            clock.now += 0.1
            conversation.hold_for_input()
            await conversation.write(".")
            assert shown_reply(conversation) == "Hello world!"
        clock.now += 0.11
        conversation.hold_for_input()
        await conversation.write(".")
        assert shown_reply(conversation).startswith("Hello world!.")

        # under a dialog, text waits up to MAX_HOLD too; the end of the reply shows all of it
        clock.now += 5
        await conversation.write(" A")
        await app.push_screen(HelpScreen())
        await pilot.pause()
        before = shown_reply(conversation)
        clock.now += 0.3
        await conversation.write(" B")
        assert shown_reply(conversation) == before
        clock.now += Conversation.MAX_HOLD
        await conversation.write(" C")
        assert shown_reply(conversation).endswith(" B C")
        await conversation.write(" D")
        await conversation.end_reply()
        assert shown_reply(conversation).endswith(" B C D")


async def stream_long_reply(pilot: Any, app: Any) -> list[ReplyPart]:
    """Send a prompt; the model streams its long reply; the reply's parts once it has ended."""
    await settle(pilot, app)
    await pilot.press(*"go", "enter")
    await settle(pilot, app)
    return list(app.dashboard.conversation.log_view.query(ReplyPart))


async def test_finished_reply_parts_keep_no_stale_height_across_resizes() -> None:
    text = long_markdown(60)
    app = make_app(model=LongReply(text))
    async with app.run_test(size=(160, 40)) as pilot:
        parts = await stream_long_reply(pilot, app)
        conversation = app.dashboard.conversation
        assert len(parts) > 3 and all(part.finished for part in parts)
        assert shown_reply(conversation) == text
        for size in ((110, 40), (160, 40), (104, 30)):
            await pilot.resize_terminal(*size)
            await settle(pilot, app)
            # parts far from the view are collapsed to their height; it must be the real one
            collapsed = {part: part.region.height for part in parts if part.collapsed}
            assert collapsed, "a long reply's far parts are collapsed"
            for part in collapsed:
                part.expand()
            await settle(pilot, app)
            for part in parts:
                # the height the layout used is the one Markdown measures now, at this width
                fresh = Markdown.get_content_height(part, part.container_size, app.size, part.content_region.width)
                assert part.region.height == fresh, f"{part} kept a stale height at {size}"
                if part in collapsed:
                    assert collapsed[part] == fresh, f"{part} was collapsed to a stale height at {size}"


async def test_the_screen_behind_a_dialog_is_rendered_once_and_again_when_it_changes(hn_server) -> None:
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot, app)
        await pilot.press(*"Fetch the top 2 hackernews stories", "enter")
        await settle(pilot, app)
        modal = app.screen
        assert isinstance(modal, ConfirmModal)
        renders = modal._backdrop.renders
        assert renders >= 1
        # the dialog repaints (its countdown, a key that scrolls), the screen below does not change
        modal.refresh()
        await settle(pilot, app)
        assert modal._backdrop.renders == renders
        # the screen below changes: the dialog shows it
        app.dashboard.conversation.add_note("A note that arrived behind the dialog")
        await settle(pilot, app)
        assert modal._backdrop.renders > renders
        assert "A note that arrived behind the dialog" in screen_text(app)


async def test_a_dialog_opening_and_closing_leaves_the_dashboard_footer_as_it_was(hn_server) -> None:
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot, app)
        await pilot.press(*"Fetch the top 2 hackernews stories", "enter")
        await settle(pilot, app)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("escape")  # later: the call waits
        await settle(pilot, app)
        keys_before = screen_text(app).splitlines()[-1]

        footer = app.dashboard.query_one(Footer)
        rebuilt: list[str] = []
        original = footer.recompose

        async def counting_recompose() -> None:
            rebuilt.append(type(app.screen).__name__)
            await original()

        footer.recompose = counting_recompose  # type: ignore[method-assign]
        for _ in range(2):
            await pilot.press("ctrl+o")  # the waiting call's dialog
            await settle(pilot, app)
            assert isinstance(app.screen, ConfirmModal)
            await pilot.press("escape")
            await settle(pilot, app)
        assert rebuilt == []
        assert screen_text(app).splitlines()[-1] == keys_before
        # when the keys do change (the focus moves to the tool log), the footer shows them
        await pilot.press("alt+t")
        await settle(pilot, app)
        assert rebuilt
        assert "Show/hide result" in screen_text(app).splitlines()[-1]


async def test_the_first_dialog_of_a_session_parses_no_stylesheet(hn_server) -> None:
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot, app)
        parsed: list[int] = []
        original = app.stylesheet.reparse

        def counting_reparse(*args: Any, **kwargs: Any) -> Any:
            parsed.append(1)
            return original(*args, **kwargs)

        app.stylesheet.reparse = counting_reparse  # type: ignore[method-assign]
        await pilot.press(*"Fetch the top 2 hackernews stories", "enter")
        await settle(pilot, app)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("escape", "f1")
        await settle(pilot, app)
        assert isinstance(app.screen, HelpScreen)
        assert parsed == [], "opening a dialog re-parsed the stylesheet (and restyled every widget)"


async def test_a_reply_ending_while_a_flush_is_on_its_way_shows_all_of_it() -> None:
    import asyncio

    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot, app)
        conversation = app.dashboard.conversation
        text = "".join(f"Paragraph {i} " + "word " * 40 + "\n\n" for i in range(20))
        await conversation.write("Start. ")
        conversation._pending.append(text)
        in_flight = asyncio.ensure_future(conversation._flush())  # e.g. the hold timer's flush
        await asyncio.sleep(0)  # it took the text and is mounting parts
        await conversation.end_reply()  # the reply ends meanwhile
        assert shown_reply(conversation) == "Start. " + text
        await in_flight
        await conversation.clear()  # the next session: nothing is still writing into removed parts
        await settle(pilot, app)
        assert shown_reply(conversation) == ""


async def test_a_long_reply_lays_out_only_what_is_near_the_view_and_shows_all_of_it_when_scrolled() -> None:
    text = long_markdown(80)
    app = make_app(model=LongReply(text))
    async with app.run_test(size=(120, 30)) as pilot:
        parts = await stream_long_reply(pilot, app)
        conversation = app.dashboard.conversation
        log = conversation.log_view
        # the view follows the end: the first parts are far above it, laid out as one box each
        assert parts[0].collapsed and not parts[-1].collapsed
        assert "Section 0" not in screen_text(app)
        log.scroll_home(animate=False)
        await settle(pilot, app)
        await settle(pilot, app)
        assert not parts[0].collapsed and parts[-1].collapsed
        shown = screen_text(app)
        assert "Section 0" in shown and "word0-0" in shown
        log.scroll_end(animate=False)
        await settle(pilot, app)
        await settle(pilot, app)
        assert not parts[-1].collapsed
        assert shown_reply(conversation) == text  # every part keeps its source


async def test_keys_typed_right_after_enter_stay_in_the_prompt() -> None:
    from textual import events

    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot, app)
        prompt = app.dashboard.conversation.prompt
        for key in "hello":
            await pilot.press(key)
        # enter and the next keys arrive together, as a fast typist's do (not one by one at idle)
        app.post_message(events.Key("enter", "\r"))
        for key in "next":
            app.post_message(events.Key(key, key))
        await settle(pilot, app)
        assert prompt.text == "next"
        assert "hello" in screen_text(app)  # the first prompt was sent
