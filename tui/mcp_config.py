"""The `[mcp.servers.NAME]` settings and the `--mcp NAME=COMMAND ARGS...` flag (no runtime imports).

    [mcp.servers.time]
    command = "uvx"
    args = ["mcp-server-time", "--local-timezone", "UTC"]
    env = { TZ = "UTC" }

    [mcp.servers.docs]
    url = "http://127.0.0.1:8000/mcp"
"""

from __future__ import annotations

import re
import shlex

from pydantic import BaseModel, ConfigDict, Field, model_validator

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")


class MCPServerConfig(BaseModel):
    """One server: a command started over stdio, or the URL of a streamable-HTTP server."""

    model_config = ConfigDict(extra="forbid")

    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    url: str | None = None
    #: Globs over the server's own tool names: only these / not these reach the model.
    include_tools: list[str] | None = None
    exclude_tools: list[str] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> "MCPServerConfig":
        if (self.command is None) == (self.url is None):
            raise ValueError("give either command (with args) or url")
        return self

    def describe(self) -> str:
        return self.url or " ".join(shlex.quote(p) for p in [self.command or "", *self.args])


class MCPSection(BaseModel):
    """The `[mcp]` table of the config file."""

    model_config = ConfigDict(extra="forbid")

    servers: dict[str, MCPServerConfig] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _names(self) -> "MCPSection":
        for name in self.servers:
            check_name(name)
        return self


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(
            f"MCP server name {name!r}: use a letter first, then letters, digits, _ or - (it prefixes its tools' names)"
        )
    return name


def parse_mcp_flag(spec: str) -> tuple[str, MCPServerConfig]:
    """`NAME=COMMAND ARGS...` or `NAME=http(s)://...` -> (name, config). Raises ValueError saying what to write."""
    name, sep, rest = spec.partition("=")
    name, rest = name.strip(), rest.strip()
    if not sep or not name or not rest:
        raise ValueError(f"--mcp {spec!r}: write NAME=COMMAND ARGS... (e.g. --mcp \"time=uvx mcp-server-time\") or NAME=URL")
    check_name(name)
    if re.match(r"^https?://", rest):
        return name, MCPServerConfig(url=rest)
    try:
        parts = shlex.split(rest)
    except ValueError as exc:
        raise ValueError(f"--mcp {spec!r}: {exc}") from None
    return name, MCPServerConfig(command=parts[0], args=parts[1:])


