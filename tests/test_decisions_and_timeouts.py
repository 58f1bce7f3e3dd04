"""Applying a person's decisions (the UI's contract with the runtime), scopes, and approval timeouts."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tui.agent import Agent, tool
from tui.agent.clock import ManualClock, use_clock
from tui.agent.decisions import Decision, DecisionError, apply_decision
from tui.agent.models import DemoModel
from tui.agent.rules import RulesPolicy

calls: list[tuple[str, object]] = []


@tool(requires_confirmation=True)
def archive(folder: str, days: int = 30) -> str:
    """Archive old files.

    Args:
        folder: Which folder.
        days: Only files older than this many days.
    """
    calls.append(("archive", (folder, days)))
    return f"archived {folder} ({days}d)"


@tool(requires_confirmation=True, approval_timeout=0.05)
def reboot(host: str) -> str:
    """Reboot a host.

    Args:
        host: The host name.
    """
    calls.append(("reboot", host))
    return f"rebooted {host}"


@tool(requires_confirmation=True, approval_timeout=0.05, on_timeout="approve")
def ping(host: str) -> str:
    """Ping a host.

    Args:
        host: The host name.
    """
    calls.append(("ping", host))
    return f"pong from {host}"


@tool(requires_user_input=True, user_input_fields=["count"])
def order(item: str, count: int) -> str:
    """Order items.

    Args:
        item: What to order.
        count: How many (the user decides).
    """
    calls.append(("order", (item, count)))
    return f"ordered {count} x {item}"


@pytest.fixture(autouse=True)
def _clear():
    calls.clear()


def _agent(**kw) -> Agent:
    return Agent(model=DemoModel(delay=0), tools=[archive, reboot, ping, order], **kw)


async def test_an_edit_that_breaks_the_schema_is_refused_and_nothing_changes():
    agent = _agent()
    run = await agent.arun('call archive {"folder": "logs"}')
    t = run.tools[0]
    with pytest.raises(DecisionError, match="days"):
        apply_decision(agent, run, t, Decision("edit", args={"folder": "logs", "days": "many"}))
    assert t.confirmed is None and t.tool_args == {"folder": "logs"}
    apply_decision(agent, run, t, Decision("edit", args={"folder": "logs", "days": "7"}))
    run = await agent.acontinue_run(run_response=run)
    assert calls == [("archive", ("logs", 7))]
    tool_msg = [m for m in run.messages if m.role == "tool"][0].content
    assert "edited the arguments" in tool_msg and '"days": 7' in tool_msg


async def test_allow_for_session_makes_the_next_call_run_without_asking():
    agent = _agent()
    run = await agent.arun('call archive {"folder": "a"}')
    apply_decision(agent, run, run.tools[0], Decision("allow_session"))
    await agent.acontinue_run(run_response=run)
    run2 = await agent.arun('call archive {"folder": "b"}')
    assert run2.status == "completed"
    assert run2.tools[0].decided_by == "session-allow"
    assert calls == [("archive", ("a", 30)), ("archive", ("b", 30))]


async def test_allow_always_writes_a_rule_that_a_fresh_agent_obeys(tmp_path: Path):
    rules = tmp_path / "rules.toml"
    agent = _agent(policy=RulesPolicy.from_file(rules))
    run = await agent.arun('call archive {"folder": "a"}')
    apply_decision(agent, run, run.tools[0], Decision("allow_always"))
    await agent.acontinue_run(run_response=run)
    fresh = _agent(policy=RulesPolicy.from_file(rules))
    run2 = await fresh.arun('call archive {"folder": "b"}')
    assert run2.status == "completed" and run2.tools[0].decided_by == "rule:allow-archive"


async def test_deny_for_session_rejects_the_next_call_and_tells_the_model():
    agent = _agent()
    run = await agent.arun('call archive {"folder": "a"}')
    apply_decision(agent, run, run.tools[0], Decision("deny_session", note="not today"))
    run = await agent.acontinue_run(run_response=run)
    run2 = await agent.arun('call archive {"folder": "b"}')
    assert run2.tools[0].status == "rejected" and run2.tools[0].decided_by == "session-deny"
    assert calls == []


async def test_form_values_are_coerced_and_invalid_ones_report_per_field():
    agent = _agent()
    run = await agent.arun('call order {"item": "tea", "count": 99}')
    t = run.tools[0]
    # the model's value for the user's field was discarded
    assert "count" not in t.tool_args and t.user_input_schema[0].value is None
    with pytest.raises(DecisionError) as info:
        apply_decision(agent, run, t, Decision("input", values={"count": "lots"}))
    assert info.value.field_errors == {"count": "must be a whole number"}
    run = await agent.acontinue_run(run_response=run)
    assert run.is_paused and calls == []
    apply_decision(agent, run, t, Decision("input", values={"count": "3"}))
    run = await agent.acontinue_run(run_response=run)
    assert calls == [("order", ("tea", 3))]


@pytest.fixture
def clock() -> Iterator[ManualClock]:
    """The runtime's time, moved by the test: a timeout passes without waiting for it."""
    with use_clock(ManualClock()) as manual:
        yield manual


