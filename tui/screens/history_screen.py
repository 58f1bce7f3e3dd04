"""Run history: a filtered list of runs on the left, the selected run's read-only detail on the right.

Master/detail, like Harlequin's query history. The detail shows the conversation, every tool call
and the decision ledger (who decided, when, the note, the proposed and the executed arguments).
A paused run can be resumed from here (`enter`), and any run exported as JSON and Markdown (`x`).

History must never break the app: every store error becomes a visible message. Nor may it
freeze it: every store query (the list, its count, a run and its ledger) and the rendering of a
run's detail run in a worker thread, and the latest answer wins (a history of 10,000 runs opens
and filters while keys keep being handled; tests/test_history_off_thread.py).
"""

from __future__ import annotations

import asyncio
import inspect
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Input, Select, Static

from tui.agent.run import Message, RunOutput, RunStatus, ToolExecution
from tui.agent.visible import visible
from tui.paths import make_private_dir, stylesheet, write_private_text
from tui.widgets.args_diff import diff_args, render_diff
from tui.widgets.args_view import display_json
from tui.widgets.literal import literal, visible_controls
from tui.widgets.steady_footer import SteadyFooter

#: Seconds of typing quiet before the filters are applied.
DEBOUNCE = 0.3
ALL = "all"
PAGE_SIZE = 500
#: Below this width the detail goes under the list instead of beside it.
NARROW = 110
#: The prompt column's narrowest width; it takes whatever else the list has room for.
PROMPT_MIN_WIDTH = 24
#: Widths of the other columns: When, Model, Status, Tools, Rej.
_OTHER_COLUMNS = (11, 6, 11, 5, 4)

_STATUS_STYLE = {
    "paused": "bold yellow",
    "running": "bold cyan",
    "completed": "green",
    "error": "bold red",
    "cancelled": "dim",
}
_STATUS_ICON = {"paused": "⏸", "running": "▶", "completed": "✓", "error": "✗", "cancelled": "⊘"}
_ROLE_STYLE = {"user": "bold cyan", "assistant": "bold green", "tool": "bold magenta", "system": "bold dim"}


