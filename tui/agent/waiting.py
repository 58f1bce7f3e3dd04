"""A headless agent waits for people: `await agent.wait_for_decisions(run)`.

A script, a service or a CI job pauses on a gated call and someone decides it elsewhere (the
dashboard's inbox, `hitl-tui approve ID`, later a browser). The store is the inbox: the waiter
polls its `change_token()` (one tiny read) and asks for the run's pending requests only when the
token moved, sleeping between polls, so waiting costs next to nothing and wakes within one poll
interval of a decision. A store that pushes changes (`notifies = True`: PostgreSQL's
LISTEN/NOTIFY) is not polled: the waiter blocks in a thread on `store.wait_for_change` and wakes
as soon as the decision commits. `Agent.acontinue_run` then applies the stored decision records.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Protocol, runtime_checkable

from .approvals import InboxStore
from .run import RunOutput, RunStatus, utcnow

if TYPE_CHECKING:
    from .agent import Agent

#: Seconds between two looks at the store's change token (wakes within this of a decision).
POLL_INTERVAL = 0.1
#: With a store that pushes changes: the longest block on it (deadlines are re-checked after).
PUSH_WAIT = 1.0


@runtime_checkable
class ChangeNotifier(Protocol):
    """A store that wakes waiters itself (tui.store's PostgreSQL store)."""

    notifies: bool

    def wait_for_change(self, token: Any, timeout: float) -> Any: ...


class DecisionTimeout(TimeoutError):
    """Nobody decided in time. The run is untouched: still paused, still decidable and resumable."""

    def __init__(self, run: RunOutput, waited: float, pending: list[Any]) -> None:
        names = ", ".join(sorted({str(getattr(p, "tool_name", "?")) for p in pending})) or "its calls"
        ids = ", ".join(str(getattr(p, "id", "")) for p in pending if getattr(p, "id", None) is not None)
        super().__init__(
            f"No decision on {names} of run {run.run_id} within {waited:g} s; the run stays paused"
            + (f" (pending: {ids}; decide with `hitl-tui approve ID`, then continue the run)." if ids else ".")
        )
        self.run = run
        self.pending = pending


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _deadline_passed(run: RunOutput, call_ids: set[str], now: datetime) -> bool:
    """A pending call's own approval timeout has passed: continuing lets the runtime apply it."""
    for t in run.tools:
        if t.tool_call_id in call_ids and t.approval_timeout:
            if (_aware(now) - _aware(t.created_at)).total_seconds() >= t.approval_timeout:
                return True
    return False


async def wait_for_decisions(
    agent: "Agent",
    run: RunOutput | None = None,
    timeout: float | None = None,
    *,
    poll_interval: float = POLL_INTERVAL,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    now: Callable[[], datetime] = utcnow,
) -> RunOutput:
    """Return once every pending call of `run` has a decision recorded in the store, by anyone.

    Also returns when a pending call's approval timeout has passed (so the continue applies it).
    Raises `DecisionTimeout` after `timeout` seconds, leaving the run paused. `clock`, `sleep` and
    `now` are injectable so tests never wait on a wall clock.
    """
    run = run if run is not None else agent.run_response
    if run is None:
        raise ValueError("there is no run to wait for: call arun() first, or pass the run")
    store = agent.store
    if not isinstance(store, InboxStore):
        raise ValueError(
            "wait_for_decisions needs a store shared with the deciders: Agent(store=RunStore(path))"
        )
    if run.status != RunStatus.paused:
        return run
    started = clock()
    # Pushed wake-ups only with the real clock: tests that inject `sleep` drive the polls themselves.
    push = sleep is asyncio.sleep and isinstance(store, ChangeNotifier) and bool(store.notifies)
    token: Any = object()
    pending: list[Any] = []
    while True:
        current = store.change_token()
        if current != token:
            token = current
            pending = list(store.pending_requests(run_id=run.run_id))
            if not pending:
                return run
        if _deadline_passed(run, {p.tool_call_id for p in pending}, now()):
            return run
        waited = clock() - started
        if timeout is not None and waited >= timeout:
            raise DecisionTimeout(run, timeout, pending)
        if push:
            longest = max(poll_interval, PUSH_WAIT)
            step = longest if timeout is None else max(0.0, min(longest, timeout - waited))
            await asyncio.to_thread(store.wait_for_change, token, step)
            continue
        step = poll_interval if timeout is None else max(0.0, min(poll_interval, timeout - waited))
        await sleep(step)
