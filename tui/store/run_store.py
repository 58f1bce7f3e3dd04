"""RunStore: every run, tool call and decision, in one SQLite file; the authority over run state.

`PostgresRunStore` (postgres.py) is this class on PostgreSQL: it runs these same statements
(translated as they execute) and overrides only the hooks marked "where SQLite and PostgreSQL
differ" below, so both backends keep the same semantics and pass the same tests.

Durability choices (see tui/store/schema.py for the tables):

- WAL journal: readers (the history screen, the CLI) never block the agent that is writing, and
  two processes can write the same file; each write takes the lock up front (`BEGIN IMMEDIATE`)
  and waits up to `busy_timeout` for it instead of failing with "database is locked".
- `synchronous=FULL`: every commit is on disk before `save_run` returns, so a decision survives a
  power cut or a kernel panic, not only a killed process. It costs one fsync per transaction.
  Pass `synchronous="NORMAL"` for bulk imports.
- A run is stored in pieces (header, one row per message, one row per call), and a save writes
  only the pieces that changed since this store last wrote or read the same version: deciding or
  finishing one call writes that call's row, not the whole run.

Who owns a run (DESIGN.md "Who owns a run"):

- Every save is a compare-and-swap on `runs.version`, in the transaction that writes: a copy of a
  run (`RunOutput`) carries the version it was read or saved at (`run.store_version`), and a save
  from a copy that is not the stored version is refused with `StaleRun`, which says what the store
  holds and how to reload. A stale holder never overwrites newer state.
- A call is claimed for execution (`save_run(run, claim=[call ids])`) by a conditional
  `UPDATE ... WHERE status = 'pending'` whose row count is checked, in the same transaction as
  its move to `running`, before the tool has any effect. A claim that loses raises `CallClaimed`
  naming the holder. A claim whose process died is settled by `recover` (the run pauses; the
  runtime reports the call as interrupted, "may or may not have taken effect"; never re-run).
- Decisions are records (`decisions`, append-only, one per call): the first wins. `decide` (the
  approvals inbox API) refuses a second one with `AlreadyDecided` ("already decided (approved)
  by WHO at WHEN") and a decision on arguments whose digest changed with `ArgsChanged`. Records
  are applied to a run's pending calls when it is read (`load_run`, `apply_decisions`), so a
  decision made in another process reaches the holder without rewriting the run.

Secrets (README "Secrets and resumed calls"):

- Views are redacted, the runtime is exact. Finished calls, messages, the prompt, the answer and
  the ledger are redacted before they are written (tui/store/redact.py). The arguments of a call
  that has not finished yet are kept exactly in this owner-only file, so that an approved call
  runs exactly what was approved, even after a restart; the transaction that finishes the call
  rewrites its row redacted, deletes its exact decision payload, and the store then truncates the
  WAL (`secure_delete` is on, so freed pages are zeroed): the secret does not outlive the call.
- Exception kept from earlier versions: a secret-named user-input field typed in this process is
  not written while its call waits; after a restart the form asks for it again. A value sent from
  another process (`decide(..., values=...)`) has to travel through the file and is kept exactly
  until the call finishes.
- `load_run(run_id)` returns a copy redacted for display (history, exports); the runtime reads
  `load_run(run_id, exact=True)`. A display copy whose redaction changed a pending call cannot be
  saved back.
- A run left `running` by a process that died is recovered when a store is opened (`recover`).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Literal, Sequence

from pydantic import ValidationError

from ..agent.conflicts import DecisionConflict, RunConflict, RunHolder
from ..agent.decisions import args_digest, decision_name, default_approver
from ..agent.run import RunOutput, RunStatus, ToolExecution, utcnow
from .owner import Owner, current_owner, is_alive
from ..private_files import create_private_file
from .redact import Redactor
from .schema import SCHEMA_VERSION, SchemaTooNew, migrate, user_version
from .summaries import DecisionRecord, LedgerEntry, PendingRequest, RunSummary, SessionSummary

INTERRUPTED = "Interrupted: the process stopped mid-run; continue the run to retry."

_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")
_STATUSES = tuple(s.value for s in RunStatus)
_SUMMARY_COLUMNS = (
    "r.run_id, r.session_id, r.created_at, r.updated_at, r.input, r.model, r.status, "
    "r.tool_count, r.rejection_count, r.pending_count, r.error"
)
_RESULT_PREVIEW = 500
_FINISHED = ("completed", "rejected", "error")
_HEADER_EXCLUDE = {"tools", "messages"}
#: What `decide` accepts, and which kinds of call each applies to.
_ACTIONS: dict[str, tuple[str, ...]] = {
    "approve": ("confirmation",),
    "edit": ("confirmation",),
    "reject": ("confirmation", "user_input", "external"),
    "input": ("user_input",),
    "result": ("external",),
}


class StoreError(Exception):
    """The history database cannot do what was asked. The message names the file and the cause."""


class RunNotFound(StoreError, LookupError):
    """No run (or session) with that id in this database."""


class StaleRun(StoreError, RunConflict):
    """A save from a copy older than the stored run: nothing was written; reload the run."""


class CallClaimed(StoreError, RunConflict):
    """The call was already claimed for execution by another holder: it is not run again here."""


class DecisionRefused(StoreError, DecisionConflict):
    """A decision the store will not record (nothing was written)."""


class AlreadyDecided(DecisionRefused):
    """The call already has a decision (the first one wins). `record` is that decision."""

    def __init__(self, message: str, record: DecisionRecord | None = None) -> None:
        super().__init__(message)
        self.record = record


class ArgsChanged(DecisionRefused):
    """The decider saw other arguments than the call now has (their digests differ)."""


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


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@dataclass
class _Written:
    """What this store last wrote (or read) for a run at `version`: the basis of partial writes."""

    version: int
    header: str = ""
    messages: int = 0
    tools: dict[str, str] = field(default_factory=dict)
    #: Calls written finished (never rewritten again, so not even compared).
    done: set[str] = field(default_factory=set)


@dataclass
class _Snapshot:
    """A run turned into rows, outside the lock: only the pieces that changed are filled in."""

    full: bool
    header_raw: str
    header: str | None
    header_red: dict[str, Any]
    message_start: int
    messages: list[str]
    #: (position, tool object, redacted dict, stored JSON, raw JSON, finished)
    tools: list[tuple[int, ToolExecution, dict[str, Any], str, str, bool]]
    scrub: bool = False
    #: Calls this store wrote for the run that the run no longer has (their rows go).
    removed: tuple[str, ...] = ()


class RunStore:
    """The agent's store (`Agent(store=RunStore(path))`), the history the UI and CLI query, and the
    authority over run state (versions, claims, decision records; see the module docstring)."""

    #: The file (SQLite) or the URL without its password (PostgreSQL), for messages.
    path: Path | str

    def __init__(
        self,
        path: str | Path,
        *,
        busy_timeout: float = 5.0,
        synchronous: str = "FULL",
        recover: bool = True,
        secrets: Iterable[str] = (),
    ) -> None:
        if isinstance(path, str) and "://" in path:  # would become a folder named "postgresql:"
            raise StoreError(f"{path.split('@')[-1]}: RunStore opens SQLite files; open a URL with tui.store.open_store")
        self.path = file = Path(path).expanduser()
        self.busy_timeout = float(busy_timeout)
        synchronous = synchronous.upper()
        if synchronous not in _SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {', '.join(_SYNCHRONOUS)}, not {synchronous!r}")
        self._redactor = Redactor(secrets)
        self._lock = threading.RLock()
        self._depth = 0
        self._conn: sqlite3.Connection | None = None
        self._written: dict[str, _Written] = {}
        self._args_memo: dict[str, Any] = {}
        #: Runs that `recover()` could not read (their state is not valid JSON any more).
        self.recovery_problems: list[str] = []
        #: Runs found orphaned (their process died) and settled when this store was opened.
        self.recovered: list[str] = []
        try:
            create_private_file(file)  # 0600 in 0700 folders: its -wal and -shm inherit the mode
        except OSError as exc:
            raise StoreError(
                f"cannot create the folder for the history database {self.path}: {exc.strerror or exc}"
            ) from exc
        import time

        deadline = time.monotonic() + self.busy_timeout
        while True:
            conn = None
            try:
                conn = sqlite3.connect(
                    str(file), timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
                )
                conn.row_factory = sqlite3.Row
                conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
                self.journal_mode = str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]).lower()
                conn.execute(f"PRAGMA synchronous = {synchronous}")
                conn.execute("PRAGMA foreign_keys = ON")
                conn.execute("PRAGMA secure_delete = ON")  # freed pages are zeroed: a redacted secret is gone
                migrate(conn)
                break
            except SchemaTooNew as exc:
                if conn is not None:
                    conn.close()
                raise StoreError(f"cannot use the history database {self.path}: {exc}") from exc
            except self._db_errors as exc:
                if conn is not None:
                    conn.close()
                # Switching a new file to WAL (or a first migration racing another opener) can be
                # refused at once, without SQLite's busy handler: retry until the busy timeout.
                busy = "locked" in str(exc).lower() or "busy" in str(exc).lower()
                if busy and time.monotonic() < deadline:
                    time.sleep(0.02)
                    continue
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

    # The few places where SQLite and PostgreSQL differ (tui/store/postgres.py overrides them);
    # every statement of this class is written once, in SQLite's dialect.

    #: Whether `wait_for_change` is woken by the database (PostgreSQL) rather than by polling.
    notifies = False
    #: What the database driver raises (turned into StoreError with `_explain`).
    _db_errors: tuple[type[Exception], ...] = (sqlite3.Error,)

    def _begin_write(self, conn: sqlite3.Connection) -> None:
        """Start a write transaction holding the store's write lock up front (one writer at a time)."""
        conn.execute("BEGIN IMMEDIATE")

    def _begin_read(self, conn: sqlite3.Connection) -> None:
        """Start a read-only transaction: several SELECTs that see one snapshot."""
        conn.execute("BEGIN")

    def _bump_changes(self, conn: sqlite3.Connection) -> None:
        """Last statement of every write transaction: move the change token."""
        conn.execute("UPDATE changes SET counter = counter + 1 WHERE id = 1")

    def wait_for_change(self, token: int, timeout: float) -> int:
        """Block up to `timeout` s until `change_token()` differs from `token`; return it.

        SQLite has no notifications: this looks at the token every 50 ms. PostgreSQL's store
        wakes at once on a NOTIFY sent by the committing writer (`postgres.py`).
        """
        import time

        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            current = self.change_token()
            left = deadline - time.monotonic()
            if current != token or left <= 0:
                return current
            time.sleep(min(0.05, left))

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (nested calls join the outer one, see `batch`)."""
        with self._lock:
            conn = self._connection()
            if self._depth:
                self._depth += 1
                try:
                    yield conn
                except self._db_errors as exc:
                    raise StoreError(self._explain(exc)) from exc
                finally:
                    self._depth -= 1
                return
            try:
                self._begin_write(conn)
            except self._db_errors as exc:
                raise StoreError(self._explain(exc)) from exc
            self._depth = 1
            try:
                yield conn
                self._bump_changes(conn)
                conn.execute("COMMIT")
            except self._db_errors as exc:
                self._rollback(conn)
                raise StoreError(self._explain(exc)) from exc
            except BaseException:
                self._rollback(conn)
                raise
            finally:
                self._depth = 0

    def _rollback(self, conn: sqlite3.Connection) -> None:
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        except self._db_errors:
            pass

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """Several SELECTs that see one snapshot of the file (joins an open transaction)."""
        with self._lock:
            conn = self._connection()
            if conn.in_transaction:
                yield conn
                return
            try:
                self._begin_read(conn)
            except self._db_errors as exc:
                raise StoreError(self._explain(exc)) from exc
            try:
                yield conn
            except self._db_errors as exc:
                raise StoreError(self._explain(exc)) from exc
            finally:
                self._rollback(conn)

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._connection().execute(sql, params).fetchall()
            except self._db_errors as exc:
                raise StoreError(self._explain(exc)) from exc

    @contextmanager
    def batch(self) -> Iterator["RunStore"]:
        """Group several saves into one transaction (imports, seeding): all or nothing."""
        with self._write():
            yield self

    # ------------------------------------------------------------------ RunStoreProtocol

    def save_run(self, run: RunOutput, *, claim: Sequence[str] = (), calls: bool = True) -> int:
        """Write what changed in the run since this copy's version, as one checked transition.

        Refused with `StaleRun` (nothing written) when the stored run is not at `run.store_version`.
        `claim`: call ids to claim for execution in the same transaction; each must still be
        `pending` in the store, else `CallClaimed` (nothing written). `calls=False`: a transition
        of the run alone (its calls' rows are written by the next save that changes them; their
        decisions live in their records meanwhile). Returns the new version.
        """
        if run._display_copy:
            raise StoreError(
                f"{self.path}: run {run.run_id} was loaded for display (secrets redacted); "
                f"load it with load_run({run.run_id!r}, exact=True) to change it"
            )
        claim = tuple(claim)
        with self._write() as conn:
            snap = self._snapshot(run, claim, calls)
            version = self._check_and_bump(conn, run, snap)
            self._write_pieces(conn, run, snap, claim)
        run._store_version = version
        self._remember(run, snap, version)
        if snap.scrub:
            self._scrub()
        return version

    def load_run(self, run_id: str, *, exact: bool = False, apply_decisions: bool = True) -> RunOutput | None:
        """The stored run with the decisions recorded on its pending calls applied.

        `exact=False` (the default; history, exports, the CLI): pending calls' arguments redacted
        for display, and the copy cannot be saved back. `exact=True` (the runtime): exactly what
        an approved call will run with; its `store_version` is the stored one.
        """
        with self._read() as conn:
            row = conn.execute(
                "SELECT r.version, s.state FROM runs r JOIN run_states s ON s.run_id = r.run_id WHERE r.run_id = ?",
                (run_id,),
            ).fetchone()
            if row is None:
                return None
            messages = [m[0] for m in conn.execute(
                "SELECT message FROM run_messages WHERE run_id = ? ORDER BY position", (run_id,)
            )]
            tools = [t[0] for t in conn.execute(
                "SELECT state FROM tool_executions WHERE run_id = ? AND state IS NOT NULL ORDER BY position", (run_id,)
            )]
            records = self._records(conn, run_id) if apply_decisions else {}
        run = self._assemble(run_id, row["state"], messages, tools)
        run._store_version = int(row["version"])
        if records:
            self._overlay(run, records)
        if not exact:
            self._redact_for_display(run)
        return run

    def run_version(self, run_id: str) -> int | None:
        """The stored version of the run (None: not stored). One small row: cheap to poll."""
        rows = self._query("SELECT version FROM runs WHERE run_id = ?", (run_id,))
        return int(rows[0][0]) if rows else None

    def run_holder(self, run_id: str) -> RunHolder | None:
        """Status, version and holding process of the stored run (None: not stored). One small row."""
        rows = self._query(
            "SELECT status, version, owner_pid, owner_host, owner_boot, owner_started FROM runs WHERE run_id = ?",
            (run_id,),
        )
        if not rows:
            return None
        row = rows[0]
        return RunHolder(
            row["status"], int(row["version"]), self._who(row), not self._owner_gone(row), row["owner_pid"], row["owner_host"]
        )

    def record_decision(self, run: RunOutput, tool: ToolExecution, decision: str) -> bool:
        """Append the tool's decision to the ledger unless the call has one already (first wins).

        Kept for callers of the earlier API (MCP tools, imports): it never raises on a second
        decision, it returns False and keeps the first. A run never stored before is saved first.
        """
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (run.run_id,)).fetchone() is None:
                self.save_run(run)
            existing = self._insert_decision(conn, run, tool, decision)
        return existing is None

    def record_decisions(
        self, run: RunOutput, tools: Sequence[ToolExecution], *, approver: str | None = None, strict: bool = False
    ) -> list[tuple[ToolExecution, DecisionRecord]]:
        """Record the decisions carried by `tools` (one transaction, first wins for each call).

        Used by the runtime for decisions made on an object (Agno style: `tool.confirmed = True`,
        `confirm()`, `field.value = ...`): only calls still pending in the store are recorded.
        Returns the calls whose recorded decision is another one, with that decision (the
        caller's copy is then overruled, see `apply_decisions`); `strict=True` raises
        `AlreadyDecided` for the first of them instead, after recording the others.
        """
        conflicts: list[tuple[ToolExecution, DecisionRecord]] = []
        rows: list[sqlite3.Row] = []
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (run.run_id,)).fetchone() is None:
                self.save_run(run)
            pending = {
                r[0]: r[1] for r in conn.execute(
                    "SELECT tool_call_id, status FROM tool_executions WHERE run_id = ?", (run.run_id,)
                )
            }
            for tool in tools:
                name = decision_name(tool)
                if name is None:
                    continue
                if pending.get(tool.tool_call_id, "pending") != "pending":
                    # Finished or running elsewhere: only a recorded decision can be told apart.
                    existing = self._existing_decision(conn, run.run_id, tool.tool_call_id)
                    if existing is not None and not self._same_decision(existing, tool, name):
                        conflicts.append((tool, self._record(existing)))
                        rows.append(existing)
                    continue
                if tool.approver is None and approver is not None:
                    tool.approver = approver
                existing = self._insert_decision(conn, run, tool, name, keep_secret_fields=False)
                if existing is not None and not self._same_decision(existing, tool, name):
                    conflicts.append((tool, self._record(existing)))
                    rows.append(existing)
        if strict and rows:
            raise self._already(rows[0])
        return conflicts

    def apply_decisions(self, run: RunOutput) -> list[str]:
        """Apply the recorded decisions to the run's pending calls, in memory. Returns their ids.

        This is how a decision made elsewhere (the CLI, another dashboard, `decide`) reaches the
        holder: the holder reads the records when it continues, nothing rewrites its run.
        """
        with self._read() as conn:
            records = self._records(conn, run.run_id)
        return self._overlay(run, records) if records else []

    def session_runs(self, session_id: str) -> list[RunOutput]:
        """Every run of the session, oldest first (the agent's conversation context)."""
        rows = self._query(
            "SELECT run_id FROM runs WHERE session_id = ? ORDER BY created_at, rowid", (session_id,)
        )
        return self._load_many(row["run_id"] for row in rows)

    # ------------------------------------------------------------------ approvals inbox

    def pending_requests(self, run_id: str | None = None) -> list[PendingRequest]:
        """Every call that waits for a person and has no decision yet, oldest first.

        Arguments are redacted for display; `args_digest` is the digest of the exact ones.
        """
        where = "AND t.run_id = ?" if run_id else ""
        rows = self._query(
            "SELECT t.request_id, t.run_id, t.tool_call_id, t.state, t.created_at, r.session_id, r.agent_name,"
            " r.status AS run_status, r.owner_pid, r.owner_host, r.owner_boot, r.owner_started"
            " FROM tool_executions t JOIN runs r ON r.run_id = t.run_id"
            " WHERE t.status = 'pending' AND t.kind != 'auto' AND t.state IS NOT NULL"
            " AND r.status NOT IN ('completed', 'cancelled')"
            " AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.run_id = t.run_id AND d.tool_call_id = t.tool_call_id)"
            f" {where} ORDER BY t.created_at, t.request_id",
            (run_id,) if run_id else (),
        )
        out: list[PendingRequest] = []
        alive: dict[tuple[Any, ...], bool] = {}
        for row in rows:
            try:
                tool = ToolExecution.model_validate_json(row["state"])
            except ValidationError:
                continue
            if not tool.is_awaiting_decision:
                continue
            key = (row["owner_pid"], row["owner_host"], row["owner_boot"], row["owner_started"])
            if key not in alive:
                alive[key] = not self._owner_gone(row)
            deadline = None
            if tool.approval_timeout:
                from datetime import timedelta

                created = tool.created_at if tool.created_at.tzinfo else tool.created_at.replace(tzinfo=timezone.utc)
                deadline = created + timedelta(seconds=tool.approval_timeout)
            out.append(
                PendingRequest(
                    id=str(row["request_id"]),
                    run_id=row["run_id"],
                    session_id=row["session_id"],
                    tool_call_id=tool.tool_call_id,
                    tool_name=tool.tool_name,
                    kind=tool.kind,
                    args=self._redactor.args(tool.tool_args) or {},
                    args_digest=args_digest(self._seen_args(tool)),
                    description=tool.description,
                    user_input_schema=[
                        {
                            "name": f.name,
                            "type": f.type_name,
                            "description": f.description,
                            "choices": f.choices,
                            "suggested": self._redactor.value(f.suggested, f.name),
                        }
                        for f in tool.user_input_schema or []
                    ]
                    if tool.requires_user_input
                    else None,
                    error=tool.error,
                    agent_name=row["agent_name"],
                    run_status=row["run_status"],
                    owner_host=row["owner_host"],
                    owner_pid=row["owner_pid"],
                    owner_alive=alive[key],
                    created_at=tool.created_at,
                    deadline=deadline,
                    on_timeout=tool.on_timeout if tool.approval_timeout else None,
                )
            )
        return out

    def decide(
        self,
        request: str | int | tuple[str, str],
        action: Literal["approve", "edit", "reject", "input", "result"],
        *,
        note: str | None = None,
        args: dict[str, Any] | None = None,
        values: dict[str, Any] | None = None,
        result: Any = None,
        seen_digest: str | None = None,
        by: str = "user",
        approver: str | None = None,
    ) -> DecisionRecord:
        """Record a decision on one pending call: the first decision on a call wins.

        `request`: a `PendingRequest.id`, or `(run_id, tool_call_id)`. Raises `AlreadyDecided`
        (with who and when) if the call has a decision, `ArgsChanged` if `seen_digest` is not the
        digest of the call's arguments, `DecisionRefused` for an action that does not fit the
        call or a call that is no longer pending, `RunNotFound` for an unknown request. The store
        has no tool schemas: the runtime validates edited `args` and form `values` when the run
        continues, and rejects the call (telling the model why) if they do not fit.
        """
        if action not in _ACTIONS:
            raise DecisionRefused(f"unknown action {action!r}: use one of {', '.join(_ACTIONS)}")
        with self._write() as conn:
            row = self._request_row(conn, request)
            tool = ToolExecution.model_validate_json(row["state"])
            existing = self._existing_decision(conn, row["run_id"], tool.tool_call_id)
            if existing is not None:
                raise self._already(existing)
            if row["status"] != "pending":
                raise DecisionRefused(
                    f"{tool.tool_name} call {tool.tool_call_id} of run {row['run_id']} is {row['status']}, "
                    "not waiting for a decision"
                )
            if tool.kind not in _ACTIONS[action]:
                raise DecisionRefused(
                    f"{tool.tool_name} call {tool.tool_call_id} needs {tool.kind.replace('_', ' ')}; "
                    f"{action!r} does not apply to it"
                )
            if seen_digest is not None and seen_digest != args_digest(self._seen_args(tool)):
                raise ArgsChanged(
                    f"the arguments of {tool.tool_name} call {tool.tool_call_id} (run {row['run_id']}) changed "
                    "since they were shown: nothing was recorded; look at the call again and decide on what it is now"
                )
            if action == "edit" and args is None:
                raise DecisionRefused("an edit needs the edited arguments (args=...)")
            if action == "input" and not values:
                raise DecisionRefused("user input needs the field values (values=...)")
            if action == "result" and result is None:
                raise DecisionRefused("an external call needs its result (result=...)")
            seen = dict(self._seen_args(tool))
            tool.approver = approver or default_approver()
            if action in ("approve", "edit"):
                tool.confirm(args=args if action == "edit" else None, by=by)
            elif action == "reject":
                tool.reject(note, by=by)
            elif action == "input":
                for f in tool.user_input_schema or []:
                    if f.name in (values or {}):
                        f.value = (values or {})[f.name]
            else:
                tool.set_result(result, by=by)
            tool.decided_by, tool.decision_args = by, dict(tool.tool_args)
            name = decision_name(tool) or ("rejected" if action == "reject" else "approved")
            if action == "input":
                name = "input_provided"
            self._insert_decision(conn, row, tool, name, seen=seen, keep_secret_fields=True)
            record = self._existing_decision(conn, row["run_id"], tool.tool_call_id)
        assert record is not None
        return self._record(record)

    def change_token(self) -> int:
        """A number that changes whenever anything is written to this file by anyone.

        Cheap enough to poll every ~100 ms (one row of one page): a waiter compares it with the
        last value it saw and only re-reads `pending_requests` / the run when it moved.
        """
        rows = self._query("SELECT counter FROM changes WHERE id = 1")
        return int(rows[0][0]) if rows else 0

    # ------------------------------------------------------------------ writing

    def _snapshot(self, run: RunOutput, claim: Sequence[str], calls: bool = True) -> _Snapshot:
        cache = self._written.get(run.run_id)
        valid = cache is not None and run._store_version is not None and cache.version == run._store_version
        header_dict = run.model_dump(mode="json", exclude=_HEADER_EXCLUDE)
        header_raw = _compact(header_dict)
        header_red = self._redactor.run_state(header_dict)
        header = None if valid and cache is not None and cache.header == header_raw else _compact(header_red)
        start = cache.messages if valid and cache is not None and cache.messages <= len(run.messages) else 0
        messages = [
            _compact(m) for m in self._redactor.run_state(
                {"messages": [m.model_dump(mode="json") for m in run.messages[start:]]}
            )["messages"]
        ]
        tools = []
        scrub = False
        done = cache.done if valid and cache is not None else set()
        for i, t in enumerate(run.tools if calls or not valid else ()):
            if t.tool_call_id in done and t.status in _FINISHED:
                continue  # written finished: a finished call never changes again
            d = t.model_dump(mode="json")
            raw = _compact(d)
            if valid and cache is not None and cache.tools.get(t.tool_call_id) == raw and t.tool_call_id not in claim:
                continue
            finished = d.get("status") in _FINISHED
            red = self._tool_redacted(d)
            if finished:
                stored = _compact(red)
                scrub = scrub or red != d
            else:
                stored = _compact(self._exact(d, red))
            tools.append((i, t, red, stored, raw, finished))
        removed: tuple[str, ...] = ()
        if valid and cache is not None and len(cache.tools) > len(run.tools):
            removed = tuple(set(cache.tools) - {t.tool_call_id for t in run.tools})
        return _Snapshot(
            full=not valid, header_raw=header_raw, header=header, header_red=header_red,
            message_start=start, messages=messages, tools=tools, scrub=scrub, removed=removed,
        )

    def _tool_redacted(self, d: dict[str, Any]) -> dict[str, Any]:
        """A call (`ToolExecution.model_dump(mode="json")`) with every value that may hold a
        secret redacted: the same result as `Redactor.run_state` on the call, but only the fields
        that carry text are walked, and identical arguments are redacted once (saves rewrite a
        call several times; its arguments rarely change)."""
        r = self._redactor
        red = dict(d)
        args = d.get("tool_args") or {}
        key = _compact(args)
        cleaned = self._args_memo.get(key)
        if cleaned is None:
            if len(self._args_memo) > 8192:
                self._args_memo.clear()
            cleaned = self._args_memo[key] = r.args(args) or {}
        red["tool_args"] = cleaned
        for slot in ("proposed_args", "executed_args", "decision_args"):
            value = d.get(slot)
            red[slot] = cleaned if value == args else r.args(value)
        for slot in ("confirmation_note", "error", "result", "description"):
            if isinstance(d.get(slot), str):
                red[slot] = r.text(d[slot])
        if d.get("user_input_schema"):
            red["user_input_schema"] = r.run_state(
                {"tools": [{"status": d.get("status"), "user_input_schema": d["user_input_schema"]}]}
            )["tools"][0]["user_input_schema"]
        return red

    @staticmethod
    def _exact(d: dict[str, Any], red: dict[str, Any]) -> dict[str, Any]:
        """An unfinished call as it is, except secret-named form values typed in this process."""
        fields = d.get("user_input_schema")
        if not fields:
            return d
        out = dict(d)
        kept = []
        for f, r in zip(fields, red.get("user_input_schema") or []):
            f = dict(f)
            for slot in ("value", "suggested"):
                if r.get(slot) is None and f.get(slot) is not None:
                    f[slot] = None  # the redactor's "not yet used: store nothing" rule
            kept.append(f)
        out["user_input_schema"] = kept
        return out

    def _check_and_bump(self, conn: sqlite3.Connection, run: RunOutput, snap: _Snapshot) -> int:
        """The compare-and-swap: the run row is written only if it is at the copy's version."""
        owner = current_owner()
        red = snap.header_red
        pending = len(run.pending_tools)
        tools = run.tools
        values = (
            run.session_id, run.agent_name, run.model, run.status.value, red.get("input"), red.get("error"),
            run.turns, len(tools), sum(1 for t in tools if t.status == "rejected"), pending,
            _ts(run.updated_at), owner.pid, owner.host, owner.boot, owner.started,
        )
        created, updated = _ts(run.created_at), _ts(run.updated_at)
        conn.execute(
            "INSERT INTO sessions (session_id, title, agent_name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT(session_id) DO UPDATE SET"
            " updated_at = max(sessions.updated_at, excluded.updated_at),"
            " title = coalesce(sessions.title, excluded.title),"
            " agent_name = coalesce(sessions.agent_name, excluded.agent_name)",
            (run.session_id, red.get("input"), run.agent_name, created, updated),
        )
        expected = run._store_version
        if expected is not None:
            cur = conn.execute(
                "UPDATE runs SET session_id = ?, agent_name = ?, model = ?, status = ?, input = ?, error = ?,"
                " turns = ?, tool_count = ?, rejection_count = ?, pending_count = ?, updated_at = ?,"
                " owner_pid = ?, owner_host = ?, owner_boot = ?, owner_started = ?, version = version + 1"
                " WHERE run_id = ? AND version = ?",
                (*values, run.run_id, expected),
            )
            if cur.rowcount == 1:
                return expected + 1
        row = conn.execute(
            "SELECT status, version, updated_at, owner_pid, owner_host, owner_boot, owner_started FROM runs WHERE run_id = ?",
            (run.run_id,),
        ).fetchone()
        if row is not None:
            raise self._stale(run, row)
        conn.execute(
            "INSERT INTO runs (session_id, agent_name, model, status, input, error, turns, tool_count,"
            " rejection_count, pending_count, updated_at, owner_pid, owner_host, owner_boot, owner_started,"
            " run_id, created_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
            (*values, run.run_id, created),
        )
        snap.full = True
        return 1

    def _stale(self, run: RunOutput, row: sqlite3.Row) -> StaleRun:
        yours = "was never read from this store" if run._store_version is None else f"is version {run._store_version}"
        return StaleRun(
            f"run {run.run_id} is {row['status']} in the store (version {row['version']}, saved by "
            f"{self._who(row)} at {row['updated_at']}); your copy {yours}: nothing was saved. Reload it with "
            f"agent.get_run({run.run_id!r}, refresh=True) or store.load_run({run.run_id!r}, exact=True)",
            run_id=run.run_id,
            stored_status=row["status"],
            stored_version=int(row["version"]),
            your_version=run._store_version,
            holder=self._who(row),
        )

    def _write_pieces(self, conn: sqlite3.Connection, run: RunOutput, snap: _Snapshot, claim: Sequence[str]) -> None:
        rid = run.run_id
        if snap.full or snap.header is not None:
            conn.execute(
                "INSERT INTO run_states (run_id, state) VALUES (?, ?)"
                " ON CONFLICT(run_id) DO UPDATE SET state = excluded.state",
                (rid, snap.header if snap.header is not None else _compact(snap.header_red)),
            )
        if snap.full:
            conn.execute("DELETE FROM run_messages WHERE run_id = ? AND position >= ?", (rid, len(run.messages)))
        if snap.messages:
            conn.executemany(
                "INSERT INTO run_messages (run_id, position, message) VALUES (?, ?, ?)"
                " ON CONFLICT(run_id, position) DO UPDATE SET message = excluded.message",
                [(rid, snap.message_start + i, m) for i, m in enumerate(snap.messages)],
            )
        if snap.full or snap.removed:
            current = {t.tool_call_id for t in run.tools}
            existing = [r[0] for r in conn.execute("SELECT tool_call_id FROM tool_executions WHERE run_id = ?", (rid,))]
            for stale in set(existing) - current:
                conn.execute("DELETE FROM tool_executions WHERE run_id = ? AND tool_call_id = ?", (rid, stale))
        claimed = set(claim)
        if claimed:
            # The claim: a conditional UPDATE whose row count is checked, in this transaction, that
            # moves the call to `running` and names its holder; a call not `pending` is not claimed.
            owner = current_owner()
            now = _ts(utcnow())
            rows = {t.tool_call_id: (i, t, red, stored) for i, t, red, stored, _, _ in snap.tools}
            for call_id in claim:
                i, t, red, stored = rows[call_id]
                row = self._tool_row(run, i, red, t)
                cur = conn.execute(
                    "UPDATE tool_executions SET position = ?, turn = ?, tool_name = ?, kind = ?, status = 'running',"
                    " args = ?, proposed_args = ?, executed_args = ?, confirmed = ?, note = ?, decided_by = ?,"
                    " decided_at = ?, result_preview = ?, error = ?, started_at = ?, finished_at = ?, state = ?,"
                    " claim_pid = ?, claim_host = ?, claimed_at = ?"
                    " WHERE run_id = ? AND tool_call_id = ? AND status = 'pending'",
                    (*row[2:6], *row[7:16], *row[17:19], stored, owner.pid, owner.host, now, rid, call_id),
                )
                if cur.rowcount != 1:
                    raise self._claimed(conn, rid, call_id)
        rest = [(i, t, red, stored) for i, t, red, stored, _, _ in snap.tools if t.tool_call_id not in claimed]
        if rest:
            conn.executemany(
                "INSERT INTO tool_executions (run_id, tool_call_id, position, turn, tool_name, kind, status, args,"
                " proposed_args, executed_args, confirmed, note, decided_by, decided_at, result_preview, error,"
                " created_at, started_at, finished_at, state, request_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                " (SELECT coalesce(max(request_id), 0) + 1 FROM tool_executions))"
                " ON CONFLICT(run_id, tool_call_id) DO UPDATE SET position = excluded.position,"
                " turn = excluded.turn, tool_name = excluded.tool_name, kind = excluded.kind,"
                " status = excluded.status, args = excluded.args, proposed_args = excluded.proposed_args,"
                " executed_args = excluded.executed_args, confirmed = excluded.confirmed, note = excluded.note,"
                " decided_by = excluded.decided_by, decided_at = excluded.decided_at,"
                " result_preview = excluded.result_preview, error = excluded.error,"
                " started_at = excluded.started_at, finished_at = excluded.finished_at, state = excluded.state",
                [(*self._tool_row(run, i, red, t), stored) for i, t, red, stored in rest],
            )
        if snap.tools:
            done = [(rid, t.tool_call_id) for _, t, _, _, _, finished in snap.tools if finished]
            if done:
                conn.executemany("DELETE FROM decision_payloads WHERE run_id = ? AND tool_call_id = ?", done)

    def _claimed(self, conn: sqlite3.Connection, run_id: str, call_id: str) -> CallClaimed:
        row = conn.execute(
            "SELECT t.tool_name, t.status, t.claim_pid, t.claim_host, t.claimed_at, r.status AS run_status,"
            " r.version FROM tool_executions t JOIN runs r ON r.run_id = t.run_id"
            " WHERE t.run_id = ? AND t.tool_call_id = ?",
            (run_id, call_id),
        ).fetchone()
        if row is None:
            return CallClaimed(f"run {run_id} has no call {call_id} in the store", run_id=run_id)
        holder = f"pid {row['claim_pid']} on host {row['claim_host']}" if row["claim_pid"] else "another holder"
        since = f" since {row['claimed_at']}" if row["claimed_at"] else ""
        return CallClaimed(
            f"{row['tool_name']} call {call_id} of run {run_id} is {row['status']} (claimed by {holder}{since}): "
            "it is not run again here",
            run_id=run_id,
            stored_status=row["run_status"],
            stored_version=int(row["version"]),
            holder=holder,
        )

    def _remember(self, run: RunOutput, snap: _Snapshot, version: int) -> None:
        if run.status in (RunStatus.completed, RunStatus.cancelled):
            self._written.pop(run.run_id, None)  # finished: nobody writes it again
            return
        cache = self._written.get(run.run_id)
        if cache is None or snap.full:
            cache = _Written(version=version)
            self._written[run.run_id] = cache
        cache.version = version
        cache.header = snap.header_raw
        cache.messages = len(run.messages)
        if snap.full:
            cache.tools = {}
            cache.done = set()
        for call_id in snap.removed:
            cache.tools.pop(call_id, None)
            cache.done.discard(call_id)
        for _, t, _, _, raw, finished in snap.tools:
            cache.tools[t.tool_call_id] = raw
            if finished:
                cache.done.add(t.tool_call_id)

    def _scrub(self) -> None:
        """After a secret was rewritten redacted: make SQLite drop the old pages from the WAL."""
        with self._lock:
            try:
                self._connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except self._db_errors:
                pass  # a reader holds the WAL: the next checkpoint overwrites it

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

    # ------------------------------------------------------------------ reading

    def _assemble(self, run_id: str, header: str, messages: list[str], tools: list[str]) -> RunOutput:
        try:
            state = json.loads(header)
            if messages or "messages" not in state:
                state["messages"] = [json.loads(m) for m in messages]
            if tools or "tools" not in state:
                state["tools"] = [json.loads(t) for t in tools]
            return RunOutput.model_validate(state)
        except (ValidationError, ValueError, TypeError) as exc:
            raise StoreError(f"{self.path}: the saved state of run {run_id} cannot be read: {exc}") from exc

    def _load_many(self, run_ids: Iterable[str]) -> list[RunOutput]:
        out = []
        for run_id in run_ids:
            run = self.load_run(run_id)
            if run is not None:
                out.append(run)
        return out

    def _redact_for_display(self, run: RunOutput) -> None:
        lossy = False
        for i, t in enumerate(run.tools):
            if t.status in _FINISHED:
                continue  # stored redacted already
            d = t.model_dump(mode="json")
            red = self._redactor.run_state({"tools": [d]})["tools"][0]
            if red != d:
                run.tools[i] = ToolExecution.model_validate(red)
                lossy = True
        if lossy:
            run._display_copy = True

    # ------------------------------------------------------------------ decision records

    def _records(self, conn: sqlite3.Connection, run_id: str) -> dict[str, tuple[sqlite3.Row, Any]]:
        """Decision records of the run's pending calls, with their exact payloads."""
        rows = conn.execute(
            "SELECT d.*, p.payload AS exact FROM decisions d JOIN tool_executions t"
            " ON t.run_id = d.run_id AND t.tool_call_id = d.tool_call_id AND t.status = 'pending'"
            " LEFT JOIN decision_payloads p ON p.run_id = d.run_id AND p.tool_call_id = d.tool_call_id"
            " WHERE d.run_id = ?",
            (run_id,),
        ).fetchall()
        return {r["tool_call_id"]: (r, json.loads(r["exact"]) if r["exact"] else {}) for r in rows}

    def _overlay(self, run: RunOutput, records: dict[str, tuple[sqlite3.Row, Any]]) -> list[str]:
        changed = []
        for t in run.tools:
            if t.status != "pending" or t.tool_call_id not in records:
                continue
            row, payload = records[t.tool_call_id]
            decision = row["decision"]
            if decision in ("approved", "auto_allowed", "edited"):
                if payload.get("args") is not None:
                    if t.proposed_args is None:
                        t.proposed_args = dict(t.tool_args)
                    t.tool_args = dict(payload["args"])
                t.confirmed = True
                t.error = None
            elif decision in ("rejected", "auto_denied", "timed_out"):
                t.confirmed = False
                t.confirmation_note = row["note"]
            elif decision == "input_provided":
                values = payload.get("values") or {}
                for f in t.user_input_schema or []:
                    if f.name in values and values[f.name] is not None:
                        f.value = values[f.name]
                        f.error = None
            elif decision == "result_provided":
                if "result" in payload:
                    t.result = payload["result"]
            else:
                continue
            t.decided_by = row["decided_by"]
            t.decided_at = _dt(row["decided_at"])
            t.approver = row["approver"]
            t.decision_args = dict(t.tool_args)
            changed.append(t.tool_call_id)
        return changed

    @staticmethod
    def _seen_args(tool: ToolExecution) -> dict[str, Any]:
        """The arguments a decider is shown: as the model proposed them."""
        return tool.proposed_args if tool.proposed_args is not None else tool.tool_args

    def _request_row(self, conn: sqlite3.Connection, request: str | int | tuple[str, str]) -> sqlite3.Row:
        cols = "run_id, tool_call_id, tool_name, status, state, request_id"
        if isinstance(request, tuple):
            row = conn.execute(
                f"SELECT {cols} FROM tool_executions WHERE run_id = ? AND tool_call_id = ?", tuple(request)
            ).fetchone()
        else:
            text = str(request).strip().lstrip("#")
            row = (
                conn.execute(f"SELECT {cols} FROM tool_executions WHERE request_id = ?", (int(text),)).fetchone()
                if text.isdigit()
                else None
            )
        if row is None or row["state"] is None:
            raise RunNotFound(f"no pending request {request!r} in {self.path} (`hitl-tui pending` lists them)")
        return row

    @staticmethod
    def _existing_decision(conn: sqlite3.Connection, run_id: str, call_id: str) -> sqlite3.Row | None:
        return conn.execute(
            "SELECT d.*, t.request_id FROM decisions d LEFT JOIN tool_executions t"
            " ON t.run_id = d.run_id AND t.tool_call_id = d.tool_call_id"
            " WHERE d.run_id = ? AND d.tool_call_id = ?",
            (run_id, call_id),
        ).fetchone()

    @staticmethod
    def _decision_fields(row: sqlite3.Row) -> dict[str, Any]:
        """The columns of a `decisions` row that a DecisionRecord and a LedgerEntry both carry."""
        return {
            "id": row["id"],
            "run_id": row["run_id"],
            "tool_call_id": row["tool_call_id"],
            "tool_name": row["tool_name"],
            "decision": row["decision"],
            "note": row["note"],
            "decided_by": row["decided_by"],
            "approver": row["approver"],
            "decided_at": _dt(row["decided_at"]),
            "args_digest": row["args_digest"],
        }

    @classmethod
    def _record(cls, row: sqlite3.Row) -> DecisionRecord:
        keys = row.keys()
        return DecisionRecord(
            **cls._decision_fields(row),
            request_id=str(row["request_id"]) if "request_id" in keys and row["request_id"] is not None else None,
        )

    def _already(self, row: sqlite3.Row) -> AlreadyDecided:
        who = row["approver"] or row["decided_by"] or "someone"
        how = f" ({row['decided_by']})" if row["approver"] and row["decided_by"] else ""
        return AlreadyDecided(
            f"{row['tool_name']} call {row['tool_call_id']} of run {row['run_id']} is already decided "
            f"({row['decision']}) by {who}{how} at {row['decided_at']}: the first decision stands, nothing was changed",
            self._record(row),
        )

    @staticmethod
    def _same_decision(row: sqlite3.Row, tool: ToolExecution, name: str) -> bool:
        return row["decision"] == name and row["decided_by"] == tool.decided_by and (
            tool.decided_at is None or row["decided_at"] == _ts(tool.decided_at)
        )

    def _insert_decision(
        self,
        conn: sqlite3.Connection,
        run: Any,
        tool: ToolExecution,
        decision: str,
        *,
        seen: dict[str, Any] | None = None,
        keep_secret_fields: bool = True,
    ) -> sqlite3.Row | None:
        """Insert the tool's decision unless the call has one: returns the existing row, or None."""
        run_id = run.run_id if isinstance(run, RunOutput) else run["run_id"]
        existing = self._existing_decision(conn, run_id, tool.tool_call_id)
        if existing is not None:
            return existing
        r = self._redactor
        exact: dict[str, Any] = {}
        shown: dict[str, Any] = {}
        if tool.was_edited:
            exact["args"] = tool.tool_args
        if decision == "input_provided":
            values = {f.name: f.value for f in tool.user_input_schema or []}
            shown["values"] = r.args(values)
            if not keep_secret_fields:  # typed in this process: kept in its memory, not in the file
                values = {k: (None if shown["values"].get(k) != v else v) for k, v in values.items()}
            exact["values"] = values
        if decision == "result_provided" and tool.result is not None:
            exact["result"] = tool.result
            shown["result"] = r.text(tool.result)
        proposed = tool.proposed_args if tool.proposed_args is not None else tool.tool_args
        conn.execute(
            "INSERT INTO decisions (run_id, tool_call_id, tool_name, decision, note, decided_by, decided_at,"
            " proposed_args, decision_args, executed_args, recorded_at, approver, args_digest, payload)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run_id,
                tool.tool_call_id,
                tool.tool_name,
                decision,
                r.text(tool.confirmation_note) if tool.confirmation_note else None,
                tool.decided_by,
                _ts(tool.decided_at or utcnow()),
                _json(r.args(proposed)),
                _json(r.args(tool.decision_args)),
                _json(r.args(tool.executed_args)),
                _ts(utcnow()),
                tool.approver,
                args_digest(seen if seen is not None else proposed),
                _json(shown) if shown else None,
            ),
        )
        if exact and tool.status not in _FINISHED:
            conn.execute(
                "INSERT OR REPLACE INTO decision_payloads (run_id, tool_call_id, payload) VALUES (?, ?, ?)",
                (run_id, tool.tool_call_id, _json(exact)),
            )
        return None

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
            if self.recover_run(row["run_id"], expect=row):
                recovered.append(row["run_id"])
        return recovered

    def recover_run(self, run_id: str, *, expect: sqlite3.Row | None = None, gone_at: int | None = None) -> bool:
        """Settle one run left `running` by a dead process (see `recover`). False: nothing to do.

        `gone_at=VERSION`: the caller knows the holder is gone although its process lives (the
        runtime of that very process, which no longer drives the run); recovered only if the run
        is still at that version (nobody took it over since).
        """
        with self._write() as conn:
            fresh = conn.execute(
                "SELECT status, version, owner_pid, owner_host, owner_boot, owner_started FROM runs WHERE run_id = ?",
                (run_id,),
            ).fetchone()
            gone = self._owner_gone(fresh) if fresh is not None else False
            if gone_at is not None and fresh is not None and int(fresh["version"]) == gone_at:
                gone = True
            if fresh is None or fresh["status"] != RunStatus.running.value or not gone:
                return False
            if expect is not None and (
                fresh["owner_pid"] != expect["owner_pid"] or fresh["owner_started"] != expect["owner_started"]
            ):
                return False  # another process took it over meanwhile
            try:
                run = self.load_run(run_id, exact=True, apply_decisions=False)
            except StoreError as exc:
                self.recovery_problems.append(f"run {run_id}: {exc}")
                return False
            if run is None:
                return False
            if run.open_turn is not None or run.pending_tools:
                run.status = RunStatus.paused
                run.error = None
            else:
                run.status = RunStatus.error
                run.error = INTERRUPTED
            self.save_run(run)
        return True

    @staticmethod
    def _who(row: sqlite3.Row) -> str:
        if row["owner_pid"] is None:
            return "an earlier hitl-tui"
        return f"pid {row['owner_pid']} on host {row['owner_host']}"

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
                f"SELECT r.run_id, r.created_at, r.rowid AS rid FROM runs r"
                f" {where} {after} (r.created_at, r.rowid) > (?, ?)"
                " ORDER BY r.created_at, r.rowid LIMIT ?",
                (*params, *last, int(page)),
            )
            yield from self._load_many(row["run_id"] for row in rows)
            if len(rows) < page:
                return
            last = (rows[-1]["created_at"], rows[-1]["rid"])

    def get_summary(self, run_id: str) -> RunSummary | None:
        rows = self._query(f"SELECT {_SUMMARY_COLUMNS} FROM runs r WHERE r.run_id = ?", (run_id,))
        return self._summary(rows[0]) if rows else None

    def paused_runs(self, limit: int = 100) -> list[RunOutput]:
        """Paused runs, oldest first, with their pending calls: what can be resumed."""
        rows = self._query(
            "SELECT run_id FROM runs WHERE status = 'paused' ORDER BY updated_at, rowid LIMIT ?", (int(limit),)
        )
        return self._load_many(row["run_id"] for row in rows)

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
        rows = self._query(
            "SELECT d.*, t.executed_args AS ran_with FROM decisions d LEFT JOIN tool_executions t"
            " ON t.run_id = d.run_id AND t.tool_call_id = d.tool_call_id WHERE d.run_id = ? ORDER BY d.id",
            (run_id,),
        )
        return [
            LedgerEntry(
                **self._decision_fields(row),
                proposed_args=json.loads(row["proposed_args"]) if row["proposed_args"] else None,
                decision_args=json.loads(row["decision_args"]) if row["decision_args"] else None,
                # Recorded before the call ran (a decision is a record): what ran is on the call's row.
                executed_args=json.loads(row["executed_args"] or row["ran_with"] or "null"),
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


__all__ = [
    "INTERRUPTED",
    "SCHEMA_VERSION",
    "AlreadyDecided",
    "ArgsChanged",
    "CallClaimed",
    "DecisionRefused",
    "RunNotFound",
    "RunStore",
    "StaleRun",
    "StoreError",
]
