"""Which call a tool is running for, while it runs.

A tool that asks the user in the middle of its call (an MCP server's elicitation) must show the
question next to the right call and record the answer in that run's ledger. The agent sets
`current_call` in the task that executes each call; each call runs in its own task, so parallel
calls never see each other's context.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .run import RunOutput, ToolExecution

if TYPE_CHECKING:
    from .agent import Agent


@dataclass(frozen=True)
class CallContext:
    agent: "Agent"
    run: RunOutput
    tool: ToolExecution


current_call: ContextVar[CallContext | None] = ContextVar("hitl_tui_current_call", default=None)
