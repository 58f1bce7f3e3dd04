"""SVG snapshots of the rules screen and the dry-run shown before an "always" rule is saved."""

from __future__ import annotations

from typing import Any

import pytest
from textual.app import App

from tui.agent.rules import PastCall, RulesPolicy, dry_run, parse_rules
from tui.screens.rule_dry_run_modal import RuleDryRunModal
from tui.screens.rules_screen import RulesScreen

SIZES = pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])

RULES = """
[[rule]]
name = "few-stories"
tool = "get_top_hackernews_stories"
effect = "allow"
[rule.args.num_stories]
max = 5

[[rule]]
name = "protect-secrets"
tool = "write_*"
effect = "deny"
note = "Never write into secrets/."
[rule.args.path]
regex = "^secrets/"
"""


class _Host(App[None]):
    def __init__(self, screen: Any) -> None:
        super().__init__()
        self._screen = screen

    def on_mount(self) -> None:
        self.push_screen(self._screen)


@SIZES
def test_rules_screen(snap_compare: Any, size: tuple[int, int]) -> None:
    policy = RulesPolicy(rules=parse_rules(RULES, path="rules.toml"))
    policy.allow_for_session("write_file")
    assert snap_compare(_Host(RulesScreen(policy)), terminal_size=size)


@SIZES
def test_rule_dry_run_modal(snap_compare: Any, size: tuple[int, int]) -> None:
    rule = parse_rules('[[rule]]\nname="allow-deploy"\ntool="deploy"\neffect="allow"\n')[0]
    calls = [
        PastCall("run_1", "c1", "deploy", {"service": "web"}, "completed", "user", None, "2026-01-01T10:00:00"),
        PastCall("run_2", "c2", "deploy", {"service": "db"}, "rejected", "user", "db is frozen", "2026-01-02T10:00:00"),
        PastCall("run_3", "c3", "deploy", {"service": "web"}, "completed", "user", None, "2026-01-03T10:00:00"),
    ]
    assert snap_compare(_Host(RuleDryRunModal(dry_run(rule, calls))), terminal_size=size)
