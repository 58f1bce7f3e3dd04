"""Real MCP servers for the tests: the notes server written here (stdio or streamable HTTP) and the
published `mcp-server-time` (installed by the `test` extra)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

NOTES_SERVER = Path(__file__).parent / "mcp_support" / "notes_server.py"


def notes_command() -> str:
    return f"{sys.executable} {NOTES_SERVER}"


def time_server_command() -> str | None:
    """The published server's console script, next to this interpreter (or on PATH)."""
    here = Path(sys.executable).parent / "mcp-server-time"
    found = str(here) if here.exists() else shutil.which("mcp-server-time")
    return f"{found} --local-timezone UTC" if found else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HttpNotesServer:
    """The notes server as its own process on 127.0.0.1 (a free port), over streamable HTTP."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        self.proc = subprocess.Popen(
            [sys.executable, str(NOTES_SERVER), "--http", str(self.port)],
            env={**os.environ, **(env or {})},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # wait for the port to accept (a condition, not a timeout)
            if self.proc.poll() is not None:
                raise RuntimeError(f"the notes HTTP server exited with {self.proc.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("the notes HTTP server did not start listening")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def http_notes_server(env: dict[str, str] | None = None) -> Iterator[HttpNotesServer]:
    server = HttpNotesServer(env)
    try:
        yield server
    finally:
        server.stop()


def notes_tools(transport: str, http: Any = None, **kwargs: Any) -> Any:
    """MCPTools on the notes server, tools prefixed `notes_`, every tool asking (as in the dashboard)."""
    from tui.agent.mcp import MCPTools

    kwargs.setdefault("tool_name_prefix", "notes")
    kwargs.setdefault("requires_confirmation_tools", ["*"])
    if transport == "http":
        return MCPTools(url=http.url, transport="streamable-http", **kwargs)
    return MCPTools(command=notes_command(), **kwargs)
