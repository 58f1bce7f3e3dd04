"""The approvals core: what waits for a person, what to decide next, and when a run may go on.

Every surface is a view of this one object: the dashboard renders it and schedules its timers,
the terminal demo asks on stdin, the command line decides by id. None of them decides on its own
when a run may continue; `may_continue` does (one rule, one place):

    a run may continue when it is paused (or stopped on an error and retried), nothing of its open
    turn waits for a person any more (or a call's deadline has passed, so the runtime applies its
    timeout), and this process holds the run: its agent started or resumed it, or the user took
    over a run whose owner died. A run held by another live process is decided here and continued
    by its owner (`Agent.wait_for_decisions`).

The core sees two kinds of runs:
- *local* runs, the live `RunOutput` objects this process's agent drives (decisions are applied
  to them with `apply_decision`, which saves them);
- *foreign* runs, paused by other processes and known only through the store's inbox
  (`store.pending_requests()`); their decisions are records in the store (`store.decide`).

No textual and no rich here (a test enforces it): Toad's lesson, the agent asks and the UI only
answers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Protocol, Sequence, runtime_checkable

from .decisions import Decision, DecisionError, apply_decision, default_approver
from .run import RunOutput, RunStatus, ToolExecution, utcnow

if TYPE_CHECKING:
    from .agent import Agent

#: (run_id, tool_call_id): one call, across every run the core sees.
Key = tuple[str, str]

#: Decisions that only make sense for a run this process holds (they change this agent's policy).
SCOPED_ACTIONS = frozenset({"allow_run", "allow_session", "allow_always", "deny_session", "deny_always"})


@runtime_checkable
class InboxStore(Protocol):
    """What the core needs from a store to see and decide other processes' runs.

    `tui.store.RunStore` implements it. A store without these methods (or no store) still gives a
    working core over the runs of this process only.
    """

    def pending_requests(self, run_id: str | None = None) -> list[Any]: ...

    def decide(self, request: Any, action: str, **kwargs: Any) -> Any: ...

    def change_token(self) -> Any: ...

    def load_run(self, run_id: str) -> RunOutput | None: ...


@dataclass(frozen=True)
class Holder:
    """The process that holds a run (its last writer), as the store knows it."""

    host: str | None = None
    pid: int | None = None
    alive: bool = True

    @property
    def label(self) -> str:
        if self.pid is None:
            return self.host or "unknown process"
        return f"{self.host or '?'}/{self.pid}"


@dataclass
class BatchOutcome:
    """What a batch decision did: counts for the user, and the runs that may now continue."""

    decided: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    ready: list[RunOutput] = field(default_factory=list)

    def message(self, action: str) -> str:
        verb = "Approved" if action == "approve" else "Rejected"
        text = f"{verb} {self.decided} call{'s' if self.decided != 1 else ''}."
        if self.skipped:
            s = self.skipped == 1
            text += f" {self.skipped} need{'s' if s else ''} your input or result and stay{'s' if s else ''} in Approvals."
        return text


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def waiting_calls(run: RunOutput) -> list[ToolExecution]:
    """The undecided calls of the run's open turn (the ones that hold it paused)."""
    if run.open_turn is None:
        return []
    return [t for t in run.tools if t.turn == run.open_turn and t.is_awaiting_decision]


