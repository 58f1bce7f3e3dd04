"""The MCP servers screen: each server, whether it runs, its tools, and why it stopped.

Opened from the command palette ("MCP servers"). Restarting a server is a palette command too
("Restart MCP server NAME"), so the keys stay the same everywhere.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.mcp_servers import MCPServers
from tui.widgets.literal import literal
from tui.widgets.steady_footer import SteadyFooter

EXPLANATION = (
    "Every MCP tool asks before it runs unless a rule allows it (rules match NAME_tool, e.g. "
    "tool = \"time_*\"). A server's read-only hint is shown when you decide, never trusted as "
    "permission. When a server changes a tool's description or schema, its rules wait until you "
    "approve a call. ctrl+p → Restart MCP server restarts one."
)


class MCPServersScreen(ModalScreen[None]):
    """Read-only: the servers of this dashboard and their tools."""

    DEFAULT_CSS = """
    MCPServersScreen { align: center middle; }
    MCPServersScreen > Vertical {
        width: 92%; max-width: 116; height: auto; max-height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    MCPServersScreen #servers { height: auto; max-height: 30; }
    MCPServersScreen .hint { color: $text-muted; margin-top: 1; }
    """

    BINDINGS = [Binding("escape,q", "close", "Close", id="mcp_servers.close")]

    def __init__(self, servers: MCPServers) -> None:
        super().__init__()
        self.servers = servers

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "MCP servers"
            with VerticalScroll(id="servers"):
                yield Static(literal(self.servers.summary()), id="summary")
            yield Static(EXPLANATION, classes="hint")
        yield SteadyFooter()

    def refresh_summary(self) -> None:
        self.query_one("#summary", Static).update(literal(self.servers.summary()))

    def action_close(self) -> None:
        self.dismiss(None)


if __name__ == "__main__":
    from textual.app import App

    from tui.agent import Agent
    from tui.agent.models import DemoModel
    from tui.mcp_config import MCPServerConfig

    demo = MCPServers({"time": MCPServerConfig(command="uvx", args=["mcp-server-time"])}, agent=Agent(model=DemoModel()))

    class _Demo(App[None]):
        def on_mount(self) -> None:
            self.push_screen(MCPServersScreen(demo), lambda _: self.exit())

    _Demo().run()
