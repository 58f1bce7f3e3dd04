"""Saved rules are written by a TOML library: any note round-trips and never breaks the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.agent.rules import ArgCondition, RulesPolicy

HOSTILE_NOTES = [
    "line one\r\nline two",
    'say "no" \\ then \t tab',
    "bell \x07 and NUL-free \x1b[31m escape",
    "'''triple''' and \"\"\"more\"\"\"",
    "ünïcödé ✓",
]


@pytest.mark.parametrize("note", HOSTILE_NOTES)
def test_a_hostile_note_round_trips_and_the_other_rules_survive(tmp_path: Path, note: str) -> None:
    path = tmp_path / "rules.toml"
    path.write_text('# mine\n[[rule]]\nname = "keep"\ntool = "read_*"\neffect = "allow"\n', encoding="utf-8")
    policy = RulesPolicy.from_file(path)
    policy.save_rule("write_file", "deny", note=note, conditions=(ArgCondition(arg="path", regex="^secrets/"),))
    policy.save_rule("send_email", "allow")

    reloaded = RulesPolicy.from_file(path)
    assert reloaded.error is None
    assert [(r.name, r.effect, r.note) for r in reloaded.rules] == [
        ("keep", "allow", None),
        ("deny-write_file", "deny", note),
        ("allow-send_email", "allow", None),
    ]
    assert reloaded.rules[1].conditions[0].regex == "^secrets/"
    assert path.read_text(encoding="utf-8").startswith("# mine\n"), "the user's text is kept"
