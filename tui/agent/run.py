"""The state of a run: what the store persists and what the UI renders.

Everything here is a pydantic model so that a run's full state round-trips through JSON
(`RunOutput.model_dump_json()` / `RunOutput.model_validate_json()`), which is what makes a paused
run resumable after the process that started it has gone.
"""

from __future__ import annotations

import enum
import typing
import uuid
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    TypeAdapter,
    ValidationError,
    field_serializer,
    field_validator,
)

from .bounds import bound_value, bounded, clean_text


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_id(prefix: str = "") -> str:
    return f"{prefix}{uuid.uuid4().hex[:16]}"


class RunStatus(str, enum.Enum):
    running = "running"
    paused = "paused"
    completed = "completed"
    cancelled = "cancelled"
    error = "error"

    def __str__(self) -> str:  # so f"{run.status}" reads "paused", not "RunStatus.paused"
        return self.value


# ----------------------------------------------------------------------------- field types

_SIMPLE_TYPES: dict[str, Any] = {
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "list": list,
    "dict": dict,
    "any": Any,
}


def type_to_name(tp: Any) -> str:
    """A stable, human-readable name for a field type, used to persist it."""
    if tp is Any or tp is None:
        return "any"
    if typing.get_origin(tp) is typing.Annotated:  # Annotated[str, AfterValidator(...)] is a str
        return type_to_name(typing.get_args(tp)[0])
    if isinstance(tp, type) and tp.__name__ in _SIMPLE_TYPES and _SIMPLE_TYPES[tp.__name__] is tp:
        return tp.__name__
    origin = typing.get_origin(tp)
    if origin is Literal:
        return "literal"
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return "enum"
    if origin in (list, tuple, set):
        return "list"
    if origin is dict:
        return "dict"
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return type_to_name(args[0])
    return "any"


def choices_of(tp: Any) -> list[Any] | None:
    """The allowed values of a Literal or Enum type (None for any other type)."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return choices_of(typing.get_args(tp)[0])
    if origin is Literal:
        return list(typing.get_args(tp))
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return [member.value for member in tp]
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return choices_of(args[0])
    return None


def format_validation_error(exc: ValidationError) -> str:
    """One readable line per problem, without pydantic's URLs."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(part) for part in err.get("loc", ()) if part != "__root__")
        msg = err.get("msg", "invalid value")
        if msg.startswith("Value error, "):  # a validator's own words need no prefix
            msg = msg[len("Value error, "):]
        lines.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(lines) or str(exc)


class UserInputField(BaseModel):
    """A tool argument that only the user may fill in.

    As in Agno, a program may simply set `field.value = "..."`; the value is validated and
    coerced to `field_type` when the run continues (or at once with `ToolExecution.provide_user_input`).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, validate_assignment=False)

    name: str
    field_type: Any = str
    description: str | None = None
    value: Any = None
    #: A value the user is offered to start from (the parameter's default), never used unless submitted.
    suggested: Any = None
    #: Allowed values for Literal / Enum fields (the UI shows a select).
    choices: list[Any] | None = None
    #: Set when a submitted value does not validate; the run stays paused until it is fixed.
    error: str | None = None

    @field_serializer("field_type")
    def _ser_type(self, tp: Any) -> str:
        return type_to_name(tp)

    @field_validator("field_type", mode="before")
    @classmethod
    def _parse_type(cls, tp: Any) -> Any:
        if isinstance(tp, str):
            return _SIMPLE_TYPES.get(tp, Any)
        return tp

    #: The full declared type, e.g. Annotated[str, AfterValidator(check)], used to validate values.
    #: Not persisted: `Agent.bind_tools` re-attaches it from the tool after a restart.
    _validated_type: Any = PrivateAttr(default=None)

    def model_post_init(self, __context: Any) -> None:
        if typing.get_origin(self.field_type) is typing.Annotated:
            # Programs see the plain type (as in Agno: `Type: <class 'str'>`); checks stay in force.
            self._validated_type = self.field_type
            self.field_type = typing.get_args(self.field_type)[0]
        if self.choices is None:
            self.choices = choices_of(self.field_type)
        if self.choices is not None and type_to_name(self.field_type) in ("literal", "enum", "any"):
            # Restored from JSON: rebuild a Literal so validation still restricts the choices.
            if type_to_name(self.field_type) == "any":
                self.field_type = Literal[tuple(self.choices)]

    @property
    def type_name(self) -> str:
        return type_to_name(self.field_type)

    def coerce(self, value: Any) -> Any:
        """Validate and coerce `value` to this field's type; raises ValueError with a clear message."""
        if value is None or (isinstance(value, str) and value.strip() == "" and self.type_name != "str"):
            raise ValueError("a value is required")
        if self.type_name == "str" and isinstance(value, str) and value.strip() == "":
            raise ValueError("a value is required")
        tp = self._validated_type if self._validated_type is not None else self.field_type
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            try:
                return tp(value).value if not isinstance(value, tp) else value.value
            except ValueError:
                raise ValueError(f"must be one of {', '.join(map(str, self.choices or []))}") from None
        try:
            if self.type_name in ("list", "dict") and isinstance(value, str):
                return TypeAdapter(tp).validate_json(value)
            return TypeAdapter(tp).validate_python(value, strict=False)
        except ValidationError as exc:
            if self.choices:
                raise ValueError(f"must be one of {', '.join(map(str, self.choices))}") from None
            raise ValueError(_short_type_error(exc, self.type_name)) from None


