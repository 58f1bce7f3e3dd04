"""Run history: every run, tool call and decision in one SQLite file (standard library only).

    from tui.store import RunStore
    agent = Agent(model=..., tools=[...], store=RunStore(settings.db))

Imports neither textual nor rich (a test enforces this). See run_store.py for the durability
choices and schema.py for the tables and migrations.
"""

from .redact import REDACTED, Redactor
from .run_store import INTERRUPTED, RunNotFound, RunStore, StoreError
from .schema import SCHEMA_VERSION
from .summaries import LedgerEntry, RunSummary, SessionSummary

__all__ = [
    "INTERRUPTED",
    "REDACTED",
    "SCHEMA_VERSION",
    "LedgerEntry",
    "Redactor",
    "RunNotFound",
    "RunStore",
    "RunSummary",
    "SessionSummary",
    "StoreError",
]
