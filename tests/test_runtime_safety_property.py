"""The safety promise, checked over generated conversations and decision sequences.

Whatever the model asks for (gated and ungated calls, several in parallel, over several turns)
and whatever the person does (approve, reject, edit, give a bad edit or a bad value, or leave a
call undecided and continue anyway, again and again):

- no gated tool runs without an explicit approving decision, and none runs twice;
- every gated call that ran had exactly one accepted decision, and ran with what was decided
  (edited arguments, the user's coerced value);
- an undecided call is never rejected or run silently: it stays pending and the run stays paused;
- the model is never asked again while a call of its last turn is still undecided.

The model here is a small scripted implementation of the runtime's own `Model` protocol (the
HTTP path is covered by the integration tests); that keeps a hundred conversations fast.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.agent import Agent, RunOutput, RunStatus, tool
from tui.agent.models.base import ModelChunk, ModelResponse, ToolCall

GATED = ("confirm_a", "confirm_b", "form", "external")
TOOL_NAMES = GATED + ("free",)


@dataclass
class World:
    """What actually happened: every tool execution, in order."""

    executed: list[tuple[str, str, Any]] = field(default_factory=list)

    def tools(self) -> list[Any]:
        executed = self.executed

        @tool(requires_confirmation=True)
        def confirm_a(tag: str, n: int) -> str:
            """A gated tool (sync, runs in a thread)."""
            executed.append(("confirm_a", tag, n))
            return f"a:{tag}:{n}"

        @tool(requires_confirmation=True)
        async def confirm_b(tag: str, n: int) -> str:
            """A gated tool (async)."""
            executed.append(("confirm_b", tag, n))
            return f"b:{tag}:{n}"

        @tool(user_input_fields=["n"])
        async def form(tag: str, n: int) -> str:
            """A tool whose `n` only the user may give."""
            executed.append(("form", tag, n))
            return f"form:{tag}:{n}"

        @tool(external_execution=True)
        async def external(tag: str) -> str:
            """A tool the user runs themselves."""
            executed.append(("external", tag, None))
            return "never"

        @tool
        async def free(tag: str, n: int) -> str:
            """An ungated tool."""
            executed.append(("free", tag, n))
            return f"free:{tag}:{n}"

        return [confirm_a, confirm_b, form, external, free]


class ScriptedModel:
    """Replies with the scripted turns in order, then a final answer."""

    id = "scripted"

    def __init__(self, turns: list[list[tuple[str, str, int, str | None]]]) -> None:
        self.turns = list(turns)
        self.agent: Agent | None = None
        self.requests: list[list[dict[str, Any]]] = []

    def describe(self) -> str:
        return "scripted test model"

    async def astream(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> AsyncIterator[ModelChunk]:
        run = self.agent.run_response if self.agent else None
        if run is not None:
            undecided = [t.tool_call_id for t in run.tools if t.status in ("pending", "running")]
            assert not undecided, f"the model was asked again while {undecided} were undecided"
        self.requests.append(messages)
        if not self.turns:
            yield ModelChunk(text="All done.")
            yield ModelChunk(response=ModelResponse(content="All done.", finish_reason="stop"))
            return
        calls = [
            ToolCall(id=call_id, name=name, arguments=json.dumps({"tag": tag, "n": n}))
            for name, tag, n, call_id in self.turns.pop(0)
        ]
        yield ModelChunk(response=ModelResponse(tool_calls=calls, finish_reason="tool_calls"))


@st.composite
def conversations(draw: st.DrawFn) -> list[list[tuple[str, str, int, str | None]]]:
    """Up to three tool turns of one to three parallel calls; ids unique, missing or reused."""
    turns = []
    for turn in range(draw(st.integers(0, 3))):
        calls = []
        for i in range(draw(st.integers(1, 3))):
            name = draw(st.sampled_from(TOOL_NAMES))
            call_id = draw(st.sampled_from([f"call_{turn}_{i}", None, "call_0"]))
            calls.append((name, f"t{turn}.{i}", draw(st.integers(0, 99)), call_id))
        turns.append(calls)
    return turns


DECISIONS = {
    "confirm_a": ["approve", "reject", "leave", "edit", "bad_edit"],
    "confirm_b": ["approve", "reject", "leave", "edit", "bad_edit"],
    "form": ["input", "bad_input", "leave"],
    "external": ["result", "leave"],
}
ACCEPTING = {"approve", "edit", "input", "result"}


@dataclass
class Ledger:
    """The decisions the person made that the runtime had to accept, per call tag."""

    accepted: dict[str, list[str]] = field(default_factory=dict)
    #: What the tool must run with when it runs (the edited / submitted n).
    expected_n: dict[str, int] = field(default_factory=dict)

    def accept(self, tag: str, kind: str) -> None:
        self.accepted.setdefault(tag, []).append(kind)

    def last(self, tag: str) -> str | None:
        kinds = self.accepted.get(tag)
        return kinds[-1] if kinds else None


def decide(data: st.DataObject, run: RunOutput, ledger: Ledger) -> None:
    for t in run.pending_tools:
        tag = t.tool_args["tag"]
        kind = data.draw(st.sampled_from(DECISIONS[t.tool_name]), label=f"decision on {t.tool_name} {tag}")
        if kind == "approve":
            # Approving what is shown: after a refused edit, that is still the invalid edit.
            t.confirm()
            if not isinstance(t.tool_args["n"], int):
                kind = "approve_invalid"
            ledger.expected_n[tag] = t.tool_args["n"]
        elif kind == "reject":
            t.reject(data.draw(st.sampled_from([None, "no thanks"])))
        elif kind == "edit":
            new_n = (t.proposed_args or t.tool_args)["n"] + 1000
            t.confirm(args={"tag": tag, "n": new_n})
            ledger.expected_n[tag] = new_n
        elif kind == "bad_edit":
            t.confirm(args={"tag": tag, "n": "not a number"})
        elif kind == "input":
            value = data.draw(st.integers(0, 99))
            assert t.provide_user_input({"n": str(value)}) == {}
            ledger.expected_n[tag] = value
        elif kind == "bad_input":
            assert t.provide_user_input({"n": "lots"}) == {"n": "must be a whole number"}
        elif kind == "result":
            t.set_result(f"user ran {tag}")
        if kind in ACCEPTING or kind == "reject":
            ledger.accept(tag, kind)


def check(run: RunOutput, world: World, ledger: Ledger) -> None:
    for t in run.tools:
        if t.status == "pending" and t.requires_confirmation and t.tool_args.get("n") == "not a number":
            assert t.error and "n" in t.error, "a refused edit says why"
    runs_per_tag: dict[str, int] = {}
    for name, tag, n in world.executed:
        runs_per_tag[tag] = runs_per_tag.get(tag, 0) + 1
        assert name != "external", "an external tool is never run by the runtime"
        if name in GATED:
            decisions = ledger.accepted.get(tag, [])
            assert len(decisions) == 1, f"{name} {tag} ran with decisions {decisions}"
            assert decisions[0] in ACCEPTING, f"{name} {tag} ran after {decisions[0]}"
            assert n == ledger.expected_n[tag], f"{name} {tag} ran with n={n}, decided {ledger.expected_n[tag]}"
    assert all(count == 1 for count in runs_per_tag.values()), f"a call ran twice: {runs_per_tag}"

    for t in run.tools:
        tag = t.tool_args.get("tag")
        if not t.is_gated:
            continue
        decision = ledger.last(tag)
        if decision is None:
            assert t.status == "pending", f"undecided {t.tool_name} {tag} became {t.status}"
            assert t in run.pending_tools
            assert run.status == RunStatus.paused, f"the run is {run.status} with {tag} undecided"
        elif decision == "reject":
            assert t.status == "rejected"
        else:
            assert t.status == "completed", f"{t.tool_name} {tag} decided {decision} but is {t.status}"
        if t.status == "rejected":
            assert decision == "reject", f"{t.tool_name} {tag} was rejected without a rejection"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(turns=conversations(), data=st.data())
def test_no_gated_tool_ever_runs_without_an_explicit_approving_decision(turns, data):
    world = World()
    model = ScriptedModel(turns)
    agent = Agent(model=model, tools=world.tools())
    model.agent = agent
    ledger = Ledger()

    run = asyncio.run(agent.arun("go"))
    check(run, world, ledger)
    for _ in range(8):
        if run.status != RunStatus.paused:
            break
        decide(data, run, ledger)
        run = asyncio.run(agent.acontinue_run(run_response=run))
        check(run, world, ledger)

    assert run.status in (RunStatus.paused, RunStatus.completed), run.error
    if run.status == RunStatus.completed:
        assert run.content == "All done."
        gated_tags = {t.tool_args["tag"] for t in run.tools if t.is_gated}
        assert all(len(ledger.accepted.get(tag, [])) == 1 for tag in gated_tags)
        # Every rejection reached the model as a refusal, never as a silent result.
        final = model.requests[-1]
        for t in run.tools:
            if t.status == "rejected":
                [message] = [m for m in final if m.get("tool_call_id") == t.tool_call_id]
                assert "declined" in message["content"]


# ----------------------------------------------------------------------------- policies, scopes, every decision path
#
# The same promise with the approval policy in play: saved rules (an allow rule for small
# confirm_a calls, a deny rule for confirm_b calls of the second turn), and the person's scope
# keys (allow for this run / the session, deny for the session) given through `apply_decision`,
# the path the dashboard uses. Decisions arrive three ways: the helpers (`confirm`, `reject`, ...),
# `apply_decision`, or plain attribute setting as an Agno program does (`confirmed = ...`,
# `field.value = ...`, `result = ...`). Declining is possible for every kind.
#
# Properties, beyond the ones above:
# - a gated call runs only after a person's accepting decision on it, or because a rule or a
#   scope the person chose allows *that tool* (a scope for one tool never lets another through);
# - a call is rejected only by a person's rejection, a deny scope for that tool, or the deny rule;
# - the deny rule wins over any allow (strictest effect wins), so confirm_b of turn 1 never runs.

from tui.agent.decisions import Decision, apply_decision  # noqa: E402
from tui.agent.rules import RulesPolicy, parse_rules  # noqa: E402

RULES = """
[[rule]]
name = "small-a"
tool = "confirm_a"
effect = "allow"
[rule.args.n]
max = 10

