"""`hitl-tui rules test FILE`: what each rule would have decided over the recorded history."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Iterable

from .agent.rules import DryRunReport, PastCall, RulesError, dry_run, load_rules, past_calls
from .agent.run import RunOutput


def history_calls(store: Any) -> list[PastCall]:
    """Every recorded tool call, oldest run first."""
    runs: Iterable[RunOutput]
    if hasattr(store, "iter_runs"):
        runs = store.iter_runs()
    else:
        summaries = store.list_runs(limit=1_000_000)
        runs = (r for r in (store.load_run(s.run_id) for s in summaries) if r is not None)
    return past_calls(runs)


def format_report(report: DryRunReport) -> str:
    lines = [report.summary()]
    for call in report.ordered:
        flag = "REJECTED" if call.rejected_by_person else (call.status or "")
        note = f" — {call.note}" if call.rejected_by_person and call.note else ""
        lines.append(
            f"  {flag:<9} {call.when}  {call.run_id}  {call.tool_name}({json.dumps(call.args, ensure_ascii=False)[:80]}){note}"
        )
    return "\n".join(lines)


def rules_test_command(store: Any, file: str) -> int:
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
    calls = history_calls(store)
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
