"""`pprint_run_response(run)`: print a run in a terminal, as Agno's `pprint` helper does.

Rich is imported inside the function only: `tui.agent` must stay importable without it (a test
checks that importing the runtime loads neither textual nor rich).
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable

from .events import RunCancelled, RunCompleted, RunContinued, RunError, RunPaused, RunStarted
from .run import RunOutput, RunStatus, ToolExecution

# C0 controls except tab and newline, DEL, and C1 controls: model and tool text is untrusted, and
# an escape sequence in it must not reach the terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # ␛ for ESC
    return "\u2421" if code == 0x7F else f"\\x{code:02x}"


def _visible(text: str) -> str:
    return _CONTROL.sub(_picture, text)


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_call(tool: ToolExecution) -> str:
    """`name(arg=value, ...)` with long values shortened; the arguments that ran, if known."""
    args = tool.executed_args if tool.executed_args is not None else tool.tool_args
    return f"{tool.tool_name}({', '.join(f'{k}={_short(v)}' for k, v in args.items())})"


def describe_outcome(tool: ToolExecution) -> str:
    """One line: what happened to the call, and who decided."""
    who = f" by {tool.decided_by}" if tool.decided_by else ""
    if tool.status == "pending":
        if tool.awaiting_confirmation:
            return "waiting for confirmation"
        if tool.awaiting_user_input:
            names = ", ".join(f.name for f in tool.user_input_schema or [] if f.value is None or f.error)
            return f"waiting for input: {names}"
        if tool.awaiting_external_execution:
            return "waiting for its result (run it yourself)"
        return "pending"
    if tool.status == "rejected":
        note = f": {tool.confirmation_note}" if tool.confirmation_note else ""
        return f"declined{who}{note}"
    if tool.status == "error":
        return f"failed: {tool.error or tool.result}"
    if tool.status == "running":
        return "running"
    verb = {"confirmation": "approved", "user_input": "input given", "external": "result given"}.get(tool.kind)
    edited = ", arguments edited" if tool.was_edited else ""
    return f"done ({verb}{who}{edited})" if verb else "done"


#: The events that carry the whole run (the last one seen is the final state).
RUN_EVENTS = (RunStarted, RunPaused, RunContinued, RunCompleted, RunError, RunCancelled)


def _final_run(events: Iterable[Any]) -> RunOutput:
    run = None
    for event in events:
        if isinstance(event, RUN_EVENTS):
            run = event.run
    if run is None:
        raise ValueError("the event stream carried no run")
    return run


def pprint_run_response(
    run: RunOutput | Iterable[Any],
    markdown: bool = True,
    *,
    show_tools: bool = True,
    console: Any = None,
    **_: Any,
) -> None:
    """Print the run's answer (Markdown by default) after a short list of its tool calls.

    Works for every status: a paused run lists what it waits for, a failed one shows its error.
    `run` may also be a (sync) iterable of run events, such as `agent.run(..., stream=True)`.
    Extra keyword arguments (Agno's `show_time`...) are accepted and ignored.
    """
    from rich.console import Console, Group
    from rich.markdown import Markdown
    from rich.panel import Panel
    from rich.text import Text

    if not isinstance(run, RunOutput):
        run = _final_run(run)
    console = console or Console()

    if show_tools and run.tools:
        lines = Text()
        for i, tool in enumerate(run.tools):
            mark, style = {
                "completed": ("✓", "green"),
                "rejected": ("✗", "yellow"),
                "error": ("!", "red"),
                "pending": ("?", "cyan"),
            }.get(tool.status, ("…", "dim"))
            if i:
                lines.append("\n")
            lines.append(f"{mark} ", style=style)
            lines.append(_visible(format_call(tool)), style="bold")
            lines.append(" — " + _visible(describe_outcome(tool)), style=style)
        console.print(Panel(lines, title="Tool calls", title_align="left", border_style="blue"))

    status = run.status
    if status == RunStatus.paused:
        pending = run.pending_tools
        body = Text(f"Paused: {len(pending)} call(s) wait for you.")
        for tool in pending:
            body.append("\n- " + _visible(format_call(tool)) + " — " + _visible(describe_outcome(tool)))
        console.print(Panel(body, title="Paused", title_align="left", border_style="cyan"))
        return
    if status == RunStatus.error:
        console.print(Panel(Text(_visible(run.error or "unknown error")), title="Error", title_align="left", border_style="red"))
        return
    if status == RunStatus.cancelled:
        console.print(Panel(Text("The run was cancelled."), title="Cancelled", title_align="left", border_style="yellow"))
        return
    content = _visible(run.content or "") or "(no answer)"
    rendered: Any = Markdown(content) if markdown else Text(content)
    title = "Response" if status == RunStatus.completed else f"Response ({status})"
    console.print(Panel(Group(rendered), title=title, title_align="left", border_style="green"))
