"""The tool-call log: one entry per call, updated in place as the call moves through its states.

Entries are keyed by (run id, tool call id) and hold the runtime's own `ToolExecution`, which the
runtime mutates as the call is decided and run; `upsert` re-renders an entry from it. Everything
the model or a tool wrote (names, arguments, results, errors) goes through `literal()`.
"""

from __future__ import annotations

import json
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widgets import Collapsible, Static

from tui.agent.run import ToolExecution

from .clock_text import format_duration
from .literal import literal

#: A result longer than this (characters or lines) starts collapsed.
LONG_RESULT_CHARS = 240
LONG_RESULT_LINES = 4

def who_decided(decided_by: str) -> str:
    """`user` reads "you", `rule:x` reads "rule x", a session or run choice says so."""
    if decided_by == "user":
        return "you"
    if decided_by.startswith("rule:"):
        return f"rule {decided_by[5:]}"
    return {
        "session-allow": "you (session)",
        "session-deny": "you (session)",
        "run-allow": "you (this run)",
        "run-deny": "you (this run)",
        "timeout": "timeout",
    }.get(decided_by, decided_by)


def tool_state(tool: ToolExecution) -> tuple[str, str, str]:
    """(icon, word, css class) for a call's current state."""
    if tool.status == "pending":
        if tool.is_awaiting_decision:
            return "⏸", "waiting", "-waiting"
        if tool.confirmed is False:
            return "⊘", "rejected", "-rejected"
        return "◷", "queued", "-queued"
    if tool.status == "running":
        return "◌", "running", "-running"
    if tool.status == "completed":
        return "✔", "done", "-done"
    if tool.status == "rejected":
        return "⊘", "rejected", "-rejected"
    return "✖", "failed", "-failed"


def pretty_args(args: dict | None) -> str:
    try:
        return json.dumps(args or {}, indent=2, ensure_ascii=False, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(args)


def is_long(text: str) -> bool:
    return len(text) > LONG_RESULT_CHARS or text.count("\n") >= LONG_RESULT_LINES


class ToolCallEntry(Vertical):
    """One call: a status line, its arguments, and its outcome."""

    def __init__(self, run_id: str, tool: ToolExecution, *, show_times: bool = True) -> None:
        super().__init__(classes="tool-entry")
        self.run_id = run_id
        self.tool = tool
        self.show_times = show_times
        self._shown_result: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.run_id, self.tool.tool_call_id)

    def compose(self) -> ComposeResult:
        yield Static(self.head_text(), classes="tool-head")
        yield Static(self.args_text(), classes="tool-args")
        yield Vertical(classes="tool-outcome")

    def on_mount(self) -> None:
        self.refresh_from_tool()

    def head_text(self) -> Text:
        """`✔ tool_name` and, under it, `done · 0.41s · by user`."""
        tool = self.tool
        icon, word, _ = tool_state(tool)
        text = Text.assemble((f"{icon} ", "bold"), literal(tool.tool_name, "bold"), "\n")
        details = [word]
        duration = format_duration(tool.duration, show=self.show_times)
        if duration:
            details.append(duration)
        if tool.decided_by:
            details.append(f"by {who_decided(tool.decided_by)}")
        text.append_text(literal(" · ".join(details), "dim"))
        return text

    def args_text(self) -> Text:
        tool = self.tool
        text = literal(pretty_args(tool.tool_args))
        if tool.was_edited:
            text.append("\n")
            text.append_text(literal(f"edited; the model proposed {json.dumps(tool.proposed_args, ensure_ascii=False, default=str)}", "italic"))
        return text

    def outcome_text(self) -> str | None:
        tool = self.tool
        if tool.status in ("pending", "running"):
            if tool.error:  # e.g. edited arguments that did not validate; the call waits again
                return tool.error
            return None
        if tool.status == "rejected":
            note = tool.confirmation_note
            return f"not run (rejected{': ' + note if note else ''})"
        if tool.status == "error":
            return tool.error or tool.result or "failed"
        return tool.result if tool.result is not None else ""

    def refresh_from_tool(self) -> None:
        """Re-render from the ToolExecution (safe to call before the entry is composed)."""
        _, _, state_class = tool_state(self.tool)
        for cls in ("-waiting", "-queued", "-running", "-done", "-rejected", "-failed"):
            self.set_class(cls == state_class, cls)
        heads = self.query(".tool-head")
        if not heads:
            return  # not composed yet: compose() renders the current state
        heads.first(Static).update(self.head_text())
        self.query_one(".tool-args", Static).update(self.args_text())
        outcome = self.outcome_text()
        if outcome == self._shown_result:
            return
        self._shown_result = outcome
        box = self.query_one(".tool-outcome", Vertical)
        box.remove_children()
        if outcome is None:
            return
        body = Static(literal(outcome), classes="tool-result")
        if is_long(outcome):
            lines = outcome.count("\n") + 1
            title = f"result · {lines} lines, {len(outcome)} characters" if lines > 1 else f"result · {len(outcome)} characters"
            box.mount(Collapsible(body, title=title, collapsed=True, classes="tool-result-collapsible"))
        else:
            box.mount(body)

    def toggle_result(self) -> None:
        for collapsible in self.query(Collapsible):
            collapsible.collapsed = not collapsible.collapsed


