"""The model protocol: how the agent talks to any chat model, real or offline."""

from __future__ import annotations

import inspect
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

    def astream(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> AsyncIterator[ModelChunk]:
        """Yield text deltas as they arrive, then one chunk whose `response` is the full reply.

        A model may also take the keywords `stream` (whether the caller streams: it may then make
        a plain request instead) and `tool_choice` (the API's field: "auto", "none", "required"
        or a named function); `call_model` passes them only to a model whose `astream` declares
        them, so models written against this two-argument form keep working. Raises ModelError
        for failures a person must act on.
        """
        ...

    def describe(self) -> str:
        """A short human description, e.g. "gpt-4o-mini @ http://localhost:11434/v1"."""
        ...


_ACCEPTS: dict[type, frozenset[str]] = {}


def call_model(
    model: Model, messages: list[dict[str, Any]], tools: list[dict[str, Any]], *, stream: bool, tool_choice: Any = None
) -> AsyncIterator[ModelChunk]:
    """`model.astream(...)` with the options its signature takes.

    Models written against the first protocol, `astream(messages, tools)`, keep working: they are
    not handed keywords they do not know. The signature is read once per class.
    """
    accepts = _ACCEPTS.get(type(model))
    if accepts is None:
        try:
            parameters = inspect.signature(model.astream).parameters.values()
        except (TypeError, ValueError):
            parameters = ()  # type: ignore[assignment]
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
            accepts = frozenset({"stream", "tool_choice"})
        else:
            accepts = frozenset(p.name for p in parameters) & {"stream", "tool_choice"}
        _ACCEPTS[type(model)] = accepts
    options: dict[str, Any] = {}
    if "stream" in accepts:
        options["stream"] = stream
    if tool_choice is not None:
        if "tool_choice" not in accepts:
            raise ModelError(f"{type(model).__name__} does not support tool_choice; remove it from the Agent.")
        options["tool_choice"] = tool_choice
    return model.astream(messages, tools, **options)


@runtime_checkable
class ServedModel(Protocol):
    """A model reached over the network: runs record where it was served (`RunOutput.base_url`)."""

    base_url: str | None
