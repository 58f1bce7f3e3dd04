"""`hitl-tui pending / approve / reject / input / result`: the approvals inbox from a shell.

Every pending request in the history database has a short, store-unique id. A headless agent that
waits (`agent.wait_for_decisions(run)`) continues as soon as one of these commands records its
decision. Decisions are records, first one wins: a second decision on the same call is refused
with who decided and when.

Exit codes: 0 done; 1 refused (unknown id, already decided, invalid value, wrong kind); 2 usage or
database problems.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from typing import Any, Sequence, TextIO

from tui.agent.decisions import default_approver
from tui.agent.notify import summarize_args
from tui.agent.run import UserInputField

KIND_NEEDS = {
    "confirmation": "approve ID, or reject ID [--reason TEXT]",
    "user_input": "input ID FIELD=VALUE ...",
    "external": "result ID TEXT",
}

SUBCOMMANDS = ("pending", "approve", "reject", "input", "result")


class InboxError(Exception):
    """A refusal the user can act on; the message says what to do."""


def add_subcommands(sub: Any, common: Any) -> None:
    """Register the inbox subcommands on `hitl-tui`'s subparsers (`common` adds --db/--config)."""
    p = sub.add_parser("pending", help="list the calls that wait for a decision, from every process")
    common(p)
    p.add_argument("--run", metavar="RUN_ID", help="only this run's requests")
    p.add_argument("--json", action="store_true", help="print JSON")

    def decider(name: str, help: str) -> argparse.ArgumentParser:
        q = sub.add_parser(name, help=help)
        common(q)
        q.add_argument("id", help="the request id shown by `hitl-tui pending`")
        q.add_argument("--as", dest="approver", metavar="NAME", help="who decides (default: user@host, or the approver setting)")
        q.add_argument("--json", action="store_true", help="print the recorded decision as JSON")
        return q

    decider("approve", "approve a pending call (it runs once, as proposed)")
    q = decider("reject", "reject a pending call; the reason reaches the model")
    q.add_argument("--reason", metavar="TEXT", help="why, for the model")
    q = decider("input", "fill the user-input fields of a pending call")
    q.add_argument("values", nargs="*", metavar="FIELD=VALUE")
    q = decider("result", "give the result of a call you ran yourself (external execution)")
    q.add_argument("text", help="the result, sent to the model")