def local_time(dt: datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return dt.astimezone().strftime(fmt)


def one_line(text: str | None, width: int | None = None) -> str:
    # Hidden characters become markers before the cut, so a column keeps its width.
    flat = visible(" ".join((text or "").split()))
    if width is not None and len(flat) > width:
        return flat[: max(1, width - 1)] + "…"
    return flat


def default_export_dir() -> Path:
    from tui.config import data_dir

    return data_dir() / "exports"


# ----------------------------------------------------------------------------- detail rendering


def _heading(text: str) -> Text:
    return Text(f"\n{text}", style="bold underline")


def _kv(label: str, value: str | Text, style: str = "") -> Text:
    out = Text.assemble((f"{label}: ", "bold"))
    out.append_text(value if isinstance(value, Text) else literal(value, style=style))
    return out


def _message_block(message: Message) -> RenderableType:
    role = message.role
    head = Text(role, style=_ROLE_STYLE.get(role, "bold"))
    if role == "tool" and message.name:
        head.append_text(literal(f" · {message.name}", style="magenta"))
    parts: list[RenderableType] = [head]
    if message.content:
        parts.append(literal(message.content))
    for call in message.tool_calls or []:
        fn = call.get("function") or {}
        parts.append(literal(f"→ calls {fn.get('name', '?')}({one_line(str(fn.get('arguments', '')))})", style="dim"))
    return Group(*parts)


def _tool_block(tool: ToolExecution) -> RenderableType:
    status_style = {"rejected": "bold red", "error": "bold red", "completed": "green", "pending": "bold yellow"}
    head = Text.assemble(literal(tool.tool_name, style="bold"), "  ")
    head.append(tool.status, style=status_style.get(tool.status, ""))
    if tool.kind != "auto":
        head.append(f"  ({tool.kind.replace('_', ' ')})", style="dim")
    if tool.decided_by:
        head.append_text(literal(f"  decided by {tool.decided_by}", style="dim"))
    parts: list[RenderableType] = [head, _kv("args", literal(display_json(tool.tool_args, indent=None)))]
    if tool.proposed_args is not None and tool.proposed_args != tool.tool_args:
        parts.append(_kv("proposed", literal(display_json(tool.proposed_args, indent=None))))
    if tool.executed_args is not None and tool.executed_args != tool.tool_args:
        parts.append(_kv("ran with", literal(display_json(tool.executed_args, indent=None))))
    for f in tool.user_input_schema or []:
        value = "(not given)" if f.value is None else display_json(f.value, indent=None)
        parts.append(_kv(f"input {visible_controls(f.name)}", value))
    if tool.confirmation_note:
        parts.append(_kv("note", tool.confirmation_note))
    if tool.result is not None:
        parts.append(_kv("result", tool.result))
    elif tool.error:
        parts.append(_kv("error", tool.error, style="red"))
    return Group(*parts)


def _ledger_block(entry: Any) -> RenderableType:
    head = Text.assemble((local_time(entry.decided_at, "%Y-%m-%d %H:%M:%S"), "dim"), "  ")
    head.append_text(literal(entry.decision, style="bold"))
    head.append_text(literal(f"  {entry.tool_name}", style="bold"))
    who = f"{entry.decided_by or 'user'}" + (f" ({entry.approver})" if getattr(entry, "approver", None) else "")
    head.append_text(literal(f"  by {who}", style="italic"))
    parts: list[RenderableType] = [head]
    if entry.note:
        parts.append(_kv("  note", entry.note))
    proposed = entry.proposed_args
    executed = entry.executed_args
    if proposed is not None:
        parts.append(_kv("  proposed", literal(display_json(proposed, indent=None))))
    if executed is not None:
        parts.append(_kv("  executed", literal(display_json(executed, indent=None))))
        if proposed is not None and executed != proposed:
            parts.append(Padding(render_diff(diff_args(proposed, executed)), (0, 0, 0, 4)))
    elif entry.decision not in ("input_provided", "result_provided"):
        parts.append(Text("  not executed", style="dim"))
    return Group(*parts)


def render_detail(run: RunOutput, ledger: list[Any]) -> RenderableType:
    """The read-only detail of one run (everything untrusted goes through `literal`)."""
    status = str(run.status)
    head = Text.assemble((f"{_STATUS_ICON.get(status, '')} {status}", _STATUS_STYLE.get(status, "")), "  ")
    head.append_text(literal(run.run_id, style="bold"))
    parts: list[RenderableType] = [head]
    parts.append(_kv("session", run.session_id))
    parts.append(_kv("model", run.model or "?"))
    parts.append(_kv("started", local_time(run.created_at, "%Y-%m-%d %H:%M:%S")))
    parts.append(_kv("updated", local_time(run.updated_at, "%Y-%m-%d %H:%M:%S")))
    if run.is_paused:
        waiting = len(run.pending_tools)
        parts.append(
            Text(
                f"⏸ Paused: {waiting} call{'s wait' if waiting != 1 else ' waits'} for a decision. "
                "enter resumes this run in the dashboard.",
                style="bold yellow",
            )
        )
    if run.error:
        parts.append(_kv("error", run.error, style="red"))

    parts.append(_heading("Conversation"))
    messages = [m for m in run.messages if m.role != "system"]
    if not messages:
        parts.append(Text("(no messages)", style="dim"))
    for i, m in enumerate(messages):
        if i:
            parts.append(Text(""))
        parts.append(_message_block(m))

    parts.append(_heading(f"Tool calls ({len(run.tools)})"))
    if not run.tools:
        parts.append(Text("(none)", style="dim"))
    for i, t in enumerate(run.tools):
        if i:
            parts.append(Text(""))
        parts.append(_tool_block(t))

    parts.append(_heading(f"Decisions ({len(ledger)})"))
    if not ledger:
        parts.append(Text("(no decisions recorded)", style="dim"))
    for i, entry in enumerate(ledger):
        if i:
            parts.append(Text(""))
        parts.append(_ledger_block(entry))
    return Group(*parts)


# ----------------------------------------------------------------------------- the screen


class HistoryScreen(Screen[str | None]):
    """Browse, filter, inspect, resume and export past runs. Dismisses with the resumed run id."""

    CSS_PATH = stylesheet("history")
    AUTO_FOCUS = "#runs"
    HELP_TITLE = "History"

    BINDINGS = [
        Binding("escape", "close", "Back", id="history.close", tooltip="Back to the dashboard"),
        Binding("enter", "resume", "Resume", priority=True, id="history.resume",
                tooltip="Resume the selected paused run in the dashboard"),
        Binding("x", "export", "Export", id="history.export",
                tooltip="Write the selected run as JSON and Markdown into the exports folder"),
        Binding("slash", "search", "Search", id="history.search", tooltip="Search the prompts"),
        Binding("ctrl+r", "reload", "Reload", id="history.reload", tooltip="Read the history again"),
    ]

    def __init__(
        self,
        store: Any,
        *,
        export_dir: Path | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.store = store
        self.export_dir = export_dir
        self.summaries: dict[str, Any] = {}
        self.selected_run_id: str | None = None
        self.last_error: str | None = None
        self._debounce: Timer | None = None
        #: The prompt column's width: it grows with the list (see `_fit_prompt_column`).
        self.prompt_width = PROMPT_MIN_WIDTH

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Horizontal(id="history-body"):
            with Vertical(id="history-list"):
                yield Static("History", id="history-title")
                with Horizontal(id="history-filters"):
                    yield Select(
                        [("all statuses", ALL)] + [(s.value, s.value) for s in RunStatus],
                        value=ALL,
                        allow_blank=False,
                        id="status-filter",
                        compact=True,
                    )
                    yield Input(placeholder="tool name", id="tool-filter", compact=True)
                    yield Input(placeholder="search prompts", id="text-filter", compact=True)
                yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
                yield Static("", id="list-status")
            with VerticalScroll(id="history-detail"):
                yield Static("", id="detail")
        yield SteadyFooter()

    def on_mount(self) -> None:
        self._add_columns(PROMPT_MIN_WIDTH)
        self.query_one("#history-detail").border_title = "Run"
        self.reload()

    def _add_columns(self, prompt_width: int) -> None:
        self.prompt_width = prompt_width
        table = self.query_one("#runs", DataTable)
        when, model, status, tools, rejected = _OTHER_COLUMNS
        table.add_column("When", key="when", width=when)
        table.add_column("Prompt", key="prompt", width=prompt_width)
        table.add_column("Model", key="model", width=model)
        table.add_column("Status", key="status", width=status)
        table.add_column("Tools", key="tools", width=tools)
        table.add_column("Rej.", key="rejected", width=rejected)

    def on_resize(self) -> None:
        # Side by side when there is room for both, else the list above the detail.
        self.set_class(self.size.width < NARROW, "-narrow")
        self.call_after_refresh(self._fit_prompt_column)

    def _fit_prompt_column(self) -> None:
        """Give the prompt column every cell the list has beyond the other columns."""
        table = self.query_one("#runs", DataTable)
        cells = table.scrollable_content_region.width
        if not cells:
            return
        padding = 2 * table.cell_padding * (len(_OTHER_COLUMNS) + 1)
        width = max(PROMPT_MIN_WIDTH, cells - sum(_OTHER_COLUMNS) - padding - 1)
        if width != self.prompt_width:
            table.clear(columns=True)
            self._add_columns(width)
            self.reload()

    # ------------------------------------------------------------------ filters

    @property
    def filters(self) -> dict[str, Any]:
        status = self.query_one("#status-filter", Select).value
        tool = self.query_one("#tool-filter", Input).value.strip()
        text = self.query_one("#text-filter", Input).value.strip()
        return {
            "status": None if status in (ALL, Select.NULL) else status,
            "tool": tool or None,
            "text": text or None,
        }

    @on(Input.Changed, "#tool-filter, #text-filter")
    def _filter_typed(self, event: Input.Changed) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(DEBOUNCE, self.reload, name="history-filter")

    @on(Input.Submitted, "#tool-filter, #text-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._debounce is not None:
            self._debounce.stop()
        self.reload()
        self.query_one("#runs", DataTable).focus()

    @on(Select.Changed, "#status-filter")
    def _status_changed(self, event: Select.Changed) -> None:
        if self.is_mounted and self.query("#runs"):
            self.reload()

    # ------------------------------------------------------------------ loading

    def _list_status(self, text: str | Text, *, error: bool = False) -> None:
        status = self.query_one("#list-status", Static)
        status.update(text)
        status.set_class(error, "-error")

    def reload(self) -> None:
        """Query the store with the current filters and refill the table (keeps the selection).

        The query runs in a worker thread; a newer reload cancels an older one (exclusive group).
        """
        self._debounce = None
        filters = self.filters
        if self.store is None:
            self._show_list([], total=0, filters=filters)
            return
        self.run_worker(
            self._load_list(filters), group="history-list", exclusive=True, exit_on_error=False,
            description="history: list runs",
        )

    async def _load_list(self, filters: dict[str, Any]) -> None:
        store = self.store

        def query() -> tuple[list[Any], int]:
            runs = store.list_runs(limit=PAGE_SIZE, **filters)
            total = store.count_runs(**filters) if hasattr(store, "count_runs") else len(runs)
            return runs, total

        try:
            runs, total = await asyncio.to_thread(query)
        except Exception as exc:  # a broken history never breaks the app
            self.last_error = f"Could not read the history: {exc}"
            self.query_one("#runs", DataTable).clear()
            self.summaries = {}
            self._list_status(literal(self.last_error), error=True)
            self._show_detail(None)
            return
        self.last_error = None
        self._show_list(runs, total=total, filters=filters)

    def _show_list(self, runs: list[Any], *, total: int, filters: dict[str, Any]) -> None:
        table = self.query_one("#runs", DataTable)
        previous = self.selected_run_id
        table.clear()
        self.summaries = {r.run_id: r for r in runs}
        for r in runs:
            table.add_row(*self._row(r, self.prompt_width), key=r.run_id)
        if not runs:
            if any(filters.values()):
                self._list_status("No runs match these filters.")
            else:
                self._list_status(
                    "No runs yet. Runs you start from the dashboard are kept here, "
                    "with every tool call and decision."
                )
            self._show_detail(None)
            self.refresh_bindings()
            return
        shown = f"{len(runs)} of {total} runs" if total > len(runs) else f"{len(runs)} run{'s' if len(runs) != 1 else ''}"
        paused = sum(1 for r in runs if r.status == "paused")
        self._list_status(shown + (f" · {paused} paused" if paused else ""))
        if previous in self.summaries:
            table.move_cursor(row=table.get_row_index(previous), animate=False)
        else:
            table.move_cursor(row=0, animate=False)
        # The highlight message does not come when the cursor stays on row 0: show it directly.
        self._show_detail(runs[table.cursor_row].run_id)

    @staticmethod
    def _row(r: Any, prompt_width: int = 60) -> list[Text]:
        status = str(r.status)
        paused = status == "paused"
        row_style = "bold yellow" if paused else ""
        label = f"{_STATUS_ICON.get(status, '')} {status}"
        if paused and r.pending_count:
            label += f" {r.pending_count}"
        return [
            Text(local_time(r.created_at, "%m-%d %H:%M"), style=row_style or "dim"),
            literal(one_line(r.prompt, prompt_width), style=row_style),
            literal(one_line(r.model, 20), style=row_style),
            Text(label, style=_STATUS_STYLE.get(status, "")),
            Text(str(r.tool_count), style=row_style, justify="right"),
            Text(str(r.rejection_count), style=("bold red" if r.rejection_count else row_style), justify="right"),
        ]

    @on(DataTable.RowHighlighted, "#runs")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        run_id = event.row_key.value if event.row_key is not None else None
        if run_id != self.selected_run_id:
            self._show_detail(run_id)

    def _show_detail(self, run_id: str | None) -> None:
        self.selected_run_id = run_id
        detail = self.query_one("#detail", Static)
        if run_id is None:
            detail.update(Text("Select a run to see its conversation, tool calls and decisions.", style="dim"))
            self.refresh_bindings()
            return
        self.run_worker(
            self._load_detail(run_id), group="history-detail", exclusive=True, exit_on_error=False,
            description="history: load a run",
        )

    async def _load_detail(self, run_id: str) -> None:
        store = self.store

        def query() -> RenderableType | None:
            run = store.load_run(run_id)
            return None if run is None else render_detail(run, store.ledger(run_id))

        detail = self.query_one("#detail", Static)
        try:
            rendered = await asyncio.to_thread(query)
        except Exception as exc:
            detail.update(literal(f"Could not read run {run_id}: {exc}", style="red"))
            self.refresh_bindings()
            return
        if rendered is None:
            detail.update(literal(f"Run {run_id} is no longer in the history.", style="red"))
        else:
            detail.update(rendered)
        self.query_one("#history-detail", VerticalScroll).scroll_home(animate=False)
        self.refresh_bindings()

    # ------------------------------------------------------------------ actions

    @property
    def selected(self) -> Any | None:
        return self.summaries.get(self.selected_run_id) if self.selected_run_id else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "resume":
            focused = self.focused
            in_list_or_detail = focused is None or focused.id in ("runs", "history-detail")
            selected = self.selected
            return bool(in_list_or_detail and selected is not None and str(selected.status) == "paused")
        if action == "export":
            return True if self.selected is not None else None
        return True

    def action_close(self) -> None:
        self.dismiss(None)

    def action_search(self) -> None:
        self.query_one("#text-filter", Input).focus()

    def action_reload(self) -> None:
        self.reload()

    def action_resume(self) -> None:
        selected = self.selected
        if selected is None or str(selected.status) != "paused":
            return
        app = self.app
        resume = getattr(app, "resume_run", None)
        if resume is None:
            self.notify("This app cannot resume runs.", severity="warning")
            return
        run_id = selected.run_id
        self.dismiss(run_id)
        result = resume(run_id)
        if inspect.isawaitable(result):
            app.run_worker(result, name=f"resume {run_id}", group="resume", exit_on_error=False)

    def action_export(self) -> None:
        selected = self.selected
        if selected is None:
            return
        try:
            paths = self.export_run(selected.run_id)
        except Exception as exc:
            self.notify(visible_controls(f"Could not export run {selected.run_id}: {exc}"), severity="error",
                        title="Export failed", markup=False)
            return
        self.notify("\n".join(str(p) for p in paths), title="Exported", markup=False)

    def export_run(self, run_id: str) -> list[Path]:
        """Write `<run_id>.json` and `<run_id>.md` into the exports folder (else the current one)."""
        from tui.store.export import export_json, export_markdown

        documents = {".json": export_json(self.store, run_id), ".md": export_markdown(self.store, run_id)}
        folder = self.export_dir or default_export_dir()
        try:
            make_private_dir(folder)
        except OSError:
            folder = Path.cwd()
        paths = []
        for suffix, text in documents.items():
            path = folder / f"{run_id}{suffix}"
            write_private_text(path, text)  # exports hold the conversation: 0600
            paths.append(path)
        return paths


if __name__ == "__main__":
    import asyncio
    import tempfile

    from textual.app import App

    from tui.agent import Agent, tool
    from tui.agent.models import DemoModel
    from tui.store import RunStore

    @tool(requires_confirmation=True)
    def write_file(path: str, content: str) -> str:
        """Write a file in the workspace."""
        return f"wrote {len(content)} characters to {path}"

    demo_store = RunStore(Path(tempfile.mkdtemp()) / "runs.db")
    demo_agent = Agent(model=DemoModel(delay=0), tools=[write_file], store=demo_store)

    async def _seed() -> None:
        await demo_agent.arun("Write a file named notes.txt with 'hello'")
        run = await demo_agent.arun("Write a file named todo.txt with 'milk'")
        run.tools[0].confirm()
        await demo_agent.acontinue_run(run)
        await demo_agent.arun("What can you do?")

    asyncio.run(_seed())

    class _Demo(App[None]):
        def on_mount(self) -> None:
            self.push_screen(HistoryScreen(demo_store), lambda run_id: self.exit(message=f"resume {run_id}"))

        def resume_run(self, run_id: str) -> None:
            pass

    _Demo().run()
