"""What the history list, the run detail view and the CLI read: small rows, not whole runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
    decided_at: datetime
    #: The arguments as the model proposed them.
    proposed_args: dict[str, Any] | None = None
    #: The arguments on screen when the decision was made.
    decision_args: dict[str, Any] | None = None
    #: The arguments the tool ran with (None when it did not run).
    executed_args: dict[str, Any] | None = None
    recorded_at: datetime
