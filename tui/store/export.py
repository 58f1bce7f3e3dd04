"""Export a run or a whole session: JSON (full state + decision ledger) or a Markdown transcript.

Everything exported comes from the store, which holds only redacted data, and is redacted once
more on the way out (the environment's secrets may have changed since the run was saved).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from ..agent.run import RunOutput, ToolExecution, utcnow
from ..agent.visible import escape_hidden_json, visible
from .redact import Redactor
from .run_store import RunNotFound, RunStore
from .summaries import LedgerEntry

FORMAT_VERSION = 1


def _load(store: RunStore, run_id: str) -> RunOutput:
    run = store.load_run(run_id)
    if run is None:
        raise RunNotFound(f"no run {run_id!r} in {store.path}")
    return run


def _session_runs(store: RunStore, session_id: str) -> list[RunOutput]:
    runs = store.session_runs(session_id)
    if not runs:
        raise RunNotFound(f"no session {session_id!r} in {store.path}")
    return runs


def _run_document(store: RunStore, run: RunOutput) -> dict[str, Any]:
    return {
        "run": run.model_dump(mode="json"),
        "ledger": [entry.model_dump(mode="json") for entry in store.ledger(run.run_id)],
    }


def _dumps(document: dict[str, Any]) -> str:
    # Hidden characters (bidi overrides, zero-width, tags) are written as \\uXXXX escapes: the JSON
    # keeps the exact text, and a person reading the file sees them.
    return escape_hidden_json(json.dumps(Redactor().value(document), ensure_ascii=False, indent=2)) + "\n"


# ----------------------------------------------------------------------------- JSON


def export_json(store: RunStore, run_id: str) -> str:
    """The run's full state and its decision ledger, as one JSON document."""
    run = _load(store, run_id)
    return _dumps(
        {
            "format": "hitl-tui.run",
            "version": FORMAT_VERSION,
            "exported_at": utcnow().isoformat(),
            **_run_document(store, run),
        }
    )


def export_session_json(store: RunStore, session_id: str) -> str:
    """Every run of the session, oldest first, each with its ledger."""
    runs = _session_runs(store, session_id)
    return _dumps(
        {
            "format": "hitl-tui.session",
            "version": FORMAT_VERSION,
            "exported_at": utcnow().isoformat(),
            "session_id": session_id,
            "runs": [_run_document(store, run) for run in runs],
        }
    )


# ----------------------------------------------------------------------------- Markdown


def export_markdown(store: RunStore, run_id: str) -> str:
    """A readable transcript: prompt, replies, and every tool call with its decision and result."""
    run = _load(store, run_id)
    return visible(Redactor().text("\n".join(_run_markdown(run, store.ledger(run.run_id), level=1)).rstrip() + "\n"))


def export_session_markdown(store: RunStore, session_id: str) -> str:
    runs = _session_runs(store, session_id)
    lines = [f"# Session {session_id}", "", f"- Runs: {len(runs)}", f"- Started: {_when(runs[0].created_at)}", ""]
    for run in runs:
        lines += _run_markdown(run, store.ledger(run.run_id), level=2)
    return visible(Redactor().text("\n".join(lines).rstrip() + "\n"))


def _run_markdown(run: RunOutput, ledger: list[LedgerEntry], *, level: int) -> list[str]:
    h = "#" * level
    by_call = {e.tool_call_id: e for e in ledger}
    tools = {t.tool_call_id: t for t in run.tools}
    rejected = sum(1 for t in run.tools if t.status == "rejected")
    lines = [
        f"{h} Run {run.run_id}",
        "",
        f"- Session: {run.session_id}",
        f"- Model: {run.model or 'unknown'}",
        f"- Status: {run.status.value}",
        f"- Started: {_when(run.created_at)}",
        f"- Last update: {_when(run.updated_at)}",
        f"- Tool calls: {len(run.tools)}" + (f" ({rejected} rejected)" if rejected else ""),
    ]
    if run.error:
        lines.append(f"- Error: {run.error}")
    lines.append("")
    if run.input is not None:
        lines += [f"{h}# Prompt", "", _quote(run.input), ""]
    prompt_shown = run.input is not None
    shown: set[str] = set()
    for message in run.messages:
        if message.role == "system":
            continue
        if message.role == "user":
            if prompt_shown and message.content == run.input:
                prompt_shown = False  # the prompt itself, shown above
                continue
            lines += [f"{h}# User", "", _quote(message.content or ""), ""]
        elif message.role == "assistant":
            if message.content:
                lines += [f"{h}# Assistant", "", message.content.strip(), ""]
            for call in message.tool_calls or []:
                t = tools.get(call.get("id", ""))
                if t is not None:
                    lines += _tool_markdown(t, by_call.get(t.tool_call_id), level=level + 2)
                    shown.add(t.tool_call_id)
    for t in run.tools:  # calls whose assistant message is missing (should not happen): still shown
        if t.tool_call_id not in shown:
            lines += _tool_markdown(t, by_call.get(t.tool_call_id), level=level + 2)
    if run.is_paused and run.pending_tools:
        names = ", ".join(f"`{t.tool_name}`" for t in run.pending_tools)
        lines += [f"{h}# Waiting", "", f"The run is paused: {names} await a decision.", ""]
    return lines


def _tool_markdown(t: ToolExecution, entry: LedgerEntry | None, *, level: int) -> list[str]:
    h = "#" * level
    lines = [f"{h} Tool call: {t.tool_name} (`{t.tool_call_id}`)", "", f"- Status: {t.status}"]
    if t.kind != "auto":
        lines.append(f"- Kind: {t.kind.replace('_', ' ')}")
    decision = entry.decision if entry else None
    decided_by = (entry.decided_by if entry else None) or t.decided_by
    decided_at = (entry.decided_at if entry else None) or t.decided_at
    note = (entry.note if entry else None) or t.confirmation_note
    if decision or decided_by:
        text = f"- Decision: {(decision or 'decided').replace('_', ' ')}"
        if decided_by:
            text += f" by {decided_by}"
        if decided_at:
            text += f" at {_when(decided_at)}"
        approver = (entry.approver if entry else None) or t.approver
        if approver:
            text += f" (approver: {approver})"
        lines.append(text)
    elif t.is_awaiting_decision:
        lines.append("- Decision: waiting for a person")
    if note:
        lines.append(f"- Note: {note}")
    if t.duration is not None:
        lines.append(f"- Duration: {t.duration:.2f} s")
    lines.append("")
    ran_with = t.executed_args if t.executed_args is not None else None
    if t.was_edited and t.proposed_args is not None:
        lines += ["Proposed arguments:", "", _fence(_pretty(t.proposed_args), "json"), ""]
        lines += ["Arguments after the edit:", "", _fence(_pretty(ran_with or t.tool_args), "json"), ""]
    else:
        lines += ["Arguments:", "", _fence(_pretty(ran_with if ran_with is not None else t.tool_args), "json"), ""]
    for field in t.user_input_schema or []:
        if field.value is not None:
            lines.append(f"- Provided `{field.name}`: {field.value}")
    if t.user_input_schema:
        lines.append("")
    if t.result is not None:
        lines += ["Result:", "", _fence(t.result), ""]
    elif t.error:
        lines += ["Error:", "", _fence(t.error), ""]
    return lines


def _pretty(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)


def _fence(text: str, lang: str = "") -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}{lang}\n{text.rstrip()}\n{fence}"


def _quote(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in text.strip().splitlines()) or ">"


def _when(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


__all__ = ["export_json", "export_markdown", "export_session_json", "export_session_markdown"]
