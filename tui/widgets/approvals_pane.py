"""The approvals pane: every tool call that waits for a person, oldest first, with its age.

The pane only shows what the runtime says is undecided (`ToolExecution.is_awaiting_decision`); it
never decides anything itself. `enter` on an item posts `ApprovalsPane.OpenItem`, and the dashboard
opens the item's modal.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Callable, ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from tui.agent.run import RunOutput, ToolExecution
from tui.agent.visible import cut_visible, visible

from .clock_text import format_age
from .literal import literal

KIND_TEXT = {
    "confirmation": ("✋", "confirmation"),
    "user_input": ("✎", "input"),
    "external": ("⇄", "external"),
    "auto": ("·", "auto"),
}

EMPTY_TEXT = "Nothing waits for you."


def args_summary(tool: ToolExecution, limit: int = 120) -> str:
    """`num_stories=2, title="x"` on one line, cut at `limit` characters."""
    parts = []
    for name, value in (tool.tool_args or {}).items():
        try:
            shown = json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            shown = repr(value)
        parts.append(f"{name}={shown}")
    # Hidden characters become markers before the cut, so the line keeps its width and no marker is split.
    return cut_visible(visible(", ".join(parts)), limit)


class PendingItem(Widget):
    """One undecided call. Renders from the live ToolExecution, so a refresh updates its age."""

    DEFAULT_CSS = """
    PendingItem { height: auto; }
    """

    def __init__(
        self,
        run: RunOutput,
        tool: ToolExecution,
        *,
        show_times: bool = True,
        now: Callable[[], datetime] | None = None,
        origin: str | None = None,
    ) -> None:
        super().__init__(classes="pending-item")
        self.run = run
        self.tool = tool
        #: Who holds the run when it is another process (`agent · host/pid`), shown under the name.
        self.origin = origin
        self.show_times = show_times
        self._now = now or (lambda: datetime.now(timezone.utc))
        #: Marked with space for a batch decision (Y / N).
        self.marked = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.run.run_id, self.tool.tool_call_id)

    def sort_key(self) -> tuple[datetime, str, str]:
        created = self.tool.created_at
        if created.tzinfo is None:
            created = created.replace(tzinfo=timezone.utc)
        return (created, self.run.run_id, self.tool.tool_call_id)

    def render(self) -> Text:
        """`✋ write_file` / `confirmation · waiting 12s` / `path="notes.txt", content=…`."""
        tool = self.tool
        icon, kind = KIND_TEXT[tool.kind]
        age = format_age(tool.created_at, now=self._now(), show=self.show_times)
        mark = ("◉ ", "bold") if self.marked else ("", "")
        text = Text.assemble(mark, (f"{icon} ", "bold"), literal(tool.tool_name, "bold"), "\n")
        waiting = f"{kind} · waiting {age}"
        if tool.approval_timeout and self.show_times:
            waiting += f" · times out after {tool.approval_timeout:g}s ({tool.on_timeout})"
        text.append_text(literal(waiting, "dim"))
        if self.origin:
            text.append("\n")
            text.append_text(literal(self.origin, "dim"))
        width = max(12, self.content_region.width or 40)
        summary = args_summary(tool, limit=width)
        if summary:
            text.append("\n")
            text.append_text(literal(summary, "dim italic"))
        if tool.error:
            text.append("\n")
            text.append_text(literal(tool.error, "red"))
        return text


class ApprovalsList(VerticalScroll, can_focus=True):
    """The pending items, navigable with ↑/↓ or j/k; `enter` opens the highlighted one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "move(1)", "Next", show=False, id="approvals.next", tooltip="Move to the next waiting item"),
        Binding("up,k", "move(-1)", "Previous", show=False, id="approvals.previous", tooltip="Move to the previous waiting item"),
        Binding("enter", "open", "Decide", id="approvals.open", tooltip="Open the highlighted item to decide it"),
        Binding("space", "toggle_mark", "Mark", id="approvals.mark", tooltip="Mark the item for a batch decision (Y / N)"),
        Binding("Y", "batch('approve')", "Approve marked", id="approvals.batch_approve", tooltip="Approve the marked items, or every item of this turn when none is marked"),
        Binding("N", "batch('reject')", "Reject marked", id="approvals.batch_reject", tooltip="Reject the marked items, or every item of this turn when none is marked"),
        Binding("v", "view", "View run", id="approvals.view", tooltip="Read the highlighted item's run (read-only), whichever process holds it"),
    ]

    cursor: reactive[int] = reactive(0, init=False)

    @property
    def items(self) -> list[PendingItem]:
        return list(self.query_children(PendingItem))

    def watch_cursor(self, old: int, new: int) -> None:
        self._paint()

    def mark_highlight(self) -> None:
        """Put the highlight on the item under the cursor (at once: no wait for a refresh)."""
        for i, item in enumerate(self.items):
            item.set_class(i == self.cursor, "-highlight")

    def _paint(self) -> None:
        items = self.items
        self.mark_highlight()
        if 0 <= self.cursor < len(items):
            self.scroll_to_widget(items[self.cursor], animate=False)

    def clamp(self) -> None:
        count = len(self.items)
        self.cursor = max(0, min(self.cursor, count - 1)) if count else 0
        self._paint()

    def action_move(self, step: int) -> None:
        count = len(self.items)
        if count:
            self.cursor = max(0, min(count - 1, self.cursor + step))

    def action_open(self) -> None:
        items = self.items
        if 0 <= self.cursor < len(items):
            item = items[self.cursor]
            self.post_message(ApprovalsPane.OpenItem(item.run.run_id, item.tool.tool_call_id))

    def action_view(self) -> None:
        items = self.items
        if 0 <= self.cursor < len(items):
            self.post_message(ApprovalsPane.ViewRun(items[self.cursor].run.run_id))

    def action_toggle_mark(self) -> None:
        items = self.items
        if 0 <= self.cursor < len(items):
            item = items[self.cursor]
            item.marked = not item.marked
            item.set_class(item.marked, "-marked")
            item.refresh()
            self.action_move(1)

    def batch_keys(self) -> list[tuple[str, str]]:
        """The marked items; with none marked, every item of the highlighted item's turn."""
        items = self.items
        marked = [item.key for item in items if item.marked]
        if marked:
            return marked
        if not (0 <= self.cursor < len(items)):
            return []
        current = items[self.cursor]
        return [
            item.key
            for item in items
            if item.run.run_id == current.run.run_id and item.tool.turn == current.tool.turn
        ]

    def action_batch(self, action: str) -> None:
        keys = self.batch_keys()
        if keys:
            self.post_message(ApprovalsPane.BatchDecision(keys, action))

    def on_click(self, event: events.Click) -> None:
        widget = event.widget
        while widget is not None and not isinstance(widget, PendingItem) and widget is not self:
            widget = widget.parent  # type: ignore[assignment]
        if isinstance(widget, PendingItem):
            self.cursor = self.items.index(widget)
            self.action_open()


