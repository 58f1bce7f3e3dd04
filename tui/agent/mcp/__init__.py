"""MCP servers' tools behind approvals (Agno-compatible `MCPTools`).

    from tui.agent.mcp import MCPTools

    async with MCPTools(command="uvx mcp-server-time", requires_confirmation_tools=["*"]) as mcp:
        agent = Agent(model=..., tools=[mcp])

Importing this package does not import the `mcp` SDK; connecting does.
"""

from .elicitation import ElicitationHandler, ElicitationRequest, ElicitationResponse, fields_from_schema, validate_content
from .function import MCPFunction, annotation_hint, model_name
from .pins import ToolPins
from .toolkit import MCPServerError, MCPTools

__all__ = [
    "ElicitationHandler",
    "ElicitationRequest",
    "ElicitationResponse",
    "MCPFunction",
    "MCPServerError",
    "MCPTools",
    "ToolPins",
    "annotation_hint",
    "fields_from_schema",
    "model_name",
    "validate_content",
]
