"""A call's arguments as named fields, for the decision modals: nothing hidden, nothing cut.

Each argument is shown under its name. A one-line value is shown as JSON (so `" secrets"` keeps its
quotes and its leading space); a multi-line string is shown as a text block, one line per line,
with its line count; lists and objects are indented JSON. Nothing is truncated: the view scrolls,
and it remembers whether its end was ever on screen (`seen_end`), so a modal can refuse to approve
arguments the person has not seen. Everything goes through `literal()`, so markup, terminal
escapes and hidden characters (`⟨U+202E⟩`) are shown, never obeyed.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from tui.agent.preview import Preview

from .args_view import display_json
from .literal import literal


def fields_text(args: dict[str, Any]) -> Text:
    """Every argument under its name; multi-line strings as text blocks."""
    out = Text()
    if not args:
        return Text("No arguments.", style="italic")
    for i, (name, value) in enumerate(args.items()):
        if i:
            out.append("\n")
        out.append_text(literal(str(name), "bold"))
        if isinstance(value, str) and ("\n" in value or "\r" in value):
            lines = value.replace("\r\n", "\n").split("\n")
            out.append(f"  text, {len(lines)} lines", style="italic dim")
            for line in lines:
                out.append("\n  │ ", style="dim")
                out.append_text(literal(line))
            if value.endswith("\n"):
                out.append("\n  (ends with a newline)", style="italic dim")
        elif isinstance(value, (dict, list)) and value:
            out.append("\n")
            block = display_json(value)
            out.append_text(literal("\n".join("  " + line for line in block.split("\n"))))
        else:
            out.append("\n  ")
            out.append_text(literal(display_json(value, indent=None)))
    return out


def preview_text(preview: Preview) -> Text:
    """A preview's title, then its diff (coloured) or command."""
    out = literal(preview.title, "bold")
    if not preview.text:
        return out
    for line in preview.text.split("\n"):
        out.append("\n")
        style = ""
        if preview.kind == "diff":
            if line.startswith(("+++", "---")):
                style = "bold"
            elif line.startswith("+"):
                style = "green"
            elif line.startswith("-"):
                style = "red"
            elif line.startswith("@@"):
                style = "cyan"
        elif preview.kind == "command":
            style = "bold"
        out.append_text(literal(line, style))
    return out


class SeenEnd:
    """Mixin for a scrolling widget: remembers whether its end was ever on screen."""

    _reached_end: bool = False

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)  # type: ignore[misc]
        if self.max_scroll_y > 0 and new >= self.max_scroll_y:  # type: ignore[attr-defined]
            self._reached_end = True

    @property
    def seen_end(self) -> bool:
        """True when everything fits, or the end was scrolled into view at least once."""
        return self.max_scroll_y <= 0 or self._reached_end or self.scroll_y >= self.max_scroll_y  # type: ignore[attr-defined]

    def unseen_lines(self) -> int:
        """How many lines are below the visible part right now."""
        return max(0, int(self.max_scroll_y - self.scroll_y))  # type: ignore[attr-defined]


class ScrollingDialog(SeenEnd, Vertical):
    """The modal's frame: it scrolls when the terminal is short, and remembers whether its end was seen."""


class ArgsFields(SeenEnd, VerticalScroll):
    """A focusable, scrolling view of a call's arguments (and its preview, when the tool has one)."""

    DEFAULT_CSS = """
    ArgsFields {
        height: auto;
        max-height: 100%;
        border: round $foreground 30%;
        padding: 0 1;
        &:focus { border: round $accent; }
        & > Static { width: 1fr; }
        & > .args-preview { margin-top: 1; }
    }
    """

    def __init__(
        self, args: dict[str, Any], *, preview: Preview | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._args = dict(args or {})
        self.preview = preview

    def compose(self) -> ComposeResult:
        yield Static(fields_text(self._args), classes="args-fields")
        if self.preview is not None:
            yield Static(preview_text(self.preview), classes="args-preview")

    def update(self, args: dict[str, Any]) -> None:
        self._args = dict(args or {})
        self.query_one(".args-fields", Static).update(fields_text(self._args))
