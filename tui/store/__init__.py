"""Run history and the authority over run state: every run, call and decision, in one SQLite file
(the embedded default) or in a PostgreSQL database (a team store), behind one interface.

    from tui.store import RunStore, open_store
    agent = Agent(model=..., tools=[...], store=RunStore(settings.db))
    agent = Agent(model=..., tools=[...], store=open_store("postgresql://hitl@db.internal/hitl"))

`open_store(location)` picks the backend from the location (a path, or a `postgresql://` URL;
tui/store/open.py); the PostgreSQL store (tui/store/postgres.py) needs `hitl-tui[postgres]`.

Imports neither textual nor rich (a test enforces this). See run_store.py for the durability and
ownership rules and schema.py for the tables and migrations.

Who owns a run: the store. An in-memory `RunOutput` is a view that carries the version it was read
at (`run.store_version`); every save is a compare-and-swap on that version (`StaleRun` when another
holder saved since: reload with `store.load_run(run_id, exact=True)` or
`agent.get_run(run_id, refresh=True)`), and a call is claimed in the store atomically with its move
to `running` (`CallClaimed` for the loser), so an approved call runs once whoever holds the run.

The approvals inbox API (used by the dashboard, `hitl-tui pending/approve/...` and headless
waiters; all of it works across processes on one file):

- `store.pending_requests(run_id=None) -> list[PendingRequest]`: every call waiting for a person
  with no decision yet, oldest first. `PendingRequest.id` is short and unique in the store; `args`
  are redacted for display, `args_digest` is the digest of the exact arguments; `kind` is
  confirmation / user_input / external; `owner_alive` False means the holder died (resume it).
- `store.decide(request, action, *, note=None, args=None, values=None, result=None,
  seen_digest=None, by="user", approver=None) -> DecisionRecord`: `request` is a `PendingRequest.id`
  or `(run_id, tool_call_id)`; `action` is approve / edit (`args`) / reject (`note`) / input
  (`values`) / result (`result`). Appends a decision record; the first decision on a call wins:
  a second raises `AlreadyDecided` ("already decided (approved) by WHO at WHEN"), a `seen_digest`
  that no longer matches the call's arguments raises `ArgsChanged`, an action that does not fit the
  call raises `DecisionRefused`. The store has no tool schemas: edited arguments and form values
  are validated by the runtime when the run continues (an invalid one rejects the call with the
  reason, which the model hears). The approver defaults to `user@host`.
- `store.change_token() -> int`: changes on every write by anyone; poll it (cheap) to wake up.
- The runtime applies the records to the run's pending calls when it continues
  (`store.apply_decisions(run)`, also done by `load_run`), so deciding never rewrites the run.
- Errors: `StoreError` and its subclasses `RunNotFound`, `StaleRun`, `CallClaimed`,
  `DecisionRefused` (`AlreadyDecided`, `ArgsChanged`). `StaleRun`/`CallClaimed` are also
  `tui.agent.conflicts.RunConflict`; the decision errors are also `DecisionConflict` (a ValueError).
"""

from .open import db_exists, is_database_url, open_store, shown_location
from .redact import REDACTED, Redactor
from .run_store import (
    INTERRUPTED,
    AlreadyDecided,
    ArgsChanged,
    CallClaimed,
    DecisionRefused,
    RunNotFound,
    RunStore,
    StaleRun,
    StoreError,
)
from .schema import SCHEMA_VERSION
from .summaries import DecisionRecord, LedgerEntry, PendingRequest, RunSummary, SessionSummary

__all__ = [
    "INTERRUPTED",
    "REDACTED",
    "SCHEMA_VERSION",
    "AlreadyDecided",
    "ArgsChanged",
    "CallClaimed",
    "DecisionRecord",
    "DecisionRefused",
    "LedgerEntry",
    "PendingRequest",
    "Redactor",
    "RunNotFound",
    "RunStore",
    "RunSummary",
    "SessionSummary",
    "StaleRun",
    "StoreError",
    "db_exists",
    "is_database_url",
    "open_store",
    "shown_location",
]
