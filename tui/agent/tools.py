"""`@tool`: turn a Python function into a tool the model can call, with its HITL flags.

The JSON schema comes from the signature's type hints and the docstring's Args section. Fields the
user owns (`user_input_fields`) are removed from the schema the model sees, so the model cannot
fill them, and anything it sends for them anyway is discarded.
"""

from __future__ import annotations

import asyncio
import contextvars
import copy
import inspect
import threading
import typing
from functools import partial
from typing import Any, Callable, Literal

import docstring_parser
from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from .run import UserInputField, choices_of, format_validation_error


class ToolError(Exception):
    """Raise from a tool to give the model (and the user) a clear error instead of a traceback."""


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """Split a docstring into (description, {arg: description}).

    Google (`Args:`), reST (`:param x:`), NumPy (`Parameters` + dashes) and Epydoc styles are all
    read by docstring_parser, which picks the style that finds the most; a docstring it cannot
    parse is all description.
    """
    if not doc:
        return "", {}
    text = inspect.cleandoc(doc)
    try:
        parsed = docstring_parser.parse(text)
    except docstring_parser.ParseError:
        return text.strip(), {}
    parts = [p for p in (parsed.short_description, parsed.long_description) if p]
    description = ("\n\n" if parsed.blank_after_short_description else "\n").join(parts)
    args = {
        param.arg_name.lstrip("*"): " ".join((param.description or "").split())
        for param in parsed.params
        if param.args and param.args[0] in ("param", "parameter", "arg", "argument", "key", "keyword")
    }
    return description.strip(), args


def _inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """Resolve pydantic's $defs/$ref so servers get a self-contained schema, flat where possible.

    A recursive model (a tree node whose children are nodes) cannot be inlined: inlining it never
    ends. Such a definition keeps a `$ref` to itself, and only those definitions stay in `$defs`.
    """
    defs: dict[str, Any] = schema.pop("$defs", {})
    recursive: dict[str, Any] = {}

    def resolve(node: Any, inside: frozenset[str]) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                name = ref.split("/")[-1]
                if name in inside or name not in defs:
                    recursive.setdefault(name, None)
                    return {k: resolve(v, inside) for k, v in node.items()}
                siblings = {k: resolve(v, inside) for k, v in node.items() if k != "$ref"}
                return {**resolve(defs[name], inside | {name}), **siblings}
            return {k: resolve(v, inside) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v, inside) for v in node]
        return node

    out = resolve(schema, frozenset())
    # Each kept definition is resolved in turn (it may reveal further recursive ones).
    while any(value is None and name in defs for name, value in recursive.items()):
        for name in [n for n, v in recursive.items() if v is None and n in defs]:
            recursive[name] = resolve(defs[name], frozenset({name}))
    kept = {name: value for name, value in recursive.items() if value is not None}
    if kept:
        out["$defs"] = kept
    return out


def _strip_titles(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip_titles(v) for k, v in node.items() if k != "title" or not isinstance(v, str)}
    if isinstance(node, list):
        return [_strip_titles(v) for v in node]
    return node


