"""Real OpenAI-compatible servers are not all OpenAI: the runtime copes with their quirks.

Local servers (Ollama, llama.cpp, vLLM, LM Studio) may refuse to stream when tools are offered,
or stream nothing; they may omit or reuse tool-call ids, pad the arguments with whitespace,
send them as a JSON object instead of a string, or repeat the tool name in every delta.
"""

from __future__ import annotations

import pytest
from chatserver import assert_valid_tool_history, call, text, tools
from conftest import make_model

from tui.agent import Agent, RunStatus, tool
from tui.agent.events import ContentDelta


def make_tools(log: list[tuple[str, str]]):
    @tool(requires_confirmation=True)
    def send_message(to: str, body: str) -> str:
        """Send a chat message.

        Args:
            to: Who receives it.
            body: What it says.
        """
        log.append((to, body))
        return f"sent to {to}"

    return [send_message]


# ----------------------------------------------------------------------------- no streaming with tools


@pytest.mark.parametrize("behaviour", ["error", "empty"])
async def test_a_server_that_cannot_stream_with_tools_still_runs_the_whole_flow(chat_server, behaviour):
    """400 "streaming is not supported with tools", or an empty stream: fall back to plain requests."""
    chat_server.stream_with_tools = behaviour
    log: list[tuple[str, str]] = []
    chat_server.add(tools(call("send_message", {"to": "ann", "body": "hi"})), text("Sent."))
    agent = Agent(model=make_model(chat_server, "sse"), tools=make_tools(log))

    run = await agent.arun("Say hi to Ann")
    assert run.is_paused, run.error
    run.tools[0].confirm()
    events = [e async for e in agent.acontinue_run(run_response=run, stream=True)]

    assert run.status == RunStatus.completed, run.error
    assert run.content == "Sent."
    assert "".join(e.text for e in events if isinstance(e, ContentDelta)) == "Sent.", "the UI still sees the text"
    assert log == [("ann", "hi")]
    # It tried to stream once, then stopped asking for a stream that cannot come.
    assert [bool(r.get("stream")) for r in chat_server.requests] == [True, False, False]


async def test_streaming_without_tools_still_streams_after_a_fallback(chat_server):
    chat_server.stream_with_tools = "error"
    chat_server.add(text("First."), text("Second."))
    agent = Agent(model=make_model(chat_server, "sse"), tools=make_tools([]))
    run = await agent.arun("One")
    assert run.content == "First."

    plain = Agent(model=agent.model)  # same model, no tools offered
    run = await plain.arun("Two")

    assert run.content == "Second."
    assert [bool(r.get("stream")) for r in chat_server.requests] == [True, False, True]


# ----------------------------------------------------------------------------- tool-call ids


async def test_tool_calls_without_ids_each_get_their_own_decision(chat_server, model_for):
    log: list[tuple[str, str]] = []
    chat_server.add(
        tools(call("send_message", {"to": "ann", "body": "hi"}, id=None), call("send_message", {"to": "bob", "body": "hi"}, id=None)),
        text("Sent to Ann only."),
    )
    agent = Agent(model=model_for(), tools=make_tools(log))

    run = await agent.arun("Say hi to Ann and Bob")

    ann, bob = run.tools_requiring_confirmation
    assert ann.tool_call_id and bob.tool_call_id and ann.tool_call_id != bob.tool_call_id
    ann.confirm()
    bob.reject()
    run = await agent.acontinue_run(run_response=run)

    assert run.status == RunStatus.completed
    assert log == [("ann", "hi")]
    assert_valid_tool_history(chat_server.last_messages)
    results = {m["tool_call_id"]: m["content"] for m in chat_server.tool_messages()}
    assert results[ann.tool_call_id] == "sent to ann"
    assert "declined" in results[bob.tool_call_id]


