"""One MCP tool as an ordinary `Function`: the server's input schema is its JSON schema.

The agent cannot tell it from a Python tool, so an MCP call goes through the same pause, decision,
ledger, rules and store. Only calling it differs: it is sent to the server by its `MCPTools`.
"""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any

from ..tools import Function, _inline_refs

if TYPE_CHECKING:
    from .toolkit import MCPTools

_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_-]")


def model_name(prefix: str | None, name: str) -> str:
    """The name the model sees: `prefix_name`, with characters chat APIs refuse replaced by `_`."""
    full = f"{prefix}_{name}" if prefix else name
    return _NOT_ALLOWED.sub("_", full)[:64]


def annotation_hint(annotations: dict[str, Any]) -> str | None:
    """What the server says about the tool, as a hint for the person deciding (never a permission)."""
    notes = []
    if annotations.get("readOnlyHint") is True:
        notes.append("says it only reads")
    if annotations.get("destructiveHint") is True and annotations.get("readOnlyHint") is not True:
        notes.append("says it may change or delete data")
    if annotations.get("openWorldHint") is True:
        notes.append("says it reaches outside systems")
    if not notes:
        return None
    return "The server " + " and ".join(notes) + " (a hint from the server, not a permission: hitl-tui asks anyway)."


class MCPFunction(Function):
    """A tool of an MCP server. Built by `MCPTools`; calls go through its connection."""

    def __init__(
        self,
        toolkit: "MCPTools",
        *,
        mcp_name: str,
        name: str,
        description: str | None,
        input_schema: dict[str, Any] | None,
        annotations: dict[str, Any] | None = None,
        requires_confirmation: bool = False,
    ) -> None:
        async def call(**kwargs: Any) -> Any:
            return await toolkit.call_tool(mcp_name, kwargs)

        call.__name__ = name
        super().__init__(
            call,
            name=name,
            description=(description or "").strip() or f"The {mcp_name} tool of the MCP server {toolkit.name}.",
            requires_confirmation=requires_confirmation,
        )
        self.toolkit = toolkit
        self.mcp_name = mcp_name
        self.input_schema: dict[str, Any] = dict(input_schema or {"type": "object", "properties": {}})
        self.annotations: dict[str, Any] = dict(annotations or {})
        #: Set by MCPTools when the definition differs from the pinned one (a sentence on what changed).
        self.change: str | None = None
        self.configured_confirmation = requires_confirmation
        self._validator: Any = None

    @property
    def read_only_hint(self) -> bool:
        return self.annotations.get("readOnlyHint") is True

    @property
    def hint(self) -> str | None:
        lines = [f"From the MCP server {self.toolkit.name!r} (tool {self.mcp_name!r})."]
        if self.change:
            lines.append(
                f"⚠ The server changed this tool's {self.change} since it was last trusted: "
                "rules and grants for it do not apply until you approve a call."
            )
        annotation = annotation_hint(self.annotations)
        if annotation:
            lines.append(annotation)
        return " ".join(lines)

    @property
    def needs_review(self) -> bool:
        return self.change is not None

    def mark_changed(self, change: str | None) -> None:
        """A changed definition asks the user whatever the configuration said; accepting restores it."""
        self.change = change
        self.requires_confirmation = True if change else self.configured_confirmation
        self.__dict__.pop("_openai_tool", None)

    @property
    def parameters(self) -> dict[str, Any]:
        schema = _inline_refs(copy.deepcopy(self.input_schema))
        schema.setdefault("type", "object")
        schema.setdefault("properties", {})
        return schema

    def validate_args(self, args: dict[str, Any], *, include_user_fields: bool = False) -> dict[str, Any]:
        """Check the arguments against the server's input schema (so an edit is checked before it runs)."""
        if not isinstance(args, dict):
            raise ValueError(f"arguments must be a JSON object, not {type(args).__name__}")
        if self._validator is None:
            from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

            self._validator = Draft202012Validator(self.input_schema)
        problems = []
        for err in sorted(self._validator.iter_errors(args), key=lambda e: list(e.absolute_path)):
            where = ".".join(str(p) for p in err.absolute_path)
            problems.append(f"{where}: {err.message}" if where else err.message)
        if problems:
            raise ValueError("; ".join(problems))
        return dict(args)

    async def acall(self, args: dict[str, Any]) -> Any:
        if self.change is not None:
            # Reaching here means a person approved a call of the changed tool: trust the new definition.
            self.toolkit.accept_definition(self.name)
        return await self.toolkit.call_tool(self.mcp_name, args)

    def __repr__(self) -> str:
        return f"<MCPFunction {self.name} ({self.toolkit.name}:{self.mcp_name})>"
