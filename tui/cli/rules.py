"""`hitl-tui rules test FILE`: what each rule would have decided over the recorded history."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tui.agent.rules import DryRunReport, PastCall, RulesError, dry_run, load_rules
from tui.store.history_calls import RunSource, history_calls


def format_report(report: DryRunReport) -> str:
    lines = [report.summary()]
    for call in report.ordered:
        flag = "REJECTED" if call.rejected_by_person else (call.status or "")
        note = f" — {call.note}" if call.rejected_by_person and call.note else ""
        lines.append(
            f"  {flag:<9} {call.when}  {call.run_id}  {call.tool_name}({json.dumps(call.args, ensure_ascii=False)[:80]}){note}"
        )
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
    print(f"Dry run of {len(rules)} rule(s) over {len(calls)} recorded tool call(s):\n")
    warned = False
    for rule in rules:
        report = dry_run(rule, calls)
        warned = warned or (rule.effect == "allow" and bool(report.rejected))
        print(format_report(report))
        print()
    if warned:
        print("Warning: an allow rule matches calls that a person rejected. Check its conditions before relying on it.")
    return 0
