"""Agent: the model/tool loop with human-in-the-loop pauses.

The loop is one async generator of events (`_drive`). Everything else is a view of it:
`arun(stream=True)` hands the events out, `arun()` consumes them and returns the run, and
`run()` / `continue_run()` do the same on a private event loop.

Safety rules enforced here (see DESIGN.md "Semantics"):
- a gated call never runs, and is never rejected, without an explicit decision: continuing with
  undecided calls pauses again on exactly those calls;
- the model gets every result of a turn together, once every gated call of the turn is decided;
- every state change is persisted before the next step.

Who owns a run (DESIGN.md "Who owns a run"): with a store, the store is the authority and this
object's runs are views of it. A continue first records the decisions made on the object it was
given, then starts from the stored state; every save is checked against the stored version; a call
is claimed in the store before it runs. Store calls run in a worker thread (`asyncio.to_thread`),
one after the other, so a UI sharing the event loop is never blocked by them, and each state is on
disk before the next step.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
from enum import Enum
from typing import Any, AsyncIterator, Iterator, Protocol, Sequence

from .bounds import bound_value, clean_text
from .conflicts import RunConflict, RunHolder
from .decisions import default_approver
from .events import (
    ContentDelta,
    RunCancelled,
    RunCompleted,
    RunContinued,
    RunError,
    RunEvent,
    RunPaused,
    RunStarted,
    ToolCallCompleted,
    ToolCallStarted,
)
from .models.base import Model, ModelError, ModelResponse, ServedModel
from .policy import Policy
from .run import Message, RunOutput, RunStatus, ToolExecution, new_id, to_text, utcnow
from .tools import Function, ToolError, as_function


class RunStoreProtocol(Protocol):
    """What the agent needs from a store (`tui.store.RunStore` implements it).

    The store is the authority over run state: `save_run` is refused (a `RunConflict`) when the
    run's stored version is not the copy's `store_version`, and refuses `claim`ed calls that are
    not pending any more; `record_decisions` keeps the first decision on each call.
    """

    def save_run(self, run: RunOutput, *, claim: Sequence[str] = ()) -> int: ...

    def load_run(self, run_id: str, *, exact: bool = False, apply_decisions: bool = True) -> RunOutput | None: ...

    def record_decision(self, run: RunOutput, tool: ToolExecution, decision: str) -> bool: ...

    def record_decisions(
        self, run: RunOutput, tools: Sequence[ToolExecution], *, approver: str | None = None, strict: bool = False
    ) -> list[Any]: ...

    def apply_decisions(self, run: RunOutput) -> list[str]: ...

    def run_holder(self, run_id: str) -> RunHolder | None: ...

    def recover_run(self, run_id: str, *, gone_at: int | None = None) -> bool: ...

    def session_runs(self, session_id: str) -> list[RunOutput]: ...


#: Runs being driven by an Agent of this process (any Agent): a stored run `running` under this
#: process's pid that is not in here was left behind by a run that stopped without saving its end
#: (e.g. the store failed); it is recovered like one whose process died.
_DRIVING: set[str] = set()


class StoreFailure(RuntimeError):
    """The store could not save a run. The run stops rather than continue unrecorded."""


def _jsonable(args: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(args, default=lambda o: o.value if isinstance(o, Enum) else str(o)))


def _served_at(model: Model) -> str | None:
    """Where the model is served, for the run's record (which must never stop the run itself)."""
    if isinstance(model, ServedModel) and model.base_url is not None:
        return str(model.base_url)
    return None


def _dumps(args: dict[str, Any]) -> str:
    return json.dumps(_jsonable(args), ensure_ascii=False, sort_keys=True)


def parse_arguments(raw: str | None) -> dict[str, Any]:
    """Parse a model's tool-call arguments, tolerating what real servers send.

    Stray whitespace, an empty string, or a JSON-encoded string of JSON are accepted. Anything else
    raises ValueError with a message the model can act on.
    """
    text = (raw or "").strip()
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the arguments are not valid JSON ({exc.msg} at position {exc.pos}): {text[:200]!r}") from None
    except RecursionError:  # thousands of levels: deeper than the JSON parser goes
        raise ValueError(f"the arguments are nested too deeply to read: {text[:200]!r}") from None
    if isinstance(value, str):  # some servers double-encode
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            pass
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"the arguments must be a JSON object, not {type(value).__name__}: {text[:200]!r}")
    return value


