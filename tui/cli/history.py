"""`hitl-tui history` and `hitl-tui export`: plain text on stdout, problems on stderr, exit codes.

Exit codes: 0 success, 1 the run (or session) does not exist or the database failed, 2 a bad
argument (unknown status or format).
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import TextIO

from tui.store.export import export_json, export_markdown, export_session_json, export_session_markdown
from tui.store.run_store import RunNotFound, RunStore, StoreError
from tui.store.summaries import RunSummary

_FORMATS = {"md": "markdown", "markdown": "markdown", "json": "json"}


def history_command(
    store: RunStore,
    *,
    status: str | None = None,
    tool: str | None = None,
    text: str | None = None,
    as_json: bool = False,
    limit: int = 50,
    out: TextIO | None = None,
) -> int:
    """Print matching runs, newest first: a table, or a JSON list of run summaries."""
    out = out or sys.stdout
    try:
        runs = store.list_runs(status=status, tool=tool, text=text, limit=max(0, limit))
    except ValueError as exc:
        print(f"hitl-tui: {exc}", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"hitl-tui: {exc}", file=sys.stderr)
        return 1
    if as_json:
        out.write(json.dumps([r.model_dump(mode="json") for r in runs], ensure_ascii=False, indent=2) + "\n")
        return 0
    if not runs:
        filters = [f"{k}={v!r}" for k, v in (("status", status), ("tool", tool), ("text", text)) if v]
        print("No runs" + (f" match {', '.join(filters)}." if filters else " yet."), file=out)
        return 0
    out.write(format_table(runs))
    try:
        total = store.count_runs(status=status, tool=tool, text=text)
    except StoreError:
        total = len(runs)
    if total > len(runs):
        print(f"({len(runs)} of {total} runs; use --limit to see more)", file=out)
    return 0


def format_table(runs: list[RunSummary], *, prompt_width: int = 60) -> str:
    """Fixed columns: time (local), run id, status, model, tools, rejections, prompt."""
    header = ("TIME", "RUN ID", "STATUS", "MODEL", "TOOLS", "REJ", "PROMPT")
    rows = [
        (
            _local(r.updated_at),
            r.run_id,
            r.status + (f" ({r.pending_count})" if r.status == "paused" and r.pending_count else ""),
            r.model or "-",
            str(r.tool_count),
            str(r.rejection_count),
            _one_line(r.prompt or "", prompt_width),
        )
        for r in runs
    ]
    widths = [max(len(header[i]), *(len(row[i]) for row in rows)) for i in range(len(header) - 1)]
    right = {4, 5}  # numbers

    def fmt(row: tuple[str, ...]) -> str:
        cells = [row[i].rjust(widths[i]) if i in right else row[i].ljust(widths[i]) for i in range(len(widths))]
        return "  ".join(cells + [row[-1]]).rstrip()

    return "\n".join([fmt(header), *(fmt(row) for row in rows)]) + "\n"


def export_command(store: RunStore, run_id: str, fmt: str = "md", *, out: TextIO | None = None) -> int:
    """Print a run (or, given a session id, a whole session) as Markdown (`md`) or JSON."""
    out = out or sys.stdout
    kind = _FORMATS.get((fmt or "").lower())
    if kind is None:
        print(f"hitl-tui: unknown export format {fmt!r}: use md or json", file=sys.stderr)
        return 2
    try:
        if store.load_run(run_id) is not None:
            text = export_json(store, run_id) if kind == "json" else export_markdown(store, run_id)
        elif store.has_session(run_id):
            text = export_session_json(store, run_id) if kind == "json" else export_session_markdown(store, run_id)
        else:
            raise RunNotFound(f"no run or session {run_id!r} in {store.path} (`hitl-tui history` lists them)")
    except RunNotFound as exc:
        print(f"hitl-tui: {exc}", file=sys.stderr)
        return 1
    except StoreError as exc:
        print(f"hitl-tui: {exc}", file=sys.stderr)
        return 1
    out.write(text)
    return 0


def _local(dt: datetime) -> str:
    return dt.astimezone().strftime("%Y-%m-%d %H:%M")


def _one_line(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


__all__ = ["export_command", "format_table", "history_command"]
