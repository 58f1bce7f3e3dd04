"""Show model and tool text literally: never as markup, never as terminal escapes.

Model replies and tool results are untrusted. Text like `[@click=app.quit]` or `[bold]` must not be
parsed as Textual/Rich markup, and an ANSI escape (`\\x1b[31m`) must not reach the terminal. Every
widget that shows such text goes through these helpers.
"""

from __future__ import annotations

import re

from rich.text import Text

from tui.agent.visible import visible

# C0 controls except tab and newline, DEL, and C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")


def _picture(match: re.Match[str]) -> str:
    ch = match.group(0)
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # ␛ for ESC, ␀ for NUL, ...
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"\\x{code:02x}"


def visible_controls(text: str) -> str:
    """Replace control characters with visible pictures (ESC becomes ␛), keep \\n and \\t.

    Hidden characters (bidi overrides, zero-width, tags, lone surrogates) become `⟨U+202E⟩`
    markers (`tui.agent.visible`), so what a person reads is what the text holds.
    """
    return visible(_CONTROL.sub(_picture, text))


def literal(text: str | None, style: str = "") -> Text:
    """A Rich Text that shows `text` exactly, with control characters made visible."""
    return Text(visible_controls(text or ""), style=style, no_wrap=False)
