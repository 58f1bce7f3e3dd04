"""MCP elicitation: a server asks the user for typed input in the middle of a tool call.

The server's requested schema is a flat object of primitive properties (string, number, integer,
boolean, and enums of strings). It becomes the same `UserInputField`s a user-input tool has, so the
dashboard shows the same form; `validate_content` checks an answer against the fields and then the
schema's own constraints (min/max, lengths, patterns) before it is sent.

Headless programs answer with a handler: `MCPTools(elicitation_handler=handler)`, where
`async def handler(request: ElicitationRequest) -> ElicitationResponse`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Literal

from ..run import RunOutput, ToolExecution, UserInputField

ElicitAction = Literal["accept", "decline", "cancel"]

_TYPES: dict[str, Any] = {"string": str, "integer": int, "number": float, "boolean": bool}


def _choices(prop: dict[str, Any]) -> list[Any] | None:
    if isinstance(prop.get("enum"), list):
        return list(prop["enum"])
    for key in ("oneOf", "anyOf"):
        options = prop.get(key)
        if isinstance(options, list) and options and all(isinstance(o, dict) and "const" in o for o in options):
            return [o["const"] for o in options]
    items = prop.get("items")
    if prop.get("type") == "array" and isinstance(items, dict):
        return _choices(items)
    return None


def fields_from_schema(schema: dict[str, Any]) -> list[UserInputField]:
    """One field per property of the requested schema, typed, with its description and default."""
    fields = []
    for name, prop in (schema.get("properties") or {}).items():
        prop = prop if isinstance(prop, dict) else {}
        choices = _choices(prop)
        if choices is not None and prop.get("type") != "array":
            from typing import Literal as L

            field_type: Any = L[tuple(choices)]
        else:
            field_type = _TYPES.get(str(prop.get("type")), list if prop.get("type") == "array" else str)
        description = prop.get("description") or prop.get("title")
        fields.append(
            UserInputField(
                name=name,
                field_type=field_type,
                description=description,
                suggested=prop.get("default"),
                choices=choices if prop.get("type") != "array" else None,
            )
        )
    return fields


def validate_content(schema: dict[str, Any], raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """(content to send, errors by field). Optional fields left empty are left out."""
    required = set(schema.get("required") or [])
    content: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in fields_from_schema(schema):
        value = raw.get(f.name)
        if f.name not in required and (value is None or (isinstance(value, str) and value.strip() == "")):
            continue
        try:
            content[f.name] = f.coerce(value)
        except ValueError as exc:
            errors[f.name] = str(exc)
    unknown = set(raw) - {f.name for f in fields_from_schema(schema)}
    for name in sorted(unknown):
        errors[name] = "the server did not ask for this field"
    try:  # the schema's own limits (minimum, maxLength, pattern...), for the fields that coerced
        from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

        for err in Draft202012Validator(schema).iter_errors(content):
            if err.validator == "required":
                continue  # a missing required value was already named by its field
            where = ".".join(str(p) for p in err.absolute_path) or "form"
            errors.setdefault(where, err.message)
    except ImportError:  # pragma: no cover - jsonschema comes with mcp
        pass
    return content, errors


@dataclass
class ElicitationRequest:
    """What the server asks, and during which call."""

    server: str
    message: str
    requested_schema: dict[str, Any]
    #: The model-facing name of the tool whose call is asking (None if the call is unknown).
    tool_name: str | None = None
    run: RunOutput | None = None
    tool: ToolExecution | None = None
    fields: list[UserInputField] = field(default_factory=list)

    @property
    def required(self) -> set[str]:
        return set(self.requested_schema.get("required") or [])

    def as_tool_execution(self) -> ToolExecution:
        """A stand-in call whose user-input fields are the server's questions (for the form)."""
        call_id = self.tool.tool_call_id if self.tool is not None else "elicitation"
        return ToolExecution(
            tool_call_id=f"{call_id}/elicitation",
            tool_name=self.tool_name or self.server,
            tool_args=dict(self.tool.tool_args) if self.tool is not None else {},
            description=self.message,
            requires_user_input=True,
            user_input_schema=fields_from_schema(self.requested_schema),
        )


@dataclass
class ElicitationResponse:
    action: ElicitAction
    content: dict[str, Any] | None = None
    #: Who answered, for the ledger ("user" in the dashboard; "handler" by default for programs).
    by: str = "handler"


ElicitationHandler = Callable[[ElicitationRequest], Awaitable[ElicitationResponse]]
