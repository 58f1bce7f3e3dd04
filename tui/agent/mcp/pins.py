"""Pinned MCP tool definitions: a digest of each tool the user has trusted, per server.

An MCP server may change a tool's description or input schema at any time (an update, or a
"rug pull"). Rules and grants were made for the definition the user saw, so a changed tool must
not be decided by them: the user is told and decides its next call themselves. The pins live in
a small JSON file in the user data dir (mode 0600), apart from the run history.

A tool seen for the first time is pinned at once (trust on first use); the user still confirms
its calls unless a rule allows them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ...private_files import write_private_text

PinState = Literal["new", "same", "changed"]


def definition_of(name: str, description: str | None, input_schema: dict[str, Any] | None) -> dict[str, Any]:
    """The part of a tool's definition that a person's trust covers."""
    return {"name": name, "description": description or "", "inputSchema": input_schema or {}}


def digest(definition: dict[str, Any]) -> str:
    canonical = json.dumps(definition, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class PinCheck:
    state: PinState
    #: The pinned definition (for "changed": what the user trusted before).
    previous: dict[str, Any] | None = None

    def describe_change(self, current: dict[str, Any]) -> str:
        """One short sentence on what changed, for the person deciding."""
        if self.previous is None:
            return ""
        parts = []
        if self.previous.get("description") != current.get("description"):
            parts.append(f"description (was: {self.previous.get('description')!r})")
        if self.previous.get("inputSchema") != current.get("inputSchema"):
            before = sorted((self.previous.get("inputSchema") or {}).get("properties", {}))
            after = sorted((current.get("inputSchema") or {}).get("properties", {}))
            parts.append(f"input schema (arguments were {before}, now {after})" if before != after else "input schema")
        return " and ".join(parts) or "definition"


class ToolPins:
    """The pins file: {server: {tool: {"digest": ..., "definition": {...}}}}."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            # A damaged file must not silently trust everything: refuse, with the file named.
            raise ValueError(f"cannot read the MCP tool pins {self.path}: {exc}") from exc
        servers = data.get("servers") if isinstance(data, dict) else None
        return servers if isinstance(servers, dict) else {}

    def _save(self, servers: dict[str, Any]) -> None:
        text = json.dumps({"version": 1, "servers": servers}, indent=1, sort_keys=True, ensure_ascii=False)
        write_private_text(self.path, text)  # atomic, 0600 (folders 0700)

    def check(self, server: str, definition: dict[str, Any]) -> PinCheck:
        entry = self._load().get(server, {}).get(definition["name"])
        if not isinstance(entry, dict):
            return PinCheck("new")
        if entry.get("digest") == digest(definition):
            return PinCheck("same")
        return PinCheck("changed", entry.get("definition"))

    def pin(self, server: str, definition: dict[str, Any]) -> None:
        servers = self._load()
        servers.setdefault(server, {})[definition["name"]] = {"digest": digest(definition), "definition": definition}
        self._save(servers)

    def pinned(self, server: str) -> dict[str, str]:
        """{tool name: digest} of one server (for the servers screen and tests)."""
        return {name: e.get("digest", "") for name, e in self._load().get(server, {}).items() if isinstance(e, dict)}
