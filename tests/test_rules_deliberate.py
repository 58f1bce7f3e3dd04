"""Rules that mean what they say: normalised paths, dry runs that warn about the right calls, revoking any rule."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App
from textual.widgets import DataTable, Static

from tui.agent import Agent, tool
from tui.agent.models import DemoModel
from tui.agent.rules import PastCall, RulesPolicy, dry_run, normalise_path, parse_rules
from tui.cli import main
from tui.screens.rule_dry_run_modal import RuleDryRunModal
from tui.screens.rules_screen import RulesScreen
from tui.store import RunStore

README_RULES = """
[[rule]]
name = "writes-ok"
tool = "write_file"
effect = "allow"

[[rule]]
name = "protect-secrets"
tool = "write_*"
effect = "deny"
note = "Never write into secrets/."
[rule.args.path]
regex = "^secrets/"
"""

written: list[str] = []


@tool(requires_confirmation=True)
def write_file(path: str, content: str) -> str:
    """Write a file.

    Args:
        path: Where.
        content: What.
    """
    written.append(path)
    return "ok"


@pytest.mark.parametrize(
    "path",
    ["secrets/key.txt", "./secrets/key.txt", " secrets/key.txt", "secrets//key.txt", "notes/../secrets/key.txt",
     ".//secrets/./key.txt", "secrets\\key.txt"],
)
async def test_every_spelling_of_a_secrets_path_is_denied_by_the_readme_rule(path: str):
    written.clear()
    agent = Agent(model=DemoModel(delay=0), tools=[write_file], policy=RulesPolicy(rules=parse_rules(README_RULES)))
    import json

    run = await agent.arun("call write_file " + json.dumps({"path": path, "content": "x"}))
    assert run.status == "completed"
    assert written == []
    assert (run.tools[0].status, run.tools[0].decided_by) == ("rejected", "rule:protect-secrets")


async def test_other_paths_are_still_allowed_and_an_escape_is_not_normalised_into_the_workspace():
    written.clear()
    agent = Agent(model=DemoModel(delay=0), tools=[write_file], policy=RulesPolicy(rules=parse_rules(README_RULES)))
    run = await agent.arun('call write_file {"path": "./notes/secrets.txt", "content": "x"}')
    assert run.tools[0].decided_by == "rule:writes-ok" and written == ["./notes/secrets.txt"]  # runs as written
    assert normalise_path("a/../../secrets/x") == "../secrets/x"


def _calls() -> list[PastCall]:
    def call(i: int, path: str, status: str, by: str | None, note: str | None = None) -> PastCall:
        return PastCall(f"run_{i}", f"c{i}", "write_file", {"path": path}, status, by, note, f"2026-01-0{i}T00:00:00")

    return [
        call(1, "secrets/a", "rejected", "user", "no secrets"),
        call(2, "secrets/b", "completed", "user"),
        call(3, "./secrets/c", "completed", "user"),
        call(4, "secrets/d", "rejected", "user"),
        call(5, "notes/e", "completed", "user"),
    ]


def test_a_deny_dry_run_warns_about_past_approvals_not_rejections():
    rule = parse_rules(README_RULES)[1]
    report = dry_run(rule, _calls())
    assert len(report.matched) == 4
    assert [c.args["path"] for c in report.conflicts] == ["secrets/b", "./secrets/c"]
    assert "WARNING: 2 of them were approved by a person" in report.summary()
    assert [c.args["path"] for c in report.ordered][:2] == ["secrets/b", "./secrets/c"]


def test_an_allow_dry_run_warns_about_past_rejections():
    rule = parse_rules('[[rule]]\nname="w"\ntool="write_file"\neffect="allow"\n')[0]
    report = dry_run(rule, _calls())
    assert [c.args["path"] for c in report.conflicts] == ["secrets/a", "secrets/d"]
    assert "WARNING: 2 of them were rejected by a person" in report.summary()


async def test_the_deny_dry_run_modal_shows_approvals_in_red_first():
    report = dry_run(parse_rules(README_RULES)[1], _calls())
    app = App()
    async with app.run_test(size=(120, 30)) as pilot:
        app.push_screen(RuleDryRunModal(report))
        await pilot.pause()
        rows = list(app.screen.query(".dryrun-row"))
        assert [r.has_class("rejected") for r in rows] == [True, True, False, False]
        assert "✗ approved by you" in str(rows[0].render())
        summary = str(app.screen.query_one("#dryrun-summary", Static).render())
        assert "approved by a person" in summary


async def test_rules_test_warns_about_a_deny_rule_and_cuts_long_arguments_with_an_ellipsis(tmp_path: Path, capsys):
    db = tmp_path / "runs.db"
    store = RunStore(db)
    agent = Agent(model=DemoModel(delay=0), tools=[write_file], store=store)
    import json

    run = await agent.arun("call write_file " + json.dumps({"path": "secrets/k", "content": "z" * 200}))
    run.tools[0].confirm()
    await agent.acontinue_run(run)
    store.close()
    rules = tmp_path / "rules.toml"
    rules.write_text(README_RULES)
    assert main(["rules", "test", str(rules), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "Warning: a deny rule matches calls that a person approved" in out
    (line,) = [line for line in out.splitlines() if line.strip().startswith("APPROVED")]
    assert line.endswith("…)")
    assert "1 rule" not in out and "2 rules over 1 recorded tool call:" in out


async def test_the_rules_screen_lists_and_revokes_run_rules_too(tmp_path: Path):
    policy = RulesPolicy.from_file(tmp_path / "rules.toml")
    policy.allow_for_run("run_1", "write_file")
    policy.run_deny.setdefault("run_1", set()).add("send_email")
    app = App()
    async with app.run_test(size=(120, 30)) as pilot:
        app.push_screen(RulesScreen(policy))
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        rows = [tuple(str(c) for c in table.get_row_at(i))[:3] for i in range(table.row_count)]
        assert rows == [("run", "allow", "write_file"), ("run", "deny", "send_email")]
        await pilot.press("x")
        await pilot.pause()
        assert policy.run_allow == {} and table.row_count == 1
        await pilot.press("x")
        await pilot.pause()
        assert policy.run_deny == {} and table.row_count == 0
