"""RunStore on PostgreSQL, for teams: several people and machines on one store.

`PostgresRunStore(url)` is a `RunStore`: same API, same semantics, same statements. Every
statement of `RunStore` is written once, in SQLite's dialect; `_PgConnection` translates the few
differences as it executes them (placeholders, `INSERT OR REPLACE`, two-argument `max`, `LIKE`
case, `LIMIT -1`), and this class overrides the handful of hooks that differ (how a transaction
starts, the change token's notification, errors, the schema's version). So the two backends
cannot drift: a new query in run_store.py runs on both, and the same test suite checks both.

How the guarantees are kept on PostgreSQL:

- One writer at a time, as on SQLite: a write transaction takes a transaction-level advisory lock
  (`pg_advisory_xact_lock`) before its first statement, the twin of SQLite's `BEGIN IMMEDIATE`;
  it waits up to `busy_timeout` (`lock_timeout`). Readers never wait: a read is one
  `REPEATABLE READ READ ONLY` snapshot.
- The run version's compare-and-swap and the call claim are conditional UPDATEs whose row counts
  are checked in that transaction (run_store.py); PostgreSQL's row locks would keep them exact even
  without the advisory lock (a second UPDATE waits, then re-checks its WHERE).
- First decision wins: `decisions` has UNIQUE (run_id, tool_call_id), and triggers refuse UPDATE,
  DELETE and TRUNCATE of the ledger.
- Wake-ups: every write transaction bumps the `changes` counter and sends
  `NOTIFY hitl_tui_changes` (delivered at commit, only if it commits). `wait_for_change` LISTENs on
  a connection of its own, so a waiting agent or a dashboard wakes at once, without polling.

Secrets: PostgreSQL is a shared server, not an owner-only file; the store writes what the SQLite
store writes (finished calls redacted, a pending call's exact arguments until it finishes). Give
the role its own database and restrict access to it (README "Team setup").
"""

from __future__ import annotations

import re
import sqlite3
import threading
from functools import lru_cache
from typing import Any, Iterable, Sequence, cast

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.pq import TransactionStatus

from .postgres_schema import BASELINE, BASELINE_VERSION, MIGRATIONS, VERSION_TABLE
from .open import mask_password
from .redact import Redactor
from .run_store import RunStore, StoreError
from .schema import SCHEMA_VERSION

#: The channel every write notifies (per database: two stores on two databases never mix).
CHANNEL = "hitl_tui_changes"
#: The advisory lock key of the store's single-writer lock ("hitl" in ASCII).
WRITE_LOCK = 0x6869746C


class _Row(tuple):
    """A row readable by index and by column name, like `sqlite3.Row` (which run_store.py uses)."""

    _names: dict[str, int]

    def __new__(cls, values: Sequence[Any], names: dict[str, int]) -> "_Row":
        row = super().__new__(cls, values)
        row._names = names
        return row

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._names[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


def _row_factory(cursor: Any) -> Any:
    names = {d.name: i for i, d in enumerate(cursor.description or ())}
    return lambda values: _Row(values, names)


_LIKE = re.compile(r"\bLIKE \? ESCAPE")
_MAX2 = re.compile(r"\bmax\((\w+\.\w+), (\w+\.\w+)\)")
_REPLACE = re.compile(r"INSERT OR REPLACE INTO (\w+) \(([^)]*)\) VALUES \(([^)]*)\)")
#: Primary keys of the tables written with `INSERT OR REPLACE` (the ON CONFLICT target).
_KEYS = {"decision_payloads": ("run_id", "tool_call_id"), "run_messages": ("run_id", "position")}


@lru_cache(maxsize=512)
def translate(sql: str) -> str:
    """One statement of run_store.py (SQLite dialect) in PostgreSQL's dialect."""

    def replace(m: re.Match[str]) -> str:
        table, cols = m.group(1), [c.strip() for c in m.group(2).split(",")]
        keys = _KEYS[table]
        sets = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in keys)
        return f"INSERT INTO {table} ({m.group(2)}) VALUES ({m.group(3)}) ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sets}"

    sql = _REPLACE.sub(replace, sql)
    sql = _MAX2.sub(r"greatest(\1, \2)", sql)
    sql = _LIKE.sub("ILIKE ? ESCAPE", sql)  # SQLite's LIKE ignores ASCII case
    sql = sql.replace("LIMIT ? OFFSET ?", "LIMIT nullif(?, -1) OFFSET ?")  # -1: no limit on SQLite
    return sql.replace("%", "%%").replace("?", "%s")


