"""The PostgreSQL store's schema: the same tables as SQLite's schema version 3, and its migrations.

The version lives in a one-row table (`hitl_tui_schema`), the PostgreSQL twin of SQLite's
`PRAGMA user_version`; `SCHEMA_VERSION` is shared with SQLite, so both backends always describe the
same tables. A fresh database gets `BASELINE` (the tables as of version 3) in one transaction; a
later version appends its step to `MIGRATIONS` (keyed by the version it upgrades from), exactly as
for SQLite (tui/store/schema.py): never edit a step that has shipped.

Each step runs in its own transaction holding the store's write lock (an advisory lock), and
re-reads the version inside it: two processes opening a new database migrate it once. PostgreSQL's
DDL is transactional, so a failed step leaves the previous version intact.

Differences from SQLite, each for a reason:

- `runs.rowid` (bigserial): SQLite's implicit rowid, which the queries use as a tie-breaker.
- The append-only ledger is enforced by a trigger function that refuses UPDATE and DELETE of a
  row, plus a statement trigger refusing TRUNCATE (which row triggers do not see).
- Timestamps stay fixed-width ISO 8601 text, as on SQLite: one codec for both backends, and text
  order is time order.
"""

from __future__ import annotations

#: The schema version the baseline creates (SQLite's migrations 1-3 in one step).
BASELINE_VERSION = 3

VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS hitl_tui_schema (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    version  INTEGER NOT NULL
)
"""

BASELINE: list[str] = [
    """CREATE TABLE sessions (
    session_id    TEXT PRIMARY KEY,
    title         TEXT,
    agent_name    TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
)""",
    """CREATE TABLE runs (
    rowid         BIGSERIAL UNIQUE,
    run_id        TEXT PRIMARY KEY,
    session_id    TEXT NOT NULL REFERENCES sessions(session_id),
    agent_name    TEXT,
    model         TEXT,
    status        TEXT NOT NULL,
    input         TEXT,
    error         TEXT,
    turns         INTEGER NOT NULL DEFAULT 0,
    tool_count    INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    owner_pid     INTEGER,
    owner_host    TEXT,
    owner_boot    TEXT,
    owner_started TEXT,
    rejection_count INTEGER NOT NULL DEFAULT 0,
    pending_count INTEGER NOT NULL DEFAULT 0,
    version       INTEGER NOT NULL DEFAULT 1
)""",
    "CREATE INDEX runs_by_updated ON runs(updated_at)",
    "CREATE INDEX runs_by_status ON runs(status, updated_at)",
    "CREATE INDEX runs_by_session ON runs(session_id, created_at)",
    """CREATE TABLE run_states (
    run_id        TEXT PRIMARY KEY REFERENCES runs(run_id) ON DELETE CASCADE,
    state         TEXT NOT NULL
)""",
    """CREATE TABLE tool_executions (
    run_id        TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    tool_call_id  TEXT NOT NULL,
    position      INTEGER NOT NULL,
    turn          INTEGER NOT NULL,
    tool_name     TEXT NOT NULL,
    kind          TEXT NOT NULL,
    status        TEXT NOT NULL,
    args          TEXT NOT NULL,
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
    state         TEXT,
    request_id    BIGINT,
    claim_pid     INTEGER,
    claim_host    TEXT,
    claimed_at    TEXT,
    PRIMARY KEY (run_id, tool_call_id)
)""",
    "CREATE INDEX tools_by_name ON tool_executions(tool_name, run_id)",
    "CREATE UNIQUE INDEX tools_by_request ON tool_executions(request_id)",
    "CREATE INDEX tools_pending ON tool_executions(status, run_id)",
    """CREATE TABLE run_messages (
    run_id        TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    message       TEXT NOT NULL,
    PRIMARY KEY (run_id, position)
)""",
    """CREATE TABLE decisions (
    id            BIGSERIAL PRIMARY KEY,
    run_id        TEXT NOT NULL REFERENCES runs(run_id),
    tool_call_id  TEXT NOT NULL,
    tool_name     TEXT NOT NULL,
    decision      TEXT NOT NULL,
    note          TEXT,
    decided_by    TEXT,
    decided_at    TEXT NOT NULL,
    proposed_args TEXT,
    executed_args TEXT,
    recorded_at   TEXT NOT NULL,
    decision_args TEXT,
    approver      TEXT,
    args_digest   TEXT,
    payload       TEXT,
    UNIQUE (run_id, tool_call_id)
)""",
    """CREATE FUNCTION hitl_tui_ledger_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'the decision ledger is append-only: a decision cannot be changed';
    END IF;
    RAISE EXCEPTION 'the decision ledger is append-only: a decision cannot be deleted';
END
$$""",
    """CREATE TRIGGER decisions_are_never_changed BEFORE UPDATE OR DELETE ON decisions
    FOR EACH ROW EXECUTE FUNCTION hitl_tui_ledger_is_append_only()""",
    """CREATE TRIGGER decisions_are_never_truncated BEFORE TRUNCATE ON decisions
    FOR EACH STATEMENT EXECUTE FUNCTION hitl_tui_ledger_is_append_only()""",
    """CREATE TABLE decision_payloads (
    run_id        TEXT NOT NULL,
    tool_call_id  TEXT NOT NULL,
    payload       TEXT NOT NULL,
    PRIMARY KEY (run_id, tool_call_id)
)""",
    """CREATE TABLE changes (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    counter       BIGINT NOT NULL
)""",
    "INSERT INTO changes (id, counter) VALUES (1, 0)",
]

#: Step from version N to N + 1, keyed by N (the first one after the baseline is MIGRATIONS[3]).
MIGRATIONS: dict[int, list[str]] = {}