class ToolLog(VerticalScroll, can_focus=True):
    """Every tool call of this session, newest at the bottom. j/k or ↑/↓ move, enter folds a result."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "move(1)", "Next call", show=False, id="tool_log.next", tooltip="Move to the next tool call"),
        Binding("up,k", "move(-1)", "Previous call", show=False, id="tool_log.previous", tooltip="Move to the previous tool call"),
        Binding("home,g", "jump(0)", "First", show=False),
        Binding("end,G", "jump(-1)", "Last", show=False),
        Binding("enter,space", "toggle_result", "Show/hide result", id="tool_log.toggle", tooltip="Fold or unfold the highlighted call's result"),
    ]

    cursor: reactive[int] = reactive(-1, init=False)

    def __init__(self, *, show_times: bool = True, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.show_times = show_times
        self._entries: dict[tuple[str, str], ToolCallEntry] = {}

    def compose(self) -> ComposeResult:
        yield Static("No tool calls yet.", classes="empty-state", id="tool-log-empty")

    @property
    def entries(self) -> list[ToolCallEntry]:
        return list(self._entries.values())

    def entry(self, run_id: str, tool_call_id: str) -> ToolCallEntry | None:
        return self._entries.get((run_id, tool_call_id))

    def upsert(self, run_id: str, tool: ToolExecution) -> ToolCallEntry:
        """Add the call, or re-render it if it is already shown."""
        key = (run_id, tool.tool_call_id)
        entry = self._entries.get(key)
        if entry is None:
            entry = ToolCallEntry(run_id, tool, show_times=self.show_times)
            self._entries[key] = entry
            self.query("#tool-log-empty").remove()
            self.mount(entry)
            self.call_after_refresh(self.scroll_end, animate=False)
        else:
            entry.tool = tool
            entry.refresh_from_tool()
        return entry

    def clear(self) -> None:
        for entry in self._entries.values():
            entry.remove()
        self._entries.clear()
        self.cursor = -1
        if not self.query("#tool-log-empty"):
            self.mount(Static("No tool calls yet.", classes="empty-state", id="tool-log-empty"))

    def watch_cursor(self, old: int, new: int) -> None:
        entries = self.entries
        if 0 <= old < len(entries):
            entries[old].remove_class("-highlight")
        if 0 <= new < len(entries):
            entries[new].add_class("-highlight")
            self.scroll_to_widget(entries[new], animate=False)

    def _on_focus(self) -> None:
        if self.cursor < 0 and self._entries:
            self.cursor = len(self._entries) - 1

    def action_move(self, step: int) -> None:
        count = len(self._entries)
        if not count:
            return
        if self.cursor < 0:
            self.cursor = count - 1
        else:
            self.cursor = max(0, min(count - 1, self.cursor + step))

    def action_jump(self, index: int) -> None:
        if self._entries:
            self.cursor = index % len(self._entries)

    def action_toggle_result(self) -> None:
        entries = self.entries
        if 0 <= self.cursor < len(entries):
            entries[self.cursor].toggle_result()


if __name__ == "__main__":
    from textual.app import App

    class _Demo(App):
        def compose(self) -> ComposeResult:
            yield ToolLog()

        def on_mount(self) -> None:
            log = self.query_one(ToolLog)
            waiting = ToolExecution(tool_call_id="c1", tool_name="get_top_hackernews_stories", tool_args={"num_stories": 2}, requires_confirmation=True)
            done = ToolExecution(tool_call_id="c2", tool_name="read_file", tool_args={"path": "notes.txt"}, status="completed", result="line\n" * 12)
            hostile = ToolExecution(tool_call_id="c3", tool_name="echo", tool_args={"text": "[@click=app.quit]"}, status="completed", result="[bold red]x[/] \x1b[31mred")
            for t in (waiting, done, hostile):
                log.upsert("run_demo", t)
            log.focus()

    _Demo().run()
