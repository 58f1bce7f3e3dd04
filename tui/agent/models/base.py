"""The model protocol: how the agent talks to any chat model, real or offline."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Protocol, runtime_checkable


@dataclass
class ToolCall:
    """A tool call as the model sent it. `arguments` is the raw JSON text, unparsed."""

    id: str | None
    name: str
    arguments: str


@dataclass
class ModelResponse:
    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None


@dataclass
class ModelChunk:
    """One item of a model's stream: a text delta, or (last) the complete response."""

    text: str | None = None
    response: ModelResponse | None = None


class ModelError(Exception):
    """A model call failed in a way the user must hear about (bad key, rate limit, outage...).

    `message` is written for a person: it says what happened and what to do.
    """

    def __init__(self, message: str, *, status_code: int | None = None, retryable: bool = False):
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.retryable = retryable


@runtime_checkable
class Model(Protocol):
    id: str

    def astream(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> AsyncIterator[ModelChunk]:
        """Yield text deltas as they arrive, then one chunk whose `response` is the full reply.

        Raises ModelError for failures a person must act on.
        """
        ...

    def describe(self) -> str:
        """A short human description, e.g. "gpt-4o-mini @ http://localhost:11434/v1"."""
        ...


@runtime_checkable
class ServedModel(Protocol):
    """A model reached over the network: runs record where it was served (`RunOutput.base_url`)."""

    base_url: str | None