class Function:
    """A tool: its schema for the model, its HITL flags, and how to call it."""


    def __init__(
        self,
        entrypoint: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        requires_confirmation: bool = False,
        requires_user_input: bool = False,
        user_input_fields: list[str] | None = None,
        external_execution: bool = False,
        approval_timeout: float | None = None,
        on_timeout: Literal["reject", "approve"] = "reject",
    ) -> None:
        kinds = [
            name_
            for name_, flag in (
                ("requires_confirmation", requires_confirmation),
                ("requires_user_input", requires_user_input or bool(user_input_fields)),
                ("external_execution", external_execution),
            )
            if flag
        ]
        fn_name: str = name or str(getattr(entrypoint, "__name__", "tool"))
        if len(kinds) > 1:
            raise ValueError(
                f"@tool {fn_name!r}: choose one of requires_confirmation, requires_user_input "
                f"(or user_input_fields) and external_execution; got {', '.join(kinds)}."
            )
        if on_timeout not in ("reject", "approve"):
            raise ValueError(f"@tool {fn_name!r}: on_timeout must be 'reject' or 'approve', not {on_timeout!r}")
        if approval_timeout is not None and approval_timeout <= 0:
            raise ValueError(f"@tool {fn_name!r}: approval_timeout must be a positive number of seconds")
        self.entrypoint = entrypoint
        self.name = fn_name
        self.requires_confirmation = requires_confirmation
        self.requires_user_input = requires_user_input or bool(user_input_fields)
        self.external_execution = external_execution
        self.approval_timeout = approval_timeout
        self.on_timeout = on_timeout
        #: Optional: shows what a call would do before it is decided (`tui.agent.preview`).
        self.preview: Any = None
        self.is_async = inspect.iscoroutinefunction(entrypoint)

        summary, arg_docs = parse_docstring(inspect.getdoc(entrypoint))
        self.description = (description or summary or f"Call {self.name}.").strip()
        self.arg_docs = arg_docs

        self.signature = inspect.signature(entrypoint)
        try:
            hints = typing.get_type_hints(entrypoint, include_extras=True)
        except Exception:  # unresolved forward refs: fall back to raw annotations
            hints = {}
        self._params: dict[str, tuple[Any, Any]] = {}
        for pname, param in self.signature.parameters.items():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            if pname in ("self", "cls"):
                continue
            annotation = hints.get(pname, param.annotation)
            if annotation is inspect.Parameter.empty:
                annotation = Any
            default = ... if param.default is inspect.Parameter.empty else param.default
            self._params[pname] = (annotation, default)

        unknown = [f for f in (user_input_fields or []) if f not in self._params]
        if unknown:
            raise ValueError(f"@tool {self.name!r}: user_input_fields names unknown parameters: {unknown}")
        if self.requires_user_input:
            # As in Agno: requires_user_input with no field list means every parameter is the user's.
            self.user_input_fields = list(user_input_fields or self._params)
        else:
            self.user_input_fields = []
        if self.requires_user_input and not self.user_input_fields:
            # Nothing would be left for the user to fill in: the call would run with no human action.
            raise ValueError(
                f"@tool {self.name!r}: requires_user_input=True but the tool has no parameter for the user "
                "to fill in; add a parameter, or use requires_confirmation=True to ask for approval."
            )

        self._model_args_model = self._build_model(
            {k: v for k, v in self._params.items() if k not in self.user_input_fields}
        )
        self._all_args_model = self._build_model(self._params)

    @property
    def hint(self) -> str | None:
        """A note for the person deciding, never sent to the model (e.g. an MCP server's annotations)."""
        return None

    @property
    def needs_review(self) -> bool:
        """The definition changed since a person last trusted it: saved rules and grants do not
        decide its calls until a person approves one (see `tui.agent.mcp`)."""
        return False

    # ------------------------------------------------------------------ schema

    def _build_model(self, params: dict[str, tuple[Any, Any]]) -> type[BaseModel]:
        from pydantic import Field

        fields: dict[str, Any] = {}
        for pname, (annotation, default) in params.items():
            fields[pname] = (annotation, Field(default, description=self.arg_docs.get(pname) or None))
        return create_model(
            f"{self.name}_args",
            __config__=ConfigDict(extra="forbid", arbitrary_types_allowed=True),
            **fields,
        )

    @property
    def parameters(self) -> dict[str, Any]:
        """The JSON schema of the arguments the model may send (user-owned fields removed)."""
        schema = _strip_titles(_inline_refs(self._model_args_model.model_json_schema()))
        schema.setdefault("properties", {})
        schema.setdefault("required", [])
        schema.pop("additionalProperties", None)
        return schema

    def to_openai_tool(self) -> dict[str, Any]:
        """The tool as the model sees it. Built once (a schema costs ~1 ms; a run asks every turn)."""
        cached = self.__dict__.get("_openai_tool")
        if cached is None or cached[0] != (self.name, self.description):
            spec = {
                "type": "function",
                "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
            }
            cached = ((self.name, self.description), spec)
            self.__dict__["_openai_tool"] = cached
        return copy.deepcopy(cached[1])

    def user_input_schema(self) -> list[UserInputField]:
        fields = []
        for pname in self.user_input_fields:
            annotation, default = self._params[pname]
            fields.append(
                UserInputField(
                    name=pname,
                    field_type=annotation,
                    description=self.arg_docs.get(pname),
                    suggested=None if default is ... else default,
                    choices=choices_of(annotation),
                )
            )
        return fields

    # ------------------------------------------------------------------ validation

    def validate_args(self, args: dict[str, Any], *, include_user_fields: bool = False) -> dict[str, Any]:
        """Validate and coerce arguments against the schema. Raises ValueError with a clear message."""
        if not isinstance(args, dict):
            raise ValueError(f"arguments must be a JSON object, not {type(args).__name__}")
        from .bounds import bound_value

        # Whoever wrote them (the model, or a person editing them), arguments that would have to be
        # cut to be stored are refused here, with a clear message, instead of failing the save later.
        bounded = bound_value(args)
        if bounded.was_cut:
            raise ValueError(f"the arguments are too large to keep: {bounded.describe()}")
        model = self._all_args_model if include_user_fields else self._model_args_model
        # Many models send `null` for an optional argument they mean to leave out. When the
        # parameter has a default and does not accept None, null means "use the default".
        args = {k: v for k, v in args.items() if not (v is None and self._null_means_default(k))}
        try:
            validated = model.model_validate(args)
        except ValidationError as exc:
            raise ValueError(format_validation_error(exc)) from None
        # Only what was sent: parameters left out take the function's own defaults.
        return {k: getattr(validated, k) for k in validated.model_fields_set}

    def _null_means_default(self, name: str) -> bool:
        if name not in self._params:
            return False
        annotation, default = self._params[name]
        if default is ...:
            return False
        from pydantic import TypeAdapter

        try:
            TypeAdapter(annotation).validate_python(None)
        except Exception:
            return True
        return False

    # ------------------------------------------------------------------ calling

    async def acall(self, args: dict[str, Any]) -> Any:
        if self.is_async:
            return await self.entrypoint(**args)
        # Sync tools run in a thread so a slow one never blocks the UI's event loop.
        return await run_in_daemon_thread(self.entrypoint, args, name=f"tool {self.name}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.entrypoint(*args, **kwargs)

    def __repr__(self) -> str:
        flags = [k for k in ("requires_confirmation", "requires_user_input", "external_execution") if getattr(self, k)]
        return f"<Function {self.name}{' ' + ','.join(flags) if flags else ''}>"


async def run_in_daemon_thread(fn: Callable[..., Any], kwargs: dict[str, Any], *, name: str) -> Any:
    """`fn(**kwargs)` in a thread of its own that nobody ever waits for.

    `asyncio.to_thread` uses the loop's default executor, whose threads are joined when the loop
    closes and again when Python exits: a tool stuck in a blocking call (a FIFO, a hung socket)
    would then keep the process alive after the user quit. A daemon thread is left behind instead;
    a cancelled caller gets `CancelledError` at once and the run records the call as interrupted.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()
    context = contextvars.copy_context()

    def settle(outcome: Callable[[], None]) -> None:
        if not future.done():
            outcome()

    def work() -> None:
        try:
            result = context.run(fn, **kwargs)
        except BaseException as exc:  # handed to the awaiting coroutine, like to_thread does
            report = partial(settle, partial(future.set_exception, exc))
        else:
            report = partial(settle, partial(future.set_result, result))
        try:
            loop.call_soon_threadsafe(report)
        except RuntimeError:
            pass  # the loop is closed: the caller was cancelled and left long ago

    threading.Thread(target=work, name=name, daemon=True).start()
    return await future


def tool(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    requires_confirmation: bool = False,
    requires_user_input: bool = False,
    user_input_fields: list[str] | None = None,
    external_execution: bool = False,
    approval_timeout: float | None = None,
    on_timeout: Literal["reject", "approve"] = "reject",
) -> Any:
    """Declare a tool. Use bare (`@tool`) or with flags (`@tool(requires_confirmation=True)`).

    At most one of `requires_confirmation`, `requires_user_input` / `user_input_fields` and
    `external_execution` may be set; more than one raises ValueError here, at decoration time.
    """
    options = dict(
        name=name,
        description=description,
        requires_confirmation=requires_confirmation,
        requires_user_input=requires_user_input,
        user_input_fields=user_input_fields,
        external_execution=external_execution,
        approval_timeout=approval_timeout,
        on_timeout=on_timeout,
    )
    if fn is not None:
        return Function(fn, **options)  # type: ignore[arg-type]

    def decorate(f: Callable[..., Any]) -> Function:
        return Function(f, **options)  # type: ignore[arg-type]

    return decorate


@typing.runtime_checkable
class Toolkit(typing.Protocol):
    """Several tools behind one object (e.g. `tui.agent.mcp.MCPTools`): `Agent(tools=[kit])` takes them all."""

    def get_functions(self) -> list[Function]: ...


def expand_tools(obj: Any) -> list[Function]:
    """The Functions behind one entry of `Agent(tools=[...])`: a toolkit's tools, or one tool."""
    if isinstance(obj, Toolkit):
        return list(obj.get_functions())
    return [as_function(obj)]


def as_function(obj: Any) -> Function:
    """Accept a Function or a plain callable (wrapped as an ungated tool)."""
    if isinstance(obj, Function):
        return obj
    if callable(obj):
        return Function(obj)
    raise TypeError(f"not a tool: {obj!r} (decorate it with @tool or pass a function)")
