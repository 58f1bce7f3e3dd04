"""A person's decision on one pending tool call, and how it is applied to a run.

UIs (the dashboard's modals, the headless demo) produce a `Decision`; `apply_decision` turns it
into the runtime's own operations (`ToolExecution.confirm/reject/...`, policy scopes) so no UI
re-implements runtime logic.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import socket
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from .policy import Effect, SavesRules
from .run import RunOutput, ToolExecution

if TYPE_CHECKING:
    from .agent import Agent

Action = Literal[
    "approve",  # y: run it once, as proposed
    "edit",  # e: run it once with edited `args`
    "reject",  # n / r: do not run it (optional `note` for the model)
    "allow_run",  # allow this tool for the rest of this run
    "allow_session",  # a: allow this tool for the session
    "allow_always",  # A: allow this tool always (saved rule)
    "deny_session",  # d: deny this tool for the session
    "deny_always",  # D: deny this tool always (saved rule)
    "input",  # user-input form submitted (`values`)
    "result",  # external execution: the user typed the `result`
    "defer",  # esc: decide later, the item stays pending
]


@dataclass(frozen=True)
class Decision:
    action: Action
    note: str | None = None
    args: dict[str, Any] | None = None
    values: dict[str, Any] | None = None
    result: str | None = None
    #: Who decides, when not the agent's approver (`Agent(approver=...)`, by default `user@host`).
    approver: str | None = None


class DecisionError(ValueError):
    """The decision cannot be applied as given (e.g. invalid edited arguments or form values).

    `field_errors` maps field names to messages for forms.
    """

    def __init__(self, message: str, field_errors: dict[str, str] | None = None):
        super().__init__(message)
        self.field_errors = field_errors or {}


def args_digest(args: dict[str, Any] | None) -> str:
    """sha256 of the arguments as canonical JSON: what a decision is bound to.

    A decision carries the digest of the arguments its decider saw; the store refuses it when the
    call's arguments no longer have that digest (`ArgsChanged`), so nobody approves one thing and
    runs another.
    """
    text = json.dumps(args or {}, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@lru_cache(maxsize=1)
def default_approver() -> str:
    """`user@host`: who decides when nobody says otherwise (`Agent(approver=...)` overrides it)."""
    try:
        user = getpass.getuser()
    except Exception:  # no login name (containers without a passwd entry)
        user = "unknown"
    try:
        host = socket.gethostname()
    except OSError:
        host = "localhost"
    return f"{user}@{host}"


def decision_name(tool: ToolExecution) -> str | None:
    """The ledger's name for the decision a tool carries (None when it carries none yet)."""
    by = tool.decided_by
    human = by in (None, "user")
    if tool.requires_confirmation:
        if tool.confirmed is None:
            return None
        if tool.confirmed is False:
            return "timed_out" if by == "timeout" else ("rejected" if human else "auto_denied")
        if tool.was_edited:
            return "edited"
        return "approved" if human else "auto_allowed"
    if tool.confirmed is False and tool.decided_by is not None:  # a rejected form or external call
        return "timed_out" if by == "timeout" else "rejected"
    if tool.requires_user_input:
        fields = tool.user_input_schema or []
        if fields and all(f.value is not None and not f.error for f in fields):
            return "input_provided"
        return None
    if tool.external_execution_required:
        return "result_provided" if tool.result is not None else None
    return None


def _save_rule(agent: "Agent", tool_name: str, effect: Effect) -> bool:
    """Save an "always" rule when the policy keeps a rules file. False: only the session can remember it."""
    policy = agent.policy
    if not isinstance(policy, SavesRules) or policy.path is None:
        return False
    try:
        policy.save_rule(tool_name, effect)
    except Exception as exc:  # e.g. the rules file is not writable
        raise DecisionError(f"Could not save the rule: {exc}. Use a (this session) instead.") from exc
    return True


def apply_decision(agent: "Agent", run: RunOutput, tool: ToolExecution, decision: Decision) -> bool:
    """Apply `decision` to `tool`. Returns True when the tool is now decided.

    Raises DecisionError (nothing changed) when the decision is invalid, so the UI can show the
    problem and ask again. Decisions are recorded in the store at once (`agent.save_decisions`), so
    a crash between deciding and continuing loses nothing. The first decision on a call wins: when
    another holder decided it first, the tool shows that decision and `AlreadyDecided` (a
    `DecisionConflict`) says who decided and when.
    """
    action = decision.action
    if action == "defer":
        return False
    if action == "edit":
        if decision.args is None:
            raise DecisionError("no edited arguments were given")
        try:
            agent.validate_edit(tool, decision.args)
        except ValueError as exc:
            raise DecisionError(f"The edited arguments are invalid: {exc}") from None
        tool.confirm(args=decision.args)
    elif action == "approve":
        tool.confirm()
    elif action == "reject":
        tool.reject(decision.note)
    elif action in ("allow_run", "allow_session", "allow_always"):
        if action == "allow_run":
            agent.policy.allow_for_run(run.run_id, tool.tool_name)
        elif not (action == "allow_always" and _save_rule(agent, tool.tool_name, "allow")):
            agent.policy.allow_for_session(tool.tool_name)
        tool.confirm(by="user")
    elif action in ("deny_session", "deny_always"):
        if not (action == "deny_always" and _save_rule(agent, tool.tool_name, "deny")):
            agent.policy.deny_for_session(tool.tool_name)
        tool.reject(decision.note, by="user")
    elif action == "input":
        errors = tool.provide_user_input(decision.values or {})
        if errors:
            raise DecisionError("Some values are invalid.", errors)
    elif action == "result":
        if decision.result is None or not decision.result.strip():
            raise DecisionError("Type the result of running the tool (it is sent to the model).")
        tool.set_result(decision.result)
    else:  # pragma: no cover - Literal guards this
        raise DecisionError(f"unknown decision {action!r}")
    if decision.approver:
        tool.approver = decision.approver
    agent.save_decisions(run, [tool])
    return True
