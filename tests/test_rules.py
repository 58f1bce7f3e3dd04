"""Approval rules: matching, precedence, scopes, invalid files, and what the runtime does with them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.agent import Agent, tool
from tui.agent.models import DemoModel
from tui.agent.rules import RulesError, RulesPolicy, parse_rules, strictest
from tui.agent.run import RunOutput, ToolExecution

RULES = """
[[rule]]
name = "writes-anywhere"
tool = "write_*"
effect = "ask"

[[rule]]
name = "notes-ok"
tool = "write_file"
effect = "allow"
[rule.args.path]
glob = "notes/*"

[[rule]]
name = "no-secrets"
tool = "write_file"
effect = "deny"
note = "Never write into secrets/."
[rule.args.path]
regex = "^secrets/"

[[rule]]
name = "few-stories"
tool = "get_top_hackernews_stories"
effect = "allow"
[rule.args.num_stories]
min = 1
max = 5

[[rule]]
name = "never-rm"
tool = "shell"
effect = "deny"
[rule.args.command]
equals = "rm -rf /"

[[rule]]
name = "all-email"
tool = "send_email"
effect = "allow"
"""


@pytest.mark.parametrize(
    ("tool_name", "args", "expected"),
    [
        # an allow rule with a matching condition, but a general ask rule is stricter: ask wins
        ("write_file", {"path": "notes/a.txt"}, ("ask", "writes-anywhere")),
        # a deny beats the ask and the allow
        ("write_file", {"path": "secrets/key"}, ("deny", "no-secrets")),
        ("write_file", {"path": "src/app.py"}, ("ask", "writes-anywhere")),
        # numeric ranges are inclusive and coerce numeric strings
        ("get_top_hackernews_stories", {"num_stories": 5}, ("allow", "few-stories")),
        ("get_top_hackernews_stories", {"num_stories": "3"}, ("allow", "few-stories")),
        ("get_top_hackernews_stories", {"num_stories": 6}, None),
        ("get_top_hackernews_stories", {"num_stories": 0}, None),
        ("get_top_hackernews_stories", {}, None),
        # equals is exact
        ("shell", {"command": "rm -rf /"}, ("deny", "never-rm")),
        ("shell", {"command": "rm -rf /tmp/x"}, None),
        # globs do not match other tools
        ("read_file", {"path": "notes/a.txt"}, None),
    ],
)
def test_the_strictest_matching_rule_decides(tool_name, args, expected):
    rules = parse_rules(RULES)
    rule = strictest(rules, tool_name, args)
    assert (None if rule is None else (rule.effect, rule.name)) == expected


def test_more_specific_rule_names_the_decision_among_equal_effects():
    rules = parse_rules(
        """
[[rule]]
name = "general"
tool = "write_*"
effect = "deny"