def sanitize_history(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop tool calls without results and results without calls, so any server accepts the list."""
    answered = {m.get("tool_call_id") for m in messages if m.get("role") == "tool"}
    offered: set[str] = set()
    out: list[dict[str, Any]] = []
    for m in messages:
        if m.get("role") == "assistant" and m.get("tool_calls"):
            calls = [c for c in m["tool_calls"] if c.get("id") in answered]
            m = dict(m)
            if calls:
                m["tool_calls"] = calls
                offered.update(c["id"] for c in calls)
            else:
                m.pop("tool_calls")
                if not m.get("content"):
                    continue
        elif m.get("role") == "tool" and m.get("tool_call_id") not in offered:
            continue
        out.append(m)
    return out


class Agent:
    """An LLM agent whose tools may need a person's confirmation, input or execution."""

    def __init__(
        self,
        model: Model | None = None,
        tools: Sequence[Any] | None = None,
        instructions: str | Sequence[str] | None = None,
        markdown: bool = False,
        store: RunStoreProtocol | None = None,
        policy: Policy | None = None,
        *,
        name: str | None = None,
        session_id: str | None = None,
        max_turns: int = 20,
        approver: str | None = None,
    ) -> None:
        if model is None:
            from .models import default_model

            model = default_model()
        self.model = model
        self.functions: dict[str, Function] = {}
        for t in tools or []:
            f = as_function(t)
            if f.name in self.functions:
                raise ValueError(f"two tools are named {f.name!r}; tool names must be unique")
            self.functions[f.name] = f
        self.instructions: str | None = (
            instructions if instructions is None or isinstance(instructions, str) else "\n".join(instructions)
        )
        self.markdown = markdown
        self.store = store
        self.policy = policy if policy is not None else Policy()
        self.name = name
        self.session_id = session_id or new_id("ses_")
        self.max_turns = max_turns
        #: How the tools were named on the command line (`--tools` specs); recorded in each run.
        self.tool_specs: list[str] = []
        #: Who this agent's people are in the ledger (`user@host` unless told otherwise).
        self.approver = approver or default_approver()
        #: The latest run (Agno compatibility: `agent.run_response`, `agent.is_paused`).
        self.run_response: RunOutput | None = None
        self._runs: dict[str, RunOutput] = {}
        #: session id -> {run id -> run}: the context of a turn without scanning every run.
        self._sessions: dict[str, dict[str, RunOutput]] = {}
        self._sessions_loaded: set[str] = set()
        self._active: set[str] = set()
        self._cancel_requested: set[str] = set()
        #: Per run: calls whose decision came from a record this runtime did not validate first.
        self._from_records: dict[str, set[str]] = {}
        #: Decisions the runtime made (policy, timeouts) not yet written, per run: written in one go.
        self._unrecorded: dict[str, dict[str, ToolExecution]] = {}
        #: Called with (run, waiting calls) whenever a run pauses (webhooks, desktop notices);
        #: a hook's failure is logged and never touches the run (see tui/agent/notify.py).
        self.on_pause: list[Any] = []

    # ------------------------------------------------------------------ public API

    @property
    def is_paused(self) -> bool:
        return self.run_response is not None and self.run_response.is_paused

    @property
    def tools(self) -> list[Function]:
        return list(self.functions.values())

    def new_session(self, session_id: str | None = None) -> str:
        """Start a fresh conversation: later runs no longer see earlier turns."""
        self.session_id = session_id or new_id("ses_")
        self.run_response = None
        return self.session_id

    def arun(self, prompt: str, *, stream: bool = False, session_id: str | None = None) -> Any:
        """Start a run. Awaitable returning a RunOutput, or (stream=True) an async iterator of events."""
        run = RunOutput(
            session_id=session_id or self.session_id,
            agent_name=self.name,
            model=self.model.id,
            base_url=_served_at(self.model),
            tool_specs=list(self.tool_specs),
            input=prompt,
        )
        run.messages.append(Message(role="user", content=prompt))
        self._remember(run)
        events = self._drive(run, resumed=False)
        return events if stream else self._collect(events, run)

    def acontinue_run(
        self,
        run_response: RunOutput | None = None,
        *,
        run_id: str | None = None,
        updated_tools: list[ToolExecution] | None = None,
        stream: bool = False,
    ) -> Any:
        """Continue a paused (or interrupted, or failed) run after decisions were made.

        With no argument it continues the agent's latest run. With `run_id` it loads the run from
        memory or the store, so a run paused by another process can be finished here.

        With a store, the continue starts from the stored state, whatever object is passed: the
        decisions made on that object (`tool.confirmed = True`, `confirm()`, `field.value = ...`,
        `reject()`, `set_result()`) for calls still pending in the store are recorded first (the
        first decision on a call wins, wherever it was made), then the object is brought up to the
        stored state in place and the run goes on from there. A stale copy of a run that finished
        elsewhere executes nothing: the object is updated to the stored (finished) run and
        returned, and the stream yields only its final event. A run that another live process is
        running raises `RunConflict` (nothing is executed here).
        """
        run = self._resolve_run(run_response, run_id)
        if updated_tools:
            by_id = {t.tool_call_id: t for t in updated_tools}
            run.tools = [by_id.get(t.tool_call_id, t) for t in run.tools]
        self._remember(run)
        events = self._drive(run, resumed=True)
        return events if stream else self._collect(events, run)

    def run(self, prompt: str, *, stream: bool = False, session_id: str | None = None) -> Any:
        """Synchronous `arun`. With stream=True, a plain iterator of events."""
        if stream:
            return _sync_iter(lambda: self.arun(prompt, stream=True, session_id=session_id))
        return asyncio.run(self.arun(prompt, session_id=session_id))

    def continue_run(
        self,
        run_response: RunOutput | None = None,
        *,
        run_id: str | None = None,
        updated_tools: list[ToolExecution] | None = None,
        stream: bool = False,
    ) -> Any:
        """Synchronous `acontinue_run`."""
        if stream:
            return _sync_iter(
                lambda: self.acontinue_run(run_response, run_id=run_id, updated_tools=updated_tools, stream=True)
            )
        return asyncio.run(self.acontinue_run(run_response, run_id=run_id, updated_tools=updated_tools))

    def cancel(self, run_id: str | None = None) -> None:
        """Ask a running run to stop at the next chunk or step (it ends with status `cancelled`)."""
        rid = run_id or (self.run_response.run_id if self.run_response else None)
        if rid:
            self._cancel_requested.add(rid)

    async def wait_for_decisions(self, run: RunOutput | None = None, timeout: float | None = None, **kwargs: Any) -> RunOutput:
        """Wait until every pending call of `run` is decided in the store, by anyone (tui/agent/waiting.py)."""
        from .waiting import wait_for_decisions

        return await wait_for_decisions(self, run, timeout, **kwargs)

    def get_run(self, run_id: str, *, refresh: bool = False) -> RunOutput | None:
        """The run, from memory or the store. `refresh=True` brings it up to the stored state (in
        place, so references to it stay valid): the way to reload after a `RunConflict`."""
        known = self._runs.get(run_id)
        if known is not None and not (refresh and self.store is not None):
            return known
        if self.store is not None:
            run = self.store.load_run(run_id, exact=True)
            if run is not None:
                if known is not None:
                    self._adopt(known, run)
                    run = known
                self.bind_tools(run)
                # Decisions made on this object must be the ones a later continue sees.
                self._index(run)
            return run
        return None

    def save_decisions(self, run: RunOutput, tools: Sequence[ToolExecution] | None = None) -> None:
        """Record the decisions made on `tools` (default: every decided call still pending) in the
        store, before the run continues, so a crash cannot lose them.

        The first decision on a call wins: if someone else decided one of these calls first, their
        decision is applied to this object and `AlreadyDecided` (a `DecisionConflict`) says who and
        when; the other decisions are recorded all the same.
        """
        run.touch()
        if self.store is None:
            return
        decided = self._decided_locally(run, tools)
        if not decided:
            return
        try:
            self.store.record_decisions(run, decided, approver=self.approver, strict=True)
        except Exception:
            try:
                self.store.apply_decisions(run)  # show what the store holds
            except Exception:
                pass
            raise

    def validate_edit(self, tool: ToolExecution, args: dict[str, Any]) -> dict[str, Any]:
        """Check edited arguments against the tool's schema; raises ValueError with the problems."""
        fn = self.functions.get(tool.tool_name)
        if fn is None:
            raise ValueError(f"unknown tool {tool.tool_name!r}")
        return _jsonable(fn.validate_args(args))

    # ------------------------------------------------------------------ internals

    def _index(self, run: RunOutput) -> None:
        self._runs[run.run_id] = run
        self._sessions.setdefault(run.session_id, {})[run.run_id] = run

    def _remember(self, run: RunOutput) -> None:
        self._index(run)
        self.run_response = run

    def _resolve_run(self, run_response: RunOutput | None, run_id: str | None) -> RunOutput:
        if run_response is not None:
            return run_response
        if run_id is not None:
            run = self.get_run(run_id)
            if run is None:
                where = "in this agent or its store" if self.store else "in this agent (no store is attached)"
                raise ValueError(f"no run {run_id!r} {where}")
            if run.session_id != self.session_id and run.run_id not in self._runs:
                self.session_id = run.session_id
            return run
        if self.run_response is None:
            raise ValueError("there is no run to continue: call arun() first, or pass run_id=")
        return self.run_response

    async def _collect(self, events: AsyncIterator[RunEvent], run: RunOutput) -> RunOutput:
        async for _ in events:
            pass
        return run

    def _persist(self, run: RunOutput, claim: Sequence[str] = ()) -> None:
        run.touch()
        if self.store is None:
            return
        try:
            self._flush_ledger(run)
            self.store.save_run(run, claim=claim)
        except (RunConflict, StoreFailure):
            raise  # another holder has the run: the caller reloads, nothing is overwritten
        except Exception as exc:  # a store error must never pass silently
            raise StoreFailure(f"could not save run {run.run_id} to the history database: {exc}") from exc

    async def _apersist(self, run: RunOutput, claim: Sequence[str] = ()) -> None:
        """`_persist` in a worker thread: the event loop (and a UI on it) keeps running meanwhile."""
        if self.store is None:
            run.touch()
            return
        await asyncio.to_thread(self._persist, run, claim)

    def _ledger(self, run: RunOutput, tool: ToolExecution, decision: str) -> None:
        """Note a decision the runtime made; it is recorded with the next save, in one transaction."""
        if self.store is None:
            return
        self._unrecorded.setdefault(run.run_id, {})[tool.tool_call_id] = tool

    def _flush_ledger(self, run: RunOutput) -> None:
        queue = self._unrecorded.pop(run.run_id, None)
        if not queue or self.store is None:
            return
        try:
            self.store.record_decisions(run, list(queue.values()), approver=self.approver)
        except Exception as exc:
            raise StoreFailure(f"could not record the decisions on {run.run_id}: {exc}") from exc

    # ------------------------------------------------------------------ the store is the authority

    def _decided_locally(self, run: RunOutput, tools: Sequence[ToolExecution] | None = None) -> list[ToolExecution]:
        """Gated calls still pending that carry a decision made on this object, which the runtime
        would accept (invalid edits or form values stay here, to be reported, not recorded)."""
        out = []
        for t in run.tools if tools is None else tools:
            if t.status != "pending" or not t.is_gated or t.is_awaiting_decision:
                continue
            if t.requires_confirmation and t.confirmed is None:
                continue
            if t.decided_by is None:
                t.decided_by = "user"
            if t.decided_at is None:
                t.decided_at = utcnow()
            if t.approver is None:
                t.approver = self.approver
            if run._display_copy and t.was_edited:
                continue  # edited on a redacted view: it would run "[REDACTED]"; not recorded
            fn = self.functions.get(t.tool_name)
            if fn is not None and t.requires_confirmation and t.confirmed and t.was_edited:
                try:
                    fn.validate_args(t.tool_args)
                except ValueError:
                    continue
            if fn is not None and t.requires_user_input and t.confirmed is not False:
                self._bind_field_types(t, fn)
                try:
                    for f in t.user_input_schema or []:
                        f.coerce(f.value)
                except ValueError:
                    continue
            out.append(t)
        return out

    def _take_from_store(self, run: RunOutput) -> bool:
        """Record this object's decisions, then bring it up to the stored state. Runs in a thread.

        Returns True when the stored run is finished although this copy was not (a stale copy of
        a run finished elsewhere: nothing is to be executed). Raises RunConflict when a live
        process is running the run.
        """
        store = self.store
        assert store is not None
        holder = store.run_holder(run.run_id)
        if holder is None:
            return False  # never stored: the first save inserts it
        decided = self._decided_locally(run)
        if decided:
            store.record_decisions(run, decided, approver=self.approver)
        checked_here = {t.tool_call_id for t in decided}
        status, version, who, alive = holder[:4]
        if alive and holder.pid == os.getpid() and holder.host == socket.gethostname() and run.run_id not in _DRIVING:
            alive = False  # left `running` by this process, and nobody here drives it any more
        if status == RunStatus.running.value and run.run_id not in self._active:
            if alive:
                raise RunConflict(
                    f"run {run.run_id} is being run by {who} (version {version}): nothing was executed here. "
                    f"Wait for it to pause or finish, then reload it with agent.get_run({run.run_id!r}, refresh=True)",
                    run_id=run.run_id, stored_status=status, stored_version=version,
                    your_version=run.store_version, holder=who,
                )
            store.recover_run(run.run_id, gone_at=version)  # its holder is gone: settle it (interrupted calls are reported)
            holder = store.run_holder(run.run_id)
            assert holder is not None
            version = holder[1]
        was_finished = run.is_finished
        if run.store_version != version or run._display_copy:  # a redacted display copy is never run
            fresh = store.load_run(run.run_id, exact=True)
            if fresh is not None:
                self._adopt(run, fresh)
            overlaid = {t.tool_call_id for t in run.tools if t.status == "pending" and t.decided_by is not None}
        else:
            overlaid = set(store.apply_decisions(run))
        self._from_records[run.run_id] = overlaid - checked_here
        self.bind_tools(run)
        return run.is_finished and not was_finished

    @staticmethod
    def _adopt(run: RunOutput, fresh: RunOutput) -> None:
        """Make `run` the stored state `fresh`, in place (tool objects of the same call are kept).

        Secret-named form values typed in this process are not written to the store while their
        call waits; they are kept from the object when the stored call still waits for them.
        """
        old = {t.tool_call_id: t for t in run.tools}
        tools = []
        for t in fresh.tools:
            mine = old.get(t.tool_call_id)
            if mine is None:
                tools.append(t)
                continue
            typed = {f.name: f.value for f in mine.user_input_schema or [] if f.value is not None}
            for name in ToolExecution.model_fields:
                setattr(mine, name, getattr(t, name))
            if t.status == "pending":
                for f in mine.user_input_schema or []:
                    if f.value is None and f.name in typed:
                        f.value = typed[f.name]
            tools.append(mine)
        for name in RunOutput.model_fields:
            if name != "tools":
                setattr(run, name, getattr(fresh, name))
        run.tools = tools
        run._store_version = fresh.store_version
        run._display_copy = fresh._display_copy

    def _refresh_quietly(self, run: RunOutput) -> None:
        if self.store is None:
            return
        try:
            fresh = self.store.load_run(run.run_id, exact=True)
        except Exception:
            return
        if fresh is not None:
            self._adopt(run, fresh)

    def _context(self, run: RunOutput) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        system = self._system_prompt()
        if system:
            messages.append({"role": "system", "content": system})
        for other in self._session_history(run):
            messages.extend(m.to_openai() for m in other.messages)
        messages.extend(m.to_openai() for m in run.messages)
        return sanitize_history(messages)

    def _session_history(self, run: RunOutput) -> list[RunOutput]:
        """Earlier runs of the same session, oldest first (their turns are the context).

        Runs of a session this agent has not seen (e.g. after a restart) are read from the store
        once; after that the in-memory index answers, so a turn costs no database read.
        """
        session = self._sessions.setdefault(run.session_id, {})
        if self.store is not None and run.session_id not in self._sessions_loaded:
            try:
                for r in self.store.session_runs(run.session_id):
                    session.setdefault(r.run_id, r)  # objects already in memory stay authoritative
                self._sessions_loaded.add(run.session_id)
            except Exception:
                pass  # history is context, never a reason to fail a run
        earlier = [r for r in session.values() if r.run_id != run.run_id and r.created_at <= run.created_at]
        return sorted(earlier, key=lambda r: r.created_at)

    def _system_prompt(self) -> str | None:
        parts = []
        if self.instructions:
            parts.append(self.instructions)
        if self.markdown:
            parts.append("Use Markdown to format your answers.")
        return "\n\n".join(parts) or None

    def _is_cancelled(self, run: RunOutput) -> bool:
        return run.run_id in self._cancel_requested

    async def _drive(self, run: RunOutput, *, resumed: bool) -> AsyncIterator[RunEvent]:
        if run.run_id in self._active:
            raise RuntimeError(f"run {run.run_id} is already running")
        if run.status in (RunStatus.completed, RunStatus.cancelled):
            raise ValueError(f"run {run.run_id} is {run.status}; there is nothing to continue")
        if resumed and self.store is not None:
            try:
                stale_finished = await asyncio.to_thread(self._take_from_store, run)
            except RunConflict:
                raise
            except Exception as exc:  # a store error must never pass silently: the run says why it stopped
                run.status = RunStatus.error
                run.error = str(StoreFailure(f"could not read run {run.run_id} from the history database: {exc}"))
                yield RunError(run_id=run.run_id, run=run, error=run.error)
                return
            if stale_finished:
                # A stale copy: the run finished elsewhere. Nothing runs; the caller sees how it ended.
                final = RunCompleted if run.status == RunStatus.completed else RunCancelled
                yield final(run_id=run.run_id, run=run)
                return
            if run.status in (RunStatus.completed, RunStatus.cancelled):
                raise ValueError(f"run {run.run_id} is {run.status}; there is nothing to continue")
        self._active.add(run.run_id)
        _DRIVING.add(run.run_id)
        self._cancel_requested.discard(run.run_id)
        before = (run.status, run.error)
        run.status = RunStatus.running
        run.error = None
        started = False
        try:
            await self._apersist(run)  # the checked transition: one holder wins it
            started = True
            yield (RunContinued if resumed else RunStarted)(run_id=run.run_id, run=run)
            async for event in self._loop(run):
                yield event
        except RunConflict as exc:
            if not started:  # another holder has the run: nothing happened here
                run.status, run.error = before
                self._refresh_quietly(run)
                raise
            # Taken over mid-run, or a call claimed elsewhere: nothing more runs; show the stored state.
            self._refresh_quietly(run)
            yield RunError(run_id=run.run_id, run=run, error=str(exc))
        except asyncio.CancelledError:
            self._finish_cancelled(run)
            raise
        except GeneratorExit:
            # The consumer stopped listening (e.g. the UI worker was cancelled mid-stream).
            if run.status == RunStatus.running:
                self._finish_cancelled(run)
            raise
        except StoreFailure as exc:
            run.status = RunStatus.error
            run.error = str(exc)
            yield RunError(run_id=run.run_id, run=run, error=run.error)
        except Exception as exc:  # errors are data: the run records them, the caller never crashes
            run.status = RunStatus.error
            run.error = f"Internal error: {type(exc).__name__}: {exc}"
            try:
                self._persist(run)
            except (StoreFailure, RunConflict):
                pass
            yield RunError(run_id=run.run_id, run=run, error=run.error)
        finally:
            self._active.discard(run.run_id)
            _DRIVING.discard(run.run_id)
            self._cancel_requested.discard(run.run_id)

    def _finish_cancelled(self, run: RunOutput) -> None:
        run.status = RunStatus.cancelled
        for t in run.tools:
            if t.status == "running":
                t.status = "error"
                t.error = t.result = "Cancelled by the user while running."
                t.finished_at = utcnow()
        try:
            self._persist(run)
        except (StoreFailure, RunConflict):
            pass

    async def _loop(self, run: RunOutput) -> AsyncIterator[RunEvent]:
        # The turn budget guards against a model that never stops calling tools on its own. Each
        # start or continue (a person's action) grants a fresh budget, so "continue" really does
        # give a run that hit the limit more turns.
        first_turn = run.turns
        while True:
            if self._is_cancelled(run):
                self._finish_cancelled(run)
                yield RunCancelled(run_id=run.run_id, run=run)
                return

            if run.open_turn is not None:
                async for event in self._resolve_turn(run):
                    yield event
                if run.open_turn is not None:  # still waiting for people
                    waiting = [t for t in run.tools if t.turn == run.open_turn and t.status == "pending"]
                    run.status = RunStatus.paused
                    await self._apersist(run)
                    if self.on_pause:
                        from .notify import call_hooks

                        call_hooks(self.on_pause, run, waiting)
                    yield RunPaused(run_id=run.run_id, run=run, tools=waiting)
                    return
                continue

            if run.turns - first_turn >= self.max_turns:
                run.status = RunStatus.error
                run.error = (
                    f"Stopped after {self.max_turns} model turns without a final answer "
                    "(the model kept calling tools). Continue the run to give it more turns."
                )
                await self._apersist(run)
                yield RunError(run_id=run.run_id, run=run, error=run.error)
                return

            # --- ask the model
            response: ModelResponse | None = None
            try:
                async for chunk in self.model.astream(self._context(run), [f.to_openai_tool() for f in self.tools]):
                    if self._is_cancelled(run):
                        break
                    if chunk.text:
                        yield ContentDelta(run_id=run.run_id, text=chunk.text)
                    if chunk.response is not None:
                        response = chunk.response
            except ModelError as exc:
                run.status = RunStatus.error
                run.error = exc.message
                await self._apersist(run)
                yield RunError(run_id=run.run_id, run=run, error=run.error)
                return
            if self._is_cancelled(run):
                continue
            if response is None:
                run.status = RunStatus.error
                run.error = "The model ended its reply without a response. Try again, or check the model server."
                await self._apersist(run)
                yield RunError(run_id=run.run_id, run=run, error=run.error)
                return

            run.turns += 1
            turn = run.turns
            tool_calls = self._normalise_calls(run, response)
            run.messages.append(
                Message(
                    role="assistant",
                    content=response.content or None,
                    tool_calls=[
                        {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}
                        for cid, name, args in tool_calls
                    ]
                    or None,
                )
            )
            if not tool_calls:
                run.content = response.content
                run.status = RunStatus.completed
                await self._apersist(run)
                yield RunCompleted(run_id=run.run_id, run=run)
                return

            new_tools = [self._make_execution(cid, name, raw, turn) for cid, name, raw in tool_calls]
            run.tools.extend(new_tools)
            run.open_turn = turn
            await self._apersist(run)
            for t in new_tools:
                yield ToolCallStarted(run_id=run.run_id, tool=t)
                if t.status == "error":  # unusable call: the model hears why, nobody is asked
                    yield ToolCallCompleted(run_id=run.run_id, tool=t)

    def _normalise_calls(self, run: RunOutput, response: ModelResponse) -> list[tuple[str, str, str]]:
        """Give every call a unique id (some servers omit or reuse them)."""
        seen = {t.tool_call_id for t in run.tools}
        out = []
        for call in response.tool_calls:
            cid = (call.id or "").strip()
            if not cid or cid in seen:
                cid = new_id("call_")
            seen.add(cid)
            out.append((cid, (call.name or "").strip(), call.arguments or ""))
        return out

    def _make_execution(self, call_id: str, name: str, raw_args: str, turn: int) -> ToolExecution:
        fn = self.functions.get(name)
        t = ToolExecution(tool_call_id=call_id, tool_name=name or "(no name)", turn=turn)
        try:
            args = parse_arguments(raw_args)
        except ValueError as exc:
            t.tool_args = {"_raw": clean_text(raw_args)}
            return self._fail(t, clean_text(f"Error: {exc}. Call {name} again with a valid JSON object of arguments."))
        # Whatever the model sent must be storable: unstorable characters get a visible marker
        # (the call runs with it); content that had to be cut means the call cannot run as sent.
        bounded = bound_value(args)
        args = bounded.value
        if bounded.was_cut:
            t.tool_args = args
            return self._fail(
                t, f"Error: the arguments of {name} are too large to run ({bounded.describe()}). Nothing was run; "
                "call the tool again with smaller arguments."
            )
        t.tool_args = args
        t.proposed_args = dict(args)
        if fn is None:
            known = ", ".join(sorted(self.functions)) or "none"
            return self._fail(t, f"Error: there is no tool named {name!r}. Available tools: {known}.")
        t.description = fn.description
        t.requires_confirmation = fn.requires_confirmation
        t.requires_user_input = fn.requires_user_input
        t.external_execution_required = fn.external_execution
        t.approval_timeout = fn.approval_timeout
        t.on_timeout = fn.on_timeout
        if fn.requires_user_input:
            # The model may not fill the user's fields: whatever it sent for them is discarded.
            for field_name in fn.user_input_fields:
                t.tool_args.pop(field_name, None)
            t.proposed_args = dict(t.tool_args)
            t.user_input_schema = fn.user_input_schema()
        try:
            fn.validate_args(t.tool_args)
        except ValueError as exc:
            return self._fail(t, f"Error: invalid arguments for {name}: {exc}. Fix them and call the tool again.")
        return t

    @staticmethod
    def _fail(t: ToolExecution, message: str) -> ToolExecution:
        t.status = "error"
        t.error = message
        t.result = message
        t.requires_confirmation = t.requires_user_input = t.external_execution_required = False
        now = utcnow()
        t.started_at = t.finished_at = now
        return t

    async def _resolve_turn(self, run: RunOutput) -> AsyncIterator[RunEvent]:
        """Apply decisions to the open turn, run what may run, and close the turn when all is done."""
        turn_tools = [t for t in run.tools if t.turn == run.open_turn]

        # A tool marked running when the process died: we cannot know whether it took effect.
        for t in turn_tools:
            if t.status == "running":
                t.status = "error"
                t.error = t.result = (
                    "Interrupted: hitl-tui stopped while this tool was running, so it may or may not "
                    "have taken effect. Check before calling it again."
                )
                t.finished_at = utcnow()
                yield ToolCallCompleted(run_id=run.run_id, tool=t)

        to_run: list[tuple[ToolExecution, Function, dict[str, Any]]] = []
        for t in turn_tools:
            if t.status != "pending":
                continue
            fn = self.functions.get(t.tool_name)
            if fn is None:
                self._fail(t, f"Error: the tool {t.tool_name!r} is not available in this session.")
                yield ToolCallCompleted(run_id=run.run_id, tool=t)
                continue
            if t.is_gated and t.decided_by is None and not t.is_awaiting_decision:
                t.decided_by = "user"
                t.decided_at = utcnow()
            self._apply_policy(run, t)
            self._apply_timeout(t)
            if t.status == "rejected":  # a form or external call timed out: recorded, never run or completed
                self._ledger(run, t, "timed_out")
                yield ToolCallCompleted(run_id=run.run_id, tool=t)
                continue

            if t.requires_confirmation:
                if t.confirmed is None:
                    continue
                if t.confirmed is False:
                    self._reject(run, t)
                    yield ToolCallCompleted(run_id=run.run_id, tool=t)
                    continue
                try:
                    args = fn.validate_args(t.tool_args)
                except ValueError as exc:
                    if self._recorded_elsewhere(run, t):  # a recorded decision is final: decline, say why
                        yield self._decline(run, t, f"the edited arguments are invalid: {exc}")
                        continue
                    # Invalid edited arguments are not accepted: the call waits for a new decision.
                    t.confirmed = None
                    t.error = f"The edited arguments are invalid: {exc}"
                    continue
                t.error = None
                decision = "edited" if t.was_edited else ("approved" if t.decided_by in (None, "user") else "auto_allowed")
                to_run.append((t, fn, args))
                t.executed_args = _jsonable(args)
                self._ledger(run, t, decision)
            elif t.requires_user_input:
                values: dict[str, Any] = {}
                errors = False
                self._bind_field_types(t, fn)
                for f in t.user_input_schema or []:
                    if f.value is None:
                        errors = True
                        continue
                    try:
                        f.value = f.coerce(f.value)
                        f.error = None
                        values[f.name] = f.value
                    except ValueError as exc:
                        f.error = str(exc)
                        errors = True
                if errors:
                    if self._recorded_elsewhere(run, t):  # a recorded decision is final: decline, say why
                        problems = "; ".join(f"{f.name}: {f.error or 'a value is required'}" for f in t.user_input_schema or [] if f.error or f.value is None)
                        yield self._decline(run, t, f"the values given are invalid ({problems})")
                    continue
                args = {**t.tool_args, **values}
                try:
                    args = fn.validate_args(args, include_user_fields=True)
                except ValueError as exc:
                    t.error = f"The values do not fit the tool: {exc}"
                    continue
                t.error = None
                t.executed_args = _jsonable(args)
                to_run.append((t, fn, args))
                self._ledger(run, t, "input_provided")
            elif t.external_execution_required:
                if t.result is None:
                    continue
                t.status = "completed"
                t.executed_args = _jsonable(t.tool_args)
                t.started_at = t.started_at or t.decided_at or utcnow()
                t.finished_at = utcnow()
                self._ledger(run, t, "result_provided")
                yield ToolCallCompleted(run_id=run.run_id, tool=t)
            else:
                args = fn.validate_args(t.tool_args)
                t.executed_args = _jsonable(args)
                to_run.append((t, fn, args))

        if to_run:
            for t, _, _ in to_run:
                t.status = "running"
                t.started_at = utcnow()
            # Claimed in the store, atomically with "running", before any tool has an effect: a
            # holder that loses the claim (another process, a stale copy) runs nothing.
            await self._apersist(run, claim=[t.tool_call_id for t, _, _ in to_run])
            for t, _, _ in to_run:
                yield ToolCallStarted(run_id=run.run_id, tool=t)
            await asyncio.gather(*(self._execute(t, fn, args) for t, fn, args in to_run))
            await self._apersist(run)
            for t, _, _ in to_run:
                yield ToolCallCompleted(run_id=run.run_id, tool=t)

        if any(t.status in ("pending", "running") for t in turn_tools):
            await self._apersist(run)
            return
        for t in turn_tools:
            run.messages.append(
                Message(role="tool", tool_call_id=t.tool_call_id, name=t.tool_name, content=self._tool_message(t))
            )
        run.open_turn = None
        await self._apersist(run)

    @staticmethod
    def _bind_field_types(t: ToolExecution, fn: Function) -> None:
        """Give restored fields their tool's full types again (JSON keeps only a type's name, not its validators)."""
        live = {f.name: f for f in fn.user_input_schema()}
        for f in t.user_input_schema or []:
            if f.name in live:
                f.field_type = live[f.name].field_type
                f._validated_type = live[f.name]._validated_type

    def bind_tools(self, run: RunOutput) -> None:
        """Re-attach the tools' full field types to a run loaded from the store, so forms validate fully."""
        for t in run.tools:
            fn = self.functions.get(t.tool_name)
            if fn is not None and t.requires_user_input:
                self._bind_field_types(t, fn)

    def _recorded_elsewhere(self, run: RunOutput, t: ToolExecution) -> bool:
        """The call's decision is a record in the store that this runtime did not check first (sent
        through the approvals inbox: the store has no tool schemas)."""
        return t.tool_call_id in self._from_records.get(run.run_id, set())

    def _decline(self, run: RunOutput, t: ToolExecution, why: str) -> ToolCallCompleted:
        """A recorded decision that cannot be applied: the call is not run and the model hears why."""
        t.confirmed = False
        t.confirmation_note = why
        t.status = "rejected"
        t.error = f"The decision could not be applied: {why}."
        t.result = f"The call to {t.tool_name} was not run: the decision on it could not be applied ({why}). Ask the user what to do."
        t.finished_at = utcnow()
        self._ledger(run, t, "rejected")
        return ToolCallCompleted(run_id=run.run_id, tool=t)

    def _apply_policy(self, run: RunOutput, t: ToolExecution) -> None:
        if not t.awaiting_confirmation:
            return
        decision = self.policy.decide(t, run) if self.policy is not None else None
        if decision is None or decision.effect == "ask":
            return
        if decision.effect == "allow":
            t.confirm(by=decision.decided_by)
        else:
            t.reject(decision.note, by=decision.decided_by)

    def _apply_timeout(self, t: ToolExecution) -> None:
        if not t.is_awaiting_decision or not t.approval_timeout:
            return
        waited = (utcnow() - t.created_at).total_seconds()
        if waited < t.approval_timeout:
            return
        note = f"No decision came within {t.approval_timeout:g} seconds."
        if t.on_timeout == "approve" and t.requires_confirmation:
            t.confirm(by="timeout")
        elif t.requires_confirmation:
            t.reject(note, by="timeout")
        else:
            # User-input and external tools cannot be completed without a person: time out as a rejection.
            t.confirmed = False
            t.confirmation_note = note
            t.decided_by = "timeout"
            t.decided_at = utcnow()
            t.status = "rejected"
            t.result = f"The user did not provide the input in time ({note}) The call was not run."
            t.finished_at = utcnow()

    def _reject(self, run: RunOutput, t: ToolExecution) -> None:
        t.status = "rejected"
        t.finished_at = utcnow()
        if t.decided_by == "timeout":
            t.result = f"No decision came in time: the call to {t.tool_name} was not run. {t.confirmation_note or ''}".strip()
            decision = "timed_out"
        else:
            who = "The user" if t.decided_by in (None, "user") else f"The approval policy ({t.decided_by})"
            t.result = f"{who} declined to run {t.tool_name}; it was not run."
            if t.confirmation_note:
                t.result += f" Reason given: {t.confirmation_note}"
            t.result += " Do not retry the same call; take the reason into account or ask the user what to do instead."
            decision = "rejected" if t.decided_by in (None, "user") else "auto_denied"
        self._ledger(run, t, decision)

    async def _execute(self, t: ToolExecution, fn: Function, args: dict[str, Any]) -> None:
        try:
            value = await fn.acall(args)
        except ToolError as exc:
            t.status = "error"
            t.error = str(exc)
            t.result = f"Error: {exc}"
        except Exception as exc:
            t.status = "error"
            t.error = f"{type(exc).__name__}: {exc}"
            t.result = f"Error: the tool {t.tool_name} raised {type(exc).__name__}: {exc}"
        else:
            t.status = "completed"
            t.result = value if isinstance(value, str) else to_text(value)
        # A result must be storable whatever the tool returned (a file name that is not UTF-8, NUL
        # bytes, 10 MB): marked and bounded here, so the model and the history see the same text.
        t.result = clean_text(t.result) if t.result is not None else None
        t.error = clean_text(t.error) if t.error is not None else None
        t.finished_at = utcnow()

    @staticmethod
    def _tool_message(t: ToolExecution) -> str:
        text = t.result if t.result is not None else (t.error or "")
        if t.status == "completed" and t.was_edited and t.executed_args is not None:
            return (
                f"Note: the user edited the arguments before approving. The tool ran with "
                f"{_dumps(t.executed_args)} instead of the proposed {_dumps(t.proposed_args or {})}.\n"
                f"Result: {text}"
            )
        return text


def _sync_iter(make: Any) -> Iterator[RunEvent]:
    """Drive an async event iterator from synchronous code, on a private event loop."""
    loop = asyncio.new_event_loop()
    agen = make()
    try:
        while True:
            try:
                yield loop.run_until_complete(agen.__anext__())
            except StopAsyncIteration:
                break
    finally:
        loop.run_until_complete(agen.aclose())
        loop.run_until_complete(loop.shutdown_asyncgens())  # closes the model's client on this loop
        loop.close()