# ---------------------------------------------------------------------------- reading requests


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _aware(dt: Any) -> datetime | None:
    if dt is None:
        return None
    if isinstance(dt, str):
        dt = datetime.fromisoformat(dt.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def cell(value: Any, limit: int = 60) -> str:
    """One table cell: no control characters (a hostile agent name cannot drive the terminal), one line."""
    text = "".join(ch if ch.isprintable() else "�" for ch in str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def age_text(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"
    return f"{seconds // 86400}d{(seconds % 86400) // 3600:02d}h"


def _owner(req: Any) -> dict[str, Any]:
    return {"host": _get(req, "owner_host"), "pid": _get(req, "owner_pid"), "alive": _get(req, "owner_alive")}


def _fields(req: Any) -> list[UserInputField]:
    """The request's user-input fields, with the types the store kept (for validation here)."""
    out = []
    for f in _get(req, "user_input_schema") or []:
        if isinstance(f, UserInputField):
            out.append(f.model_copy(deep=True))
            continue
        data = dict(f) if isinstance(f, dict) else f.model_dump()
        if "type" in data and "field_type" not in data:
            data["field_type"] = data.pop("type")
        data.pop("value", None)  # a pending request's fields wait for their values
        out.append(UserInputField.model_validate(data))
    return out


def request_json(req: Any, now: datetime) -> dict[str, Any]:
    created = _aware(_get(req, "created_at"))
    fields = _fields(req)
    return {
        "id": str(_get(req, "id")),
        "run_id": _get(req, "run_id"),
        "session_id": _get(req, "session_id"),
        "tool_call_id": _get(req, "tool_call_id"),
        "tool": _get(req, "tool_name"),
        "args": _get(req, "args") or {},
        "kind": _get(req, "kind"),
        "fields": [
            {"name": f.name, "type": f.type_name, "description": f.description, "choices": f.choices}
            for f in fields
        ],
        "agent": _get(req, "agent_name"),
        "owner": _owner(req),
        "created_at": created.isoformat() if created else None,
        "age_seconds": round((now - created).total_seconds(), 1) if created else None,
    }


def _pending(store: Any, run_id: str | None = None) -> list[Any]:
    if not callable(getattr(store, "pending_requests", None)):
        raise InboxError("this history database has no approvals inbox (upgrade hitl-tui)")
    return list(store.pending_requests(run_id=run_id) if run_id else store.pending_requests())


def find_request(store: Any, request_id: str) -> Any | None:
    """The pending request with this id, or None when nothing with that id waits."""
    for req in _pending(store):
        if str(_get(req, "id")) == str(request_id).strip().lstrip("#"):
            return req
    return None


def already_decided_text(request_id: str, entry: Any) -> str:
    who = _get(entry, "approver") or _get(entry, "who") or _get(entry, "decided_by") or "someone"
    when = _aware(_get(entry, "decided_at") or _get(entry, "when"))
    what = _get(entry, "decision") or _get(entry, "action") or "decided"
    at = when.astimezone().strftime("%Y-%m-%d %H:%M:%S") if when else "an unknown time"
    return f"request {request_id} was already decided ({what}) by {who} at {at}"


# ---------------------------------------------------------------------------- commands


def pending_command(store: Any, *, run_id: str | None, as_json: bool, out: TextIO = sys.stdout, now: datetime | None = None) -> int:
    now = now or datetime.now(timezone.utc)
    items = [request_json(req, now) for req in _pending(store, run_id)]
    if as_json:
        json.dump(items, out, ensure_ascii=False, indent=2)
        out.write("\n")
        return 0
    if not items:
        out.write("Nothing waits for a decision.\n")
        return 0
    rows: list[tuple[str, ...]] = [("ID", "AGE", "KIND", "TOOL", "AGENT", "HELD BY", "ARGS")]
    for it in items:
        owner = it["owner"]
        held = f"{owner['host'] or '?'}/{owner['pid']}" if owner["pid"] is not None else "?"
        if owner["alive"] is False:
            held += " (gone)"
        rows.append(
            tuple(
                cell(c)
                for c in (
                    it["id"],
                    age_text(it["age_seconds"] or 0),
                    it["kind"] or "?",
                    it["tool"] or "?",
                    it["agent"] or "-",
                    held,
                    summarize_args(it["args"], 60),
                )
            )
        )
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        out.write("  ".join(str(c).ljust(w) for c, w in zip(r, widths)) + "  " + str(r[-1]) + "\n")
    out.write(f"\n{len(items)} waiting. Decide with: hitl-tui approve ID | reject ID --reason TEXT | input ID FIELD=VALUE | result ID TEXT\n")
    return 0


def parse_values(pairs: Sequence[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InboxError(f"{pair!r} is not FIELD=VALUE")
        values[name.strip()] = value
    return values


def validate_values(req: Any, values: dict[str, str]) -> dict[str, Any]:
    """Coerce each value with its field's stored type. Raises InboxError naming each bad field and why."""
    fields = {f.name: f for f in _fields(req)}
    problems: list[str] = []
    unknown = sorted(set(values) - set(fields))
    if unknown:
        known = ", ".join(fields) or "none"
        problems.extend(f"{name}: no such field (fields: {known})" for name in unknown)
    coerced: dict[str, Any] = {}
    for name, field in fields.items():
        if name not in values:
            problems.append(f"{name}: a value is required" + (f" ({field.description})" if field.description else ""))
            continue
        try:
            coerced[name] = field.coerce(values[name])
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
    if problems:
        raise InboxError("invalid value(s):\n  " + "\n  ".join(problems))
    return coerced


def decide_command(
    store: Any,
    action: str,
    request_id: str,
    *,
    approver: str | None = None,
    reason: str | None = None,
    values: Sequence[str] = (),
    text: str | None = None,
    as_json: bool = False,
    out: TextIO = sys.stdout,
) -> int:
    """approve / reject / input / result one request by its id."""
    req = find_request(store, request_id)
    if req is None:
        return _not_pending(store, action, request_id, reason=reason, values=values, text=text, approver=approver, out=out)
    kind = _get(req, "kind")
    wanted = {"approve": "confirmation", "reject": None, "input": "user_input", "result": "external"}[action]
    if wanted is not None and kind != wanted:
        raise InboxError(f"request {request_id} ({_get(req, 'tool_name')}) needs {KIND_NEEDS.get(kind, kind)}, not `{action}`")
    kwargs: dict[str, Any] = {"by": "user", "approver": approver or default_approver()}
    digest = _digest(req)
    if digest is not None:
        kwargs["seen_digest"] = digest
    if action == "reject":
        kwargs["note"] = reason
    elif action == "input":
        kwargs["values"] = validate_values(req, parse_values(values))
    elif action == "result":
        if not (text or "").strip():
            raise InboxError("the result is empty: give the text the model should receive")
        kwargs["result"] = text
    try:
        record = store.decide(str(_get(req, "id")), action, **kwargs)
    except Exception as exc:
        raise InboxError(_refusal(request_id, exc)) from exc
    summary = {
        "id": str(_get(req, "id")),
        "run_id": _get(req, "run_id"),
        "tool": _get(req, "tool_name"),
        "decision": action,
        "approver": kwargs["approver"],
    }
    if reason:
        summary["reason"] = reason
    if as_json:
        json.dump(summary, out, ensure_ascii=False)
        out.write("\n")
    else:
        verb = {"approve": "Approved", "reject": "Rejected", "input": "Sent the input for", "result": "Sent the result of"}[action]
        out.write(f"{verb} {summary['tool']} (request {summary['id']}, run {summary['run_id']}) as {summary['approver']}.\n")
    _ = record
    return 0


def _not_pending(
    store: Any,
    action: str,
    request_id: str,
    *,
    reason: str | None,
    values: Sequence[str],
    text: str | None,
    approver: str | None,
    out: TextIO,
) -> int:
    """The id is not in the inbox: the store says why (already decided: by whom and when; or unknown).

    Asking the store to record the decision is how it answers: it refuses anything but a call
    that waits. (If the call started waiting in between, the decision is recorded as asked.)
    """
    kwargs: dict[str, Any] = {"by": "user", "approver": approver or default_approver()}
    if action == "reject":
        kwargs["note"] = reason
    elif action == "input":
        kwargs["values"] = parse_values(values)
    elif action == "result":
        kwargs["result"] = text
    try:
        record = store.decide(str(request_id), action, **kwargs)
    except Exception as exc:
        raise InboxError(_refusal(request_id, exc)) from exc
    out.write(f"Recorded {_get(record, 'decision')} on request {request_id} as {kwargs['approver']}.\n")
    return 0


def _digest(req: Any) -> str | None:
    digest = _get(req, "args_digest")
    if digest:
        return str(digest)
    try:
        from tui.agent.decisions import args_digest
    except ImportError:
        return None
    return args_digest(_get(req, "args") or {})


def _refusal(request_id: str, exc: Exception) -> str:
    """The store's refusal in the user's words (already decided: by whom and when)."""
    name = type(exc).__name__
    if name == "AlreadyDecided":
        record = getattr(exc, "record", None)
        return already_decided_text(request_id, record) if record is not None else str(exc)
    if name == "RunNotFound":
        return f"no pending request {request_id!r}: `hitl-tui pending` lists the ids that wait for a decision"
    if name == "ArgsChanged":
        return f"request {request_id}: the call's arguments changed since you read them; run `hitl-tui pending` again ({exc})"
    if name == "DecisionError" and getattr(exc, "field_errors", None):
        return "invalid value(s):\n  " + "\n  ".join(f"{k}: {v}" for k, v in exc.field_errors.items())  # type: ignore[attr-defined]
    return str(exc)


def main(args: argparse.Namespace, store: Any, settings: Any = None) -> int:
    """Dispatch from `hitl-tui` (tui/cli.py). Prints refusals to stderr and returns the exit code."""
    try:
        if args.command == "pending":
            return pending_command(store, run_id=args.run, as_json=args.json)
        approver = args.approver or (getattr(settings, "approver", None) if settings is not None else None)
        return decide_command(
            store,
            args.command,
            args.id,
            approver=approver,
            reason=getattr(args, "reason", None),
            values=getattr(args, "values", ()) or (),
            text=getattr(args, "text", None),
            as_json=args.json,
        )
    except InboxError as exc:
        print(f"hitl-tui: {exc}", file=sys.stderr)
        return 1