class ApprovalsCore:
    """The pending requests of every run this process can see, and the rules for deciding them."""

    def __init__(
        self,
        agent: "Agent",
        *,
        store: InboxStore | Any = None,
        approver: str | None = None,
        now: Callable[[], datetime] = utcnow,
        clock: Callable[[], float] = time.monotonic,
        liveness_interval: float = 2.0,
    ) -> None:
        self.agent = agent
        self.store = store if store is not None else getattr(agent, "store", None)
        self.approver = approver or getattr(agent, "approver", None) or default_approver()
        self._now = now
        self._clock = clock
        #: A process that dies writes nothing: re-read the inbox this often anyway while foreign
        #: runs are shown, so a dead owner is noticed (and its run offered for taking over).
        self.liveness_interval = liveness_interval
        self._last_refresh = float("-inf")
        #: Every run the core shows, by id (local runs are the very objects the agent mutates).
        self.runs: dict[str, RunOutput] = {}
        #: Runs this process holds: its agent runs them and its surface continues them.
        self.local: set[str] = set()
        #: Foreign runs: who holds them.
        self.holders: dict[str, Holder] = {}
        #: Store-unique short ids of the pending requests (for the CLI and webhooks).
        self.request_ids: dict[Key, str] = {}
        #: Digests of the arguments each request showed (a decision is bound to what was seen).
        self.request_digests: dict[Key, str] = {}
        #: Items the user put aside (esc): not offered by `next_item` until opened again.
        self.deferred: set[Key] = set()
        #: Runs whose continue waits for the surface to be free (one turn at a time).
        self._queue: list[str] = []
        self._token: Any = object()
        self._decided_elsewhere: set[Key] = set()
        #: Local runs with a call decided elsewhere since the last `pop_decided_elsewhere`.
        self._newly_decided: set[str] = set()

    # ------------------------------------------------------------------ what waits

    @staticmethod
    def waiting(run: RunOutput) -> list[ToolExecution]:
        return waiting_calls(run)

    def track(self, run: RunOutput) -> RunOutput:
        """A run this process holds (started, continued or resumed here): its decisions are applied here."""
        self.runs[run.run_id] = run
        self.local.add(run.run_id)
        self.holders.pop(run.run_id, None)
        return run

    def is_local(self, run_id: str) -> bool:
        return run_id in self.local

    def holder(self, run_id: str) -> Holder | None:
        """Who holds a foreign run (None for a run held here)."""
        return None if run_id in self.local else self.holders.get(run_id)

    def get(self, run_id: str) -> RunOutput | None:
        run = self.runs.get(run_id)
        if run is None:
            run = self.agent.get_run(run_id)
            if run is not None:
                self.runs[run_id] = run
        return run

    def pending(self) -> list[tuple[RunOutput, ToolExecution]]:
        """Every undecided call the core sees, oldest first."""
        items = [
            (run, tool)
            for run in self.runs.values()
            for tool in self.waiting(run)
            if (run.run_id, tool.tool_call_id) not in self._decided_elsewhere
        ]
        items.sort(key=lambda item: (_aware(item[1].created_at), item[0].run_id, item[1].tool_call_id))
        return items

    def is_pending(self, run_id: str, tool_call_id: str) -> bool:
        run = self.runs.get(run_id)
        if run is None or (run_id, tool_call_id) in self._decided_elsewhere:
            return False
        try:
            return run.tool(tool_call_id).is_awaiting_decision
        except KeyError:
            return False

    def next_item(self, run_id: str | None = None) -> tuple[RunOutput, ToolExecution] | None:
        """The next call to put in front of the user: oldest first, skipping the deferred ones."""
        for run, tool in self.pending():
            if run_id is not None and run.run_id != run_id:
                continue
            if (run.run_id, tool.tool_call_id) not in self.deferred:
                return run, tool
        return None

    def defer(self, run_id: str, tool_call_id: str) -> None:
        self.deferred.add((run_id, tool_call_id))

    def undefer(self, run_id: str, tool_call_id: str) -> None:
        self.deferred.discard((run_id, tool_call_id))

    def _forget_deferred(self, run_id: str) -> None:
        self.deferred = {k for k in self.deferred if k[0] != run_id}

    # ------------------------------------------------------------------ deciding

    def decide(self, run_id: str, tool_call_id: str, decision: Decision) -> bool:
        """Record a decision on one call. True when the call is now decided.

        Local runs: applied to the live run and saved (`apply_decision`). Foreign runs: recorded
        in the store, first decision wins; the store's "already decided" error passes through.
        Raises DecisionError (nothing changed) when the decision cannot be accepted as given.
        """
        run = self.get(run_id)
        if run is None:
            raise DecisionError(f"Run {run_id} is gone.")
        try:
            tool = run.tool(tool_call_id)
        except KeyError:
            raise DecisionError(f"Run {run_id} has no call {tool_call_id}.") from None
        if decision.action == "defer":
            self.defer(run_id, tool_call_id)
            return False
        if decision.approver is None:  # every decision names who made it (audit)
            decision = replace(decision, approver=self.approver)
        if run_id in self.local:
            done = apply_decision(self.agent, run, tool, decision)
        else:
            done = self._decide_foreign(run, tool, decision)
        if done:
            self.undefer(run_id, tool_call_id)
        return done

    def _decide_foreign(self, run: RunOutput, tool: ToolExecution, decision: Decision) -> bool:
        if decision.action in SCOPED_ACTIONS:
            raise DecisionError(
                "Allow / deny scopes change this dashboard's rules and apply to its own runs; "
                f"{tool.tool_name} belongs to a run held by {self.holders.get(run.run_id, Holder()).label}. "
                "Approve or reject it once instead."
            )
        if decision.action == "input":
            # Check the values here first, for the same per-field errors a local form gives.
            probe = tool.model_copy(deep=True)
            self.agent.bind_tools(_single(run, probe))
            errors = probe.provide_user_input(decision.values or {})
            if errors:
                raise DecisionError("Some values are invalid.", errors)
            # Record the coerced values ("3" -> 3), as a local form would.
            decision = replace(decision, values={f.name: f.value for f in probe.user_input_schema or []})
        if decision.action == "result" and not (decision.result or "").strip():
            raise DecisionError("Type the result of running the tool (it is sent to the model).")
        if decision.action == "edit":
            if decision.args is None:
                raise DecisionError("no edited arguments were given")
            if tool.tool_name in self.agent.functions:
                try:
                    self.agent.validate_edit(tool, decision.args)
                except ValueError as exc:
                    raise DecisionError(f"The edited arguments are invalid: {exc}") from None
        store_decide(
            self.store,
            run.run_id,
            tool.tool_call_id,
            decision,
            approver=decision.approver or self.approver,
            request_id=self.request_ids.get((run.run_id, tool.tool_call_id)),
            seen_digest=self.request_digests.get((run.run_id, tool.tool_call_id)),
        )
        self._decided_elsewhere.add((run.run_id, tool.tool_call_id))
        return True

    def decide_batch(self, keys: Sequence[Key], action: str) -> BatchOutcome:
        """Approve or reject several confirmation calls; each gets its own decision record.

        Input and external calls need their own data and are skipped. `ready` lists the local runs
        that may continue now.
        """
        outcome = BatchOutcome()
        touched: list[RunOutput] = []
        for run_id, tool_call_id in keys:
            run = self.get(run_id)
            if run is None:
                continue
            try:
                tool = run.tool(tool_call_id)
            except KeyError:
                continue
            if not tool.awaiting_confirmation or (run_id, tool_call_id) in self._decided_elsewhere:
                if tool.is_awaiting_decision:
                    outcome.skipped += 1
                continue
            try:
                self.decide(run_id, tool_call_id, Decision("approve" if action == "approve" else "reject"))
            except Exception as exc:  # one refused call never stops the others
                outcome.errors.append(f"{tool.tool_name}: {exc}")
                continue
            outcome.decided += 1
            if run not in touched:
                touched.append(run)
        outcome.ready = [run for run in touched if self.may_continue(run)]
        return outcome

    # ------------------------------------------------------------------ the continue rule

    def may_continue(self, run: RunOutput, *, now: datetime | None = None) -> bool:
        """The one rule for "this surface continues this run now" (see the module docstring)."""
        if run.run_id not in self.local:
            return False  # its owner continues it (or the user takes it over first)
        if run.status != RunStatus.paused:
            return False
        waiting = [t for t in self.waiting(run) if (run.run_id, t.tool_call_id) not in self._decided_elsewhere]
        if not waiting:
            return True
        return any(self._expired(t, now) for t in waiting)

    def after_decision(self, run: RunOutput) -> tuple[RunOutput, ToolExecution] | None:
        """What comes after a decision on `run`: its next undecided call, or None.

        When nothing of the run waits any more (undeferred or not), its deferred marks are dropped
        and `may_continue` says whether to continue it.
        """
        item = self.next_item(run.run_id)
        if item is None and not [t for t in self.waiting(run) if self.is_pending(run.run_id, t.tool_call_id)]:
            self._forget_deferred(run.run_id)
        return item

    def request_continue(self, run: RunOutput, *, busy: bool) -> bool:
        """Ask to continue a run: True when the caller should start it now; queued when busy."""
        if run.run_id not in self.local:
            return False  # held by another process: its owner continues it
        if run.status == RunStatus.paused and not self.may_continue(run):
            return False
        if busy:
            if run.run_id not in self._queue:
                self._queue.append(run.run_id)
            return False
        self._queue = [rid for rid in self._queue if rid != run.run_id]
        return True

    def next_queued(self) -> RunOutput | None:
        """The next queued run that may still continue (the surface just became free)."""
        while self._queue:
            run = self.runs.get(self._queue.pop(0))
            if run is not None and self.may_continue(run):
                return run
        return None

    # ------------------------------------------------------------------ deadlines

    def _expired(self, tool: ToolExecution, now: datetime | None) -> bool:
        remaining = self.remaining(tool, now)
        return remaining is not None and remaining <= 0

    def remaining(self, tool: ToolExecution, now: datetime | None = None) -> float | None:
        """Seconds until the call's approval timeout (None: it waits forever)."""
        if not tool.approval_timeout:
            return None
        now = now or self._now()
        return tool.approval_timeout - (_aware(now) - _aware(tool.created_at)).total_seconds()

    def deadlines(self, run: RunOutput, now: datetime | None = None) -> list[tuple[Key, float]]:
        """(call, seconds left) for each waiting call of the run that has a timeout: arm a timer on each."""
        out = []
        for tool in self.waiting(run):
            left = self.remaining(tool, now)
            if left is not None:
                out.append(((run.run_id, tool.tool_call_id), max(0.0, left)))
        return out

    def timeout_due(self, run_id: str, tool_call_id: str, now: datetime | None = None) -> bool:
        """The timer of this call fired: True when its run should be continued now (the runtime applies the timeout)."""
        run = self.runs.get(run_id)
        if run is None or run.status != RunStatus.paused or not self.is_pending(run_id, tool_call_id):
            return False
        return self._expired(run.tool(tool_call_id), now) and self.may_continue(run, now=now)

    # ------------------------------------------------------------------ the store's inbox

    @property
    def has_inbox(self) -> bool:
        return self.inbox is not None

    @property
    def inbox(self) -> InboxStore | None:
        """The store as an inbox (None: no store, or one without an inbox)."""
        return self.store if isinstance(self.store, InboxStore) else None

    def poll(self) -> bool:
        """Re-read the store's inbox when it changed. True when what waits may have changed.

        Cheap when nothing changed (one `change_token()` read). Foreign runs are loaded from the
        store; a call of a local run decided elsewhere (the CLI, another dashboard) stops waiting.
        """
        inbox = self.inbox
        if inbox is None:
            return False
        token = inbox.change_token()
        if token == self._token:
            if not self.holders or self._clock() - self._last_refresh < self.liveness_interval:
                return False
            before = dict(self.holders)
            self.refresh()
            return self.holders != before  # an owner died (or came back): show it
        self._token = token
        self.refresh()
        return True

    def refresh(self) -> None:
        """Load every pending request of the store (see `poll`)."""
        inbox = self.inbox
        if inbox is None:
            return
        self._last_refresh = self._clock()
        requests = list(inbox.pending_requests())
        pending_keys: set[Key] = set()
        foreign_runs: dict[str, list[Any]] = {}
        for req in requests:
            key = (req.run_id, req.tool_call_id)
            pending_keys.add(key)
            self.request_ids[key] = req.id
            digest = getattr(req, "args_digest", None)
            if digest:
                self.request_digests[key] = digest
            if req.run_id not in self.local:
                foreign_runs.setdefault(req.run_id, []).append(req)
        # Local calls no longer pending in the store were decided elsewhere.
        for run_id in self.local:
            run = self.runs.get(run_id)
            if run is None or run.status != RunStatus.paused:
                continue
            for tool in self.waiting(run):
                key = (run_id, tool.tool_call_id)
                if key not in pending_keys and key not in self._decided_elsewhere:
                    self._decided_elsewhere.add(key)
                    self._newly_decided.add(run_id)
        # Foreign runs: (re)load those that changed; drop those with nothing pending.
        for run_id in [rid for rid in self.runs if rid not in self.local and rid not in foreign_runs]:
            del self.runs[run_id]
            self.holders.pop(run_id, None)
        for run_id, reqs in foreign_runs.items():
            self.holders[run_id] = _holder_of(reqs[0])
            known = self.runs.get(run_id)
            wanted = {r.tool_call_id for r in reqs}
            if known is not None and {t.tool_call_id for t in self.waiting(known)} == wanted:
                continue
            run = inbox.load_run(run_id)
            if run is None:
                continue
            self.agent.bind_tools(run)
            self.runs[run_id] = run
        self._decided_elsewhere = {k for k in self._decided_elsewhere if k in self._local_waiting_keys() or k in pending_keys}
        self._decided_elsewhere -= pending_keys

    def pop_decided_elsewhere(self) -> list[RunOutput]:
        """Local runs that got a decision from elsewhere (the CLI, another dashboard) since last asked."""
        runs = [self.runs[rid] for rid in sorted(self._newly_decided) if rid in self.runs]
        self._newly_decided.clear()
        return runs

    def _local_waiting_keys(self) -> set[Key]:
        return {(rid, t.tool_call_id) for rid in self.local if rid in self.runs for t in self.waiting(self.runs[rid])}

    def take_over(self, run_id: str) -> RunOutput:
        """Hold a foreign run here (its owner died): this agent continues it, with its own tools."""
        holder = self.holders.get(run_id)
        if holder is not None and holder.alive:
            raise DecisionError(f"Run {run_id} is held by a live process ({holder.label}); it continues it.")
        # The exact stored state (not the display copy the inbox shows), indexed by the agent so
        # that decisions on this object are the ones its continue sees.
        run = self.agent.get_run(run_id, refresh=True)
        if run is None:
            raise DecisionError(f"Run {run_id} is gone.")
        self._decided_elsewhere = {k for k in self._decided_elsewhere if k[0] != run_id}
        return self.track(run)

    def leave(self, run_id: str) -> None:
        """Stop showing a foreign run until it changes (the user left it to its owner or to later)."""
        self.runs.pop(run_id, None)
        self.holders.pop(run_id, None)