[[rule]]
name = "specific"
tool = "write_file"
effect = "deny"
[rule.args.path]
glob = "*.exe"
"""
    )
    assert strictest(rules, "write_file", {"path": "a.exe"}).name == "specific"
    assert strictest(rules, "write_file", {"path": "a.txt"}).name == "general"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[rule]]\nname = 'x'\ntool = 'a'\neffect = 'maybe'\n", "line 1 (rule 1): 'effect' must be allow, ask or deny"),
        ("# comment\n\n[[rule]]\nname = 'x'\neffect = 'allow'\n", "line 3 (rule 1): 'tool' is required"),
        ("[[rule]]\nname = 'x'\ntool = 'a'\neffect = 'allow'\n[rule.args.p]\nregex = '('\n", "invalid regex"),
        ("[[rule]]\nname = 'x'\ntool = 'a'\neffect = 'allow'\n[rule.args.p]\nbetween = 3\n", "unknown condition(s) between"),
        ("[[rule]\nname = 'x'\n", "line 1"),
        ("[[rule]]\nname='a'\ntool='t'\neffect='allow'\n\n[[rule]]\nname='a'\ntool='t'\neffect='deny'\n", "line 6 (rule 2): a rule named 'a' already exists"),
    ],
)
def test_an_invalid_rules_file_names_the_line_and_the_problem(text, message):
    with pytest.raises(RulesError) as info:
        parse_rules(text, path="rules.toml")
    assert message in str(info.value)
    assert str(info.value).startswith("rules.toml")


def test_an_invalid_rules_file_disables_rules_and_says_so(tmp_path: Path):
    path = tmp_path / "rules.toml"
    path.write_text("[[rule]]\nname = 'x'\ntool = 'a'\neffect = 'yes'\n")
    policy = RulesPolicy.from_file(path)
    assert policy.rules == []
    assert "line 1" in policy.error and "Rules are disabled" in policy.error


def _pending(name: str, args: dict, **flags) -> tuple[ToolExecution, RunOutput]:
    t = ToolExecution(tool_call_id="c1", tool_name=name, tool_args=args, **flags)
    return t, RunOutput()


def test_an_allow_rule_cannot_skip_a_user_input_tool(tmp_path: Path):
    policy = RulesPolicy(rules=parse_rules(RULES))
    t, run = _pending("send_email", {"subject": "s"}, requires_user_input=True)
    assert policy.decide(t, run) is None


def test_a_saved_deny_beats_a_session_allow():
    policy = RulesPolicy(rules=parse_rules(RULES))
    policy.allow_for_session("write_file")
    t, run = _pending("write_file", {"path": "secrets/k"}, requires_confirmation=True)
    decision = policy.decide(t, run)
    assert (decision.effect, decision.decided_by, decision.note) == ("deny", "rule:no-secrets", "Never write into secrets/.")
    t2, _ = _pending("write_file", {"path": "src/x"}, requires_confirmation=True)
    # the general ask rule is stricter than the session allow
    assert policy.decide(t2, run).effect == "ask"


def test_session_allow_applies_when_no_rule_is_stricter():
    policy = RulesPolicy()
    policy.allow_for_session("get_top_hackernews_stories")
    t, run = _pending("get_top_hackernews_stories", {"num_stories": 50}, requires_confirmation=True)
    assert policy.decide(t, run).decided_by == "session-allow"


def test_save_rule_appends_a_rule_that_a_fresh_policy_loads(tmp_path: Path):
    path = tmp_path / "cfg" / "rules.toml"
    policy = RulesPolicy.from_file(path)
    policy.save_rule("write_file", "allow")
    policy.save_rule("write_file", "deny", note='no "quotes" \\ here')
    fresh = RulesPolicy.from_file(path)
    assert fresh.error is None
    assert [(r.name, r.effect, r.note) for r in fresh.rules] == [
        ("allow-write_file", "allow", None),
        ("deny-write_file", "deny", 'no "quotes" \\ here'),
    ]


@tool(requires_confirmation=True)
def delete_branch(name: str) -> str:
    """Delete a git branch.

    Args:
        name: The branch to delete.
    """
    ran.append(name)
    return f"deleted {name}"


@tool(requires_user_input=True, user_input_fields=["to"])
def notify(text: str, to: str) -> str:
    """Notify someone.

    Args:
        text: What to say.
        to: Who to tell.
    """
    return f"told {to}"


ran: list[str] = []


async def test_rules_decide_headless_runs_and_say_so_in_the_run():
    ran.clear()
    policy = RulesPolicy(
        rules=parse_rules(
            """
[[rule]]
name = "feature-branches"
tool = "delete_branch"
effect = "allow"
[rule.args.name]
glob = "feature/*"

[[rule]]
name = "protect-main"
tool = "delete_branch"
effect = "deny"
note = "main is protected"
[rule.args.name]
equals = "main"

[[rule]]
name = "everything"
tool = "*"
effect = "allow"
"""
        )
    )
    agent = Agent(model=DemoModel(delay=0), tools=[delete_branch, notify], policy=policy)
    run = await agent.arun('call delete_branch {"name": "feature/x"}')
    assert run.status == "completed" and ran == ["feature/x"]
    assert run.tools[0].decided_by == "rule:feature-branches"

    run = await agent.arun('call delete_branch {"name": "main"}')
    assert run.status == "completed" and ran == ["feature/x"]
    assert run.tools[0].status == "rejected" and run.tools[0].decided_by == "rule:protect-main"
    tool_message = [m for m in run.messages if m.role == "tool"][0].content
    assert "main is protected" in tool_message

    # the catch-all allow rule cannot fill in a user-input field
    run = await agent.arun('call notify {"text": "hi"}')
    assert run.is_paused and run.tools_requiring_user_input
