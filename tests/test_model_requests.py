"""What OpenAIChat puts on the wire, and what it makes of replies a broken server sends.

All against the real chat-completions server (tests/chatserver.py) and the real openai client:
- a caller that does not stream (`arun()`, `run()`) gets a plain request, as in Agno; a caller
  that streams gets SSE; `OpenAIChat(stream=True/False)` forces either way;
- Agno's request options (temperature, max_tokens, top_p, extra_body, request_params) and the
  Agent's tool_choice reach the server;
- a long history is encoded once as JSON and never walked by the client's parameter
  transformation (counted by a spy on the openai package's public modules);
- replies that are not chat completions (`choices: [{}]`, an empty 200 body, HTML, an error
  object) end the run with a message that quotes what the server sent and says what to do.
"""

from __future__ import annotations

from typing import Any

import pytest
from chatserver import ChatServer, call, raw, text, tools

from tui.agent import Agent, RunStatus, tool
from tui.agent.models import OpenAIChat
from tui.agent.run import Message, RunOutput


def get_weather(city: str) -> str:
    """Get the weather.

    Args:
        city: The city.
    """
    return f"Sunny in {city}."


def model(server: ChatServer, **kwargs: Any) -> OpenAIChat:
    return OpenAIChat(id="test-model", base_url=server.url, api_key="test", max_retries=0, timeout=5.0, **kwargs)


def gated_agent(server: ChatServer, **kwargs: Any) -> Agent:
    return Agent(model=model(server, **kwargs), tools=[tool(requires_confirmation=True)(get_weather)])


# ----------------------------------------------------------------------------- plain or streaming


async def test_arun_without_stream_makes_plain_requests_like_agno(chat_server: ChatServer) -> None:
    chat_server.add(tools(call("get_weather", {"city": "Oslo"})), text("Sunny."))
    agent = gated_agent(chat_server)
    run = await agent.arun("Weather in Oslo?")
    assert run.is_paused
    run.tools_requiring_confirmation[0].confirm()
    run = await agent.acontinue_run(run_response=run)
    assert run.content == "Sunny."
    assert len(chat_server.requests) == 2
    assert all(not r.get("stream") for r in chat_server.requests), [r.get("stream") for r in chat_server.requests]


def test_the_sync_run_makes_plain_requests_too(chat_server: ChatServer) -> None:
    chat_server.add(text("Hello."))
    run = Agent(model=model(chat_server)).run("Hi")
    assert run.content == "Hello."
    assert not chat_server.requests[0].get("stream")


async def test_a_streaming_caller_gets_a_streamed_reply(chat_server: ChatServer) -> None:
    chat_server.add(text("Hello there, streamed."))
    deltas = [e.text async for e in Agent(model=model(chat_server)).arun("Hi", stream=True) if type(e).__name__ == "ContentDelta"]
    assert chat_server.requests[0].get("stream") is True
    assert "".join(deltas) == "Hello there, streamed." and len(deltas) > 1  # the server split it in three


@pytest.mark.parametrize(("forced", "caller_streams", "expect_sse"), [(True, False, True), (False, True, False)])
async def test_the_models_stream_setting_forces_either_way(
    chat_server: ChatServer, forced: bool, caller_streams: bool, expect_sse: bool
) -> None:
    chat_server.add(text("Hello."))
    agent = Agent(model=model(chat_server, stream=forced))
    if caller_streams:
        async for _ in agent.arun("Hi", stream=True):
            pass
    else:
        await agent.arun("Hi")
    assert agent.run_response.content == "Hello."
    assert bool(chat_server.requests[0].get("stream")) is expect_sse


# ----------------------------------------------------------------------------- Agno's options


@pytest.mark.parametrize("caller_streams", [False, True])
async def test_agnos_request_options_and_tool_choice_reach_the_server(chat_server: ChatServer, caller_streams: bool) -> None:
    chat_server.add(text("Done."))
    m = model(
        chat_server,
        temperature=0.2,
        max_tokens=123,
        top_p=0.9,
        extra_body={"repetition_penalty": 1.1},
        request_params={"seed": 7, "extra_body": {"top_k": 40}},
    )
    agent = Agent(model=m, tools=[tool(get_weather)], tool_choice="none")
    if caller_streams:
        async for _ in agent.arun("Hi", stream=True):
            pass
    else:
        await agent.arun("Hi")
    assert agent.run_response.content == "Done."
    sent = chat_server.requests[0]
    assert {k: sent.get(k) for k in ("temperature", "max_tokens", "top_p", "repetition_penalty", "seed", "top_k", "tool_choice")} == {
        "temperature": 0.2,
        "max_tokens": 123,
        "top_p": 0.9,
        "repetition_penalty": 1.1,
        "seed": 7,
        "top_k": 40,
        "tool_choice": "none",
    }


async def test_without_options_the_request_carries_only_what_agno_sends(chat_server: ChatServer) -> None:
    chat_server.add(text("Done."))
    await Agent(model=model(chat_server), tools=[tool(get_weather)]).arun("Hi")
    assert set(chat_server.requests[0]) == {"model", "messages", "tools"}


