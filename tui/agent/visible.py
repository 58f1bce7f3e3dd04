"""Hidden characters made visible: `invoice\\u202egpj.sh` reads `invoice⟨U+202E⟩gpj.sh`.

A model (or a web page it read) can hide text from the person who approves a call: a bidi override
(U+202E) turns `invoice‮gpj.sh` into what looks like `invoicehs.jpg`, zero-width characters
(U+200B) split a word so it looks like another, Unicode tags (U+E0000-E007F) carry a whole
invisible sentence, and a lone surrogate cannot be printed at all. Wherever a person reads a tool
name, an argument or a result (the decision modals, the tool log, the approvals pane, the
conversation, history and exports), the text goes through `visible()` first, so each such
character becomes one visible marker of plain ASCII-width characters and the layout stays intact.

This module lives in `tui.agent` (it imports nothing of the UI) because the store's exports use it
as well as the dashboard.
"""

from __future__ import annotations

import re
from typing import Any

#: Every "Cf" (format) character of Unicode 14 (bidi controls U+202A-202E and U+2066-2069,
#: zero-width U+200B-200F, U+2060-2064, U+FEFF, soft hyphen, Arabic and Syriac marks, musical
#: and shorthand format controls, the tag block), plus line/paragraph separators (U+2028/2029,
#: which break a line where none is seen), Hangul fillers that render as blank letters, the
#: combining grapheme joiner, the whole tag block U+E0000-E007F, and surrogates (only lone ones
#: can occur in a Python str).
_HIDDEN_RANGES = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x0600, 0x0605), (0x061C, 0x061C), (0x06DD, 0x06DD),
    (0x070F, 0x070F), (0x0890, 0x0891), (0x08E2, 0x08E2), (0x115F, 0x1160), (0x180E, 0x180E),
    (0x200B, 0x200F), (0x2028, 0x202E), (0x2060, 0x2064), (0x2066, 0x206F), (0x3164, 0x3164),
    (0xD800, 0xDFFF), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD),
    (0x110CD, 0x110CD), (0x13430, 0x13438), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0000, 0xE007F),
)

def _char_class(ranges: Any) -> str:
    return "[" + "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges) + "]"


#: One class for all (for searching), and the fast path for replacing: `re` is ~8x slower on a
#: class with ranges beyond the BMP, so the replacing pass matches hidden BMP characters or *any*
#: astral character, and the callback keeps the astral ones that are not hidden (emoji).
_HIDDEN = re.compile(_char_class(_HIDDEN_RANGES))
_FAST = re.compile(_char_class([r for r in _HIDDEN_RANGES if r[1] <= 0xFFFF])[:-1] + "\U00010000-\U0010ffff]")
_ASTRAL_HIDDEN = [r for r in _HIDDEN_RANGES if r[0] > 0xFFFF]


def marker(ch: str) -> str:
    """The visible stand-in for one hidden character: `⟨U+202E⟩`."""
    return f"⟨U+{ord(ch):04X}⟩"


def visible(text: str) -> str:
    """`text` with every hidden character replaced by its marker (other text unchanged)."""
    if not text or text.isascii():  # every hidden character is outside ASCII: the common case is free
        return text
    return _FAST.sub(_mark, text)


def _mark(m: re.Match[str]) -> str:
    ch = m.group(0)
    code = ord(ch)
    if code > 0xFFFF and not any(a <= code <= b for a, b in _ASTRAL_HIDDEN):
        return ch  # an emoji or another visible character beyond the BMP
    return marker(ch)


def has_hidden(value: Any) -> bool:
    """True when a string anywhere in `value` (dicts, lists, keys included) holds a hidden character."""
    if isinstance(value, str):
        return not value.isascii() and _HIDDEN.search(value) is not None
    if isinstance(value, dict):
        return any(has_hidden(k) or has_hidden(v) for k, v in value.items())
    if isinstance(value, (list, tuple, set)):
        return any(has_hidden(v) for v in value)
    return False


def hidden_in(value: Any) -> list[str]:
    """The distinct markers found in `value`, in order of first appearance (for a warning line)."""
    found: list[str] = []

    def walk(v: Any) -> None:
        if isinstance(v, str):
            for m in _HIDDEN.finditer(v):
                mark = marker(m.group(0))
                if mark not in found:
                    found.append(mark)
        elif isinstance(v, dict):
            for k, item in v.items():
                walk(k)
                walk(item)
        elif isinstance(v, (list, tuple, set)):
            for item in v:
                walk(item)

    walk(value)
    return found


def escape_hidden_json(text: str) -> str:
    """JSON text with each hidden character written as a `\\uXXXX` escape (same value, now visible).

    Only valid inside JSON strings, where every hidden character can occur: JSON has no other
    place for them. Characters outside the BMP become a surrogate pair, as JSON requires.
    """

    def escape(m: re.Match[str]) -> str:
        code = ord(m.group(0))
        if code > 0xFFFF:
            code -= 0x10000
            return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
        return f"\\u{code:04x}"

    return _HIDDEN.sub(escape, text)


def one_line(value: Any, width: int) -> str:
    """`value` as one line of JSON with hidden characters marked, cut with `…` beyond `width`.

    The markers are put in before the cut, so a cut never splits one and the width holds.
    """
    import json

    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return cut_visible(visible(text.replace("\n", "\\n")), width)


def cut_visible(text: str, width: int) -> str:
    """Already-visible text cut to `width` with `…`, never in the middle of a marker."""
    if len(text) <= width:
        return text
    cut = text[: max(1, width - 1)]
    start = cut.rfind("⟨U+")
    if start != -1 and "⟩" not in cut[start:]:
        cut = cut[:start]  # do not leave half a marker
    return cut + "…"
