"""The breakpoint class Textual gives a screen, computed before Textual applies it.

A screen's HORIZONTAL_ / VERTICAL_BREAKPOINTS become a class on its first resize; a class that
changes after mounting restyles every widget of the screen. Screens that must know the class
earlier (to set it before mounting, or to lay out for a width before the class arrives) read it
from the same list, so no threshold is written twice.
"""

from __future__ import annotations


def breakpoint_class(breakpoints: list[tuple[int, str]], size: int) -> str | None:
    """The class for `size` (columns or rows): that of the largest threshold it reaches, as Textual."""
    for threshold, name in sorted(breakpoints, reverse=True):
        if size >= threshold:
            return name
    return None