async def test_an_option_that_is_not_json_ends_the_run_with_a_clear_error(chat_server: ChatServer) -> None:
    run = await Agent(model=model(chat_server, extra_body={"when": object()})).arun("Hi")
    assert run.status == RunStatus.error
    assert "could not be encoded as JSON" in run.error and "extra_body" in run.error
    assert chat_server.requests == []


# ----------------------------------------------------------------------------- long history


async def test_a_long_history_is_not_walked_by_the_clients_parameter_transformation(
    chat_server: ChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted, not timed: the openai client's `create()` transforms every message against its
    TypedDicts (~0.4 ms each). OpenAIChat must send the agent's JSON-ready messages as they are."""
    import openai.resources.chat.completions.completions as completions

    seen: list[str] = []
    for name in ("maybe_transform", "async_maybe_transform"):
        original = getattr(completions, name)

        def spy(*args: Any, _original: Any = original, _name: str = name, **kwargs: Any) -> Any:
            seen.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(completions, name, spy)
    created: list[int] = []
    original_create = completions.AsyncCompletions.create

    async def create_spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        created.append(len(kwargs.get("messages") or []))
        return await original_create(self, *args, **kwargs)

    monkeypatch.setattr(completions.AsyncCompletions, "create", create_spy)

    agent = Agent(model=model(chat_server))
    for i in range(200):  # 200 earlier turns of the same session: 400 messages of context
        earlier = RunOutput(session_id=agent.session_id, input=f"q{i}", status=RunStatus.completed, content=f"a{i}")
        earlier.messages = [Message(role="user", content=f"question {i} " * 20), Message(role="assistant", content=f"answer {i} " * 40)]
        agent._index(earlier)
    for caller_streams in (False, True):
        chat_server.add(text("The end."))
        if caller_streams:
            async for _ in agent.arun("And now?", stream=True):
                pass
        else:
            await agent.arun("And now?")
        assert agent.run_response.content == "The end."
    assert [len(r["messages"]) for r in chat_server.requests] >= [401, 402]  # the whole session was sent
    assert seen == [] and created == [], (seen, created)


# ----------------------------------------------------------------------------- broken servers


BROKEN = {
    "an empty choice": (raw(b'{"id": "x", "object": "chat.completion", "choices": [{}]}'), ["a choice without a message", "[{}]", "check the model id"]),
    "an empty 200 body": (raw(b""), ["empty body", "HTTP 200", "base_url"]),
    "an HTML page": (raw(b"<html><body>Welcome to nginx</body></html>", content_type="text/html"), ["not JSON", "Welcome to nginx", "/v1 endpoint"]),
    "an error object with status 200": (raw(b'{"error": {"message": "model overloaded"}}'), ["answered with an error", "model overloaded"]),
    "no choices": (raw(b'{"id": "x", "choices": []}'), ["returned no choices", "check the model id"]),
    "a tool call that is a string": (raw(b'{"choices": [{"message": {"role": "assistant", "tool_calls": ["get_weather"]}}]}'), ["a tool call that is not an object", "get_weather"]),
}


@pytest.mark.parametrize("case", list(BROKEN))
async def test_a_reply_that_is_not_a_chat_completion_says_what_the_server_sent(chat_server: ChatServer, case: str) -> None:
    reply, phrases = BROKEN[case]
    chat_server.add(reply)
    run = await gated_agent(chat_server).arun("Weather in Oslo?")
    assert run.status == RunStatus.error
    assert "Internal error" not in run.error and "Traceback" not in run.error
    for phrase in phrases:
        assert phrase.lower() in run.error.lower(), run.error
    assert chat_server.url.rsplit("/v1", 1)[0] in run.error  # which server said it
    assert run.tools == []  # nothing was run on a reply nobody could read


async def test_a_run_that_got_a_broken_reply_completes_when_continued(chat_server: ChatServer) -> None:
    chat_server.add(raw(b'{"choices": [{}]}'), text("Now it works."))
    agent = gated_agent(chat_server)
    run = await agent.arun("Hi")
    assert run.status == RunStatus.error
    run = await agent.acontinue_run(run_response=run)
    assert run.status == RunStatus.completed and run.content == "Now it works."


async def test_a_stream_event_that_is_not_json_says_so(chat_server: ChatServer) -> None:
    chat_server.add(raw(b"data: {not json\n\ndata: [DONE]\n\n", content_type="text/event-stream"))
    run = None
    async for event in gated_agent(chat_server).arun("Hi", stream=True):
        run = getattr(event, "run", run)
    assert run is not None and run.status == RunStatus.error
    assert "stream event that is not JSON" in run.error and "Internal error" not in run.error


async def test_a_stream_chunk_with_an_empty_choice_is_ignored_not_a_crash(chat_server: ChatServer) -> None:
    body = (
        b'data: {"choices": [{}]}\n\n'
        b'data: {"choices": [{"delta": {"content": "Hi there."}, "finish_reason": "stop"}]}\n\n'
        b"data: [DONE]\n\n"
    )
    chat_server.add(raw(body, content_type="text/event-stream"))
    agent = gated_agent(chat_server)
    async for _ in agent.arun("Hi", stream=True):
        pass
    assert agent.run_response.status == RunStatus.completed and agent.run_response.content == "Hi there."