[[rule]]
name = "no-b-in-turn-1"
tool = "confirm_b"
effect = "deny"
[rule.args.tag]
glob = "t1.*"
"""

SCOPED_DECISIONS = {
    "confirm_a": ["approve", "reject", "leave", "edit", "allow_run", "allow_session", "deny_session"],
    "confirm_b": ["approve", "reject", "leave", "edit", "allow_run", "allow_session", "deny_session"],
    "form": ["input", "bad_input", "reject", "leave"],
    "external": ["result", "reject", "leave"],
}


@dataclass
class Scopes:
    """Which tools the person ever allowed or denied by a scope key (scopes only widen here)."""

    allowed: set[str] = field(default_factory=set)
    denied: set[str] = field(default_factory=set)


def rule_allows(name: str, args: dict[str, Any]) -> bool:
    return name == "confirm_a" and isinstance(args.get("n"), int) and args["n"] <= 10


def rule_denies(name: str, args: dict[str, Any]) -> bool:
    return name == "confirm_b" and str(args.get("tag", "")).startswith("t1.")


def decide_any_way(data: st.DataObject, agent: Agent, run: RunOutput, ledger: Ledger, scopes: Scopes) -> None:
    for t in run.pending_tools:
        tag = t.tool_args["tag"]
        kind = data.draw(st.sampled_from(SCOPED_DECISIONS[t.tool_name]), label=f"decision on {t.tool_name} {tag}")
        via = data.draw(st.sampled_from(["helper", "apply_decision", "direct"]), label="via")
        if kind in ("allow_run", "allow_session", "deny_session"):
            apply_decision(agent, run, t, Decision(kind))  # type: ignore[arg-type]
            (scopes.denied if kind == "deny_session" else scopes.allowed).add(t.tool_name)
            if kind == "deny_session":
                ledger.accept(tag, "reject")
            else:
                ledger.expected_n[tag] = t.tool_args["n"]
                ledger.accept(tag, "approve")
            continue
        if kind == "approve":
            if via == "apply_decision":
                apply_decision(agent, run, t, Decision("approve"))
            elif via == "direct":
                t.confirmed = True
            else:
                t.confirm()
            ledger.expected_n[tag] = t.tool_args["n"]
        elif kind == "reject":
            if via == "apply_decision":
                apply_decision(agent, run, t, Decision("reject", note="no"))
            elif via == "direct":
                t.confirmed = False
            else:
                t.reject("no")
        elif kind == "edit":
            new_n = (t.proposed_args or t.tool_args)["n"] + 1000
            if via == "apply_decision":
                apply_decision(agent, run, t, Decision("edit", args={"tag": tag, "n": new_n}))
            else:
                t.confirm(args={"tag": tag, "n": new_n})
            ledger.expected_n[tag] = new_n
        elif kind == "input":
            value = data.draw(st.integers(0, 99))
            if via == "apply_decision":
                apply_decision(agent, run, t, Decision("input", values={"n": str(value)}))
            elif via == "direct":
                t.user_input_schema[0].value = str(value)  # coerced by the runtime on continue
            else:
                assert t.provide_user_input({"n": str(value)}) == {}
            ledger.expected_n[tag] = value
        elif kind == "bad_input":
            if via == "direct":
                t.user_input_schema[0].value = "lots"
            else:
                assert t.provide_user_input({"n": "lots"}) == {"n": "must be a whole number"}
        elif kind == "result":
            if via == "direct":
                t.result = f"user ran {tag}"
            else:
                t.set_result(f"user ran {tag}")
        if kind in ACCEPTING or kind == "reject":
            ledger.accept(tag, kind)


def check_with_policy(run: RunOutput, world: World, ledger: Ledger, scopes: Scopes) -> None:
    runs_per_tag: dict[str, int] = {}
    for name, tag, n in world.executed:
        runs_per_tag[tag] = runs_per_tag.get(tag, 0) + 1
        assert name != "external", "an external tool is never run by the runtime"
        if name in GATED:
            decisions = ledger.accepted.get(tag, [])
            proposed = next(t.proposed_args or t.tool_args for t in run.tools if t.tool_args.get("tag") == tag)
            by_scope = name in scopes.allowed or rule_allows(name, proposed)
            assert decisions[:1] in (["approve"], ["edit"], ["input"], ["result"]) or (not decisions and by_scope), (
                f"{name} {tag} ran with decisions {decisions}; allowed tools {scopes.allowed}"
            )
            assert not rule_denies(name, proposed), f"{name} {tag} ran although the deny rule matches it"
            if decisions:
                assert n == ledger.expected_n[tag], f"{name} {tag} ran with n={n}, decided {ledger.expected_n[tag]}"
    assert all(count == 1 for count in runs_per_tag.values()), f"a call ran twice: {runs_per_tag}"
    for t in run.tools:
        if not t.is_gated:
            continue
        tag = t.tool_args.get("tag")
        if t.status == "rejected":
            decision = ledger.last(tag)
            proposed = t.proposed_args or t.tool_args
            assert decision == "reject" or t.tool_name in scopes.denied or rule_denies(t.tool_name, proposed), (
                f"{t.tool_name} {tag} was rejected without a rejection (by {t.decided_by})"
            )
        if t.status == "pending" and not t.is_awaiting_decision:
            # decided but not yet run: only possible while the run is not finished
            assert run.status != RunStatus.completed


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(turns=conversations(), data=st.data())
def test_policies_scopes_and_every_decision_path_keep_the_promise(turns, data):
    world = World()
    model = ScriptedModel(turns)
    agent = Agent(model=model, tools=world.tools(), policy=RulesPolicy(rules=parse_rules(RULES)))
    model.agent = agent
    ledger, scopes = Ledger(), Scopes()

    run = asyncio.run(agent.arun("go"))
    check_with_policy(run, world, ledger, scopes)
    for _ in range(8):
        if run.status != RunStatus.paused:
            break
        decide_any_way(data, agent, run, ledger, scopes)
        run = asyncio.run(agent.acontinue_run(run_response=run))
        check_with_policy(run, world, ledger, scopes)
    assert run.status in (RunStatus.paused, RunStatus.completed), run.error
