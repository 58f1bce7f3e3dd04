"""Tool arguments shown in full, as pretty JSON, with control characters made visible.

The arguments come from the model, so they are untrusted: they are shown through
`tui.widgets.literal` (never as markup) and are never truncated. The view scrolls instead.
"""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from .literal import literal

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _display_str(value: str) -> str:
    # Like JSON, but other control characters stay raw so `visible_controls` can picture them
    # (ESC shows as ␛ instead of json's \u001b, which reads like harmless text).
    return '"' + "".join(_ESCAPES.get(ch, ch) for ch in value) + '"'


def display_json(value: Any, indent: int | None = 2, _level: int = 0) -> str:
    """Pretty JSON for reading (not for parsing): strings keep their control characters raw.

    `indent=None` gives one line (for diffs and tables).
    """
    if indent is None:
        pad = end = ""
        sep, nl = ", ", ""
    else:
        pad = " " * (indent * (_level + 1))
        end = " " * (indent * _level)
        sep, nl = ",\n", "\n"
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{pad}{_display_str(str(k))}: {display_json(v, indent, _level + 1)}" for k, v in value.items()]
        return "{" + nl + sep.join(items) + nl + end + "}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        items = [f"{pad}{display_json(v, indent, _level + 1)}" for v in value]
        return "[" + nl + sep.join(items) + nl + end + "]"
    if isinstance(value, str):
        return _display_str(value)
    if value is None or isinstance(value, (bool, int, float)):
        return json.dumps(value)
    enum_value = getattr(value, "value", None)
    if enum_value is not None and not callable(enum_value):
        return display_json(enum_value, indent, _level)
    return _display_str(str(value))


def args_text(args: Any) -> Text:
    """The arguments as a literal Rich Text (safe to show, whatever they contain)."""
    return literal(display_json(args))


def edit_json(args: Any) -> str:
    """The arguments as real, parseable JSON, for editing."""
    return json.dumps(args, indent=2, ensure_ascii=False, default=lambda o: getattr(o, "value", str(o)))


class ArgsView(VerticalScroll):
    """A scrollable, focusable view of a tool call's arguments, in full."""

    DEFAULT_CSS = """
    ArgsView {
        height: auto;
        max-height: 100%;
        border: round $foreground 30%;
        padding: 0 1;
        &:focus { border: round $accent; }
        & > Static { width: 1fr; }
    }
    """

    def __init__(self, args: Any, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._args = args

    def compose(self):  # type: ignore[override]
        yield Static(args_text(self._args), classes="args-json")

    def update(self, args: Any) -> None:
        self._args = args
        self.query_one(".args-json", Static).update(args_text(args))


if __name__ == "__main__":
    from textual.app import App, ComposeResult

    class _Demo(App[None]):
        def compose(self) -> ComposeResult:
            yield ArgsView({"to": "ann@example.com", "body": "[bold red]hi[/] \x1b[31mred\x1b[0m", "n": [1, 2]})

    _Demo().run()
