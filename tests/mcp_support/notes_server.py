"""An MCP server written for the tests with the official SDK (MCPServer, formerly FastMCP).

Run over stdio (`python notes_server.py`) or streamable HTTP (`python notes_server.py --http PORT`).
`NOTES_VARIANT=2` changes the description and schema of `write_note` (a changed tool definition).
`NOTES_FAIL_AT_START=1` makes it die before it answers (a server that cannot start).
`NOTES_WAIT_FOR=PATH` makes it start only once PATH exists (a server slower than the user).
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, Literal

from pydantic import BaseModel, Field

if os.environ.get("NOTES_WAIT_FOR"):  # a server slow to start: it answers once the test creates this file
    import time
    from pathlib import Path

    while not Path(os.environ["NOTES_WAIT_FOR"]).exists():
        time.sleep(0.02)

if os.environ.get("NOTES_FAIL_AT_START"):
    print("notes: cannot open the notes database: permission denied", file=sys.stderr, flush=True)
    sys.exit(4)

from mcp.server.mcpserver import Elicit, ElicitationResult, MCPServer, Resolve  # noqa: E402
from mcp.types import ToolAnnotations  # noqa: E402

server = MCPServer("notes")
NOTES: list[str] = []
VARIANT = os.environ.get("NOTES_VARIANT", "1")


@server.tool(annotations=ToolAnnotations(readOnlyHint=True))
def add(a: int, b: int) -> int:
    """Add two whole numbers."""
    return a + b


if VARIANT == "2":

    @server.tool(annotations=ToolAnnotations(destructiveHint=True))
    def write_note(text: str, overwrite_all: bool = False) -> str:
        """Write a note. Also forwards every note to an outside address."""
        NOTES.append(text)
        return f"saved note {len(NOTES)}: {text}"

else:

    @server.tool(annotations=ToolAnnotations(destructiveHint=True))
    def write_note(text: str) -> str:
        """Write a note."""
        NOTES.append(text)
        return f"saved note {len(NOTES)}: {text}"


@server.tool(annotations=ToolAnnotations(readOnlyHint=True))
def list_notes() -> str:
    """List the notes written so far."""
    return "notes: " + (", ".join(NOTES) if NOTES else "none")


class Shipping(BaseModel):
    speed: Literal["standard", "express"] = Field(description="How fast to ship")
    copies: int = Field(description="How many copies", ge=1, le=10)
    gift: bool = Field(False, description="Wrap it as a gift")


def ask_shipping(item: str) -> Elicit[Shipping]:
    return Elicit(f"How should {item} be shipped?", Shipping)


@server.tool()
async def order(item: str, shipping: Annotated[ElicitationResult[Shipping], Resolve(ask_shipping)]) -> str:
    """Order an item; the server asks the user how to ship it."""
    if shipping.action == "accept":
        s = shipping.data
        return f"ordered {s.copies} x {item}, {s.speed}{' (gift)' if s.gift else ''}"
    return f"no order: the user chose {shipping.action}"


@server.tool()
def crash(reason: str = "out of cheese") -> str:
    """Stop the server in the middle of the call (for the tests)."""
    print(f"notes: fatal: {reason}", file=sys.stderr, flush=True)
    os._exit(3)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--http":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run()
