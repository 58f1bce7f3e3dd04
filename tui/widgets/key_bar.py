"""A decision dialog's keys on one line: what Textual's Footer shows, drawn by one widget.

Textual's Footer is a container of one widget per key (with groups and labels: 15 widgets in the
confirmation dialog, 40% of the dialog). Each is mounted, styled twice and laid out whenever the
dialog opens, and again when its keys change (when the dialog is armed): a quarter of the time a
dialog takes to appear, more while a reply streams and those small steps queue behind it
(tests/benchmarks/bench_stream_keys.py). The bar shows the same line, in the same places and
colours (keys in the footer-key colour, disabled ones dimmed, groups as "t a A Allow tool"), and a
click on a key presses it, as on the Footer.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.screen import Screen
from textual.widget import Widget


class KeyBar(Widget):
    """The screen's shown bindings, as Footer lays them out (see the module docstring)."""

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
        text-wrap: nowrap;
        text-overflow: clip;
    }
    """

    #: Keys are clickable, but drawn as keys (as on the Footer), not as underlined links.
    auto_links = False

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._items: list[tuple[Any, ...]] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def _bindings_changed(self, screen: Screen[Any]) -> None:
        if screen is not self.screen or not self.is_attached:
            return
        items = [
            (binding.key, self.app.get_key_display(binding), binding.description, binding.action, binding.group, enabled)
            for (_node, binding, enabled, _tooltip) in screen.active_bindings.values()
            if binding.show
        ]
        if items != self._items:
            self._items = items
            self.refresh()

    def render(self) -> Text:
        colours = self.app.theme_variables
        key_colour = colours.get("footer-key-foreground", "#FFA62B")
        text_colour = colours.get("footer-description-foreground", "#E0E0E0")
        line = Text(no_wrap=True, overflow="crop", end="")
        # One entry per action, as the Footer (a key bound twice to one action shows once).
        by_action: dict[str, list[tuple[Any, ...]]] = {}
        for item in self._items:
            by_action.setdefault(item[3], []).append(item)
        entries = [bound[0] for bound in by_action.values()]
        for group, members_iter in groupby(entries, key=lambda item: item[4]):
            members = list(members_iter)
            if group is not None and len(members) > 1:
                line.append(" ")
                for n, (key, display, _desc, _action, _group, enabled) in enumerate(members):
                    if n:
                        line.append(" ")
                    line.append(display, self._key_style(key, key_colour, enabled))
                line.append(" ")
                line.append(group.description, Style(color=text_colour))
                line.append(" ")
                continue
            for key, display, desc, _action, _group, enabled in members:
                style = self._key_style(key, key_colour, enabled)
                line.append(f" {display} ", style)
                line.append(f"{desc} ", Style(color=text_colour, dim=not enabled) + Style(meta=style.meta))
        return line

    @staticmethod
    def _key_style(key: str, colour: str, enabled: bool) -> Style:
        return Style(color=colour, bold=True, dim=not enabled, meta={"@click": f"app.simulate_key({key!r})"})