class ApprovalsPane(Vertical):
    """Everything that waits for a decision, across the runs this dashboard knows about."""

    class OpenItem(Message):
        """The user wants to decide this item now."""

        def __init__(self, run_id: str, tool_call_id: str) -> None:
            super().__init__()
            self.run_id = run_id
            self.tool_call_id = tool_call_id

    class BatchDecision(Message):
        """Approve or reject these items at once (each still gets its own decision and ledger row)."""

        def __init__(self, keys: list[tuple[str, str]], action: str) -> None:
            super().__init__()
            self.keys = keys
            self.action = action

    class ViewRun(Message):
        """The user wants to read this run (read-only), e.g. one held by another process."""

        def __init__(self, run_id: str) -> None:
            super().__init__()
            self.run_id = run_id

    class CountChanged(Message):
        def __init__(self, count: int) -> None:
            super().__init__()
            self.count = count

    def __init__(self, *, show_times: bool = True, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.show_times = show_times
        self._items: dict[tuple[str, str], PendingItem] = {}

    def compose(self) -> ComposeResult:
        yield Static(EMPTY_TEXT, classes="empty-state", id="approvals-empty")
        yield ApprovalsList(id="approvals-list")

    def on_mount(self) -> None:
        self._update_empty()
        if self.show_times:
            self.set_interval(1.0, self._tick)

    @property
    def pending_list(self) -> ApprovalsList:
        return self.query_one(ApprovalsList)

    @property
    def count(self) -> int:
        return len(self._items)

    def keys(self) -> list[tuple[str, str]]:
        return [item.key for item in self.pending_list.items]

    def shown(self) -> dict[tuple[str, str], str | None]:
        """What the pane shows: each item's key and its origin line (None for this dashboard's runs)."""
        return {key: item.origin for key, item in self._items.items()}

    def sync_run(self, run: RunOutput) -> None:
        """Show exactly the run's undecided calls (add new ones, drop decided ones)."""
        for tool in run.tools:
            if tool.is_awaiting_decision:
                self.add(run, tool)
            else:
                self.discard(run.run_id, tool.tool_call_id)

    def show(
        self,
        items: list[tuple[RunOutput, ToolExecution]],
        *,
        origin: Callable[[RunOutput], str | None] | None = None,
    ) -> None:
        """Show exactly these items (the approvals core's pending list): add new ones, drop the rest."""
        wanted = {(run.run_id, tool.tool_call_id) for run, tool in items}
        for key in [key for key in self._items if key not in wanted]:
            self.discard(*key)
        for run, tool in items:
            where = origin(run) if origin is not None else None
            existing = self._items.get((run.run_id, tool.tool_call_id))
            if existing is not None and existing.run is run and existing.tool is tool and existing.origin == where:
                continue
            self.add(run, tool, origin=where)

    def add(self, run: RunOutput, tool: ToolExecution, *, origin: str | None = None) -> None:
        key = (run.run_id, tool.tool_call_id)
        existing = self._items.get(key)
        if existing is not None:
            existing.run, existing.tool, existing.origin = run, tool, origin
            existing.refresh(layout=True)
            return
        item = PendingItem(run, tool, show_times=self.show_times, origin=origin)
        self._items[key] = item
        later = [other for other in self.pending_list.items if other.sort_key() > item.sort_key()]
        if later:
            self.pending_list.mount(item, before=later[0])
        else:
            self.pending_list.mount(item)
        # The highlight at once (a screen behind a modal may not refresh soon: its look must not
        # depend on when it does); the cursor and scrolling after the next refresh.
        self.pending_list.mark_highlight()
        self.call_after_refresh(self.pending_list.clamp)
        self._update_empty()

    def discard(self, run_id: str, tool_call_id: str) -> None:
        item = self._items.pop((run_id, tool_call_id), None)
        if item is None:
            return
        item.remove()
        self.pending_list.clamp()
        self.call_after_refresh(self.pending_list.clamp)
        self._update_empty()

    def _tick(self) -> None:
        for item in self._items.values():
            item.refresh()

    def _update_empty(self) -> None:
        empty = not self._items
        self.query_one("#approvals-empty").display = empty
        self.pending_list.display = not empty
        self.set_class(not empty, "-has-items")
        self.border_title = f"Approvals ({len(self._items)})" if self._items else "Approvals"
        self.post_message(self.CountChanged(len(self._items)))

    def focus_list(self) -> None:
        if self._items:
            self.pending_list.focus()


if __name__ == "__main__":
    from textual.app import App

    class _Demo(App):
        def compose(self) -> ComposeResult:
            yield ApprovalsPane()

        def on_mount(self) -> None:
            run = RunOutput(input="demo")
            run.tools = [
                ToolExecution(tool_call_id="c1", tool_name="get_top_hackernews_stories", tool_args={"num_stories": 2}, requires_confirmation=True),
                ToolExecution(tool_call_id="c2", tool_name="send_email", tool_args={"subject": "[bold]Hi[/]"}, requires_user_input=True, user_input_schema=[]),
            ]
            pane = self.query_one(ApprovalsPane)
            pane.sync_run(run)
            pane.focus_list()

        def on_approvals_pane_open_item(self, message: ApprovalsPane.OpenItem) -> None:
            self.notify(f"open {message.tool_call_id}", markup=False)

    _Demo().run()
