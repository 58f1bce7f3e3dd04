"""Prompts typed while the agent works: shown dimmed above the prompt box until they are sent.

They are not put into the conversation yet, because the turn that is working still adds its
reply and tool calls there; each one moves into the conversation when it is sent.
"""

from __future__ import annotations

from typing import Sequence

from rich.text import Text
from textual.widgets import Static

from .literal import literal


class QueuedPrompts(Static):
    """The queue, oldest first; hidden while empty."""

    DEFAULT_CSS = """
    QueuedPrompts {
        display: none;
        height: auto;
        max-height: 6;
        padding: 0 1;
        color: $text-muted;
    }
    QueuedPrompts.-has-items {
        display: block;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.items: list[str] = []

    def show(self, items: Sequence[str]) -> None:
        self.items = list(items)
        self.set_class(bool(self.items), "-has-items")
        text = Text("◷ queued, sent when the agent is free (esc esc takes them back):", style="italic")
        for item in self.items:
            first, _, rest = item.partition("\n")
            text.append("\n  › ")
            text.append_text(literal(first + (" …" if rest else "")))
        self.update(text)
