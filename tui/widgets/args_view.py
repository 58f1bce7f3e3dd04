"""Tool arguments as text: pretty JSON for display (control characters made visible) and real
JSON for editing. The arguments come from the model, so they are untrusted: the widgets that show
this text (`args_fields.ArgsFields`, the history, the diff) render it through `literal`, never as
markup, and never truncate it.
"""

from __future__ import annotations

import json
from typing import Any

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


def edit_json(args: Any) -> str:
    """The arguments as real, parseable JSON, for editing."""
    return json.dumps(args, indent=2, ensure_ascii=False, default=lambda o: getattr(o, "value", str(o)))
