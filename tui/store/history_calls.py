"""Every recorded tool call, for rule dry runs (the rules screen, the dashboard and `rules test`).

It lives with the store, not with the command line, so the dashboard can use it without importing
the CLI (layering: agent <- store <- UI <- cli).
"""

from __future__ import annotations

from typing import Iterator, Protocol

from tui.agent.rules import PastCall, past_calls
from tui.agent.run import RunOutput


class RunSource(Protocol):
    """What a dry run needs from a store: every run, oldest first (`RunStore.iter_runs`)."""

    def iter_runs(self) -> Iterator[RunOutput]: ...


def history_calls(store: RunSource) -> list[PastCall]:
    """Every recorded tool call, oldest run first."""
    return past_calls(store.iter_runs())
