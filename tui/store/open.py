"""`open_store(location)`: one function picks the backend from the location.

A path (or `sqlite:///path`) opens the embedded SQLite store; a `postgresql://` (or `postgres://`)
URL opens the team store on PostgreSQL, which needs the optional driver
(`pip install 'hitl-tui[postgres]'`). `--db`, `HITL_TUI_DB` and the config's `db` all go through here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .run_store import RunStore, StoreError


def is_database_url(location: object) -> bool:
    """True when `location` names a database server rather than a file."""
    return isinstance(location, str) and location.lower().startswith(("postgresql://", "postgres://"))


def mask_password(url: str) -> str:
    """The URL without its password, for messages and `store.path`."""
    url = re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)
    return re.sub(r"(?i)(password=)[^&\s]*", r"\1***", url)


def shown_location(location: str | Path) -> str:
    """How a location appears in messages: a URL without its password."""
    return mask_password(location) if isinstance(location, str) and is_database_url(location) else str(location)


def db_exists(location: str | Path) -> bool:
    """Whether there is a history to read: the file exists; a server is assumed to (opening says)."""
    return is_database_url(location) or Path(location).expanduser().exists()


def open_store(location: str | Path, **options: Any) -> RunStore:
    """The store at `location` (see the module docstring); `options` go to the store's constructor."""
    if is_database_url(location):
        try:
            from .postgres import PostgresRunStore
        except ImportError as exc:
            raise StoreError(
                f"{shown_location(location)}: a PostgreSQL store needs the psycopg driver: "
                f"pip install 'hitl-tui[postgres]' ({exc})"
            ) from exc
        options.pop("synchronous", None)  # SQLite only: PostgreSQL commits are durable by default
        return PostgresRunStore(str(location), **options)
    if isinstance(location, str) and location.startswith("sqlite:///"):
        location = location[len("sqlite:///") :]  # sqlite:///rel/path, sqlite:////abs/path
    return RunStore(location, **options)
