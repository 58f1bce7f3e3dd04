"""RunStore: every run, tool call and decision, in one SQLite file.

Durability choices (see tui/store/schema.py for the tables):

- WAL journal: readers (the history screen, the CLI) never block the agent that is writing, and
  two processes can write the same file; each write takes the lock up front (`BEGIN IMMEDIATE`)
  and waits up to `busy_timeout` for it instead of failing with "database is locked".
- `synchronous=FULL`: every commit is on disk before `save_run` returns, so a decision survives a
  power cut or a kernel panic, not only a killed process (NORMAL would be enough for the latter,
  but may drop the last commits on power loss). It costs one fsync per save; a run saves a
  handful of times per model turn, which is noise next to a model call. Pass
  `synchronous="NORMAL"` for bulk imports.
- Each `save_run` / `record_decision` is one transaction: the run row, its JSON state, its tool
  rows and (for a decision) the ledger row change together or not at all.
- The ledger is append-only (triggers) and unique per call: a continue retried after a crash
  re-records the same decision, and `INSERT OR IGNORE` keeps the first one.
- Secrets are redacted before anything is written (tui/store/redact.py).
- A run left `running` by a process that died is recovered when a store is opened (`recover`).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from pydantic import ValidationError

from ..agent.run import RunOutput, RunStatus, ToolExecution, utcnow
from .owner import Owner, current_owner, is_alive
from ..paths import create_private_file
from .redact import Redactor
from .schema import SCHEMA_VERSION, SchemaTooNew, migrate, user_version
from .summaries import LedgerEntry, RunSummary, SessionSummary

INTERRUPTED = "Interrupted: the process stopped mid-run; continue the run to retry."

_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")
_STATUSES = tuple(s.value for s in RunStatus)
_SUMMARY_COLUMNS = (
    "r.run_id, r.session_id, r.created_at, r.updated_at, r.input, r.model, r.status, "
    "r.tool_count, r.rejection_count, r.pending_count, r.error"
)
_RESULT_PREVIEW = 500


class StoreError(Exception):
    """The history database cannot do what was asked. The message names the file and the cause."""


class RunNotFound(StoreError, LookupError):
    """No run (or session) with that id in this database."""


def _ts(dt: datetime | None) -> str | None:
    """Fixed-width ISO 8601 in UTC, so that text order is time order."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class RunStore:
    """The agent's store (`Agent(store=RunStore(path))`) and the history the UI and CLI query."""

    def __init__(
        self,
        path: str | Path,
        *,
        busy_timeout: float = 5.0,
        synchronous: str = "FULL",
        recover: bool = True,
        secrets: Iterable[str] = (),
    ) -> None:
        self.path = Path(path).expanduser()
        self.busy_timeout = float(busy_timeout)
        synchronous = synchronous.upper()
        if synchronous not in _SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {', '.join(_SYNCHRONOUS)}, not {synchronous!r}")
        self._redactor = Redactor(secrets)
        self._lock = threading.RLock()
        self._depth = 0
        self._conn: sqlite3.Connection | None = None
        #: Runs that `recover()` could not read (their state is not valid JSON any more).
        self.recovery_problems: list[str] = []
        #: Runs found orphaned (their process died) and settled when this store was opened.
        self.recovered: list[str] = []
        try:
            create_private_file(self.path)  # 0600 in 0700 folders: its -wal and -shm inherit the mode
        except OSError as exc:
            raise StoreError(
                f"cannot create the folder for the history database {self.path}: {exc.strerror or exc}"
            ) from exc
        conn = None
        try:
            conn = sqlite3.connect(
                str(self.path), timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
            )
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            self.journal_mode = str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]).lower()
            conn.execute(f"PRAGMA synchronous = {synchronous}")
            conn.execute("PRAGMA foreign_keys = ON")
            migrate(conn)
        except SchemaTooNew as exc:
            if conn is not None:
                conn.close()
            raise StoreError(f"cannot use the history database {self.path}: {exc}") from exc
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
            raise StoreError(f"cannot open the history database {self._explain(exc)}") from exc
        self._conn = conn
        if recover:
            try:
                self.recovered = self.recover()
            except StoreError as exc:  # e.g. another writer holds the lock: retry later, still open
                self.recovery_problems.append(str(exc))

    # ------------------------------------------------------------------ plumbing

    def __repr__(self) -> str:
        return f"RunStore({str(self.path)!r})"

    def __enter__(self) -> "RunStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @property
    def schema_version(self) -> int:
        with self._lock:
            return user_version(self._connection())

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"{self.path}: the store was closed")
        return self._conn

    def _explain(self, exc: BaseException) -> str:
        text = str(exc)
        low = text.lower()
        if "locked" in low or "busy" in low:
            why = f"the database is locked: another process kept it busy for more than {self.busy_timeout:g} s"
        elif "not a database" in low:
            why = "the file is not a SQLite database (is it really hitl-tui's history?)"
        elif "readonly" in low or "read-only" in low:
            why = "the database is read-only (check the permissions of the file and its folder)"
        elif "unable to open" in low:
            why = "the file cannot be opened (check that its folder exists and is writable)"
        elif "disk is full" in low:
            why = "the disk is full"
        elif "closed database" in low:
            why = "the store was closed"
        else:
            why = text
        return f"{self.path}: {why}" + ("" if why == text else f" ({text})")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (nested calls join the outer one, see `batch`)."""
        with self._lock:
            conn = self._connection()
            if self._depth:
                self._depth += 1
                try:
                    yield conn
                except sqlite3.Error as exc:
                    raise StoreError(self._explain(exc)) from exc
                finally:
                    self._depth -= 1
                return
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(self._explain(exc)) from exc
            self._depth = 1
            try:
                yield conn
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback(conn)
                raise StoreError(self._explain(exc)) from exc
            except BaseException:
                self._rollback(conn)
                raise
            finally:
                self._depth = 0

    @staticmethod
    def _rollback(conn: sqlite3.Connection) -> None:
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._connection().execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(self._explain(exc)) from exc

    @contextmanager
    def batch(self) -> Iterator["RunStore"]:
        """Group several saves into one transaction (imports, seeding): all or nothing."""
        with self._write():
            yield self

    # ------------------------------------------------------------------ RunStoreProtocol

    def save_run(self, run: RunOutput) -> None:
        """Write the run's full state, its summary row and its tool rows, in one transaction."""
        state = self._redact(run)
        with self._write() as conn:
            self._write_run(conn, run, state)

    def load_run(self, run_id: str) -> RunOutput | None:
        rows = self._query("SELECT state FROM run_states WHERE run_id = ?", (run_id,))
        return self._parse(run_id, rows[0]["state"]) if rows else None

    def record_decision(self, run: RunOutput, tool: ToolExecution, decision: str) -> None:
        """Append the decision to the ledger, together with the run state that carries it.

        Writing both in one transaction keeps them consistent: after a crash the saved run shows
        the decision the ledger holds, so nobody is asked to decide the same call twice. A
        decision already in the ledger for this call is kept (a retried continue re-records it).
        """
        state = self._redact(run)
        r = self._redactor
        with self._write() as conn:
            self._write_run(conn, run, state)
            conn.execute(
                "INSERT OR IGNORE INTO decisions (run_id, tool_call_id, tool_name, decision, note, decided_by,"
                " decided_at, proposed_args, decision_args, executed_args, recorded_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run.run_id,
                    tool.tool_call_id,
                    tool.tool_name,
                    decision,
                    r.text(tool.confirmation_note) if tool.confirmation_note else None,
                    tool.decided_by,
                    _ts(tool.decided_at or utcnow()),
                    _json(r.args(tool.proposed_args if tool.proposed_args is not None else tool.tool_args)),
                    _json(r.args(tool.decision_args)),
                    _json(r.args(tool.executed_args)),
                    _ts(utcnow()),
                ),
            )

    def session_runs(self, session_id: str) -> list[RunOutput]:
        """Every run of the session, oldest first (the agent's conversation context)."""
        rows = self._query(
            "SELECT r.run_id, s.state FROM runs r JOIN run_states s ON s.run_id = r.run_id"
            " WHERE r.session_id = ? ORDER BY r.created_at, r.rowid",
            (session_id,),
        )
        return [self._parse(row["run_id"], row["state"]) for row in rows]

    # ------------------------------------------------------------------ writing

    def _redact(self, run: RunOutput) -> dict[str, Any]:
        return self._redactor.run_state(run.model_dump(mode="json"))

    def _parse(self, run_id: str, state: str) -> RunOutput:
        try:
            return RunOutput.model_validate_json(state)
        except ValidationError as exc:
            raise StoreError(f"{self.path}: the saved state of run {run_id} cannot be read: {exc}") from exc

    def _write_run(self, conn: sqlite3.Connection, run: RunOutput, state: dict[str, Any]) -> None:
        owner = current_owner()
        tools = state.get("tools") or []
        created, updated = _ts(run.created_at), _ts(run.updated_at)
        conn.execute(
            "INSERT INTO sessions (session_id, title, agent_name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT(session_id) DO UPDATE SET"
            " updated_at = max(sessions.updated_at, excluded.updated_at),"
            " title = coalesce(sessions.title, excluded.title),"
            " agent_name = coalesce(sessions.agent_name, excluded.agent_name)",
            (run.session_id, state.get("input"), run.agent_name, created, updated),
        )
        conn.execute(
            "INSERT INTO runs (run_id, session_id, agent_name, model, status, input, error, turns, tool_count,"
            " rejection_count, pending_count, created_at, updated_at, owner_pid, owner_host, owner_boot,"
            " owner_started) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(run_id) DO UPDATE SET session_id = excluded.session_id,"
            " agent_name = excluded.agent_name, model = excluded.model, status = excluded.status,"
            " input = excluded.input, error = excluded.error, turns = excluded.turns,"
            " tool_count = excluded.tool_count, rejection_count = excluded.rejection_count,"
            " pending_count = excluded.pending_count, updated_at = excluded.updated_at,"
            " owner_pid = excluded.owner_pid, owner_host = excluded.owner_host,"
            " owner_boot = excluded.owner_boot, owner_started = excluded.owner_started",
            (
                run.run_id,
                run.session_id,
                run.agent_name,
                run.model,
                run.status.value,
                state.get("input"),
                state.get("error"),
                run.turns,
                len(tools),
                sum(1 for t in tools if t.get("status") == "rejected"),
                len(run.pending_tools),
                created,
                updated,
                owner.pid,
                owner.host,
                owner.boot,
                owner.started,
            ),
        )
        conn.execute(
            "INSERT INTO run_states (run_id, state) VALUES (?, ?)"
            " ON CONFLICT(run_id) DO UPDATE SET state = excluded.state",
            (run.run_id, json.dumps(state, ensure_ascii=False, separators=(",", ":"))),
        )
        existing = {row[0] for row in conn.execute("SELECT tool_call_id FROM tool_executions WHERE run_id = ?", (run.run_id,))}
        current = {t["tool_call_id"] for t in tools}
        for stale in existing - current:
            conn.execute("DELETE FROM tool_executions WHERE run_id = ? AND tool_call_id = ?", (run.run_id, stale))
        if tools:
            conn.executemany(
                "INSERT OR REPLACE INTO tool_executions (run_id, tool_call_id, position, turn, tool_name, kind,"
                " status, args, proposed_args, executed_args, confirmed, note, decided_by, decided_at,"
                " result_preview, error, created_at, started_at, finished_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [self._tool_row(run, i, t, model) for i, (t, model) in enumerate(zip(tools, run.tools))],
            )

    @staticmethod
    def _tool_row(run: RunOutput, position: int, t: dict[str, Any], model: ToolExecution) -> tuple[Any, ...]:
        result = t.get("result")
        return (
            run.run_id,
            t["tool_call_id"],
            position,
            t.get("turn") or 0,
            t["tool_name"],
            model.kind,
            t.get("status") or "pending",
            _json(t.get("tool_args") or {}),
            _json(t.get("proposed_args")),
            _json(t.get("executed_args")),
            None if t.get("confirmed") is None else int(bool(t["confirmed"])),
            t.get("confirmation_note"),
            t.get("decided_by"),
            _ts(model.decided_at),
            result[:_RESULT_PREVIEW] if isinstance(result, str) else None,
            t.get("error"),
            _ts(model.created_at),
            _ts(model.started_at),
            _ts(model.finished_at),
        )

    # ------------------------------------------------------------------ crash recovery

    def recover(self) -> list[str]:
        """Settle runs left `running` by a process that has died. Returns their ids.

        A run with an open turn or calls waiting for a person becomes `paused` (continue it to go
        on; a call that was running when the process died is reported to the model as
        interrupted). Any other becomes `error` with a message saying that continuing retries it.
        Runs whose process is alive, or runs on another host, are left alone. Cheap: it only looks
        at rows whose status is `running`.
        """
        rows = self._query(
            "SELECT run_id, owner_pid, owner_host, owner_boot, owner_started FROM runs WHERE status = 'running'"
        )
        recovered: list[str] = []
        for row in rows:
            if not self._owner_gone(row):
                continue
            with self._write() as conn:
                fresh = conn.execute(
                    "SELECT r.status, r.owner_pid, r.owner_started, s.state FROM runs r"
                    " JOIN run_states s ON s.run_id = r.run_id WHERE r.run_id = ?",
                    (row["run_id"],),
                ).fetchone()
                if (
                    fresh is None
                    or fresh["status"] != RunStatus.running.value
                    or fresh["owner_pid"] != row["owner_pid"]
                    or fresh["owner_started"] != row["owner_started"]
                ):
                    continue  # another process took it over meanwhile
                try:
                    run = RunOutput.model_validate_json(fresh["state"])
                except ValidationError as exc:
                    self.recovery_problems.append(f"run {row['run_id']}: {exc}")
                    continue
                if run.open_turn is not None or run.pending_tools:
                    run.status = RunStatus.paused
                    run.error = None
                else:
                    run.status = RunStatus.error
                    run.error = INTERRUPTED
                self._write_run(conn, run, self._redact(run))
            recovered.append(row["run_id"])
        return recovered

    @staticmethod
    def _owner_gone(row: sqlite3.Row) -> bool:
        if row["owner_pid"] is None:
            return True  # written before owners were recorded: no process of this version owns it
        owner = Owner(
            host=row["owner_host"] or "",
            boot=row["owner_boot"],
            pid=int(row["owner_pid"]),
            started=row["owner_started"],
        )
        return not is_alive(owner)

    # ------------------------------------------------------------------ queries

    def list_runs(
        self,
        status: str | RunStatus | Iterable[str | RunStatus] | None = None,
        tool: str | None = None,
        text: str | None = None,
        session_id: str | None = None,
        limit: int | None = 200,
        offset: int = 0,
    ) -> list[RunSummary]:
        """Runs, most recently updated first.

        `status`: one status or several; `tool`: only runs that called this tool; `text`: every
        word must appear in the prompt, case-insensitively for ASCII (a word starting with `run_`
        or `ses_` also matches run ids by prefix and session ids exactly).
        """
        where, params = self._filters(status, tool, text, session_id)
        rows = self._query(
            f"SELECT {_SUMMARY_COLUMNS} FROM runs r {where}"
            " ORDER BY r.updated_at DESC, r.rowid DESC LIMIT ? OFFSET ?",
            (*params, -1 if limit is None else int(limit), int(offset)),
        )
        return [self._summary(row) for row in rows]

    def count_runs(
        self,
        status: str | RunStatus | Iterable[str | RunStatus] | None = None,
        tool: str | None = None,
        text: str | None = None,
        session_id: str | None = None,
    ) -> int:
        where, params = self._filters(status, tool, text, session_id)
        return int(self._query(f"SELECT count(*) FROM runs r {where}", params)[0][0])

    def iter_runs(
        self,
        status: str | RunStatus | Iterable[str | RunStatus] | None = None,
        tool: str | None = None,
        text: str | None = None,
        session_id: str | None = None,
        *,
        page: int = 200,
    ) -> Iterator[RunOutput]:
        """Every matching run as a full RunOutput, oldest first (rules dry-runs, bulk exports).

        Reads `page` runs at a time (keyset pagination), so memory stays flat however long the
        history is, and the store is free for other work between pages.
        """
        where, params = self._filters(status, tool, text, session_id)
        after = "AND" if where else "WHERE"
        last: tuple[str, int] = ("", -1)
        while True:
            rows = self._query(
                f"SELECT r.run_id, r.created_at, r.rowid AS rid, s.state FROM runs r"
                f" JOIN run_states s ON s.run_id = r.run_id {where} {after} (r.created_at, r.rowid) > (?, ?)"
                " ORDER BY r.created_at, r.rowid LIMIT ?",
                (*params, *last, int(page)),
            )
            for row in rows:
                yield self._parse(row["run_id"], row["state"])
            if len(rows) < page:
                return
            last = (rows[-1]["created_at"], rows[-1]["rid"])

    def get_summary(self, run_id: str) -> RunSummary | None:
        rows = self._query(f"SELECT {_SUMMARY_COLUMNS} FROM runs r WHERE r.run_id = ?", (run_id,))
        return self._summary(rows[0]) if rows else None

    def paused_runs(self, limit: int = 100) -> list[RunOutput]:
        """Paused runs, oldest first, with their pending calls: what can be resumed."""
        rows = self._query(
            "SELECT r.run_id, s.state FROM runs r JOIN run_states s ON s.run_id = r.run_id"
            " WHERE r.status = 'paused' ORDER BY r.updated_at, r.rowid LIMIT ?",
            (int(limit),),
        )
        return [self._parse(row["run_id"], row["state"]) for row in rows]

    def latest_run(self, session_id: str | None = None) -> RunOutput | None:
        """The most recently updated run (of the session, if given)."""
        if session_id is None:
            rows = self._query("SELECT run_id FROM runs ORDER BY updated_at DESC, rowid DESC LIMIT 1")
        else:
            rows = self._query(
                "SELECT run_id FROM runs WHERE session_id = ? ORDER BY updated_at DESC, rowid DESC LIMIT 1",
                (session_id,),
            )
        return self.load_run(rows[0]["run_id"]) if rows else None

    def ledger(self, run_id: str) -> list[LedgerEntry]:
        """The run's decisions in the order they were made."""
        rows = self._query("SELECT * FROM decisions WHERE run_id = ? ORDER BY id", (run_id,))
        return [
            LedgerEntry(
                id=row["id"],
                run_id=row["run_id"],
                tool_call_id=row["tool_call_id"],
                tool_name=row["tool_name"],
                decision=row["decision"],
                note=row["note"],
                decided_by=row["decided_by"],
                decided_at=_dt(row["decided_at"]),
                proposed_args=json.loads(row["proposed_args"]) if row["proposed_args"] else None,
                decision_args=json.loads(row["decision_args"]) if row["decision_args"] else None,
                executed_args=json.loads(row["executed_args"]) if row["executed_args"] else None,
                recorded_at=_dt(row["recorded_at"]),
            )
            for row in rows
        ]

    def list_sessions(self, limit: int | None = 100, offset: int = 0) -> list[SessionSummary]:
        """Sessions, most recently active first."""
        rows = self._query(
            "SELECT s.session_id, s.title, s.created_at, s.updated_at,"
            " (SELECT count(*) FROM runs r WHERE r.session_id = s.session_id) AS run_count,"
            " (SELECT r.status FROM runs r WHERE r.session_id = s.session_id"
            "  ORDER BY r.created_at DESC, r.rowid DESC LIMIT 1) AS last_status"
            " FROM sessions s ORDER BY s.updated_at DESC LIMIT ? OFFSET ?",
            (-1 if limit is None else int(limit), int(offset)),
        )
        return [
            SessionSummary(
                session_id=row["session_id"],
                title=row["title"],
                created_at=_dt(row["created_at"]),
                updated_at=_dt(row["updated_at"]),
                run_count=row["run_count"],
                last_status=row["last_status"],
            )
            for row in rows
        ]

    def has_session(self, session_id: str) -> bool:
        return bool(self._query("SELECT 1 FROM sessions WHERE session_id = ?", (session_id,)))

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _filters(
        status: Any, tool: str | None, text: str | None, session_id: str | None
    ) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if status is not None:
            wanted = [status] if isinstance(status, (str, RunStatus)) else list(status)
            values = []
            for s in wanted:
                value = s.value if isinstance(s, RunStatus) else str(s).lower()
                if value not in _STATUSES:
                    raise ValueError(f"unknown run status {s!r}: use one of {', '.join(_STATUSES)}")
                values.append(value)
            clauses.append(f"r.status IN ({', '.join('?' * len(values))})")
            params.extend(values)
        if tool:
            clauses.append("EXISTS (SELECT 1 FROM tool_executions t WHERE t.run_id = r.run_id AND t.tool_name = ?)")
            params.append(tool)
        for term in (text or "").split():
            if term.startswith(("run_", "ses_")):  # a pasted id (or its start) finds its run(s)
                clauses.append("(r.input LIKE ? ESCAPE '\\' OR r.run_id LIKE ? ESCAPE '\\' OR r.session_id = ?)")
                params.extend([_like(term), _like(term)[1:], term])
            else:
                clauses.append("r.input LIKE ? ESCAPE '\\'")
                params.append(_like(term))
        if session_id:
            clauses.append("r.session_id = ?")
            params.append(session_id)
        return ("WHERE " + " AND ".join(clauses)) if clauses else "", params

    @staticmethod
    def _summary(row: sqlite3.Row) -> RunSummary:
        return RunSummary(  # pydantic parses the ISO timestamps faster than fromisoformat + construct
            run_id=row["run_id"],
            session_id=row["session_id"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            prompt=row["input"],
            model=row["model"],
            status=row["status"],
            tool_count=row["tool_count"],
            rejection_count=row["rejection_count"],
            pending_count=row["pending_count"],
            error=row["error"],
        )


__all__ = ["INTERRUPTED", "SCHEMA_VERSION", "RunNotFound", "RunStore", "StoreError"]
