"""The history database's schema, as an ordered list of migrations keyed by `PRAGMA user_version`.

Rules for whoever adds a migration:

- Never edit a migration that has shipped: append a new one. A database at version N runs exactly
  migrations N+1.. on open, each in its own `BEGIN IMMEDIATE` transaction that also bumps
  `user_version`, so a crash mid-migration leaves the previous version intact, and two processes
  opening an old database at once migrate it once.
- The decision ledger (`decisions`) is append-only. Triggers refuse UPDATE and DELETE; a migration
  may add columns to it but never rewrite its rows.
- Big values live apart from the small `runs` rows that listing and filtering scan, so that adding
  columns to `runs` later never pushes them behind a large JSON blob.
- Since version 3 a run is stored in pieces, so that a write is proportional to what changed:
  `run_states` holds the run's header (prompt, status, answer...) without its messages and calls,
  `run_messages` one row per message (append-only in practice), and `tool_executions.state` one
  row per call with that call's full JSON. `runs.version` is the compare-and-swap counter that
  every holder's save is checked against (see run_store.py "Who owns a run").
"""

from __future__ import annotations

import sqlite3
from typing import Callable, Union

Migration = Union[str, Callable[[sqlite3.Connection], None]]

V1 = """
CREATE TABLE sessions (
    session_id    TEXT PRIMARY KEY,
    title         TEXT,                 -- the first prompt of the session
    agent_name    TEXT,
    created_at    TEXT NOT NULL,        -- ISO 8601 UTC, fixed width: sorts as text
    updated_at    TEXT NOT NULL
);

CREATE TABLE runs (
    run_id        TEXT PRIMARY KEY,
    session_id    TEXT NOT NULL REFERENCES sessions(session_id),
    agent_name    TEXT,
    model         TEXT,
    status        TEXT NOT NULL,        -- running | paused | completed | cancelled | error
    input         TEXT,                 -- the run's prompt
    error         TEXT,
    turns         INTEGER NOT NULL DEFAULT 0,
    tool_count    INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX runs_by_updated ON runs(updated_at);
CREATE INDEX runs_by_status ON runs(status, updated_at);
CREATE INDEX runs_by_session ON runs(session_id, created_at);

-- The full RunOutput as JSON (secrets redacted): what load_run returns and a resume starts from.
CREATE TABLE run_states (
    run_id        TEXT PRIMARY KEY REFERENCES runs(run_id) ON DELETE CASCADE,
    state         TEXT NOT NULL
);

-- One row per tool call, rewritten from the run on every save (a queryable view of the state).
CREATE TABLE tool_executions (
    run_id        TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    tool_call_id  TEXT NOT NULL,
    position      INTEGER NOT NULL,     -- order within the run
    turn          INTEGER NOT NULL,
    tool_name     TEXT NOT NULL,
    kind          TEXT NOT NULL,        -- confirmation | user_input | external | auto
    status        TEXT NOT NULL,        -- pending | running | completed | rejected | error
    args          TEXT NOT NULL,        -- JSON
    proposed_args TEXT,
    executed_args TEXT,
    confirmed     INTEGER,
    note          TEXT,
    decided_by    TEXT,
    decided_at    TEXT,
    result_preview TEXT,
    error         TEXT,
    created_at    TEXT NOT NULL,
    started_at    TEXT,
    finished_at   TEXT,
    PRIMARY KEY (run_id, tool_call_id)
);

-- The decision ledger: append-only, one row per decided call.
CREATE TABLE decisions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id        TEXT NOT NULL REFERENCES runs(run_id),
    tool_call_id  TEXT NOT NULL,
    tool_name     TEXT NOT NULL,
    decision      TEXT NOT NULL,        -- approved | edited | rejected | auto_allowed | ...
    note          TEXT,
    decided_by    TEXT,                 -- user | session-allow | rule:NAME | timeout | ...
    decided_at    TEXT NOT NULL,
    proposed_args TEXT,                 -- JSON: as the model proposed them
    executed_args TEXT,                 -- JSON: as they ran (NULL when not run)
    recorded_at   TEXT NOT NULL,
    UNIQUE (run_id, tool_call_id)
);
CREATE TRIGGER decisions_are_never_updated BEFORE UPDATE ON decisions
BEGIN
    SELECT RAISE(ABORT, 'the decision ledger is append-only: a decision cannot be changed');
END;
CREATE TRIGGER decisions_are_never_deleted BEFORE DELETE ON decisions
BEGIN
    SELECT RAISE(ABORT, 'the decision ledger is append-only: a decision cannot be deleted');
END;
"""

V2 = """
-- Crash recovery: which process on which machine (and boot) last wrote the run.
ALTER TABLE runs ADD COLUMN owner_pid INTEGER;
ALTER TABLE runs ADD COLUMN owner_host TEXT;
ALTER TABLE runs ADD COLUMN owner_boot TEXT;
ALTER TABLE runs ADD COLUMN owner_started TEXT;

-- Counters the history list shows without opening a run's state.
ALTER TABLE runs ADD COLUMN rejection_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN pending_count INTEGER NOT NULL DEFAULT 0;
UPDATE runs SET
    rejection_count = (SELECT count(*) FROM tool_executions t
                       WHERE t.run_id = runs.run_id AND t.status = 'rejected'),
    pending_count = (SELECT count(*) FROM tool_executions t
                     WHERE t.run_id = runs.run_id AND t.status = 'pending' AND t.decided_by IS NULL);

-- The arguments on screen when the decision was made (audit: proposed / decided / executed).
ALTER TABLE decisions ADD COLUMN decision_args TEXT;

-- "Runs that called tool X".
CREATE INDEX tools_by_name ON tool_executions(tool_name, run_id);
"""

