"""The rules screen and the dry-run shown before an "always" rule is saved, driven by keys."""

from __future__ import annotations

from pathlib import Path

from textual.app import App
from textual.widgets import DataTable, Static

from tui.agent.rules import PastCall, RulesPolicy, dry_run, parse_rules
from tui.screens.rule_dry_run_modal import RuleDryRunModal
from tui.screens.rules_screen import RulesScreen


def _text(app: App, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def test_the_rules_screen_lists_rules_with_their_source_and_deletes_session_rules(tmp_path: Path):
    path = tmp_path / "rules.toml"
    path.write_text('[[rule]]\nname = "hn"\ntool = "get_top_*"\neffect = "allow"\n[rule.args.num_stories]\nmax = 5\n')
    policy = RulesPolicy.from_file(path)
    policy.allow_for_session("write_file")

    app = App()
    async with app.run_test(size=(120, 30)) as pilot:
        app.push_screen(RulesScreen(policy))
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        assert [(str(r[0]), str(r[1]), str(r[2])) for r in rows] == [
            ("file (line 1)", "allow", "get_top_*"),
            ("session", "allow", "write_file"),
        ]
        assert "num_stories <= 5" in str(rows[0][3])
        # a session rule goes at once
        await pilot.press("down", "x")
        await pilot.pause()
        assert table.row_count == 1
        assert policy.session_allow == set()
        # a saved rule asks once more, then leaves the file
        await pilot.press("up", "x")
        await pilot.pause()
        assert table.row_count == 1 and len(policy.rules) == 1
        await pilot.press("x")
        await pilot.pause()
        assert table.row_count == 0
        assert RulesPolicy.from_file(path).rules == []


async def test_an_invalid_rules_file_is_shown_on_the_rules_screen(tmp_path: Path):
    path = tmp_path / "rules.toml"
    path.write_text("[[rule]]\nname = 'x'\ntool = 'a'\neffect = 'sometimes'\n")
    app = App()
    async with app.run_test(size=(120, 30)) as pilot:
        app.push_screen(RulesScreen(RulesPolicy.from_file(path)))
        await pilot.pause()
        status = _text(app, "#rules-status")
        assert "line 1" in status and "effect" in status and "disabled" in status


def _calls() -> list[PastCall]:
    def call(i: int, n: int, status: str, by: str | None, note: str | None = None) -> PastCall:
        return PastCall(f"run_{i}", f"c{i}", "get_top_hackernews_stories", {"num_stories": n}, status, by, note, f"2026-01-0{i}T00:00:00")

    return [
        call(1, 2, "completed", "user"),
        call(2, 3, "rejected", "user", "too many requests today"),
        call(3, 9, "rejected", "user"),
        call(4, 4, "rejected", "user", "not now"),
    ]


async def test_the_dry_run_lists_person_rejected_matches_first_and_y_saves():
    rule = parse_rules('[[rule]]\nname="hn"\ntool="get_top_*"\neffect="allow"\n[rule.args.num_stories]\nmax=5\n')[0]
    report = dry_run(rule, _calls())
    results: list[bool] = []
    app = App()
    async with app.run_test(size=(120, 30)) as pilot:
        app.push_screen(RuleDryRunModal(report), results.append)
        await pilot.pause()
        summary = _text(app, "#dryrun-summary")
        assert "would have matched 3 past calls" in summary and "2 of them were rejected by a person" in summary
        rows = [str(w.render()) for w in app.screen.query(".dryrun-row")]
        assert rows[0].startswith("✗ rejected by you") and "too many requests today" in rows[0]
        assert rows[1].startswith("✗ rejected by you") and "not now" in rows[1]
        assert "completed" in rows[2]
        await pilot.press("y")
        await pilot.pause()
    assert results == [True]