async def test_reused_tool_call_ids_do_not_mix_up_decisions(chat_server, model_for):
    """Some servers number calls per reply ("call_0", "call_1"...), so ids repeat across turns and
    even within a reply. Each call must keep its own decision and its own result."""
    log: list[tuple[str, str]] = []
    chat_server.add(
        tools(call("send_message", {"to": "ann", "body": "1"}, id="call_0"), call("send_message", {"to": "bob", "body": "1"}, id="call_0")),
        tools(call("send_message", {"to": "cat", "body": "2"}, id="call_0")),
        text("Done."),
    )
    agent = Agent(model=model_for(), tools=make_tools(log))

    run = await agent.arun("Message everyone")
    ann, bob = run.tools_requiring_confirmation
    assert ann.tool_call_id != bob.tool_call_id
    ann.reject("not Ann")
    bob.confirm()
    run = await agent.acontinue_run(run_response=run)

    [cat] = run.tools_requiring_confirmation
    assert cat.tool_args == {"to": "cat", "body": "2"}
    assert cat.tool_call_id not in (ann.tool_call_id, bob.tool_call_id)
    cat.confirm()
    run = await agent.acontinue_run(run_response=run)

    assert run.status == RunStatus.completed
    assert log == [("bob", "1"), ("cat", "2")]
    assert_valid_tool_history(chat_server.last_messages)
    results = {m["tool_call_id"]: m["content"] for m in chat_server.tool_messages()}
    assert "not Ann" in results[ann.tool_call_id]
    assert results[bob.tool_call_id] == "sent to bob"
    assert results[cat.tool_call_id] == "sent to cat"


# ----------------------------------------------------------------------------- arguments


async def test_arguments_with_stray_whitespace_are_accepted(chat_server, model_for):
    log: list[tuple[str, str]] = []
    chat_server.add(tools(call("send_message", '  \n {"to": "ann", "body": "hi"}\n\t ')), text("Sent."))
    agent = Agent(model=model_for(), tools=make_tools(log))

    run = await agent.arun("Say hi to Ann")

    [pending] = run.tools_requiring_confirmation
    assert pending.tool_args == {"to": "ann", "body": "hi"}


async def test_arguments_sent_as_a_json_object_instead_of_a_string_are_accepted(chat_server, model_for):
    log: list[tuple[str, str]] = []
    chat_server.add(tools(call("send_message", {"to": "ann", "body": "hi"}, as_object=True)), text("Sent."))
    agent = Agent(model=model_for(), tools=make_tools(log))

    run = await agent.arun("Say hi to Ann")

    assert run.is_paused, run.error
    [pending] = run.tools_requiring_confirmation
    assert pending.tool_args == {"to": "ann", "body": "hi"}
    pending.confirm()
    run = await agent.acontinue_run(run_response=run)
    assert log == [("ann", "hi")]


async def test_a_tool_name_repeated_in_every_stream_delta_is_read_once(chat_server):
    log: list[tuple[str, str]] = []
    chat_server.add(tools(call("send_message", {"to": "ann", "body": "hi"}), repeat_name=True), text("Sent."))
    agent = Agent(model=make_model(chat_server, "sse"), tools=make_tools(log))

    run = await agent.arun("Say hi to Ann")

    assert [t.tool_name for t in run.tools] == ["send_message"]
    assert run.is_paused


async def test_streamed_tool_calls_without_an_index_are_assembled_call_by_call(chat_server):
    log: list[tuple[str, str]] = []
    chat_server.add(
        tools(call("send_message", {"to": "ann", "body": "hi"}), call("send_message", {"to": "bob", "body": "yo"}), no_index=True),
        text("Sent."),
    )
    agent = Agent(model=make_model(chat_server, "sse"), tools=make_tools(log))

    run = await agent.arun("Say hi to Ann and Bob")

    assert [(t.tool_name, t.tool_args) for t in run.tools_requiring_confirmation] == [
        ("send_message", {"to": "ann", "body": "hi"}),
        ("send_message", {"to": "bob", "body": "yo"}),
    ]


async def test_null_for_an_optional_argument_means_its_default(chat_server, model_for):
    """Local models often send `null` for an argument they mean to leave out."""
    seen: list[tuple[str, int, str | None]] = []

    @tool
    def search(query: str, limit: int = 10, site: str | None = None) -> str:
        """Search the web.

        Args:
            query: What to look for.
            limit: How many results.
            site: Only this site.
        """
        seen.append((query, limit, site))
        return "no results"

    chat_server.add(
        tools(call("search", {"query": None, "limit": 3})),  # a required argument cannot be null
        tools(call("search", {"query": "tulips", "limit": None, "site": None})),
        text("Nothing found."),
    )
    agent = Agent(model=model_for(), tools=[search])

    run = await agent.arun("Search for tulips")

    assert run.status == RunStatus.completed
    assert seen == [("tulips", 10, None)]
    assert "query" in chat_server.tool_messages(1)[0]["content"]
    assert chat_server.tool_messages()[-1]["content"] == "no results"