V3 = """
-- Compare-and-swap: every save of a run is checked against (and bumps) this counter.
ALTER TABLE runs ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

-- One row per call holds that call's full JSON: exact while the call is unfinished (so an approved
-- call runs exactly what was approved, even after a restart), redacted once it is finished.
ALTER TABLE tool_executions ADD COLUMN state TEXT;
-- A short, store-unique number for the approvals inbox (`hitl-tui approve 12`).
ALTER TABLE tool_executions ADD COLUMN request_id INTEGER;
-- Who claimed the call for execution (set atomically with its move to `running`).
ALTER TABLE tool_executions ADD COLUMN claim_pid INTEGER;
ALTER TABLE tool_executions ADD COLUMN claim_host TEXT;
ALTER TABLE tool_executions ADD COLUMN claimed_at TEXT;
UPDATE tool_executions SET request_id = rowid;
CREATE UNIQUE INDEX tools_by_request ON tool_executions(request_id);
CREATE INDEX tools_pending ON tool_executions(status, run_id);

-- One row per message of a run (messages are only ever appended).
CREATE TABLE run_messages (
    run_id        TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    message       TEXT NOT NULL,        -- JSON, redacted
    PRIMARY KEY (run_id, position)
);

-- Decisions are records: who decided (approver identity) and on which arguments (digest).
ALTER TABLE decisions ADD COLUMN approver TEXT;
ALTER TABLE decisions ADD COLUMN args_digest TEXT;
-- What a decision supplied besides yes/no, redacted (form values, an external result), for display.
ALTER TABLE decisions ADD COLUMN payload TEXT;

-- The exact payload of a decision (edited arguments, form values, external result) until its call
-- has finished; deleted in the transaction that finishes the call. Owner-only, never exported.
CREATE TABLE decision_payloads (
    run_id        TEXT NOT NULL,
    tool_call_id  TEXT NOT NULL,
    payload       TEXT NOT NULL,
    PRIMARY KEY (run_id, tool_call_id)
);

-- A counter bumped by every write, so a waiter polls one tiny row (`RunStore.change_token`).
CREATE TABLE changes (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    counter       INTEGER NOT NULL
);
INSERT INTO changes (id, counter) VALUES (1, 0);
"""


def _v3(conn: sqlite3.Connection) -> None:
    """Add the v3 tables and columns, then split every stored run into header, messages and calls."""
    import json

    for statement in _statements(V3):
        conn.execute(statement)
    rows = conn.execute("SELECT run_id, state FROM run_states").fetchall()
    for run_id, text in rows:
        try:
            state = json.loads(text)
        except (TypeError, ValueError):
            continue  # unreadable: left whole; load_run reports it
        if not isinstance(state, dict):
            continue
        messages = state.pop("messages", None) or []
        tools = state.pop("tools", None) or []
        conn.execute(
            "UPDATE run_states SET state = ? WHERE run_id = ?",
            (json.dumps(state, ensure_ascii=False, separators=(",", ":")), run_id),
        )
        conn.executemany(
            "INSERT OR REPLACE INTO run_messages (run_id, position, message) VALUES (?, ?, ?)",
            [(run_id, i, json.dumps(m, ensure_ascii=False, separators=(",", ":"))) for i, m in enumerate(messages)],
        )
        for i, tool in enumerate(tools):
            conn.execute(
                "UPDATE tool_executions SET state = ?, position = ? WHERE run_id = ? AND tool_call_id = ?",
                (json.dumps(tool, ensure_ascii=False, separators=(",", ":")), i, run_id, tool.get("tool_call_id")),
            )


#: Migration i (0-based) takes a database from user_version i to i + 1.
MIGRATIONS: list[Migration] = [V1, V2, _v3]
SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNew(Exception):
    def __init__(self, found: int) -> None:
        super().__init__(
            f"it was written by a newer hitl-tui (schema version {found}; this version knows up to "
            f"{SCHEMA_VERSION}). Upgrade hitl-tui, or point HITL_TUI_DB at another file."
        )
        self.found = found


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> list[int]:
    """Bring the database up to `target`; returns the versions applied (oldest first).

    `conn` must be in autocommit mode (isolation_level=None): each step opens its own write
    transaction and re-reads the version inside it, so concurrent openers never apply a step twice.
    """
    applied: list[int] = []
    current = user_version(conn)
    if current > SCHEMA_VERSION:
        raise SchemaTooNew(current)
    if current >= target:
        return applied  # up to date: no write lock needed, so opening never waits for a writer
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = user_version(conn)
            if current > SCHEMA_VERSION:
                raise SchemaTooNew(current)
            if current >= target:
                conn.execute("COMMIT")
                return applied
            step = MIGRATIONS[current]
            if callable(step):
                step(conn)
            else:
                for statement in _statements(step):
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {current + 1}")
            conn.execute("COMMIT")
            applied.append(current + 1)
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (executescript would COMMIT our transaction)."""
    out: list[str] = []
    buf = ""
    for line in script.splitlines(keepends=True):
        if not buf and (not line.strip() or line.lstrip().startswith("--")):
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        raise ValueError(f"incomplete SQL statement in migration: {buf.strip()[:80]!r}")
    return out
