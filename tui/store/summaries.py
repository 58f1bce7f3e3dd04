"""What the history list, the run detail view and the CLI read: small rows, not whole runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel


class RunSummary(BaseModel):
    """One line of the history list."""

    run_id: str
    session_id: str
    created_at: datetime
    updated_at: datetime
    #: The run's prompt.
    prompt: str | None = None
    model: str | None = None
    status: str
    tool_count: int = 0
    rejection_count: int = 0
    #: Calls waiting for a person (non-zero on paused runs).
    pending_count: int = 0
    error: str | None = None


class SessionSummary(BaseModel):
    session_id: str
    #: The session's first prompt.
    title: str | None = None
    created_at: datetime
    updated_at: datetime
    run_count: int = 0
    last_status: str | None = None


class LedgerEntry(BaseModel):
    """One decision, exactly as it was recorded (the ledger is append-only)."""

    id: int
    run_id: str
    tool_call_id: str
    tool_name: str
    #: approved | edited | rejected | auto_allowed | auto_denied | timed_out | input_provided | result_provided
    decision: str
    note: str | None = None
    #: user | session-allow | run-allow | session-deny | run-deny | rule:NAME | timeout
    decided_by: str | None = None
    #: The identity behind the decision (`user@host`, or what `Agent(approver=...)` / `decide(approver=...)` said).
    approver: str | None = None
    decided_at: datetime
    #: sha256 of the canonical JSON of the arguments the decider saw (see `tui.agent.decisions.args_digest`).
    args_digest: str | None = None
    #: The arguments as the model proposed them.
    proposed_args: dict[str, Any] | None = None
    #: The arguments on screen when the decision was made.
    decision_args: dict[str, Any] | None = None
    #: The arguments the tool ran with (None when it did not run).
    executed_args: dict[str, Any] | None = None
    recorded_at: datetime


class PendingRequest(BaseModel):
    """One call that waits for a person: an item of the approvals inbox (`RunStore.pending_requests`)."""

    #: Short and unique in this store (`hitl-tui approve 12`); stable for the call's lifetime.
    id: str
    run_id: str
    session_id: str
    tool_call_id: str
    tool_name: str
    kind: Literal["confirmation", "user_input", "external"]
    #: The proposed arguments, redacted for display.
    args: dict[str, Any]
    #: Digest of the exact arguments: pass it back as `decide(..., seen_digest=...)` to bind the decision to them.
    args_digest: str
    description: str | None = None
    #: For user-input calls: one dict per field (`name`, `type`, `description`, `choices`, `suggested`).
    user_input_schema: list[dict[str, Any]] | None = None
    #: A problem with an earlier decision (e.g. invalid edited arguments), for the next decider.
    error: str | None = None
    agent_name: str | None = None
    run_status: str
    owner_host: str | None = None
    owner_pid: int | None = None
    #: False when the process that last held the run is known to be gone (the run needs a `resume`).
    owner_alive: bool = True
    created_at: datetime
    #: When the call's approval timeout expires (None: it waits forever).
    deadline: datetime | None = None
    on_timeout: str | None = None


class DecisionRecord(BaseModel):
    """A decision as `RunStore.decide` recorded it (the first one on a call wins)."""

    id: int
    request_id: str | None = None
    run_id: str
    tool_call_id: str
    tool_name: str
    #: approved | edited | rejected | input_provided | result_provided | auto_allowed | auto_denied | timed_out
    decision: str
    note: str | None = None
    decided_by: str | None = None
    approver: str | None = None
    decided_at: datetime
    args_digest: str | None = None
