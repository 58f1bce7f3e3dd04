"""The dashboard's side of MCP: start the servers, report failures, restart, and ask the user.

`HitlApp` holds one `MCPDashboard`; everything MCP-specific that needs the app lives here so the
app only wires it (start on mount, palette commands, stop on unmount).
"""

from __future__ import annotations

import asyncio
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from textual.app import SystemCommand

from tui.agent.mcp import ElicitationRequest, ElicitationResponse, ToolPins
from tui.mcp_servers import MCPServers, default_pins_path

if TYPE_CHECKING:
    from tui.app import HitlApp


class MCPDashboard:
    def __init__(self, app: "HitlApp") -> None:
        self.app = app
        self.servers = MCPServers(
            app.settings.mcp.servers,
            agent=app.agent,
            pins=ToolPins(default_pins_path(Path(app.settings.db).parent)),
            elicitation_handler=self.ask,
            on_stop=self.report_stop,
        )

    def __bool__(self) -> bool:
        return bool(self.servers)

    @property
    def ready(self) -> Any:
        return self.servers.ready if self.servers else None

    def start(self) -> None:
        if self.servers:
            self.app.run_worker(self._start_all(), group="mcp", exit_on_error=False, description="Start the MCP servers")

    async def _start_all(self) -> None:
        failures = await self.servers.start_all()
        for name, error in failures.items():
            self.report_stop(name, error)
        started = [n for n in self.servers.servers if n not in failures]
        for name in started:
            self.report_changes(name)
        if started:
            count = sum(len(self.servers.servers[n].functions) for n in started)
            self.app.notify(
                f"MCP: {', '.join(started)} ({count} tools). Each asks before it runs unless a rule allows it.",
                timeout=5,
                markup=False,
            )

    async def stop(self) -> None:
        await self.servers.stop_all()

    def report_stop(self, name: str, message: str) -> None:
        """A server failed or died: say so where it stays visible; the other tools keep working."""
        hint = f"ctrl+p → Restart MCP server {name}"
        self.app.notify(f"{message}\n{hint}", title=f"MCP server {name}", severity="error", markup=False, timeout=12)
        self.app.dashboard.conversation.add_error(f"{message}\n{hint}.", title=f"MCP server {name}")

    def report_changes(self, name: str) -> None:
        """Tell the user, before any use, which tools the server redefined since they were trusted."""
        for fn in self.servers.servers[name].changed_tools:
            message = (
                f"The MCP server {name} changed the {fn.change} of {fn.name}. Its rules and grants wait "
                "until you approve a call of it."
            )
            self.app.notify(message, title="Changed MCP tool", severity="warning", markup=False, timeout=12)
            self.app.dashboard.conversation.add_error(message, title="Changed MCP tool")

    def restart_in_background(self, name: str) -> None:
        self.app.run_worker(self.restart(name), group="mcp", exit_on_error=False, description=f"Restart MCP server {name}")

    async def restart(self, name: str) -> None:
        error = await self.servers.start(name)
        if error:
            self.report_stop(name, error)
        else:
            self.report_changes(name)
            count = len(self.servers.servers[name].functions)
            self.app.notify(f"MCP server {name} restarted ({count} tools).", timeout=4, markup=False)

    async def ask(self, request: ElicitationRequest) -> ElicitationResponse:
        """Show a server's question as the user-input form; the answer goes back to the server."""
        from tui.screens.elicitation_modal import ElicitationModal, response_for

        answered: asyncio.Future[ElicitationResponse] = asyncio.get_running_loop().create_future()

        def done(decision: Any) -> None:
            if not answered.done():
                answered.set_result(response_for(decision))

        if self.app.settings.bell:
            self.app.bell()
        self.app.push_screen(ElicitationModal(request), callback=done)
        return await answered

    def show(self) -> None:
        from tui.screens.mcp_servers_screen import MCPServersScreen

        self.app.push_screen(MCPServersScreen(self.servers))

    def commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("MCP servers", "Each MCP server, whether it runs, and its tools", self.show)
        for name in self.servers.servers:
            yield SystemCommand(
                f"Restart MCP server {name}",
                f"Stop and start {name} again (now {self.servers.status(name)})",
                partial(self.restart_in_background, name),
            )
