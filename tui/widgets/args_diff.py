"""A small key-level diff of tool arguments: what an edit adds, removes and changes.

Shown before an edited call is approved, so the person sees exactly what will run instead of what
the model proposed. Values are untrusted and go through `literal` like everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from rich.text import Text

from .args_view import display_json
from .literal import visible_controls

_MISSING = object()


@dataclass(frozen=True)
class ArgChange:
    kind: Literal["added", "removed", "changed"]
    key: str
    old: Any = None
    new: Any = None


def diff_args(old: dict[str, Any], new: dict[str, Any]) -> list[ArgChange]:
    """Changes from `old` to `new`, in the order of `old`'s keys, then the added keys."""
    changes: list[ArgChange] = []
    for key, value in old.items():
        other = new.get(key, _MISSING)
        if other is _MISSING:
            changes.append(ArgChange("removed", key, old=value))
        elif other != value or type(other) is not type(value):
            changes.append(ArgChange("changed", key, old=value, new=other))
    for key, value in new.items():
        if key not in old:
            changes.append(ArgChange("added", key, new=value))
    return changes


def render_diff(changes: list[ArgChange]) -> Text:
    """One line per changed key: `+` added (green), `-` removed (red), `~` changed (yellow)."""
    if not changes:
        return Text("No changes: the call would run exactly as the model proposed it.", style="italic")
    out = Text()
    for i, change in enumerate(changes):
        if i:
            out.append("\n")
        key = visible_controls(change.key)
        if change.kind == "added":
            out.append(f"+ {key}: ", style="bold green")
            out.append(visible_controls(display_json(change.new, indent=None)), style="green")
        elif change.kind == "removed":
            out.append(f"- {key}: ", style="bold red")
            out.append(visible_controls(display_json(change.old, indent=None)), style="red")
        else:
            out.append(f"~ {key}: ", style="bold yellow")
            out.append(visible_controls(display_json(change.old, indent=None)), style="red")
            out.append(" → ", style="bold")
            out.append(visible_controls(display_json(change.new, indent=None)), style="green")
    return out


def summary(changes: list[ArgChange]) -> str:
    counts = {kind: sum(1 for c in changes if c.kind == kind) for kind in ("added", "removed", "changed")}
    parts = [f"{n} {kind}" for kind, n in counts.items() if n]
    return ", ".join(parts) or "no changes"


if __name__ == "__main__":
    from rich.console import Console

    Console().print(render_diff(diff_args({"to": "a@x", "n": 1, "x": 0}, {"to": "b@x", "n": 1, "cc": "c@x"})))
