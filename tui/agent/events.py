"""The events a run streams: the whole contract between the runtime and any UI.

`agent.arun(prompt, stream=True)` and `agent.acontinue_run(..., stream=True)` yield these, in
order. A UI renders them and never re-implements runtime logic. Every event carries `run_id`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .run import RunOutput, ToolExecution


@dataclass(frozen=True)
class RunEvent:
    run_id: str


@dataclass(frozen=True)
class RunStarted(RunEvent):
    run: RunOutput


@dataclass(frozen=True)
class ContentDelta(RunEvent):
    text: str


@dataclass(frozen=True)
class ToolCallStarted(RunEvent):
    """A tool call exists: it is about to run, or it waits for a decision (`tool.status`)."""

    tool: ToolExecution


@dataclass(frozen=True)
class ToolCallCompleted(RunEvent):
    """A tool call has an outcome: completed, rejected or error (`tool.status`)."""

    tool: ToolExecution


@dataclass(frozen=True)
class RunPaused(RunEvent):
    run: RunOutput
    tools: list[ToolExecution] = field(default_factory=list)


@dataclass(frozen=True)
class RunContinued(RunEvent):
    run: RunOutput


@dataclass(frozen=True)
class RunCompleted(RunEvent):
    run: RunOutput


@dataclass(frozen=True)
class RunError(RunEvent):
    run: RunOutput
    error: str


@dataclass(frozen=True)
class RunCancelled(RunEvent):
    run: RunOutput


__all__ = [
    "RunEvent",
    "RunStarted",
    "ContentDelta",
    "ToolCallStarted",
    "ToolCallCompleted",
    "RunPaused",
    "RunContinued",
    "RunCompleted",
    "RunError",
    "RunCancelled",
]
