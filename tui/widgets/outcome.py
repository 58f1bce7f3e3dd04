"""What happened to a call, in words a person reads: "approved by you", "denied by rule no-secrets".

One wording for the conversation, the tool log and the notes that replace "Waiting for your
decision", so the three never disagree. Derived from the runtime's own `ToolExecution` only.
"""

from __future__ import annotations

import json
from functools import cache

from tui.agent.decisions import default_approver
from tui.agent.run import ToolExecution

_SCOPES = {
    "session-allow": ("allowed", "for this session"),
    "session-deny": ("denied", "for this session"),
    "run-allow": ("allowed", "for this run"),
    "run-deny": ("denied", "for this run"),
}


def _args(args: dict | None) -> str:
    try:
        return json.dumps(args or {}, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(args)


@cache
def _me() -> str:
    return default_approver()  # user@host: asked once, not on every rendered tool line


def _who(tool: ToolExecution) -> str:
    """"you" for this user's own decisions; the approver's name for one made elsewhere (the CLI, a colleague)."""
    if tool.approver is None or tool.approver == _me():
        return "you"
    return tool.approver


def decision_words(tool: ToolExecution) -> str:
    """How the call was decided ("" for a call that needed no decision)."""
    if tool.is_awaiting_decision:
        return "⏸ waiting for your decision"
    if not tool.is_gated or tool.decided_by is None and tool.confirmed is None:
        return ""
    by = tool.decided_by or "user"
    declined = tool.confirmed is False or tool.status == "rejected"
    if by == "timeout":
        return "⏱ timed out: " + ("not run" if declined else "approved automatically")
    if by in _SCOPES:
        verb, scope = _SCOPES[by]
        return f"{'⊘' if declined else '✔'} {verb} {scope} (your earlier choice)"
    if by.startswith("rule:"):
        return f"{'⊘ denied' if declined else '✔ allowed'} by rule {by[5:]}"
    who = _who(tool)
    if declined:
        note = tool.confirmation_note
        return f"⊘ rejected by {who}" + (f" with reason “{note}”" if note else "")
    if tool.requires_user_input:
        return f"✎ values given by {who}"
    if tool.external_execution_required:
        return f"⇄ result given by {who}"
    if tool.was_edited:
        return f"✎ edited by {who} to {_args(tool.tool_args)}, then approved"
    return f"✔ approved by {who}"


def run_words(tool: ToolExecution) -> str:
    """Where the call stands once decided: running, done, failed ("" while it waits or was not run)."""
    if tool.status == "running":
        return "running"
    if tool.status == "completed":
        return "done"
    if tool.status == "error":
        return "failed"
    return ""


def outcome_line(tool: ToolExecution) -> str:
    """`✔ approved by you · done`, `⊘ denied by rule no-secrets`, `done` (ungated), ..."""
    parts = [p for p in (decision_words(tool), run_words(tool)) if p]
    return " · ".join(parts)
