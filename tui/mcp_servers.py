"""The dashboard's MCP servers: their settings, the `--mcp` flag, and starting / restarting them.

Configured in the config file::

    [mcp.servers.time]
    command = "uvx"
    args = ["mcp-server-time", "--local-timezone", "UTC"]
    env = { TZ = "UTC" }

    [mcp.servers.docs]
    url = "http://127.0.0.1:8000/mcp"

or on the command line: `--mcp "time=uvx mcp-server-time"` (repeatable). Every tool of a server
is named `NAME_tool` and asks for confirmation unless a rule allows it. A server that fails or
stops is reported with its stderr tail; the others keep working. Headless (no textual).
"""

from __future__ import annotations

import asyncio
import shlex
from pathlib import Path
from typing import Any, Callable

from tui.agent.mcp import ElicitationHandler, MCPFunction, MCPServerError, MCPTools, ToolPins
from tui.mcp_config import MCPServerConfig, MCPSection, parse_mcp_flag

__all__ = ["MCPServerConfig", "MCPSection", "MCPServers", "parse_mcp_flag"]

class MCPServers:
    """Every configured server of one dashboard, and the agent's view of their tools."""

    def __init__(
        self,
        configs: dict[str, MCPServerConfig],
        *,
        agent: Any,
        pins: ToolPins | None = None,
        elicitation_handler: ElicitationHandler | None = None,
        on_stop: Callable[[str, str], None] | None = None,
        timeout_seconds: float = 30.0,
    ) -> None:
        self.agent = agent
        self.on_stop = on_stop
        self.servers: dict[str, MCPTools] = {}
        for name, config in configs.items():
            self.servers[name] = MCPTools(
                command=shlex.join([config.command, *config.args]) if config.command else None,
                url=config.url,
                env=config.env,
                tool_name_prefix=name,
                name=name,
                include_tools=config.include_tools,
                exclude_tools=config.exclude_tools,
                # In the dashboard every MCP tool asks, unless a rule allows it.
                requires_confirmation_tools=["*"],
                elicitation_handler=elicitation_handler,
                pins=pins,
                timeout_seconds=timeout_seconds,
                on_stop=self._stopped,
            )
        self._ready: asyncio.Event | None = None

    def __bool__(self) -> bool:
        return bool(self.servers)

    def _stopped(self, server: MCPTools, message: str) -> None:
        if self.on_stop is not None:
            self.on_stop(server.name, message)

    async def start_all(self) -> dict[str, str]:
        """Start every server at once; {name: why it failed} for those that did not start."""
        self._ready = self._ready or asyncio.Event()
        results = await asyncio.gather(*(self.start(name) for name in self.servers))
        self._ready.set()
        return {name: error for name, error in zip(self.servers, results) if error}

    async def ready(self) -> None:
        """Wait until the first start of every server has finished (a resumed run needs their tools)."""
        if self.servers and self._ready is not None:
            await self._ready.wait()

    async def start(self, name: str) -> str | None:
        """(Re)start one server and give its tools to the agent; the error message, or None."""
        server = self.servers[name]
        try:
            if server.is_connected:
                await server.restart()
            else:
                await server.close()
                await server.connect()
        except MCPServerError as exc:
            return str(exc)
        except Exception as exc:  # whatever a server does, the dashboard keeps running
            server.error = f"the MCP server {name!r} could not be started: {type(exc).__name__}: {exc}"
            return server.error
        functions = self.agent.functions
        for gone in [n for n, f in functions.items() if isinstance(f, MCPFunction) and f.toolkit is server and n not in server.functions]:
            del functions[gone]  # the server no longer offers it
        for fn in server.get_functions():
            existing = functions.get(fn.name)
            if existing is not None and not (isinstance(existing, MCPFunction) and existing.toolkit is server):
                server.error = f"the MCP server {name!r} has a tool {fn.name!r} whose name another tool already uses"
                continue
            functions[fn.name] = fn
        return None

    async def stop_all(self) -> None:
        await asyncio.gather(*(s.close() for s in self.servers.values()), return_exceptions=True)

    def status(self, name: str) -> str:
        server = self.servers[name]
        if server.is_connected:
            return "running"
        return "failed" if server.error else "starting"

    def summary(self) -> str:
        """Every server, its state and its tools, as plain text (the model-info and servers screens)."""
        if not self.servers:
            return "No MCP servers. Add one with --mcp \"NAME=COMMAND ARGS\" or [mcp.servers.NAME] in the config file."
        lines = []
        for name, server in self.servers.items():
            lines.append(f"{name} ({self.status(name)}): {server.describe()}")
            for fn in sorted(server.functions.values(), key=lambda f: f.name):
                flags = []
                if fn.read_only_hint:
                    flags.append("read-only hint")
                if fn.change:
                    flags.append(f"changed {fn.change}")
                lines.append(f"  {fn.name}" + (f"  [{'; '.join(flags)}]" if flags else ""))
            if server.error:
                lines.append("  " + server.error.replace("\n", "\n  "))
        return "\n".join(lines)


def default_pins_path(data_dir: Path) -> Path:
    return data_dir / "mcp-pins.json"
