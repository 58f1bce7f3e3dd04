"""MCPTools: an MCP server's tools behind the same pause, decision, ledger and rules as Python tools.

Used as in Agno::

    async with MCPTools(command="uvx mcp-server-time", requires_confirmation_tools=["*"]) as time:
        agent = Agent(model=..., tools=[time])
        run = await agent.arun("What time is it in Tokyo?")

or `MCPTools(url="http://127.0.0.1:8000/mcp", transport="streamable-http")`. Each tool of the
server becomes an `MCPFunction` (a `Function` whose JSON schema is the server's input schema).

The connection lives in a task of its own, so a server that dies never takes the caller's task
down: the call that was waiting fails with a clear error (with the tail of the server's stderr),
the model is told, and the run goes on. The `mcp` SDK is imported only when connecting.
"""

from __future__ import annotations

import asyncio
import fnmatch
import os
import shlex
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable, Literal, TextIO

from ..call_context import CallContext, current_call
from ..run import ToolExecution, to_text, utcnow
from ..tools import Function, ToolError
from .elicitation import ElicitationHandler, ElicitationRequest, ElicitationResponse, fields_from_schema, validate_content
from .function import MCPFunction, model_name
from .pins import ToolPins, definition_of

Transport = Literal["stdio", "streamable-http"]
#: How much of a server's stderr an error message quotes.
STDERR_TAIL = 1200


class MCPServerError(ToolError):
    """The MCP server could not be started, or stopped: the message names it and quotes its stderr."""


def _load_sdk() -> None:
    import mcp  # noqa: F401
    import mcp.client.stdio  # noqa: F401


def _matches(name: str, patterns: Iterable[str] | None) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns or ())


