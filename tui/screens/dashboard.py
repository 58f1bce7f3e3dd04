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
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.color import Color
from textual.containers import Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Header, Static, Tab, Tabs
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
from tui.agent.run import RunOutput, RunStatus, ToolExecution, utcnow
from tui.paths import stylesheet
from tui.screens.breakpoints import breakpoint_class
from tui.screens.decision_modal import DecisionModal
from tui.widgets.approvals_pane import ApprovalsPane
from tui.widgets.conversation import Conversation
from tui.widgets.outcome import outcome_line
from tui.widgets.tool_log import ToolLog
from tui.widgets.steady_footer import SteadyFooter

if TYPE_CHECKING:
    from tui.agent import Agent

#: Seconds within which a second `esc` cancels the streaming turn.
ESC_WINDOW = 2.0

#: Seconds between checks for expired approval timeouts.
TIMEOUT_POLL = 0.25

#: The spinner's frames, and seconds per frame, while the agent works.
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
SPIN_INTERVAL = 0.125


def plural(count: int, word: str, words: str | None = None) -> str:
    """`1 call`, `2 calls` (never "call(s)")."""
    return f"{count} {word if count == 1 else (words or word + 's')}"


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
            "ctrl+o",
            "decide_next",
            "Decide",
            id="dashboard.decide_next",
            tooltip="Open the oldest call that waits for your decision",
        ),
        Binding(
            "ctrl+r",
            "retry_run",
            "Continue run",
            id="dashboard.retry_run",
            tooltip="Continue the run that stopped with an error or was interrupted",
        ),
        # Direct keys to the panes. Terminals send alt+key as esc + key; Textual reads esc + letter as
        # alt+letter everywhere, but esc + digit as the character macOS types for option+digit
        # ("£" for esc 3), so alt+c/t/a work in every terminal and alt+1/2/3 only in terminals with
        # the kitty keyboard protocol (ctrl+digit reaches almost no application).
        # Not in the footer (no room at 80 columns): the help lists them, the status line names alt+a.
        Binding("alt+c,alt+1", "focus_pane('conversation')", "Conversation", show=False,
                id="dashboard.pane_conversation", tooltip="Go to the conversation (the prompt)"),
        Binding("alt+t,alt+2", "focus_pane('tool-log')", "Tool calls", show=False, id="dashboard.pane_tools",
                tooltip="Go to the tool calls"),
        Binding("alt+a,alt+3", "focus_pane('approvals')", "Approvals", show=False, id="dashboard.pane_approvals",
                tooltip="Go to the approvals (what waits for you)"),
    ]

    def __init__(
        self,
        agent: "Agent",
        *,
        auto_open: bool = True,
        bell: bool = True,
        deterministic: bool = False,
        is_demo: bool = False,
        mcp_ready: Callable[[], Awaitable[None]] | None = None,
        approver: str | None = None,
        inbox_poll: float = 0.5,
        desktop_notifications: str = "auto",
        name: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id)
        self.agent = agent
        #: Waits until the MCP servers have started (a run must not look for their tools too early).
        self.mcp_ready = mcp_ready
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
        self._timeouts: set[tuple[str, str]] = set()
        self._timeout_timer: Timer | None = None
        #: Prompts sent while the agent works, oldest first (sent one by one when it is free).
        self._prompt_queue: list[str] = []
        #: The prompt of the turn that is working (given back to the prompt box if it is cancelled).
        self._turn_prompt: str | None = None
        self._busy_since: datetime | None = None
        self._activity = "Thinking"
        self._spin = 0
        self._spinner: Timer | None = None
        #: The pane shown when the panes are behind tabs (see `_activate_pane`).
        self._active_pane = "conversation"
        #: The pane drawn as focused (see `_light_focused_pane`).
        self._lit_pane: Widget | None = None

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
                classes="pane",
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
        yield SteadyFooter()

    def on_mount(self) -> None:
        self._activate_pane(self._active_pane)
        self.conversation.prompt.focus()
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._light_focused_pane(force=True))
        self._update_status()
        if self.core.has_inbox and self.inbox_poll > 0:
            # The inbox: other processes' paused calls appear here live (one tiny read per tick).
            self.call_after_refresh(self._poll_inbox)  # after the first frame: start-up stays quick
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
        if target:
            self._activate_pane(target)

    def _activate_pane(self, pane_id: str, width: int | None = None) -> None:
        """The pane its tab shows: when narrow, it alone is displayed.

        Set on the panes' own (inline) `display`, not with a class: a class change restyles every
        widget inside the pane, hundreds after a long reply, and the old `-active` class changed on
        every focus move between panes, wide or narrow (200 ms each; bench_stream_keys.py).
        """
        self._active_pane = pane_id
        width = self.app.size.width if width is None else width
        narrow = breakpoint_class(self.HORIZONTAL_BREAKPOINTS, width) == "-narrow"
        for pane in self.query(".pane"):
            if narrow:
                pane.display = pane.id == pane_id
            elif pane.styles.clear_rule("display"):
                pane.refresh(layout=True)

    def on_resize(self, event) -> None:
        # Runs before Textual applies the breakpoint classes for the new width.
        self._activate_pane(self._active_pane, width=event.size.width)

    def show_pane(self, pane_id: str) -> None:
        """Make a pane visible (in the narrow layout, switch to its tab)."""
        for tab_id, target in PANE_TABS.items():
            if target == pane_id:
                self.query_one(Tabs).active = tab_id

    def watch_focused(self) -> None:
        self._light_focused_pane()

    def _light_focused_pane(self, force: bool = False) -> None:
        """Draw the pane holding the focus with the accent border.

        Set on the pane's own (inline) styles, not with `:focus-within` or a class: either makes
        Textual restyle every widget inside the pane at each focus change, and the conversation
        holds hundreds of Markdown blocks after a long reply (200 ms per tab, tests/benchmarks/
        bench_stream_keys.py). An inline style touches the pane alone.
        """
        pane = self._pane_of(self.focused)
        if pane is self._lit_pane and not force:
            return
        lit, self._lit_pane = self._lit_pane, pane
        if lit is not None:
            for rule in ("border_top", "border_right", "border_bottom", "border_left", "border_title_color", "auto_border_title_color"):
                lit.styles.clear_rule(rule)
            lit.refresh()
        if pane is not None:
            accent = Color.parse(self.app.theme_variables.get("accent", "#ffa62b"))
            pane.styles.border = ("round", accent)
            pane.styles.border_title_color = accent
            pane.styles.auto_border_title_color = False  # the panes' muted title colour is "auto"

    def _pane_of(self, node: Any) -> Widget | None:
        """The pane (conversation, tool log, approvals) that holds `node`, if any."""
        while node is not None and node is not self:
            if isinstance(node, Widget) and node.has_class("pane") and node.id:
                return node
            node = node.parent
        return None

    def on_descendant_focus(self, event) -> None:
        # Focus moved into a pane (tab key, a click): in the narrow layout, follow it with the tabs.
        pane = self._pane_of(event.widget)
        if pane is not None and pane.id != self._active_pane:
            self.show_pane(pane.id)

    @on(ApprovalsPane.CountChanged)
    def _count_changed(self, event: ApprovalsPane.CountChanged) -> None:
        tab = self.query_one("#tab-approvals", Tab)
        tab.label = f"Approvals ({event.count})" if event.count else "Approvals"
        if not event.count and self.focused is not None and self.approvals in self.focused.ancestors_with_self:
            # The list emptied under the focus: back to the prompt, so typing types (and `h` is a letter).
            self.call_after_refresh(self.conversation.prompt.focus)
        self._update_status()

    def _update_status(self) -> None:
        if not self.is_mounted or self.closing:
            return
        waiting = self.approvals.count
        self._render_status()
        # On the status line, not the screen: a class on the screen restyles every widget under it
        # (with a long conversation, hundreds of Markdown blocks: 100+ ms at each turn's start and end).
        self.query_one("#status-line", Static).set_class(self.is_busy, "-busy")
        if self.is_busy and self._spinner is None:
            self._spinner = self.set_interval(SPIN_INTERVAL, self._spin_tick)
        elif not self.is_busy and self._spinner is not None:
            self._spinner.stop()
            self._spinner = None
        self.refresh_bindings()
        show_waiting = getattr(self.app, "show_waiting", None)
        if show_waiting is not None:
            show_waiting(waiting)

    def status_text(self) -> str:
        """The line under the panes: what the agent does (and for how long), or what waits for you."""
        waiting = self.approvals.count
        queued = f" · {plural(len(self._prompt_queue), 'prompt')} queued" if self._prompt_queue else ""
        if self.is_busy:
            frame = SPINNER[self._spin % len(SPINNER)]
            if self._esc_armed:
                return f"{frame} Press esc again to cancel the turn{queued}"
            since = self._busy_since or utcnow()
            elapsed = max(0, int((utcnow() - since).total_seconds()))
            return f"{frame} {self._activity}… {elapsed}s · esc esc to cancel{queued}"
        if waiting:
            verb = "waits" if waiting == 1 else "wait"
            return f"⏸ {plural(waiting, 'call')} {verb} for you: ctrl+o opens the oldest (alt+a: Approvals){queued}"
        return f"Ready{queued}"

    @property
    def _esc_armed(self) -> bool:
        return time.monotonic() - self._esc_at < ESC_WINDOW

    def _render_status(self) -> None:
        status = self.query_one("#status-line", Static)
        status.update(self.status_text())
        status.set_class(self.is_busy and self._esc_armed, "-confirm")

    def _spin_tick(self) -> None:
        if self.closing or not self.is_busy:
            return
        self._spin += 1
        self._render_status()

    # ------------------------------------------------------------------ actions

    @property
    def closing(self) -> bool:
        """The app is quitting: its widgets are going away, so nothing more is shown."""
        return self.app.return_code is not None

    @property
    def is_busy(self) -> bool:
        return self._worker is not None and self._worker.state in (WorkerState.PENDING, WorkerState.RUNNING)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_turn":
            return self.is_busy
        if action == "retry_run":
            return self._retry_candidate is not None and not self.is_busy
        if action == "decide_next":
            return self.is_mounted and self.approvals.count > 0
        return True

    def action_decide_next(self) -> None:
        self.open_first_pending()

    def action_cancel_turn(self) -> None:
        if not self.is_busy:
            return
        now = time.monotonic()
        if now - self._esc_at > ESC_WINDOW:
            # Asked in the status line, not a toast: it goes away by itself once the turn is cancelled.
            self._esc_at = now
            self._update_status()
            self.set_timer(ESC_WINDOW, self._update_status)
            return
        self._esc_at = 0.0
        self.cancel_turn()

    def cancel_turn(self) -> None:
        """Stop the streaming turn: ask the run to stop, and stop listening to it.

        The cancelled prompt, and any prompts queued behind it, go back into the prompt box: a cancel
        never loses what was typed, and never sends the queue on by itself.
        """
        if self._active_run_id is not None:
            self.agent.cancel(self._active_run_id)
        if self._worker is not None:
            self._worker.cancel()
        self._restore_prompts()
        self._update_status()

    def _restore_prompts(self) -> None:
        texts = ([self._turn_prompt] if self._turn_prompt else []) + self._prompt_queue
        self._turn_prompt = None
        self._prompt_queue = []
        self.conversation.queued.show([])
        if not texts:
            return
        prompt = self.conversation.prompt
        typed = prompt.text.strip()
        prompt.value = "\n\n".join(texts + ([typed] if typed else []))
        self.show_pane("conversation")
        prompt.focus()

    def action_focus_pane(self, pane_id: str) -> None:
        """alt+c/t/a (or alt+1/2/3): show a pane (its tab, when narrow) and put the focus in it."""
        self.show_pane(pane_id)
        # Shown at once, not when the tab's message arrives: a pane hidden behind its tab cannot
        # take the focus.
        self._activate_pane(pane_id)
        if pane_id == "conversation":
            self.conversation.prompt.focus()
        elif pane_id == "tool-log":
            self.tool_log.focus()
        elif self.approvals.count:
            self.approvals.focus_list()
        else:
            self.set_focus(None)  # nothing to move through; keys stay out of the hidden prompt

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
        """Send a prompt now, or queue it while the agent works. True: sent now; False: queued.

        Queued prompts are sent one at a time, oldest first, whenever the agent is free: the turn
        finished, failed, or paused with its decision dialog closed (decided, or deferred with esc).
        """
        self.conversation.accept_prompt(text)
        if self.is_busy or self._modal_open or self._prompt_queue:
            self._prompt_queue.append(text)
            self.conversation.queued.show(self._prompt_queue)
            self._render_status()
            self._drain_prompts()
            return False
        self._send_prompt(text)
        return True

    def _send_prompt(self, text: str) -> None:
        self.conversation.add_user_prompt(text)
        self._retry_candidate = None
        self._start(lambda: self.agent.arun(text, stream=True), None)
        self._turn_prompt = text

    def _drain_prompts(self) -> None:
        """Send the oldest queued prompt if the agent is free (see `submit_prompt`)."""
        if not self._prompt_queue or self.is_busy or self._modal_open or self.closing:
            return
        text = self._prompt_queue.pop(0)
        self.conversation.queued.show(self._prompt_queue)
        self._send_prompt(text)

    def _start(self, events: Callable[[], AsyncIterator[RunEvent]], run_id: str | None) -> None:
        self._active_run_id = run_id
        self._turn_prompt = None
        self._busy_since = utcnow()
        self._activity = "Thinking"
        self._worker = self._agent_turn(events)
        self._update_status()

    @work(exclusive=True, exit_on_error=False, group="agent", description="Run the agent and show its events")
    async def _agent_turn(self, make_events: Callable[[], AsyncIterator[RunEvent]]) -> None:
        self._paused_run = None
        self._streamed = False
        if self.mcp_ready is not None:
            await self.mcp_ready()
        events = make_events()
        try:
            async for event in events:
                await self._handle(event)
        except asyncio.CancelledError:
            if not self.closing:
                self.conversation.add_note("✖ Cancelled.", kind="cancelled")
            raise
        finally:
            try:
                if not self.closing:
                    await self.conversation.end_reply()
            finally:
                await events.aclose()  # a cancelled run records itself as cancelled
        if self._paused_run is not None:
            run, self._paused_run = self._paused_run, None
            self._arm_timeouts(run)
            self._announce(self._waiting(run))
            if self.auto_open and not self._typing():
                self._open_next(run)
            elif self._waiting(run):
                if self.auto_open:  # not opened under the person's fingers: it waits, and says so
                    self.conversation.add_note(
                        "⏸ Not opened while you were typing: ctrl+o opens the waiting call (or Approvals → enter).",
                        kind="paused",
                    )
                self.notify("A tool call waits for your decision: ctrl+o opens it (see Approvals).", title="Paused")

    def _typing(self) -> bool:
        """The person is writing a prompt: a dialog must not open under their fingers."""
        prompt = self.conversation.prompt
        return bool(prompt.value.strip()) and self.focused is prompt

    async def _handle(self, event: RunEvent) -> None:
        conversation, log = self.conversation, self.tool_log
        if isinstance(event, (RunStarted, RunContinued)):
            self.core.track(event.run)
            self._active_run_id = event.run_id
            self._streamed = False
        elif isinstance(event, ContentDelta):
            self._streamed = True
            self._set_activity("Writing")
            await conversation.write(event.text)
        elif isinstance(event, ToolCallStarted):
            if not event.tool.is_awaiting_decision:
                self._set_activity(f"Running {event.tool.tool_name}")
            await conversation.end_reply()
            self._streamed = False
            conversation.add_tool_call(event.run_id, event.tool)
            log.upsert(event.run_id, event.tool)
            if not event.tool.is_awaiting_decision:
                self.approvals.discard(event.run_id, event.tool.tool_call_id)
        elif isinstance(event, ToolCallCompleted):
            self._set_activity("Thinking")
            log.upsert(event.run_id, event.tool)
            conversation.update_tool_call(event.run_id, event.tool)
            self.approvals.discard(event.run_id, event.tool.tool_call_id)
        elif isinstance(event, RunPaused):
            await conversation.end_reply()
            self._sync_run(event.run)
            waiting = [t for t in event.tools if t.is_awaiting_decision]
            names = ", ".join(sorted({t.tool_name for t in waiting})) or "a tool call"
            conversation.add_waiting_note(event.run_id, names)
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

    def _set_activity(self, activity: str) -> None:
        if activity != self._activity:
            self._activity = activity
            self._render_status()

    def _sync_run(self, run: RunOutput) -> None:
        self.core.track(run)
        for tool in run.tools:
            self.tool_log.upsert(run.run_id, tool)
            self.conversation.update_tool_call(run.run_id, tool)
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

    def _show_decided(self, run: RunOutput, tool: ToolExecution) -> None:
        """A decision was made: the tool line says which, and the waiting note becomes the outcome."""
        self.conversation.update_tool_call(run.run_id, tool)
        self.tool_log.upsert(run.run_id, tool)
        if self._waiting(run) or run.open_turn is None:
            return
        gated = [t for t in run.tools if t.turn == run.open_turn and t.is_gated]
        outcomes = "; ".join(f"{t.tool_name} {outcome_line(t)}" for t in gated)
        self.conversation.resolve_waiting_note(run.run_id, f"▶ Decided: {outcomes}")

    @on(Worker.StateChanged)
    def _worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != "agent" or self.closing:
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
                self._turn_prompt = None
            self._drain_queue()
            self._drain_prompts()
        self._update_status()

    # ------------------------------------------------------------------ decisions

    def _waiting(self, run: RunOutput) -> list[ToolExecution]:
        """The undecided calls of the run's open turn (the ones that hold it paused)."""
        return [t for t in self.core.waiting(run) if self.core.is_pending(run.run_id, t.tool_call_id)]

    # ------------------------------------------------------------------ the inbox: other processes' runs

    def _poll_inbox(self) -> None:
        """Show what other processes' runs wait for; continue our runs decided elsewhere."""
        shown_before = self.approvals.shown()
        before = set(shown_before)
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
        decided_elsewhere = self.core.pop_decided_elsewhere()
        pending = self.core.pending()
        now_shown = {(run.run_id, tool.tool_call_id): self._origin(run) for run, tool in pending}
        if not decided_elsewhere and now_shown == shown_before:
            return  # the store moved (e.g. our own run streaming), but nothing that waits did
        self._show_pending()
        arrived = [
            tool
            for run, tool in pending
            if (run.run_id, tool.tool_call_id) not in before and not self.core.is_local(run.run_id)
        ]
        if arrived:
            self._announce(arrived)
        for run in decided_elsewhere:
            if self._modal_key is not None and self._modal_key[0] == run.run_id:
                self._modal_open = False
                self._modal_key = None
                self.app.pop_screen()
            for tool in run.tools:  # its tool lines and waiting note say what was decided, and by whom
                if tool.turn == run.open_turn and tool.is_gated:
                    self._show_decided(run, tool)
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
        # "n of m": the calls of this turn that a person decides (rule-decided ones are not counted).
        asked = [t for t in run.tools if t.turn == tool.turn and t.is_gated and t.decided_by in (None, "user")]
        position = (asked.index(tool) + 1, len(asked)) if tool in asked else None
        modal = modal_for(tool, self.agent, position=position)
        holder = self.core.holder(run.run_id)
        if holder is not None and tool.kind == "confirmation":
            from tui.screens.foreign_confirm_modal import ForeignConfirmModal

            modal = ForeignConfirmModal(tool, self.agent, holder.label, position=position)  # no scopes: not this dashboard's run
        if isinstance(modal, DecisionModal):
            modal.forward_typing = self.conversation.prompt.insert_text_at_cursor
        self.app.push_screen(modal, callback=partial(self._modal_closed, modal, run.run_id, tool.tool_call_id))

    def _modal_closed(self, modal: object, run_id: str, tool_call_id: str, decision: Decision | None) -> None:
        if not (isinstance(modal, DecisionModal) and modal.typed_ahead):
            self._decided(run_id, tool_call_id, decision)
            return
        # The person was still typing when the dialog opened: it stepped aside. Their keys go back
        # to the prompt, and every waiting call stays in the approvals pane until they ask for it.
        self._modal_open = False
        self._modal_key = None
        run = self.runs[run_id]
        for waiting in self._waiting(run):
            self.core.defer(run_id, waiting.tool_call_id)
        self._show_pending()
        self.conversation.prompt.focus()  # what was typed is there already (`forward_typing`)
        self.conversation.add_note(
            "⏸ Not opened while you were typing: ctrl+o opens the waiting call (or Approvals → enter).", kind="paused"
        )
        self._update_status()

    def _decided(self, run_id: str, tool_call_id: str, decision: Decision | None, *, rule_confirmed: bool = False) -> None:
        self._modal_open = False
        self._modal_key = None
        # Once this decision has had its effect (another dialog, or the run going on): a queued prompt may go.
        self.call_after_refresh(self._drain_prompts)
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
            self._show_decided(run, tool)
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
        when, by the runtime's clock (`tui.agent.clock`); the UI polls it a few times a second, so
        the run goes on even if nobody touches the keyboard, and a test moves that clock instead of
        waiting.
        """
        for key, _remaining in self.core.deadlines(run):
            self._timeouts.add(key)
        if self._timeouts and self._timeout_timer is None:
            self._timeout_timer = self.set_interval(TIMEOUT_POLL, self._check_timeouts)

    def _check_timeouts(self) -> None:
        for key in list(self._timeouts):
            if self._timeout_due(*key):
                self._timeouts.discard(key)
        if not self._timeouts and self._timeout_timer is not None:
            self._timeout_timer.stop()
            self._timeout_timer = None

    def _timeout_due(self, run_id: str, tool_call_id: str) -> bool:
        """Continue the run if this call's time is up. True: stop watching this call."""
        if not self.core.is_pending(run_id, tool_call_id):
            return True  # decided meanwhile, or gone
        if self.is_busy or not self.core.timeout_due(run_id, tool_call_id):
            return False
        run = self.runs[run_id]
        tool = run.tool(tool_call_id)
        if self._modal_key is not None and self._modal_key[0] == run_id:
            # The dialog of this run is open: close it; the run re-pauses on what is still undecided.
            self._modal_open = False
            self._modal_key = None
            self.app.pop_screen()
        self.conversation.add_note(f"⏱ No decision on {tool.tool_name} in time: the run goes on without it.", kind="paused")
        self.conversation.resolve_waiting_note(run.run_id, f"⏱ Timed out: no decision on {tool.tool_name} in time.")
        self._continue(run)
        return True

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
                    self._show_decided(run, tool)
            self._show_pending()
        for run in outcome.ready:
            self._all_decided(run)
        self.call_after_refresh(self._drain_prompts)

    def _open_next(self, run: RunOutput) -> None:
        """Open the next undecided call of the run, or continue the run when the core says it may."""
        item = self.core.after_decision(run)
        if item is not None:
            self._open_modal(*item)
            return
        if self.core.may_continue(run):
            self._all_decided(run)
            return
        self._update_status()  # everything left was deferred (or its owner continues it)

    def _all_decided(self, run: RunOutput) -> None:
        """The last waiting call of the run's turn was decided: say so, and continue the run."""
        # A note rather than a toast: it stays where the run goes on, in the order things happened.
        self.conversation.add_note("▶ Every call of this turn is decided: the run continues.")
        self._continue(run)

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
                names = ", ".join(sorted({t.tool_name for t in waiting}))
                count = f"{len(waiting)} calls wait" if len(waiting) != 1 else "1 call waits"
                self.conversation.add_waiting_note(run.run_id, f"{names} ({count})")
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
