"""The human-in-the-loop agent runtime. Imports neither textual nor rich (a test enforces this).

Public API (mirrors Agno's user-control-flow API)::

    from tui.agent import Agent, tool, RunOutput, RunStatus, ToolExecution, UserInputField
    from tui.agent.models import OpenAIChat, DemoModel
    from tui.agent import pprint   # pprint.pprint_run_response(run)
"""

from .agent import Agent, StoreFailure
from .policy import Policy, PolicyDecision
from .run import Message, RunOutput, RunStatus, ToolExecution, UserInputField
from .tools import Function, ToolError, tool

__all__ = [
    "Agent",
    "Function",
    "Message",
    "Policy",
    "PolicyDecision",
    "RunOutput",
    "RunStatus",
    "StoreFailure",
    "ToolError",
    "ToolExecution",
    "UserInputField",
    "tool",
]
