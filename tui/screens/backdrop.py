"""The dimmed screen behind a dialog, rendered again only when that screen changed.

Textual draws a translucent modal's background by rendering the whole screen below and tinting
every cell, each time the dialog itself is repainted: opening a dialog repaints it two or three
times (its resize, its resume, its first layout), 15-20 ms each with a long reply on screen
(tests/benchmarks/bench_stream_keys.py). A decision dialog keeps the tinted lines and renders them
again only when the screen below reported a change (Textual refreshes the dialog's regions over
it) or the size changed: what the dialog shows behind it is always the screen as it is.
"""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from textual.renderables.background_screen import BackgroundScreen
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual


class FrozenBackdrop(Visual):
    """Rendered lines of the screen below, as they were (a Textual Visual: no re-rendering)."""

    def __init__(self, strips: list[Strip]) -> None:
        self.strips = strips

    def render_strips(self, width: int, height: int | None, style: Style, options: RenderOptions) -> list[Strip]:
        strips = self.strips if height is None else self.strips[:height]
        return [strip.crop_extend(0, width, None) for strip in strips]

    def get_optimal_width(self, rules: Any, container_width: int) -> int:
        return container_width

    def get_height(self, rules: Any, width: int) -> int:
        return len(self.strips)


class Tint(BackgroundScreen):
    """Textual's tint of the screen below, computed once per distinct style instead of per cell."""

    _tinted: dict[tuple[Any, Any], Any] = {}

    @classmethod
    def process_segments(cls, segments: Any, color: Any) -> Any:  # type: ignore[override]
        tinted = cls._tinted
        if len(tinted) > 4096:
            tinted.clear()
        tint = super().process_segments
        for segment in segments:
            text, style, control = segment
            if control:
                yield segment
                continue
            key = (style, color)
            new_style = tinted.get(key)
            if new_style is None:
                new_style = tinted[key] = next(iter(tint([Segment(" ", style)], color))).style
            yield Segment(text, new_style)


class BackdropCache:
    """One dialog's frozen backdrop: `render(default)` returns it for Textual's BackgroundScreen."""

    def __init__(self) -> None:
        self._key: tuple[Any, ...] | None = None
        self._backdrop: FrozenBackdrop | None = None
        #: The screen below changed since the lines were rendered.
        self.stale = False
        #: Times the lines were rendered (for tests).
        self.renders = 0
        #: The dialog is opening: changes below wait until its first frame is on screen.
        self.opening = True

    def render(self, widget: Any, default: Any) -> Any:
        """`default` is what Screen.render() gave; a BackgroundScreen is rendered once per size."""
        if not isinstance(default, BackgroundScreen):
            return default
        width, height = widget.size
        key = (id(default.screen), default.color, width, height)
        if self._backdrop is None or self._key != key or (self.stale and not self.opening):
            console = widget.app.console
            options = console.options.update(width=width, height=height)
            segments = Tint(default.screen, default.color).__rich_console__(console, options)
            lines = list(Segment.split_lines(segments))[:height]
            self._backdrop = FrozenBackdrop([Strip(Segment.adjust_line_length(line, width), width) for line in lines])
            self._key = key
            self.stale = False
            self.renders += 1
        return self._backdrop