def _single(run: RunOutput, tool: ToolExecution) -> RunOutput:
    """A throwaway run holding one call (to bind field types without touching the real run)."""
    shadow = run.model_copy()
    shadow.tools = [tool]
    return shadow


def _holder_of(request: Any) -> Holder:
    """The holder a `PendingRequest` names (`owner_host`, `owner_pid`, `owner_alive`)."""
    return Holder(
        host=getattr(request, "owner_host", None),
        pid=getattr(request, "owner_pid", None),
        alive=bool(getattr(request, "owner_alive", True)),
    )


def store_decide(
    store: Any,
    run_id: str,
    tool_call_id: str,
    decision: Decision,
    *,
    approver: str,
    request_id: str | None = None,
    seen_digest: str | None = None,
) -> Any:
    """Record `decision` in the store's decision records (first one wins).

    `seen_digest` binds it to the arguments the decider was shown: the store refuses it
    (`ArgsChanged`) when the call's arguments changed since.
    """
    if store is None or not callable(getattr(store, "decide", None)):
        raise DecisionError("This run is held by another process and the store cannot record decisions for it.")
    action = decision.action
    kwargs: dict[str, Any] = {"by": "user", "approver": approver}
    if seen_digest is not None:
        kwargs["seen_digest"] = seen_digest
    if decision.note is not None:
        kwargs["note"] = decision.note
    if decision.args is not None:
        kwargs["args"] = decision.args
    if decision.values is not None:
        kwargs["values"] = decision.values
    if decision.result is not None:
        kwargs["result"] = decision.result
    return store.decide(request_id or (run_id, tool_call_id), action, **kwargs)
