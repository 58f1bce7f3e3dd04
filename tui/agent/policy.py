"""Approval policy: which gated calls are decided automatically, and by what.

Only tools that need *confirmation* can be decided by a policy. A user-input or external-execution
tool still needs its human data, whatever the rules say. Every automatic decision names its source
(`session-allow`, `run-allow`, `rule:NAME`) so the ledger can explain it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from .run import RunOutput, ToolExecution

Effect = Literal["allow", "ask", "deny"]


@dataclass(frozen=True)
class PolicyDecision:
    effect: Effect
    decided_by: str
    #: Told to the model as the reason; only ever text a person wrote (a rule's `note`), never
    #: system wording, so nothing reads system text as "your reason".
    note: str | None = None


@dataclass
class Policy:
    """Session- and run-scoped allow/deny lists. Saved rules extend this (see `tui.agent.rules`)."""

    session_allow: set[str] = field(default_factory=set)
    session_deny: set[str] = field(default_factory=set)
    run_allow: dict[str, set[str]] = field(default_factory=dict)
    run_deny: dict[str, set[str]] = field(default_factory=dict)

    def allow_for_session(self, tool_name: str) -> None:
        self.session_deny.discard(tool_name)
        self.session_allow.add(tool_name)

    def deny_for_session(self, tool_name: str) -> None:
        self.session_allow.discard(tool_name)
        self.session_deny.add(tool_name)

    def allow_for_run(self, run_id: str, tool_name: str) -> None:
        self.run_allow.setdefault(run_id, set()).add(tool_name)

    def forget_session(self, tool_name: str) -> None:
        self.session_allow.discard(tool_name)
        self.session_deny.discard(tool_name)

    def forget_run(self, run_id: str, tool_name: str) -> None:
        """Revoke this run's allow or deny for `tool_name` (the rules screen's delete)."""
        for scoped in (self.run_allow, self.run_deny):
            names = scoped.get(run_id)
            if names is not None:
                names.discard(tool_name)
                if not names:
                    del scoped[run_id]

    def decide(self, tool: ToolExecution, run: RunOutput) -> PolicyDecision | None:
        """An automatic decision for `tool`, or None to ask the user."""
        if not tool.requires_confirmation:
            return None
        name = tool.tool_name
        # Narrow scopes win over broad ones; within a scope, deny wins over allow.
        if name in self.run_deny.get(run.run_id, ()):
            return PolicyDecision("deny", "run-deny")
        if name in self.run_allow.get(run.run_id, ()):
            return PolicyDecision("allow", "run-allow")
        if name in self.session_deny:
            return PolicyDecision("deny", "session-deny")
        if name in self.session_allow:
            return PolicyDecision("allow", "session-allow")
        return None


@runtime_checkable
class SavesRules(Protocol):
    """A policy that keeps saved rules in a file (`RulesPolicy`): "always" decisions go there."""

    path: Path | None

    def save_rule(self, tool_name: str, effect: Effect) -> Any: ...
