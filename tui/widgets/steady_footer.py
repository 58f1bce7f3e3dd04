"""A Footer that rebuilds its keys only when the keys it shows changed.

Textual's Footer throws its key widgets away and mounts new ones whenever its screen's bindings
*may* have changed: every focus move, every dialog opening over the screen or closing, every
`refresh_bindings`. Mounting 15 keys restyles each one twice and makes Textual lay out every
widget of the screen again (with a long reply, hundreds) to place them: 20-30 ms, on the path
of a dialog opening and closing (tests/benchmarks/bench_stream_keys.py). Most of those times
the footer would show exactly what it shows, or is hidden behind a dialog; this one then keeps
its keys.
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer


def shown_bindings(screen: Screen[Any]) -> tuple[Any, ...]:
    """What a footer on `screen` shows: each shown binding with its state, and the palette key."""
    return tuple(
        (binding.key, binding.action, binding.description, binding.key_display, binding.group, enabled, tooltip)
        for (_node, binding, enabled, tooltip) in screen.active_bindings.values()
        if binding.show or binding.key == screen.app.COMMAND_PALETTE_BINDING
    )


class SteadyFooter(Footer):
    """Footer, without the rebuilds that would show the same keys."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shown: tuple[Any, ...] | None = None

    def bindings_changed(self, screen: Screen[Any]) -> None:
        if self.is_attached and screen is self.screen and screen.app.app_focus:
            if screen is not screen.app.screen:
                # Behind a dialog (the app's keys are off while it is open): it keeps showing what
                # it showed, and is checked again when its screen is back on top (Textual
                # refreshes the bindings then).
                return
            shown = shown_bindings(screen)
            if shown == self._shown:
                return
            self._shown = shown
        super().bindings_changed(screen)
