"""What a gated call would do, shown next to its arguments before anyone decides.

A tool may attach a preview function (`Function.preview`): given the call's arguments it says, in
plain text, what the call would change. `write_file` shows a diff against the file it would
replace (or says it creates a new one); `run_shell_command` shows `$ command` exactly as it would
be typed, with the text a copy key puts on the clipboard. The runtime never needs a preview; the
decision modals show it, and a failing preview is shown as its error, never raised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Literal

PreviewKind = Literal["diff", "command", "text"]


@dataclass(frozen=True)
class Preview:
    #: One line, e.g. "Replaces notes.txt (2 lines change)" or "Creates a new file notes.txt".
    title: str
    #: The body: a unified diff, `$ command`, or plain text ("" when the title says it all).
    text: str = ""
    kind: PreviewKind = "text"
    #: What the copy key puts on the clipboard (None: nothing to copy).
    copy: str | None = None


PreviewFunction = Callable[[dict[str, Any]], "Preview | None"]


def safe_preview(fn: PreviewFunction | None, args: dict[str, Any]) -> Preview | None:
    """Call a preview function; its failure becomes a preview that says so (never an exception)."""
    if fn is None:
        return None
    try:
        return fn(dict(args))
    except Exception as exc:  # a preview is advice: it must never stop a person from deciding
        return Preview(title=f"No preview: {exc}", kind="text")
