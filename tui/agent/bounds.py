"""Make whatever crosses into a run storable: valid text, bounded depth, bounded size.

A run must always be savable, whatever a tool, a model or a person hands it. Three things used to
make a save fail and leave the run stuck at `running` with its result lost:

- a lone surrogate (a file name that is not valid UTF-8, decoded by Python with
  `surrogateescape`, or a `"\\udc80"` escape in a model's JSON) cannot be encoded as UTF-8;
- values nested hundreds of levels deep exceed the serialiser's depth limit;
- very large values (10 MB) are kept, sent back to the model and rewritten on every save.

So every boundary (tool arguments from the model, tool results, user-input values, external
results, the model's text) passes through `clean_text` / `bound_value`. What is changed stays
visible: a lone surrogate becomes `⟨U+DCFF⟩`, a NUL `⟨U+0000⟩`, a value nested too deep becomes
`[nested deeper than 64 levels: cut]`, and a string over the limit ends with
`[... 9,000,000 more characters cut]`. Each marker is plain text, so the user sees it in the
dashboard, the history and exports, and the model reads it too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

#: Deeper containers than this are replaced by a marker (real tool arguments are a few levels deep).
MAX_DEPTH = 64
#: Longest string kept (characters). Above write_file's 1 MB limit, so no legitimate call is cut.
MAX_CHARS = 2_000_000

#: The store's own backstop: a value already cut at MAX_CHARS keeps its marker.
MAX_STORED_CHARS = MAX_CHARS + 64

DEPTH_MARKER = f"[nested deeper than {MAX_DEPTH} levels: cut]"

#: Characters that cannot be stored as UTF-8 text (lone surrogates) or that truncate C strings (NUL).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable_marker(char: str) -> str:
    """The visible stand-in for one unstorable character, e.g. `⟨U+DCFF⟩` for byte 0xFF in a file name."""
    return f"\u27e8U+{ord(char):04X}\u27e9"


def cut_marker(extra: int) -> str:
    return f"[... {extra:,} more characters cut]"


@dataclass
class Bounded:
    """What `bound_value` changed, so a caller can tell the model (or refuse to run a call)."""

    value: Any
    replaced: int = 0
    cut_deep: int = 0
    cut_long: list[int] = field(default_factory=list)

    @property
    def was_cut(self) -> bool:
        """Content was dropped (not just re-encoded): running a call with it would change its meaning."""
        return bool(self.cut_deep or self.cut_long)

    def describe(self) -> str:
        parts = []
        if self.cut_deep:
            parts.append(f"nested deeper than {MAX_DEPTH} levels")
        if self.cut_long:
            parts.append(f"a value of {max(self.cut_long):,} characters (the limit is {MAX_CHARS:,})")
        return " and ".join(parts)


def clean_text(text: str, limit: int = MAX_CHARS) -> str:
    """`text` with unstorable characters marked and anything past `limit` characters cut (visibly)."""
    return _clean(text, limit, None)


def _clean(text: str, limit: int, report: Bounded | None) -> str:
    if len(text) > limit:
        extra = len(text) - limit
        if report is not None:
            report.cut_long.append(len(text))
        text = text[:limit] + cut_marker(extra)
    if text.isascii() and "\x00" not in text:
        return text
    if _UNSTORABLE.search(text) is None:
        return text
    if report is not None:
        report.replaced += len(_UNSTORABLE.findall(text))
    return _UNSTORABLE.sub(lambda m: unstorable_marker(m.group()), text)


def bound_value(value: Any, *, limit: int = MAX_CHARS, max_depth: int = MAX_DEPTH) -> Bounded:
    """A JSON-like copy of `value` that can always be stored, and a report of what was changed.

    Strings are cleaned (`clean_text`), dict keys too; containers deeper than `max_depth` become
    `DEPTH_MARKER`. Tuples become lists (as in JSON). Other values (numbers, booleans, None, and
    objects a JSON encoder turns into text later) are kept as they are. Never recursive beyond
    `max_depth`, so it cannot hit Python's recursion limit.
    """
    report = Bounded(value=None)
    report.value = _bound(value, 0, limit, max_depth, report)
    return report


def _bound(value: Any, depth: int, limit: int, max_depth: int, report: Bounded) -> Any:
    if isinstance(value, str):
        return _clean(value, limit, report)
    if isinstance(value, (dict, list, tuple)):
        if depth >= max_depth:
            report.cut_deep += 1
            return DEPTH_MARKER
        if isinstance(value, dict):
            return {
                (_clean(k, limit, report) if isinstance(k, str) else k): _bound(v, depth + 1, limit, max_depth, report)
                for k, v in value.items()
            }
        return [_bound(v, depth + 1, limit, max_depth, report) for v in value]
    return value


def bounded(value: Any) -> Any:
    """Just the bounded value (see `bound_value`)."""
    return bound_value(value).value


__all__ = [
    "DEPTH_MARKER",
    "MAX_CHARS",
    "MAX_DEPTH",
    "MAX_STORED_CHARS",
    "Bounded",
    "bound_value",
    "bounded",
    "clean_text",
    "cut_marker",
    "unstorable_marker",
]
