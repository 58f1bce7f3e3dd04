"""What a UI sees while a run streams, and how turns build one conversation."""

from __future__ import annotations

from chatserver import assert_valid_tool_history, call, text, tools

from tui.agent import Agent, RunStatus, tool
from tui.agent.events import (
    ContentDelta,
    RunCompleted,
    RunContinued,
    RunPaused,
    RunStarted,
    ToolCallCompleted,
    ToolCallStarted,
)


def make_tools(log: list[str]):
    @tool(requires_confirmation=True)
    def water_plants(zone: str) -> str:
        """Water the plants in a garden zone.

        Args:
            zone: The zone to water.
        """
        log.append(zone)
        return f"watered {zone}"

    return [water_plants]


def kinds(events) -> list[str]:
    """Event names with runs of ContentDelta collapsed to one "ContentDelta..."."""
    out: list[str] = []
    for e in events:
        name = type(e).__name__
        if name == "ContentDelta":
            name = "ContentDelta..."
            if out and out[-1] == name:
                continue
        out.append(name)
    return out


async def test_streamed_events_come_in_the_order_a_ui_renders_them(chat_server, model_for, mode):
    log: list[str] = []
    chat_server.add(
        tools(call("water_plants", {"zone": "roses"}), content="Let me water the roses for you."),
        text("The roses are watered and happy."),
    )
    agent = Agent(model=model_for(), tools=make_tools(log))

    first = [e async for e in agent.arun("Water the roses", stream=True)]

    assert kinds(first) == ["RunStarted", "ContentDelta...", "ToolCallStarted", "RunPaused"]
    deltas = [e.text for e in first if isinstance(e, ContentDelta)]
    assert "".join(deltas) == "Let me water the roses for you."
    if mode == "sse":
        assert len(deltas) > 1, "a streamed reply arrives piece by piece"
    run_id = first[0].run_id
    assert all(e.run_id == run_id for e in first)
    paused = first[-1]
    assert isinstance(paused, RunPaused) and [t.tool_name for t in paused.tools] == ["water_plants"]
    assert log == []

    paused.tools[0].confirm()
    second = [e async for e in agent.acontinue_run(run_response=paused.run, stream=True)]

    assert kinds(second) == ["RunContinued", "ToolCallStarted", "ToolCallCompleted", "ContentDelta...", "RunCompleted"]
    started = next(e for e in second if isinstance(e, ToolCallStarted))
    completed = next(e for e in second if isinstance(e, ToolCallCompleted))
    assert started.tool.tool_name == completed.tool.tool_name == "water_plants"
    assert completed.tool.status == "completed" and completed.tool.result == "watered roses"
    assert "".join(e.text for e in second if isinstance(e, ContentDelta)) == "The roses are watered and happy."
    assert isinstance(second[-1], RunCompleted) and second[-1].run.content == "The roses are watered and happy."
    assert all(e.run_id == run_id for e in second)
    assert log == ["roses"]


async def test_a_second_prompt_on_the_same_agent_sends_the_first_turn_as_context(chat_server, model_for):
    log: list[str] = []
    chat_server.add(
        tools(call("water_plants", {"zone": "roses"}, id="call_roses")),
        text("The roses are watered."),
        text("You asked me to water the roses."),
    )
    agent = Agent(model=model_for(), tools=make_tools(log), instructions="You are a gardener.")

    run1 = await agent.arun("Water the roses")
    run1.tools[0].confirm()
    await agent.acontinue_run(run_response=run1)
    run2 = await agent.arun("What did I ask you before?")

    assert run2.status == RunStatus.completed and run2.run_id != run1.run_id
    sent = chat_server.last_messages
    assert [(m["role"], m.get("content")) for m in sent if m["role"] != "tool"] == [
        ("system", "You are a gardener."),
        ("user", "Water the roses"),
        ("assistant", None),
        ("assistant", "The roses are watered."),
        ("user", "What did I ask you before?"),
    ]
    assert [m["content"] for m in sent if m["role"] == "tool"] == ["watered roses"]
    assert_valid_tool_history(sent)


async def test_a_new_session_forgets_the_earlier_turns(chat_server, model_for):
    chat_server.add(text("Hello Ann."), text("I do not know your name."))
    agent = Agent(model=model_for(), tools=make_tools([]))

    await agent.arun("My name is Ann")
    agent.new_session()
    await agent.arun("What is my name?")

    assert [m["content"] for m in chat_server.last_messages] == ["What is my name?"]


async def test_a_paused_earlier_run_does_not_leak_unanswered_calls_into_the_next_prompt(chat_server, model_for):
    """A strict server rejects a history with a tool call that has no result: it must not be sent."""
    log: list[str] = []
    chat_server.add(tools(call("water_plants", {"zone": "roses"})), text("Sure, tulips it is."))
    agent = Agent(model=model_for(), tools=make_tools(log))

    run1 = await agent.arun("Water the roses")
    assert run1.is_paused
    run2 = await agent.arun("Actually, forget that. Tell me about tulips.")

    assert run2.status == RunStatus.completed
    sent = chat_server.last_messages
    assert_valid_tool_history(sent)
    assert sent[-1] == {"role": "user", "content": "Actually, forget that. Tell me about tulips."}
    assert log == []
    assert run1.is_paused and run1.tools[0].status == "pending", "the earlier run still waits for its decision"


async def test_after_a_restart_a_resumed_run_still_sends_the_sessions_earlier_turns(chat_server, model_for, tmp_path):
    from tui.store import RunStore

    log: list[str] = []
    chat_server.add(
        text("Roses noted."),
        tools(call("water_plants", {"zone": "roses"}, id="call_roses")),
        text("Watered the roses you mentioned."),
    )
    db = tmp_path / "runs.db"
    first = Agent(model=model_for(), tools=make_tools(log), store=RunStore(db))
    await first.arun("My favourite flowers are roses")
    paused = await first.arun("Water my favourite flowers")
    assert paused.is_paused

    # a new process: a new agent and store on the same file
    second = Agent(model=model_for(), tools=make_tools(log), store=RunStore(db))
    run = second.get_run(paused.run_id)
    run.tools[0].confirm()
    run = await second.acontinue_run(run_id=paused.run_id)

    assert run.status == RunStatus.completed and log == ["roses"]
    sent = [(m["role"], m.get("content")) for m in chat_server.last_messages if m["role"] in ("user", "assistant")]
    assert sent[:2] == [("user", "My favourite flowers are roses"), ("assistant", "Roses noted.")]
    assert ("user", "Water my favourite flowers") in sent