def _short_type_error(exc: ValidationError, type_name: str) -> str:
    friendly = {
        "int": "must be a whole number",
        "float": "must be a number",
        "bool": "must be true or false",
        "list": "must be a JSON list",
        "dict": "must be a JSON object",
    }
    return friendly.get(type_name) or format_validation_error(exc)


# ----------------------------------------------------------------------------- tool executions

ToolStatus = Literal["pending", "running", "completed", "rejected", "error"]


class ToolExecution(BaseModel):
    """One tool call proposed by the model, its decision, and its outcome.

    The Agno-style fields (`confirmed`, `field.value`, `result`) may be set directly; the helpers
    (`confirm`, `reject`, `provide_user_input`, `set_result`) do the same and validate as they go.
    """

    tool_call_id: str
    tool_name: str
    tool_args: dict[str, Any] = Field(default_factory=dict)
    #: The arguments exactly as the model proposed them (before any edit by the user).
    proposed_args: dict[str, Any] | None = None
    #: Index of the assistant turn that produced this call, within its run.
    turn: int = 0
    #: Human-readable description of the tool (from its docstring), for the approval UI.
    description: str | None = None

    requires_confirmation: bool = False
    confirmed: bool | None = None
    confirmation_note: str | None = None

    requires_user_input: bool = False
    user_input_schema: list[UserInputField] | None = None

    external_execution_required: bool = False

    status: ToolStatus = "pending"
    result: str | None = None
    error: str | None = None
    decided_by: str | None = None
    #: Who decided, as a person or process identity (`user@host` by default; see `Agent(approver=...)`).
    approver: str | None = None
    decided_at: datetime | None = None
    #: The arguments at the moment of the decision (what the user saw / edited).
    decision_args: dict[str, Any] | None = None
    #: The arguments the tool actually ran with.
    executed_args: dict[str, Any] | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    #: Seconds to wait for a human before `on_timeout` applies (None: wait forever).
    approval_timeout: float | None = None
    on_timeout: Literal["reject", "approve"] = "reject"
    created_at: datetime = Field(default_factory=utcnow)

    # --- derived state

    @property
    def is_gated(self) -> bool:
        return self.requires_confirmation or self.requires_user_input or self.external_execution_required

    @property
    def awaiting_confirmation(self) -> bool:
        return self.requires_confirmation and self.confirmed is None and self.status == "pending"

    @property
    def awaiting_user_input(self) -> bool:
        return (
            self.requires_user_input
            and self.status == "pending"
            and any(f.value is None or f.error for f in (self.user_input_schema or []))
        )

    @property
    def awaiting_external_execution(self) -> bool:
        return self.external_execution_required and self.result is None and self.status == "pending"

    @property
    def is_awaiting_decision(self) -> bool:
        return self.awaiting_confirmation or self.awaiting_user_input or self.awaiting_external_execution

    @property
    def kind(self) -> Literal["confirmation", "user_input", "external", "auto"]:
        if self.requires_confirmation:
            return "confirmation"
        if self.requires_user_input:
            return "user_input"
        if self.external_execution_required:
            return "external"
        return "auto"

    @property
    def duration(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    @property
    def was_edited(self) -> bool:
        return self.proposed_args is not None and self.tool_args != self.proposed_args

    # --- decisions (Agno-compatible helpers)

    def _stamp(self, by: str) -> None:
        self.decided_by = by
        self.decided_at = utcnow()
        self.decision_args = dict(self.tool_args)

    def confirm(self, args: dict[str, Any] | None = None, *, by: str = "user") -> None:
        """Approve the call, optionally with edited arguments (validated when the run continues)."""
        if args is not None:
            if self.proposed_args is None:
                self.proposed_args = dict(self.tool_args)
            self.tool_args = dict(args)
        self.confirmed = True
        self.error = None
        self._stamp(by)

    def reject(self, note: str | None = None, *, by: str = "user") -> None:
        """Decline the call; the note (if any) is passed on to the model."""
        self.confirmed = False
        self.confirmation_note = note or None
        self._stamp(by)

    def provide_user_input(self, values: dict[str, Any], *, by: str = "user") -> dict[str, str]:
        """Fill the user-owned fields. Returns per-field errors ({} when every value is valid).

        Values are coerced to each field's type ("42" -> 42). Invalid fields keep their error and
        the run stays paused on this tool until they are fixed.
        """
        errors: dict[str, str] = {}
        for f in self.user_input_schema or []:
            if f.name not in values:
                if f.value is None:
                    errors[f.name] = "a value is required"
                    f.error = errors[f.name]
                continue
            # Storable whatever was typed or pasted: unstorable characters are marked; a value
            # that would have to be cut is refused rather than used cut.
            bounded = bound_value(values[f.name])
            if bounded.was_cut:
                f.value = None
                f.error = errors[f.name] = f"the value is too large ({bounded.describe()})"
                continue
            try:
                f.value = f.coerce(bounded.value)
                f.error = None
            except ValueError as exc:
                f.value = bounded.value
                f.error = clean_text(str(exc))
                errors[f.name] = f.error
        if not errors:
            self._stamp(by)
        return errors

    def set_result(self, value: Any, *, by: str = "user") -> None:
        """Supply the result of an externally executed tool."""
        self.result = clean_text(value) if isinstance(value, str) else to_text(value)
        self._stamp(by)


def to_text(value: Any) -> str:
    """A tool's or a person's non-text result as the text the model reads (JSON where possible).

    Bounded first (see `bounds`): a result nested 900 levels deep or holding a lone surrogate
    still becomes text that can be stored, with a visible marker where something was changed.
    """
    import json

    try:
        return clean_text(json.dumps(bounded(value), ensure_ascii=False, default=str))
    except (TypeError, ValueError, RecursionError):
        try:
            return clean_text(str(value))
        except RecursionError:
            return f"[a {type(value).__name__} too deeply nested to show]"


# ----------------------------------------------------------------------------- messages


class Message(BaseModel):
    """A chat message in OpenAI's shape."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None
    name: str | None = None
    created_at: datetime = Field(default_factory=utcnow)

    def to_openai(self) -> dict[str, Any]:
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            out["tool_calls"] = self.tool_calls
        if self.tool_call_id is not None:
            out["tool_call_id"] = self.tool_call_id
        if self.role == "tool" and self.name:
            out["name"] = self.name
        return out


# ----------------------------------------------------------------------------- run output


class RunOutput(BaseModel):
    """A run: the prompt, every message, every tool execution and where it stands."""

    run_id: str = Field(default_factory=lambda: new_id("run_"))
    session_id: str = Field(default_factory=lambda: new_id("ses_"))
    agent_name: str | None = None
    model: str | None = None
    #: Where the model was served (None: the provider's default, or the offline demo model).
    base_url: str | None = None
    #: The user tool specs (`--tools` strings) the run's agent loaded, so `resume` can load them again.
    tool_specs: list[str] = Field(default_factory=list)
    input: str | None = None
    status: RunStatus = RunStatus.running
    content: str | None = None
    messages: list[Message] = Field(default_factory=list)
    tools: list[ToolExecution] = Field(default_factory=list)
    error: str | None = None
    #: Index of the assistant turn whose tool results have not all been sent yet (None: none open).
    open_turn: int | None = None
    turns: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    #: The store's version of the run this copy was read or last saved at (None: never stored).
    #: A save from a copy whose version is not the stored one is refused (see tui/store).
    _store_version: int | None = PrivateAttr(default=None)
    #: Loaded for display (`RunStore.load_run(exact=False)`) with pending arguments redacted: never saved back.
    _display_copy: bool = PrivateAttr(default=False)

    @property
    def store_version(self) -> int | None:
        return self._store_version

    @property
    def is_paused(self) -> bool:
        return self.status == RunStatus.paused

    @property
    def is_finished(self) -> bool:
        return self.status in (RunStatus.completed, RunStatus.cancelled)

    @property
    def pending_tools(self) -> list[ToolExecution]:
        """Every tool that waits for a human, oldest first."""
        return [t for t in self.tools if t.is_awaiting_decision]

    @property
    def tools_requiring_confirmation(self) -> list[ToolExecution]:
        return [t for t in self.tools if t.awaiting_confirmation]

    @property
    def tools_requiring_user_input(self) -> list[ToolExecution]:
        return [t for t in self.tools if t.awaiting_user_input]

    @property
    def tools_awaiting_external_execution(self) -> list[ToolExecution]:
        return [t for t in self.tools if t.awaiting_external_execution]

    def tool(self, tool_call_id: str) -> ToolExecution:
        for t in self.tools:
            if t.tool_call_id == tool_call_id:
                return t
        raise KeyError(f"run {self.run_id} has no tool call {tool_call_id!r}")

    def touch(self) -> None:
        self.updated_at = utcnow()
