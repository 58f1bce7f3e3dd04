"""`hitl-tui rules test FILE`: what each rule would have decided over the recorded history."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from tui.agent.rules import DryRunReport, PastCall, RulesError, dry_run, load_rules
from tui.agent.visible import one_line, visible
from tui.store.history_calls import RunSource, history_calls


#: Arguments longer than this are cut, with an ellipsis, in the listing.
ARGS_WIDTH = 80


def short_args(args: dict[str, Any], width: int = ARGS_WIDTH) -> str:
    """The arguments as one line of JSON, hidden characters marked; cut with `…` when too long."""
    return one_line(args, width)


def format_report(report: DryRunReport) -> str:
    lines = [report.summary()]
    for call in report.ordered:
        if report.is_conflict(call):
            flag = "REJECTED" if call.rejected_by_person else "APPROVED"
        else:
            flag = call.status or ""
        note = f" — {visible(call.note)}" if call.rejected_by_person and call.note else ""
        lines.append(f"  {flag:<9} {call.when}  {call.run_id}  {visible(call.tool_name)}({short_args(call.args)}){note}")
    return "\n".join(lines)


def rules_test_command(store: RunSource | None, file: str) -> int:
    """Dry-run every rule of `file` over the history (`store` None: no history yet)."""
    try:
        rules = load_rules(Path(file))
    except RulesError as exc:
        print(f"hitl-tui: {exc}", file=sys.stderr)
        return 2
    if not Path(file).exists():
        print(f"hitl-tui: {file}: no such file", file=sys.stderr)
        return 2
    if not rules:
        print(f"{file}: no rules.")
        return 0
    calls: list[PastCall] = history_calls(store) if store is not None else []
    n_rules, n_calls = len(rules), len(calls)
    print(
        f"Dry run of {n_rules} rule{'s' if n_rules != 1 else ''} over {n_calls} recorded tool call{'s' if n_calls != 1 else ''}:\n"
    )
    allow_warned = deny_warned = False
    for rule in rules:
        report = dry_run(rule, calls)
        allow_warned = allow_warned or (rule.effect == "allow" and bool(report.conflicts))
        deny_warned = deny_warned or (rule.effect == "deny" and bool(report.conflicts))
        print(format_report(report))
        print()
    if allow_warned:
        print("Warning: an allow rule matches calls that a person rejected. Check its conditions before relying on it.")
    if deny_warned:
        print("Warning: a deny rule matches calls that a person approved: they would now be refused.")
    return 0
