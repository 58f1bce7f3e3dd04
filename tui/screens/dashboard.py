"""The dashboard: conversation, tool calls and pending approvals, and the worker that drives runs.

Each prompt (and each continuation of a paused run) is consumed by one exclusive async worker that
turns the runtime's events into widget updates. What waits, what to open next, batch decisions,
deadlines and when a run may continue all come from the headless approvals core
(`tui.agent.approvals.ApprovalsCore`); the screen renders it and schedules its timers. The core
also reads the store's inbox, so the approvals pane lists the calls that other processes' runs
wait for: they are decided here and continued by their owners (or taken over when the owner died).
"""

from __future__ import annotations

import asyncio
import time
from functools import partial
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Header, Static, Tab, Tabs
from textual.worker import Worker, WorkerState

from tui.agent.approvals import ApprovalsCore
from tui.agent.conflicts import DecisionConflict
from tui.agent.decisions import Decision, DecisionError
from tui.agent.events import (
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
from tui.agent.run import RunOutput, RunStatus, ToolExecution
from tui.paths import stylesheet
from tui.widgets.approvals_pane import ApprovalsPane
from tui.widgets.conversation import Conversation
from tui.widgets.tool_log import ToolLog

if TYPE_CHECKING:
    from tui.agent import Agent

#: Seconds within which a second `esc` cancels the streaming turn.
ESC_WINDOW = 2.0

PANE_TABS = {"tab-conversation": "conversation", "tab-tools": "tool-log", "tab-approvals": "approvals"}


def example_prompts(tool_names: set[str]) -> list[str]:
    """Prompts the demo model understands, for the tools that are loaded."""
    examples = []
    if "get_top_hackernews_stories" in tool_names:
        examples.append("Fetch the top 2 hackernews stories")
    if "send_email" in tool_names:
        examples.append("Send an email with the subject 'Hello' and the body 'Hello, world!'")
    if "write_file" in tool_names:
        examples.append("Write a file named notes.txt with 'hello'")
    return examples


class Dashboard(Screen):
    """Three panes side by side; below 100 columns, one pane at a time behind tabs."""

    CSS_PATH = [stylesheet(name) for name in ("dashboard", "conversation", "tool_log", "approvals")]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide"), (160, "-very-wide")]
    HELP_TITLE = "Dashboard"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "app.focus_next", "Next pane", id="dashboard.focus_next", tooltip="Move the focus to the next pane"),
        Binding("shift+tab", "app.focus_previous", "Previous pane", show=False, id="dashboard.focus_previous"),
        Binding(
            "escape",
            "cancel_turn",
            "Cancel turn",
            key_display="esc esc",
            id="dashboard.cancel_turn",
            tooltip="Press esc twice to cancel the turn that is streaming",
        ),
        Binding(
            "ctrl+r",
            "retry_run",
            "Continue run",
            id="dashboard.retry_run",
            tooltip="Continue the run that stopped with an error or was interrupted",
        ),
    ]

    def __init__(
        self,
        agent: "Agent",
        *,
        auto_open: bool = True,
        bell: bool = True,
        deterministic: bool = False,
        is_demo: bool = False,
        approver: str | None = None,
        inbox_poll: float = 0.5,
        desktop_notifications: str = "auto",
        name: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id)
        self.agent = agent
        self.auto_open = auto_open
        self.ring_bell = bell
        self.deterministic = deterministic
        self.is_demo = is_demo
        #: What waits, what comes next and when a run may continue: the headless approvals core.
        self.core = ApprovalsCore(agent, approver=approver)
        self.inbox_poll = inbox_poll
        self.desktop_notifications = desktop_notifications
        #: Every run this dashboard knows, by id: the same objects the agent mutates.
        self.runs: dict[str, RunOutput] = self.core.runs
        self._worker: Worker | None = None
        self._active_run_id: str | None = None
        self._modal_open = False
        self._esc_at = 0.0
        self._streamed = False
        self._paused_run: RunOutput | None = None
        self._retry_candidate: RunOutput | None = None
        self._modal_key: tuple[str, str] | None = None

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Header()
        yield Tabs(
            Tab("Conversation", id="tab-conversation"),
            Tab("Tool calls", id="tab-tools"),
            Tab("Approvals", id="tab-approvals"),
            id="pane-tabs",
        )
        with Horizontal(id="panes"):
            tools = set(self.agent.functions)
            if self.is_demo:
                intro = "You are talking to the offline demo model: it picks tools by simple rules."
            else:
                intro = "Type a prompt below and press enter. Gated tools wait for your decision."
            conversation = Conversation(
                examples=example_prompts(tools) if self.is_demo else [],
                intro=intro,
                cursor_blink=not self.deterministic,
                id="conversation",
                classes="pane -active",
            )
            conversation.border_title = "Conversation"
            yield conversation
            log = ToolLog(show_times=not self.deterministic, id="tool-log", classes="pane")
            log.border_title = "Tool calls"
            yield log
            approvals = ApprovalsPane(show_times=not self.deterministic, id="approvals", classes="pane")
            approvals.border_title = "Approvals"
            yield approvals
        yield Static(id="status-line")
        yield Footer()

    def on_mount(self) -> None:
        self.conversation.prompt.focus()
        self._update_status()
        if self.core.has_inbox and self.inbox_poll > 0:
            # The inbox: other processes' paused calls appear here live (one tiny read per tick).
            self._poll_inbox()
            self.set_interval(self.inbox_poll, self._poll_inbox)

    @property
    def conversation(self) -> Conversation:
        return self.query_one(Conversation)

    @property
    def tool_log(self) -> ToolLog:
        return self.query_one(ToolLog)

    @property
    def approvals(self) -> ApprovalsPane:
        return self.query_one(ApprovalsPane)

    @on(Tabs.TabActivated, "#pane-tabs")
    def _tab_activated(self, event: Tabs.TabActivated) -> None:
        target = PANE_TABS.get(event.tab.id or "")
        for pane in self.query(".pane"):
            pane.set_class(pane.id == target, "-active")

    def show_pane(self, pane_id: str) -> None:
        """Make a pane visible (in the narrow layout, switch to its tab)."""
        for tab_id, target in PANE_TABS.items():
            if target == pane_id:
                self.query_one(Tabs).active = tab_id

    def on_descendant_focus(self, event) -> None:
        # Focus moved into a pane (tab key, a click): in the narrow layout, follow it with the tabs.
        node = event.widget
        while node is not None and node is not self:
            if "pane" in node.classes and node.id:
                if not node.has_class("-active"):
                    self.show_pane(node.id)
                return
            node = node.parent

    @on(ApprovalsPane.CountChanged)
    def _count_changed(self, event: ApprovalsPane.CountChanged) -> None:
        tab = self.query_one("#tab-approvals", Tab)
        tab.label = f"Approvals ({event.count})" if event.count else "Approvals"
        if not event.count and self.focused is not None and self.approvals in self.focused.ancestors_with_self:
            # The list emptied under the focus: back to the prompt, so typing types (and `h` is a letter).
            self.call_after_refresh(self.conversation.prompt.focus)
        self._update_status()

    def _update_status(self) -> None:
        if not self.is_mounted:
            return
        waiting = self.approvals.count
        if self.is_busy and time.monotonic() - self._esc_at < ESC_WINDOW:
            text = "● esc again cancels the turn"
        elif self.is_busy:
            text = "● The agent is working — esc esc cancels the turn"
        elif waiting:
            text = f"⏸ {waiting} waiting for you — open one from Approvals with enter"
        else:
            text = "Ready"
        self.query_one("#status-line", Static).update(text)
        self.set_class(self.is_busy, "-busy")
        self.refresh_bindings()
        show_waiting = getattr(self.app, "show_waiting", None)
        if show_waiting is not None:
            show_waiting(waiting)

    # ------------------------------------------------------------------ actions

    @property
    def is_busy(self) -> bool:
        return self._worker is not None and self._worker.state in (WorkerState.PENDING, WorkerState.RUNNING)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_turn":
            return self.is_busy
        if action == "retry_run":
            return self._retry_candidate is not None and not self.is_busy
        return True

    def action_cancel_turn(self) -> None:
        if not self.is_busy:
            return
        now = time.monotonic()
        if now - self._esc_at > ESC_WINDOW:
            self._esc_at = now
            self.notify("Press esc again to cancel the turn.", title="Cancel?", timeout=ESC_WINDOW)
            self._update_status()
            self.set_timer(ESC_WINDOW, self._update_status)
            return
        self._esc_at = 0.0
        self.cancel_turn()

    def cancel_turn(self) -> None:
        """Stop the streaming turn: ask the run to stop, and stop listening to it."""
        if self._active_run_id is not None:
            self.agent.cancel(self._active_run_id)
        if self._worker is not None:
            self._worker.cancel()

    def action_retry_run(self) -> None:
        run = self._retry_candidate
        if run is None or self.is_busy:
            return
        self._retry_candidate = None
        self.conversation.add_note("▶ Continuing the run…")
        self._continue(run)

    def new_session(self) -> bool:
        """Start a fresh conversation. Refused while a turn streams."""
        if self.is_busy:
            self.notify("The agent is still answering: press esc twice to cancel it first.", severity="warning")
            return False
        self.agent.new_session()
        self._retry_candidate = None
        self.run_worker(self._reset_view(), group="view", exclusive=True, exit_on_error=False)
        return True

    async def _reset_view(self, note: str = "New session.") -> None:
        await self.conversation.clear()
        self.tool_log.clear()
        self.conversation.add_note(note)
        self.show_pane("conversation")
        self.conversation.prompt.focus()

    # ------------------------------------------------------------------ prompts and the worker

    @on(Conversation.PromptSubmitted)
    def _prompt_submitted(self, event: Conversation.PromptSubmitted) -> None:
        event.stop()
        self.submit_prompt(event.text)

    def submit_prompt(self, text: str) -> bool:
        if self.is_busy:
            self.notify("The agent is still answering: wait, or press esc twice to cancel.", severity="warning")
            return False
        self.conversation.accept_prompt(text)
        self.conversation.add_user_prompt(text)
        self._retry_candidate = None
        self._start(lambda: self.agent.arun(text, stream=True), None)
        return True

    def _start(self, events: Callable[[], AsyncIterator[RunEvent]], run_id: str | None) -> None:
        self._active_run_id = run_id
        self._worker = self._agent_turn(events)
        self._update_status()

    @work(exclusive=True, exit_on_error=False, group="agent", description="Run the agent and show its events")
    async def _agent_turn(self, make_events: Callable[[], AsyncIterator[RunEvent]]) -> None:
        self._paused_run = None
        self._streamed = False
        events = make_events()
        try:
            async for event in events:
                await self._handle(event)
        except asyncio.CancelledError:
            self.conversation.add_note("✖ Cancelled.", kind="cancelled")
            raise
        finally:
            try:
                await self.conversation.end_reply()
            finally:
                await events.aclose()  # a cancelled run records itself as cancelled
        if self._paused_run is not None:
            run, self._paused_run = self._paused_run, None
            self._arm_timeouts(run)
            self._announce(self._waiting(run))
            if self.auto_open:
                self._open_next(run)
            elif self._waiting(run):
                self.notify("A tool call waits for your decision (see Approvals).", title="Paused")

    async def _handle(self, event: RunEvent) -> None:
        conversation, log = self.conversation, self.tool_log
        if isinstance(event, (RunStarted, RunContinued)):
            self.core.track(event.run)
            self._active_run_id = event.run_id
            self._streamed = False
        elif isinstance(event, ContentDelta):
            self._streamed = True
            await conversation.write(event.text)
        elif isinstance(event, ToolCallStarted):
            await conversation.end_reply()
            self._streamed = False
            conversation.add_tool_call(event.run_id, event.tool)
            log.upsert(event.run_id, event.tool)
            if not event.tool.is_awaiting_decision:
                self.approvals.discard(event.run_id, event.tool.tool_call_id)
        elif isinstance(event, ToolCallCompleted):
            log.upsert(event.run_id, event.tool)
            self.approvals.discard(event.run_id, event.tool.tool_call_id)
        elif isinstance(event, RunPaused):
            await conversation.end_reply()
            self._sync_run(event.run)
            waiting = [t for t in event.tools if t.is_awaiting_decision]
            names = ", ".join(sorted({t.tool_name for t in waiting})) or "a tool call"
            conversation.add_note(f"⏸ Waiting for your decision: {names}", kind="paused")
            self._paused_run = event.run
        elif isinstance(event, RunCompleted):
            await conversation.end_reply()
            if not self._streamed and event.run.content:
                conversation.add_reply(event.run.content)
            self._sync_run(event.run)
        elif isinstance(event, RunError):
            await conversation.end_reply()
            self._sync_run(event.run)
            conversation.add_error(event.error)
            self.notify(event.error, title="The run stopped", severity="error", markup=False, timeout=8)
            if event.run.status != RunStatus.completed:
                self._retry_candidate = event.run
                conversation.add_note("ctrl+r continues this run once the problem is fixed.", kind="hint")
        elif isinstance(event, RunCancelled):
            await conversation.end_reply()
            self._sync_run(event.run)
            conversation.add_note("✖ Cancelled.", kind="cancelled")

    def _sync_run(self, run: RunOutput) -> None:
        self.core.track(run)
        for tool in run.tools:
            self.tool_log.upsert(run.run_id, tool)
        self._show_pending()

    def _show_pending(self) -> None:
        """Make the approvals pane show exactly what the core says waits (this and other processes)."""
        self.approvals.show(self.core.pending(), origin=self._origin)

    def _origin(self, run: RunOutput) -> str | None:
        """`agent · host/pid` for a run held by another process (None for this dashboard's runs)."""
        holder = self.core.holder(run.run_id)
        if holder is None:
            return None
        who = run.agent_name or "agent"
        state = "" if holder.alive else " (gone: enter to take over)"
        return f"{who} · {holder.label}{state}"

    @on(Worker.StateChanged)
    def _worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != "agent":
            return
        if event.state == WorkerState.ERROR:
            error = worker.error
            message = f"{type(error).__name__}: {error}" if error is not None else "unknown error"
            self.conversation.add_error(message, title="Something went wrong")
            self.notify(message, title="Something went wrong", severity="error", markup=False, timeout=8)
        if event.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            if worker is self._worker:
                run = self.runs.get(self._active_run_id or "")
                if run is not None and event.state != WorkerState.SUCCESS:
                    self._sync_run(run)
                self._worker = None
                self._active_run_id = None
            self._drain_queue()
        self._update_status()

    # ------------------------------------------------------------------ decisions

    def _waiting(self, run: RunOutput) -> list[ToolExecution]:
        """The undecided calls of the run's open turn (the ones that hold it paused)."""
        return [t for t in self.core.waiting(run) if self.core.is_pending(run.run_id, t.tool_call_id)]

    # ------------------------------------------------------------------ the inbox: other processes' runs

    def _poll_inbox(self) -> None:
        """Show what other processes' runs wait for; continue our runs decided elsewhere."""
        before = set(self.approvals.keys())
        try:
            changed = self.core.poll()
        except Exception as exc:  # the inbox is a view: a store hiccup never breaks the dashboard
            if not getattr(self, "_inbox_error", None):
                self._inbox_error = str(exc)
                self.notify(f"Could not read the approvals inbox: {exc}", severity="warning", markup=False)
            return
        self._inbox_error = None
        if not changed:
            return
        self._show_pending()
        arrived = [
            tool
            for run, tool in self.core.pending()
            if (run.run_id, tool.tool_call_id) not in before and not self.core.is_local(run.run_id)
        ]
        if arrived:
            self._announce(arrived)
        for run in self.core.pop_decided_elsewhere():
            if self._modal_key is not None and self._modal_key[0] == run.run_id:
                self._modal_open = False
                self._modal_key = None
                self.app.pop_screen()
            if self.core.may_continue(run):
                self.conversation.add_note("▶ Decided elsewhere: continuing the run…")
                self._continue(run)
        self._update_status()

    def _announce(self, tools: list[ToolExecution]) -> None:
        """Something started waiting: the bell, and a desktop notification where the terminal has one."""
        if not tools:
            return
        if self.ring_bell:
            self.app.bell()
        from tui.desktop_notify import sequence

        names = ", ".join(sorted({t.tool_name for t in tools}))
        seq = sequence("hitl-tui", f"{names} waits for your decision", self.desktop_notifications)  # type: ignore[arg-type]
        driver = getattr(self.app, "_driver", None)
        if seq and driver is not None and not self.app.is_headless:
            driver.write(seq)

    @on(ApprovalsPane.ViewRun)
    def _view_run_requested(self, event: ApprovalsPane.ViewRun) -> None:
        event.stop()
        self.view_run(event.run_id)

    def view_run(self, run_id: str) -> None:
        """A run's conversation, calls and decisions, read-only (any run of the inbox)."""
        from tui.screens.run_view_screen import RunViewScreen

        run = self.core.get(run_id)
        if run is None:
            self.notify(f"Run {run_id} is gone.", severity="error", markup=False)
            return
        ledger: list[Any] = []
        store = self.agent.store
        if store is not None and hasattr(store, "ledger"):
            try:
                ledger = store.ledger(run_id)
            except Exception as exc:
                self.notify(f"Could not read the decisions: {exc}", severity="warning", markup=False)
        holder = self.core.holder(run_id)
        self.app.push_screen(RunViewScreen(run, ledger, holder=holder.label if holder else None))

    def _foreign_choice(self, run_id: str, tool_call_id: str, choice: str | None) -> None:
        run = self.core.get(run_id)
        if run is None:
            return
        if choice == "take_over":
            try:
                run = self.core.take_over(run_id)
            except Exception as exc:
                self.notify(f"Could not take the run over: {exc}", severity="error", markup=False)
                return
            # Shown like a resumed run: its conversation, then its next call (or it continues).
            if not self.resume_run(run_id):
                self._open_next(run)
        elif choice == "decide":
            self._open_modal(run, run.tool(tool_call_id))
        elif choice == "view":
            self.view_run(run_id)
        else:
            self.core.defer(run_id, tool_call_id)

    @on(ApprovalsPane.OpenItem)
    def _open_item_requested(self, event: ApprovalsPane.OpenItem) -> None:
        event.stop()
        self.open_item(event.run_id, event.tool_call_id)

    def open_item(self, run_id: str, tool_call_id: str) -> None:
        """Open the decision modal for one pending call (even one deferred earlier)."""
        run = self.core.get(run_id)
        if run is None:
            self.notify(f"Run {run_id} is gone.", severity="error", markup=False)
            self.approvals.discard(run_id, tool_call_id)
            return
        try:
            tool = run.tool(tool_call_id)
        except KeyError:
            self.approvals.discard(run_id, tool_call_id)
            return
        if not self.core.is_pending(run_id, tool_call_id):
            self.approvals.discard(run_id, tool_call_id)
            return
        if self.is_busy and self._active_run_id == run_id:
            self.notify("This run is still working; decide when it pauses.", severity="warning")
            return
        self.core.undefer(run_id, tool_call_id)
        holder = self.core.holder(run_id)
        if holder is not None and not holder.alive:
            from tui.screens.foreign_run_modal import ForeignRunModal

            self.app.push_screen(ForeignRunModal(run, tool, holder.label), callback=partial(self._foreign_choice, run_id, tool_call_id))
            return
        self._open_modal(run, tool)

    def open_first_pending(self) -> None:
        keys = self.approvals.keys()
        if keys:
            self.open_item(*keys[0])
        else:
            self.notify("Nothing waits for you.")

    def _open_modal(self, run: RunOutput, tool: ToolExecution) -> None:
        if self._modal_open:
            return
        try:
            from tui.screens.decision_modals import modal_for
        except ImportError as exc:
            self.notify(f"The decision dialogs are not available: {exc}", severity="error", markup=False)
            return
        self._modal_open = True
        self._modal_key = (run.run_id, tool.tool_call_id)
        modal = modal_for(tool, self.agent)
        holder = self.core.holder(run.run_id)
        if holder is not None and tool.kind == "confirmation":
            from tui.screens.foreign_confirm_modal import ForeignConfirmModal

            modal = ForeignConfirmModal(tool, self.agent, holder.label)  # no scopes: not this dashboard's run
        self.app.push_screen(modal, callback=partial(self._decided, run.run_id, tool.tool_call_id))

    def _decided(self, run_id: str, tool_call_id: str, decision: Decision | None, *, rule_confirmed: bool = False) -> None:
        self._modal_open = False
        self._modal_key = None
        run = self.runs[run_id]
        tool = run.tool(tool_call_id)
        if decision is None or decision.action == "defer":
            self.core.defer(run_id, tool_call_id)
            self._show_pending()
            self._open_next(run)
            return
        if decision.action in ("allow_always", "deny_always") and not rule_confirmed:
            self._confirm_always_rule(run, tool, decision)
            return
        try:
            self.core.decide(run_id, tool_call_id, decision)
        except DecisionError as exc:
            lines = [str(exc)] + [f"{name}: {problem}" for name, problem in exc.field_errors.items()]
            self.notify("\n".join(lines), title="Not accepted", severity="error", markup=False, timeout=8)
            if self.core.is_local(run_id):
                self.tool_log.upsert(run_id, tool)
            self._open_modal(run, tool)  # ask again, with the problem shown
            return
        except DecisionConflict as exc:  # someone decided first (the CLI, another dashboard): theirs stands
            self.notify(str(exc), title="Already decided", severity="warning", markup=False, timeout=10)
            self.core.poll()
        except Exception as exc:  # e.g. the store could not save: say so, never pretend it was recorded
            self.notify(f"The decision could not be recorded: {exc}", severity="error", markup=False, timeout=10)
            # Going on is safe: the runtime saves before any tool runs, so a broken store stops the
            # run with a visible error instead of running an unrecorded decision.
        if self.core.is_local(run_id):  # another process's calls are in its own log, not this one
            self.tool_log.upsert(run_id, tool)
        self._show_pending()
        self._open_next(run)

    # ------------------------------------------------------------------ "always" rules: dry run first

    def _confirm_always_rule(self, run: RunOutput, tool: ToolExecution, decision: Decision) -> None:
        """Before a rule is saved, show what it would have matched in the history (rejected first)."""
        from tui.agent.rules import Rule, dry_run
        from tui.store.history_calls import history_calls
        from tui.screens.rule_dry_run_modal import RuleDryRunModal

        effect = "allow" if decision.action == "allow_always" else "deny"
        rule = Rule(name=f"{effect}-{tool.tool_name}", tool=tool.tool_name, effect=effect)
        try:
            calls = history_calls(self.agent.store) if self.agent.store is not None else []
        except Exception as exc:  # history is advice here, never a reason to lose the decision
            self.notify(f"Could not read the history for a dry run: {exc}", severity="warning", markup=False)
            calls = []
        report = dry_run(rule, calls)

        def answered(save: bool | None) -> None:
            if save:
                self._decided(run.run_id, tool.tool_call_id, decision, rule_confirmed=True)
            else:
                self._open_modal(run, tool)  # back to the decision

        self.app.push_screen(RuleDryRunModal(report), callback=answered)

    # ------------------------------------------------------------------ approval timeouts

    def _arm_timeouts(self, run: RunOutput) -> None:
        """When a waiting call has an approval timeout, continue the run when it expires.

        The runtime applies the timeout (reject by default, and tells the model); the core says
        when; the UI only schedules the timer, so the run goes on even if nobody touches the keyboard.
        """
        for (run_id, tool_call_id), remaining in self.core.deadlines(run):
            self.set_timer(remaining + 0.05, partial(self._timeout_due, run_id, tool_call_id))

    def _timeout_due(self, run_id: str, tool_call_id: str) -> None:
        if not self.core.timeout_due(run_id, tool_call_id):
            return
        if self.is_busy:
            self.set_timer(0.5, partial(self._timeout_due, run_id, tool_call_id))
            return
        run = self.runs[run_id]
        tool = run.tool(tool_call_id)
        if self._modal_key is not None and self._modal_key[0] == run_id:
            # The dialog of this run is open: close it; the run re-pauses on what is still undecided.
            self._modal_open = False
            self._modal_key = None
            self.app.pop_screen()
        self.conversation.add_note(f"⏱ No decision on {tool.tool_name} in time: the run goes on without it.", kind="paused")
        self._continue(run)

    # ------------------------------------------------------------------ batch decisions

    @on(ApprovalsPane.BatchDecision)
    def _batch_decision(self, event: ApprovalsPane.BatchDecision) -> None:
        event.stop()
        self.decide_batch(event.keys, event.action)

    def decide_batch(self, keys: list[tuple[str, str]], action: str) -> None:
        """Approve or reject several confirmation calls at once; each gets its own ledger row."""
        outcome = self.core.decide_batch(keys, action)
        for error in outcome.errors:
            self.notify(error, severity="error", markup=False)
        self.notify(outcome.message(action), timeout=4)
        for run_id in dict.fromkeys(run_id for run_id, _ in keys):
            run = self.runs.get(run_id)
            if run is None:
                continue
            if self.core.is_local(run_id):
                for tool in run.tools:
                    self.tool_log.upsert(run_id, tool)
            self._show_pending()
        for run in outcome.ready:
            self._continue(run)

    def _open_next(self, run: RunOutput) -> None:
        """Open the next undecided call of the run, or continue the run when the core says it may."""
        item = self.core.after_decision(run)
        if item is not None:
            self._open_modal(*item)
            return
        if self.core.may_continue(run):
            self._continue(run)
            return
        self._update_status()  # everything left was deferred (or its owner continues it)

    def _continue(self, run: RunOutput) -> None:
        if self.core.request_continue(run, busy=self.is_busy):
            self.core.track(run)
            self._start(lambda: self.agent.acontinue_run(run, stream=True), run.run_id)

    def _drain_queue(self) -> None:
        while not self.is_busy:
            run = self.core.next_queued()
            if run is None:
                return
            self._continue(run)

    # ------------------------------------------------------------------ resuming

    def resume_run(self, run_id: str) -> bool:
        """Show a stored run; if it is paused, list its pending calls and open the first one."""
        if self.is_busy:
            self.notify("The agent is still answering: press esc twice to cancel it first.", severity="warning")
            return False
        run = self.runs.get(run_id) or self.agent.get_run(run_id)
        if run is None:
            self.notify(f"No run {run_id} in the history.", severity="error", markup=False)
            return False
        self.core.track(run)
        if run.session_id != self.agent.session_id:
            self.agent.new_session(run.session_id)
        self.run_worker(self._show_resumed(run), group="view", exclusive=True, exit_on_error=False)
        return True

    async def _show_resumed(self, run: RunOutput) -> None:
        await self._reset_view(f"Run {run.run_id} ({run.status}).")
        self.conversation.show_run(run)
        self._sync_run(run)
        if run.status == RunStatus.paused:
            waiting = self._waiting(run)
            if not waiting:
                self.conversation.add_note("▶ Every call is decided: continuing the run…")
                self._continue(run)
            else:
                self.conversation.add_note(f"⏸ {len(waiting)} call(s) wait for your decision.", kind="paused")
                if self.auto_open:
                    self._open_next(run)
        elif run.status in (RunStatus.running, RunStatus.error):
            if run.error:
                self.conversation.add_error(run.error)
            self._retry_candidate = run
            self.conversation.add_note("This run did not finish: ctrl+r continues it.", kind="hint")
        elif run.content and not any(m.role == "assistant" and m.content == run.content for m in run.messages):
            self.conversation.add_reply(run.content)
        self._update_status()


if __name__ == "__main__":
    from textual.app import App

    from tui.agent import Agent
    from tui.agent.models import DemoModel

    class _Demo(App):
        def on_mount(self) -> None:
            self.push_screen(Dashboard(Agent(model=DemoModel()), is_demo=True))

    _Demo().run()
