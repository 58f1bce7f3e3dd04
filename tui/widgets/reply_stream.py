"""One streamed reply, told as a chain of Markdown widgets: finished parts stay put, only the tail grows.

Why not one Markdown widget per reply: Textual lays out a Markdown widget's blocks all together
(it is not a scrolling container), so every frame of a growing reply re-arranged every block
of it, and a 50,000-character reply made each key wait 100-400 ms
(tests/benchmarks/bench_stream_keys.py). The conversation log *is* a scrolling container,
and Textual only descends into its children that are on screen; so the reply is cut, at
paragraph boundaries, into parts of about PART_CHARS characters. A finished part is never
written again; the live part is small, so its incremental parse and its layout cost the same
at the end of a long reply as at the start.

A cut is made only where it cannot change the rendering: at a blank line outside a fenced code
block, before a line that starts a plain paragraph (not a list item, quote, table, heading,
fence, HTML or indented line, which could continue the block above). Joined, the parts' sources
are exactly the reply.

Text is appended to the live part with `Markdown.append`, awaited: when `write` or `stop` returns,
what was written is in the widget. (Textual's MarkdownStream appends from a task of its own, and
its `stop` cancels that task: the last fragment of a reply could still be on its way, or two
appends could run at once, after the reply had ended.) The caller batches deltas (the
conversation hands text over at most every 50 ms), so each append parses a batch, not a token.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any, Awaitable, Callable

from textual.widgets import Markdown

#: A line that may continue or belong to the block above it: never start a new part with one.
_NOT_A_FRESH_START = re.compile(r"[ \t]|[-*+] |\d{1,9}[.)]( |$)|[>|#<]|```|~~~|[-*_=]{3,}\s*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)", re.MULTILINE)


def inside_fence(source: str) -> bool:
    """Whether `source` ends inside a fenced code block (an odd number of fence lines)."""
    return len(_FENCE.findall(source)) % 2 == 1


def cut_point(source: str, text: str, start: int = 0) -> int | None:
    """Where to end the live part within `text` (appended to `source`), or None.

    The first position at or after `start` that is just after a blank line, outside fences,
    before a fresh paragraph whose first characters have arrived.
    """
    position = max(0, start - 2)
    while True:
        position = text.find("\n\n", position)
        if position < 0:
            return None
        cut = position + 2
        rest = text[cut : cut + 16]
        if (
            (len(rest) >= 4 or "\n" in rest)
            and rest[0] != "\n"
            and not _NOT_A_FRESH_START.match(rest)
            and not inside_fence(source + text[:cut])
        ):
            return cut
        position = cut - 1


def split_reply(text: str, part_chars: int) -> list[str]:
    """A whole reply cut as streaming would cut it (a run replayed from history)."""
    parts: list[str] = []
    while len(text) >= part_chars:
        cut = cut_point("", text, part_chars)
        if cut is None:
            break
        parts.append(text[:cut])
        text = text[cut:]
    if text or not parts:
        parts.append(text)
    return parts


class ReplyPart(Markdown):
    """One part of a reply. Once finished, its height at a given width is measured once.

    Every layout of the conversation log asks each child for its height; for a Markdown part
    that measures every block in it. While a reply streams, the log is laid out on every frame,
    so that cost grew with everything said so far (tests/benchmarks/bench_stream_keys.py). A
    finished part cannot change; its height is remembered per width (a resize measures again).
    """

    def __init__(self, *args: Any, finished: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Nothing more will be written to this part.
        self.finished = finished
        self._heights: dict[tuple[Any, ...], int] = {}

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        if not self.finished:
            return super().get_content_height(container, viewport, width)
        key = (width, container, viewport)
        height = self._heights.get(key)
        if height is None:
            height = super().get_content_height(container, viewport, width)
            if self.children or not self.source:  # the blocks are in: the height is final
                if len(self._heights) > 8:
                    self._heights.clear()
                self._heights[key] = height
        return height

    def finish(self) -> None:
        self.finished = True
        self._heights.clear()

    # Far from the view, a finished part hides its blocks and keeps its height (the conversation
    # decides when: Conversation.VIEW_MARGIN). Every layout of the screen places each displayed
    # widget; a long session is hundreds of blocks that nobody sees.
    collapsed = False

    def collapse(self) -> None:
        height = self.region.height
        if self.collapsed or not self.finished or height <= 0:
            return
        self.styles.height = height
        for child in self.children:
            child.display = False
        self.collapsed = True

    def expand(self) -> None:
        if not self.collapsed:
            return
        for child in self.children:
            child.display = True
        self.styles.height = "auto"
        self.collapsed = False


class ReplyStream:
    """Streams one reply into `mount`ed Markdown parts (see the module docstring)."""

    #: About this many characters per part (a screenful is ~4-8k): small enough that the live
    #: part is cheap to re-parse and lay out, large enough that a reply has few widgets.
    PART_CHARS = 2_000

    def __init__(self, mount: Callable[[Markdown], Awaitable[None]], *, classes: str = "reply") -> None:
        self._mount = mount
        self._classes = classes
        self.parts: list[Markdown] = []
        self._live: Markdown | None = None
        self._live_source = ""
        #: One write at a time, in the order they were asked for (a timer's flush and a delta's
        #: flush can overlap: each awaits mounting and appending).
        self._lock = asyncio.Lock()

    async def write(self, text: str) -> None:
        """Append `text` (Markdown) to the reply."""
        if not text:
            return
        async with self._lock:
            await self._write(text)

    async def _write(self, text: str) -> None:
        if self._live is None:
            await self._open()
        while len(self._live_source) + len(text) >= self.PART_CHARS:
            cut = cut_point(self._live_source, text, self.PART_CHARS - len(self._live_source))
            if cut is None:
                break
            await self._append(text[:cut])
            text = text[cut:]
            self._finish(await self._close_live())
            await self._open()
        await self._append(text)

    async def stop(self) -> None:
        """The reply is complete: finish the live part."""
        async with self._lock:
            await self._stop()

    async def _stop(self) -> None:
        last = await self._close_live()
        if self.parts and self.parts[-1].children:
            # Marked once at the end: an order-dependent selector (:last-child) would restyle every
            # block of the reply on each mount while it streams.
            self.parts[-1].children[-1].add_class("-last-block")
        self._finish(last)

    @staticmethod
    def _finish(part: Markdown | None) -> None:
        if isinstance(part, ReplyPart):
            part.finish()

    @property
    def source(self) -> str:
        return "".join(part.source for part in self.parts)

    async def _open(self) -> None:
        part = ReplyPart(open_links=False, classes=self._classes + (" -continued" if self.parts else ""))
        self.parts.append(part)
        await self._mount(part)
        self._live = part
        self._live_source = ""

    async def _append(self, text: str) -> None:
        if text and self._live is not None:
            self._live_source += text
            await self._live.append(text)

    async def _close_live(self) -> Markdown | None:
        live, self._live = self._live, None
        return live