class MCPTools:
    """The tools of one MCP server (stdio command or streamable-HTTP URL), as Functions."""

    def __init__(
        self,
        command: str | None = None,
        *,
        args: list[str] | None = None,
        url: str | None = None,
        env: dict[str, str] | None = None,
        cwd: str | Path | None = None,
        transport: Transport | None = None,
        include_tools: list[str] | None = None,
        exclude_tools: list[str] | None = None,
        requires_confirmation_tools: list[str] | None = None,
        tool_name_prefix: str | None = None,
        name: str | None = None,
        timeout_seconds: float = 30.0,
        elicitation_handler: ElicitationHandler | None = None,
        pins: ToolPins | None = None,
        on_stop: Callable[["MCPTools", str], None] | None = None,
        protocol: Literal["auto", "legacy"] = "auto",
    ) -> None:
        if (command is None) == (url is None):
            raise ValueError("MCPTools needs either command= (a server started over stdio) or url= (streamable HTTP)")
        if transport is None:
            transport = "streamable-http" if url else "stdio"
        if transport not in ("stdio", "streamable-http"):
            raise ValueError(f"transport must be 'stdio' or 'streamable-http', not {transport!r}")
        if transport == "stdio" and command is None:
            raise ValueError("transport='stdio' needs command=")
        if transport == "streamable-http" and url is None:
            raise ValueError("transport='streamable-http' needs url=")
        parts = shlex.split(command) if command else []
        if command is not None and not parts:
            raise ValueError("command= is empty")
        self.command = parts[0] if parts else None
        self.args = parts[1:] + list(args or [])
        self.url = url
        self.env = dict(env or {})
        self.cwd = cwd
        self.transport: Transport = transport
        self.include_tools = include_tools
        self.exclude_tools = exclude_tools
        self.requires_confirmation_tools = requires_confirmation_tools
        self.tool_name_prefix = tool_name_prefix
        self.name = name or tool_name_prefix or (Path(self.command).name if self.command else url) or "mcp"
        self.timeout_seconds = timeout_seconds
        self.elicitation_handler = elicitation_handler
        self.pins = pins
        self.on_stop = on_stop
        #: "auto" negotiates the newest protocol; "legacy" forces the pre-2026 handshake (older servers).
        self.protocol = protocol
        #: Model-facing name -> tool.
        self.functions: dict[str, MCPFunction] = {}
        #: Why the server is not running (None while it runs, or before the first start).
        self.error: str | None = None
        self._client: Any = None
        self._runner: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._stopped = asyncio.Event()
        self._closing = False
        self._stderr: TextIO | None = None
        self._inflight: list[CallContext] = []
        #: tool_call_id -> how many questions its call was asked (each answer is its own ledger row).
        self._elicitations: dict[str, int] = {}

    # ------------------------------------------------------------------ Agno-style lifecycle

    async def __aenter__(self) -> "MCPTools":
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def get_functions(self) -> list[Function]:
        """The tools, for `Agent(tools=[mcp])` (a `tui.agent.tools.Toolkit`)."""
        if not self.functions and not self.is_connected:
            raise RuntimeError(
                f"MCPTools({self.describe()!r}) is not connected, so it has no tools yet: create the Agent "
                "inside `async with MCPTools(...) as mcp:` (or after `await mcp.connect()`)."
            )
        return list(self.functions.values())

    @property
    def is_connected(self) -> bool:
        return self._client is not None

    def describe(self) -> str:
        return " ".join([self.command or "", *self.args]).strip() if self.command else str(self.url)

    async def connect(self) -> None:
        """Start the server (or reach it) and list its tools. Raises MCPServerError with the reason."""
        if self.is_connected:
            return
        self._stop = asyncio.Event()
        self._stopped = asyncio.Event()
        self._closing = False
        self.error = None
        # The SDK takes a while to import: not on the event loop a dashboard draws with.
        await asyncio.to_thread(_load_sdk)
        ready = asyncio.get_running_loop().create_future()
        self._runner = asyncio.create_task(self._run(ready), name=f"mcp-server-{self.name}")
        try:
            await asyncio.wait_for(asyncio.shield(ready), self.timeout_seconds)
        except asyncio.TimeoutError:
            ready.cancel()
            await self.close()
            self.error = self._with_stderr(f"the MCP server {self.name!r} did not answer within {self.timeout_seconds:g} s")
            raise MCPServerError(self.error) from None
        except MCPServerError as exc:
            await self._wait_stopped()
            self.error = str(exc)
            raise

    async def close(self) -> None:
        """Stop the server (a stdio server's process ends) and wait until it has stopped."""
        self._closing = True
        self._stop.set()
        await self._wait_stopped()

    async def restart(self) -> None:
        await self.close()
        await self.connect()

    async def _wait_stopped(self) -> None:
        runner = self._runner
        if runner is not None and not runner.done():
            try:
                await asyncio.wait_for(asyncio.shield(runner), 10)
            except (asyncio.TimeoutError, Exception):
                runner.cancel()

    # ------------------------------------------------------------------ the connection task

    def _transport(self) -> Any:
        if self.transport == "streamable-http":
            return self.url
        from mcp import StdioServerParameters
        from mcp.client.stdio import stdio_client

        if self._stderr is not None:
            self._stderr.close()
        self._stderr = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")
        params = StdioServerParameters(
            command=self.command or "", args=self.args, env={**self._inherited_env(), **self.env} or None, cwd=self.cwd
        )
        return stdio_client(params, errlog=self._stderr)

    @staticmethod
    def _inherited_env() -> dict[str, str]:
        # The SDK passes only HOME/PATH/...; a server written in Python also needs the interpreter's
        # own environment (virtualenv, PYTHONPATH) to start the way it starts from a shell.
        keep = ("VIRTUAL_ENV", "PYTHONPATH", "LANG", "LC_ALL", "TZ", "TMPDIR")
        return {k: os.environ[k] for k in keep if k in os.environ}

    async def _run(self, ready: "asyncio.Future[None]") -> None:
        reason: str | None = None
        try:
            from mcp import Client

            async with Client(
                self._transport(), elicitation_callback=self._on_elicit, read_timeout_seconds=None, mode=self.protocol
            ) as client:
                listed = await self._list_tools(client)
                self._client = client
                self._build(listed)
                ready.set_result(None)
                await self._stop.wait()
        except BaseException as exc:  # noqa: BLE001 - every way a server fails becomes a message
            reason = self._failure(exc)
            if isinstance(exc, asyncio.CancelledError) and self._closing:
                reason = None
        finally:
            self._client = None
            self._stopped.set()
            if not ready.done():
                ready.set_exception(MCPServerError(self._with_stderr(f"the MCP server {self.name!r} could not be started: {reason or 'it stopped'}")))
            elif not self._closing:
                self._report_stop(self._with_stderr(f"the MCP server {self.name!r} stopped: {reason or 'the connection closed'}"))

    async def _list_tools(self, client: Any) -> list[Any]:
        tools: list[Any] = []
        cursor = None
        for _ in range(100):
            page = await client.list_tools(cursor=cursor)
            tools.extend(page.tools)
            cursor = page.next_cursor
            if not cursor:
                break
        return tools

    def _report_stop(self, message: str) -> None:
        """Say once that the server stopped on its own (the dashboard shows it and offers a restart)."""
        if self.error is not None:
            return
        self.error = message
        if self.on_stop is not None:
            self.on_stop(self, message)

    def _failure(self, exc: BaseException) -> str:
        while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
            exc = exc.exceptions[0]
        if isinstance(exc, FileNotFoundError):
            return f"no such command {self.command!r}"
        text = str(exc) or type(exc).__name__
        return text if isinstance(exc, MCPServerError) else f"{type(exc).__name__}: {text}"

    def stderr_tail(self) -> str:
        """The last lines the server wrote to stderr (stdio servers only)."""
        if self._stderr is None:
            return ""
        try:
            self._stderr.flush()
            self._stderr.seek(0, os.SEEK_END)
            size = self._stderr.tell()
            self._stderr.seek(max(0, size - STDERR_TAIL * 4))
            return self._stderr.read()[-STDERR_TAIL:].strip()
        except (OSError, ValueError):
            return ""

    def _with_stderr(self, message: str) -> str:
        tail = self.stderr_tail()
        return f"{message}. Its last output (stderr):\n{tail}" if tail else f"{message}."

    # ------------------------------------------------------------------ tools

    def _build(self, listed: list[Any]) -> None:
        functions: dict[str, MCPFunction] = {}
        for tool in listed:
            if self.include_tools is not None and not _matches(tool.name, self.include_tools):
                continue
            if _matches(tool.name, self.exclude_tools):
                continue
            schema = tool.input_schema if isinstance(tool.input_schema, dict) else {}
            annotations = tool.annotations.model_dump(by_alias=True, exclude_none=True) if tool.annotations else {}
            fn = MCPFunction(
                self,
                mcp_name=tool.name,
                name=model_name(self.tool_name_prefix, tool.name),
                description=tool.description,
                input_schema=schema,
                annotations=annotations,
                requires_confirmation=_matches(tool.name, self.requires_confirmation_tools),
            )
            if self.pins is not None:
                definition = definition_of(tool.name, tool.description, schema)
                check = self.pins.check(self.name, definition)
                if check.state == "new":
                    self.pins.pin(self.name, definition)
                elif check.state == "changed":
                    fn.mark_changed(check.describe_change(definition))
            functions[fn.name] = fn
        # Keep the objects an Agent already holds: update them in place, add the new ones.
        for key, fn in functions.items():
            old = self.functions.get(key)
            if old is not None:
                old.__dict__.clear()  # nothing cached for the old definition may survive
                old.__dict__.update(fn.__dict__)
                functions[key] = old
        self.functions = functions

    @property
    def changed_tools(self) -> list[MCPFunction]:
        """Tools whose definition differs from the pinned one (rules do not decide them)."""
        return [f for f in self.functions.values() if f.change is not None]

    def accept_definition(self, name: str) -> None:
        """Trust the current definition of a changed tool: its rules and grants apply again."""
        fn = self.functions[name]
        if self.pins is not None:
            self.pins.pin(self.name, definition_of(fn.mcp_name, fn.description, fn.input_schema))
        fn.mark_changed(None)

    async def call_tool(self, mcp_name: str, args: dict[str, Any]) -> str:
        """Call one tool; the server's text is the result. A failure raises ToolError (the model is told)."""
        client = self._client
        if client is None:
            raise MCPServerError(
                (self.error or f"the MCP server {self.name!r} is not running.")
                + " Restart it (dashboard: ctrl+p → Restart MCP server) and call the tool again."
            )
        ctx = current_call.get()
        if ctx is not None:
            self._inflight.append(ctx)
        call = asyncio.ensure_future(client.call_tool(mcp_name, args))
        stopped = asyncio.ensure_future(self._stopped.wait())
        try:
            done, _ = await asyncio.wait({call, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if call in done:
                try:
                    result = call.result()
                except Exception as exc:
                    raise self._call_failed(mcp_name, exc) from None
            else:
                raise self._call_failed(mcp_name, None)
        finally:
            for task in (call, stopped):
                if not task.done():
                    task.cancel()
            if ctx is not None:
                self._inflight.remove(ctx)
        return self._result_text(result)

    def _call_failed(self, mcp_name: str, exc: BaseException | None) -> MCPServerError:
        reason = self._failure(exc) if exc is not None else "the connection closed"
        lost = exc is None or "closed" in reason.lower() or "disconnect" in reason.lower() or self._stopped.is_set()
        if lost:
            self._stop.set()  # the connection is gone: stop the task (on_stop reports it)
            self._client = None
            self._report_stop(self._with_stderr(f"the MCP server {self.name!r} stopped during the call to {mcp_name} ({reason})"))
            return MCPServerError(self.error or reason)
        return MCPServerError(f"the MCP server {self.name!r} failed the call to {mcp_name}: {reason}")

    @staticmethod
    def _result_text(result: Any) -> str:
        texts = []
        for block in result.content or []:
            text = getattr(block, "text", None)
            if text is not None:
                texts.append(text)
            else:
                texts.append(f"[{getattr(block, 'type', 'content')} content omitted]")
        text = "\n".join(texts)
        if not text and result.structured_content is not None:
            text = to_text(result.structured_content)
        if result.is_error:
            raise ToolError(text or "the MCP tool reported an error")
        return text

    # ------------------------------------------------------------------ elicitation

    async def _on_elicit(self, context: Any, params: Any) -> Any:
        import mcp.types as types

        try:
            return await self._elicit(params)
        except Exception as exc:  # e.g. the ledger could not be written: the answer is not sent unrecorded
            return types.ErrorData(code=types.INTERNAL_ERROR, message=f"the question could not be answered: {exc}")

    async def _elicit(self, params: Any) -> Any:
        import mcp.types as types

        ctx = current_call.get() or (self._inflight[-1] if self._inflight else None)
        schema = getattr(params, "requested_schema", None)
        if schema is None or getattr(params, "mode", "form") != "form":
            return types.ElicitResult(action="decline")  # URL mode: not offered by this client
        schema = schema if isinstance(schema, dict) else schema.model_dump(by_alias=True, exclude_none=True)
        request = ElicitationRequest(
            server=self.name,
            message=params.message,
            requested_schema=schema,
            tool_name=ctx.tool.tool_name if ctx else None,
            run=ctx.run if ctx else None,
            tool=ctx.tool if ctx else None,
            fields=fields_from_schema(schema),
        )
        if self.elicitation_handler is None:
            self._record(ctx, request, "decline", None, "no-handler")
            return types.ElicitResult(action="decline")
        try:
            response = await self.elicitation_handler(request)
        except Exception as exc:  # a broken handler is the call's error, not a crash
            self._record(ctx, request, "cancel", None, "handler-error", note=f"the handler raised {type(exc).__name__}: {exc}")
            return types.ErrorData(code=types.INTERNAL_ERROR, message=f"the elicitation handler failed: {type(exc).__name__}: {exc}")
        if response.action != "accept":
            self._record(ctx, request, response.action, None, response.by)
            return types.ElicitResult(action=response.action)
        content, errors = validate_content(schema, response.content or {})
        if errors:
            problems = "; ".join(f"{k}: {v}" for k, v in errors.items())
            self._record(ctx, request, "cancel", None, response.by, note=f"invalid answer: {problems}")
            return types.ErrorData(code=types.INVALID_PARAMS, message=f"the answer to the server's question is invalid: {problems}")
        self._record(ctx, request, "accept", content, response.by)
        return types.ElicitResult(action="accept", content=content)

    def _record(
        self, ctx: CallContext | None, request: ElicitationRequest, action: str, content: dict[str, Any] | None, by: str,
        *, note: str | None = None,
    ) -> None:
        """Write the answer to the run's ledger, as its own row next to the call's decision."""
        if ctx is None or ctx.agent.store is None:
            return
        n = self._elicitations[ctx.tool.tool_call_id] = self._elicitations.get(ctx.tool.tool_call_id, 0) + 1
        now = utcnow()
        row = ToolExecution(
            tool_call_id=f"{ctx.tool.tool_call_id}#elicitation-{n}",
            tool_name=ctx.tool.tool_name,
            tool_args=dict(content or {}),
            proposed_args={"message": request.message, "requested_schema": request.requested_schema},
            decision_args=dict(content or {}),
            executed_args=dict(content or {}) if action == "accept" else None,
            confirmation_note=f"The MCP server {self.name!r} asked: {request.message}" + (f" ({note})" if note else ""),
            decided_by=by,
            decided_at=now,
        )
        ctx.agent.store.record_decision(ctx.run, row, f"elicitation_{action}")

    def __repr__(self) -> str:
        state = "connected" if self.is_connected else ("failed" if self.error else "not connected")
        return f"<MCPTools {self.name} {state} tools={sorted(self.functions)}>"