def _param(value: Any) -> Any:
    # PostgreSQL's text cannot hold NUL (SQLite's can): shown as U+FFFD, never a failed save.
    if isinstance(value, str) and "\x00" in value:
        return value.replace("\x00", "\ufffd")
    return value


class _PgConnection:
    """The subset of `sqlite3.Connection` that RunStore uses, on a psycopg connection."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.raw = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        cur = self.raw.cursor()
        if sql in ("BEGIN", "COMMIT", "ROLLBACK") or sql.startswith("BEGIN "):
            cur.execute(sql)
        else:
            cur.execute(translate(sql), [_param(p) for p in params])
        return cur

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> psycopg.Cursor[Any]:
        cur = self.raw.cursor()
        cur.executemany(translate(sql), [[_param(p) for p in row] for row in rows])
        return cur

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != TransactionStatus.IDLE

    def close(self) -> None:
        self.raw.close()


class PostgresRunStore(RunStore):
    """`RunStore` on a PostgreSQL database (see the module docstring). `open_store(url)` makes one."""

    _db_errors = (psycopg.Error,)
    notifies = True

    def __init__(
        self,
        url: str,
        *,
        busy_timeout: float = 5.0,
        recover: bool = True,
        secrets: Iterable[str] = (),
    ) -> None:
        self.url = url
        self.path = mask_password(url)
        self.busy_timeout = float(busy_timeout)
        self.journal_mode = "postgresql"
        self._redactor = Redactor(secrets)
        self._lock = threading.RLock()
        self._depth = 0
        self._written = {}
        self._args_memo = {}
        self.recovery_problems = []
        self.recovered = []
        self._listener: psycopg.Connection[Any] | None = None
        self._listen_lock = threading.Lock()
        try:
            raw = self._connect()
            self._pg: _PgConnection | None = _PgConnection(raw)
            self._migrate(raw)
        except psycopg.Error as exc:
            raise StoreError(f"cannot open the history database {self._explain(exc)}") from exc
        self._conn = cast(sqlite3.Connection, self._pg)
        if recover:
            try:
                self.recovered = self.recover()
            except StoreError as exc:
                self.recovery_problems.append(str(exc))

    def _connect(self) -> psycopg.Connection[Any]:
        ms = int(self.busy_timeout * 1000)
        given = conninfo_to_dict(self.url).get("options") or ""  # keep the URL's own options (search_path...)
        return psycopg.connect(
            self.url,
            autocommit=True,  # transactions are explicit (BEGIN ... COMMIT), as on SQLite
            row_factory=_row_factory,
            connect_timeout=max(1, int(self.busy_timeout)),
            application_name="hitl-tui",
            options=f"{given} -c lock_timeout={ms}".strip(),
        )

    def __repr__(self) -> str:
        return f"PostgresRunStore({self.path!r})"

    def close(self) -> None:
        with self._listen_lock:
            if self._listener is not None:
                self._listener.close()
                self._listener = None
        with self._lock:
            if self._pg is not None:
                self._pg.close()
                self._pg = None
                self._conn = None

    # ------------------------------------------------------------------ dialect hooks

    # Statements without parameters go together in one round trip (the simple query protocol).

    def _begin_write(self, conn: sqlite3.Connection) -> None:
        cast(_PgConnection, conn).raw.execute(f"BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})".encode())

    def _begin_read(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def _bump_changes(self, conn: sqlite3.Connection) -> None:
        # NOTIFY is delivered when (and only if) the transaction commits.
        cast(_PgConnection, conn).raw.execute(
            f"UPDATE changes SET counter = counter + 1 WHERE id = 1; NOTIFY {CHANNEL}".encode()
        )

    def _scrub(self) -> None:
        """Nothing to truncate: PostgreSQL's dead row versions go with VACUUM (autovacuum)."""

    def _explain(self, exc: BaseException) -> str:
        text = str(exc).strip()
        low = text.lower()
        if isinstance(exc, psycopg.errors.LockNotAvailable) or "lock timeout" in low:
            why = f"the database is locked: another writer kept it busy for more than {self.busy_timeout:g} s"
        elif isinstance(exc, psycopg.OperationalError) and ("connect" in low or "connection" in low):
            why = f"cannot connect to the PostgreSQL server ({text.splitlines()[0] if text else 'no answer'})"
        elif "closed" in low:
            why = "the store was closed"
        else:
            why = text
        return f"{self.path}: {why}" + ("" if why == text else f" ({text})")

    @property
    def schema_version(self) -> int:
        with self._lock:
            conn = self._connection()
            return self._version(cast(_PgConnection, conn))

    # ------------------------------------------------------------------ schema

    @staticmethod
    def _version(conn: _PgConnection) -> int:
        row = conn.execute("SELECT to_regclass('hitl_tui_schema')").fetchone()
        if row is None or row[0] is None:
            return 0
        found = conn.execute("SELECT version FROM hitl_tui_schema WHERE id = 1").fetchone()
        return int(found[0]) if found else 0

    def _migrate(self, raw: psycopg.Connection[Any]) -> list[int]:
        """Bring the database to SCHEMA_VERSION, one locked transaction per step (see postgres_schema)."""
        conn = _PgConnection(raw)
        applied: list[int] = []
        while True:
            current = self._version(conn)
            if current > SCHEMA_VERSION:
                raise StoreError(
                    f"cannot use the history database {self.path}: it was written by a newer hitl-tui (schema "
                    f"version {current}; this version knows up to {SCHEMA_VERSION}). Upgrade hitl-tui."
                )
            if current >= SCHEMA_VERSION:
                return applied
            with raw.transaction():
                raw.execute(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")
                raw.execute(VERSION_TABLE)
                current = self._version(conn)  # re-read under the lock: another opener may have done it
                if current >= SCHEMA_VERSION:
                    continue
                steps = BASELINE if current == 0 else MIGRATIONS[current]
                for statement in steps:
                    raw.execute(statement.encode())  # bytes: no placeholders ('%' in plpgsql)
                new = BASELINE_VERSION if current == 0 else current + 1
                raw.execute(
                    "INSERT INTO hitl_tui_schema (id, version) VALUES (1, %s)"
                    " ON CONFLICT (id) DO UPDATE SET version = excluded.version",
                    (new,),
                )
            applied.append(new)

    # ------------------------------------------------------------------ wake-ups

    def wait_for_change(self, token: int, timeout: float) -> int:
        """Block up to `timeout` s until the change token differs from `token` (LISTEN/NOTIFY)."""
        with self._listen_lock:
            try:
                if self._listener is None or self._listener.closed:
                    self._listener = psycopg.connect(self.url, autocommit=True)
                    self._listener.execute(f"LISTEN {CHANNEL}")
                listener = self._listener
                # Listening before reading the token: a write committed in between is not missed.
                current = self.change_token()
                if current != token or timeout <= 0:
                    return current
                for _ in listener.notifies(timeout=timeout, stop_after=1):
                    break
            except psycopg.Error:
                if self._listener is not None:
                    self._listener.close()
                self._listener = None
                return super().wait_for_change(token, timeout)  # polling still works
        return self.change_token()