async def test_a_timed_out_approval_is_rejected_and_the_model_is_told(clock: ManualClock):
    agent = _agent()
    run = await agent.arun('call reboot {"host": "db1"}')
    assert run.is_paused
    clock.advance(0.08)
    run = await agent.acontinue_run(run_response=run)
    t = run.tools[0]
    assert calls == []
    assert (t.status, t.decided_by) == ("rejected", "timeout")
    tool_msg = [m for m in run.messages if m.role == "tool"][0].content
    assert "No decision came in time" in tool_msg


async def test_before_the_timeout_an_undecided_call_still_waits(clock: ManualClock):
    agent = _agent()
    run = await agent.arun('call reboot {"host": "db1"}')
    clock.advance(0.04)
    run = await agent.acontinue_run(run_response=run)
    assert run.is_paused and run.tools[0].status == "pending"


async def test_on_timeout_approve_runs_the_call(clock: ManualClock):
    agent = _agent()
    run = await agent.arun('call ping {"host": "db1"}')
    clock.advance(0.08)
    run = await agent.acontinue_run(run_response=run)
    assert calls == [("ping", "db1")] and run.tools[0].decided_by == "timeout"


def test_a_tool_cannot_declare_two_pause_kinds():
    with pytest.raises(ValueError, match="choose one of"):

        @tool(requires_confirmation=True, external_execution=True)
        def both(x: int) -> int:
            return x


async def test_an_invalid_email_address_is_refused_on_the_field_even_after_a_restart(tmp_path: Path):
    from tui.store import RunStore
    from tui.toolbox import builtin_tools

    db = tmp_path / "runs.db"
    agent = Agent(model=DemoModel(delay=0), tools=builtin_tools(), store=RunStore(db))
    run = await agent.arun("Send an email with the subject 'Hi' and the body 'Hello'")
    t = run.tools_requiring_user_input[0]
    with pytest.raises(DecisionError) as info:
        apply_decision(agent, run, t, Decision("input", values={"to_address": "nobody"}))
    assert info.value.field_errors == {"to_address": "must be an email address like name@example.com"}

    # a fresh process: the field's check comes back from the tool, not from the JSON in the store
    fresh = Agent(model=DemoModel(delay=0), tools=builtin_tools(), store=RunStore(db))
    loaded = fresh.get_run(run.run_id)
    loaded.tools[0].user_input_schema[0].value = "nobody"
    loaded = await fresh.acontinue_run(run_id=run.run_id)
    assert loaded.is_paused
    assert loaded.tools[0].user_input_schema[0].error == "must be an email address like name@example.com"
    loaded.tools[0].user_input_schema[0].value = "ada@example.com"
    loaded = await fresh.acontinue_run(run_id=run.run_id)
    assert loaded.status == "completed" and "Sent email to ada@example.com" in loaded.tools[0].result
