"""What a holder of a run is told when the store, the authority over run state, says no.

The store (`tui.store`) raises subclasses of these (`StaleRun`, `CallClaimed`, `AlreadyDecided`,
`ArgsChanged`, each also a `StoreError`); they are declared here so that the runtime, which never
imports the store, can catch them by meaning.
"""

from __future__ import annotations

from typing import NamedTuple


class RunHolder(NamedTuple):
    """Who holds a stored run (`RunStore.run_holder`): enough to tell a live holder from a dead one."""

    status: str
    version: int
    #: "pid P on host H", for messages.
    who: str
    #: False when the holding process is known to be gone.
    alive: bool
    pid: int | None = None
    host: str | None = None


class RunConflict(RuntimeError):
    """Another holder changed the run, or holds it, since this copy was read: reload it.

    Nothing was written. `run_id`, `stored_status`, `stored_version` and `holder` say what the store
    holds; `your_version` is the version the refused copy carried.
    """

    def __init__(
        self,
        message: str,
        *,
        run_id: str = "",
        stored_status: str | None = None,
        stored_version: int | None = None,
        your_version: int | None = None,
        holder: str | None = None,
    ) -> None:
        super().__init__(message)
        self.run_id = run_id
        self.stored_status = stored_status
        self.stored_version = stored_version
        self.your_version = your_version
        self.holder = holder


class DecisionConflict(ValueError):
    """A decision was refused: the call was decided already, or its arguments changed."""
