"""When things go wrong: bad tool calls reach the model, API failures reach the user.

A bad tool call (unknown name, broken JSON, a tool that raises) is the model's to fix: it hears a
clear message and the run goes on. An API failure (401, 429, 500, timeout, refused connection, a
reply cut off) is the user's: the run ends with status `error` and a readable `run.error`, no
exception escapes, and the run can be continued once the problem is gone.
"""

from __future__ import annotations

import pytest
from chatserver import assert_valid_tool_history, call, closed_port, fault, text, tools
from conftest import make_model

from tui.agent import Agent, RunStatus, ToolError, tool
from tui.agent.events import ContentDelta, RunError, RunStarted
from tui.agent.models import OpenAIChat


def make_tools(log: list[str]):
    @tool(requires_confirmation=True)
    def delete_file(path: str) -> str:
        """Delete a file.

        Args:
            path: The file to delete.
        """
        log.append(f"delete {path}")
        return f"deleted {path}"

    @tool
    def read_file(path: str) -> str:
        """Read a file.

        Args:
            path: The file to read.
        """
        log.append(f"read {path}")
        if path == "locked.txt":
            raise PermissionError(f"[Errno 13] Permission denied: '{path}'")
        if path == "missing.txt":
            raise ToolError(f"{path} does not exist")
        return "hello"

    return [delete_file, read_file]


def only_tool_message(server, request: int = -1) -> str:
    [message] = server.tool_messages(request)
    return message["content"]


# ----------------------------------------------------------------------------- bad tool calls


async def test_an_unknown_tool_name_is_explained_to_the_model_and_the_run_goes_on(chat_server, model_for):
    log: list[str] = []
    chat_server.add(tools(call("remove_everything", {"path": "/"})), text("Sorry, I can only delete single files."))
    agent = Agent(model=model_for(), tools=make_tools(log))

    run = await agent.arun("Clean up")

    assert run.status == RunStatus.completed
    assert run.content == "Sorry, I can only delete single files."
    message = only_tool_message(chat_server)
    assert "no tool named 'remove_everything'" in message
    assert "delete_file" in message and "read_file" in message
    assert log == []
    assert_valid_tool_history(chat_server.last_messages)


async def test_malformed_json_arguments_are_sent_back_to_the_model_without_asking_the_user(chat_server, model_for):
    log: list[str] = []
    chat_server.add(
        tools(call("delete_file", '{"path": "a.txt"')),  # truncated JSON
        tools(call("delete_file", {"path": "a.txt"})),
        text("Deleted."),
    )
    agent = Agent(model=model_for(), tools=make_tools(log))

    run = await agent.arun("Delete a.txt")

    # The broken call went straight back to the model; its corrected call is what waits for the user.
    assert run.is_paused
    assert "not valid JSON" in only_tool_message(chat_server)
    [pending] = run.tools_requiring_confirmation
    assert pending.tool_args == {"path": "a.txt"}
    assert log == []

    pending.confirm()
    run = await agent.acontinue_run(run_response=run)
    assert run.status == RunStatus.completed
    assert log == ["delete a.txt"]


@pytest.mark.parametrize(
    "path, expected",
    [
        ("locked.txt", "raised PermissionError: [Errno 13] Permission denied: 'locked.txt'"),
        ("missing.txt", "Error: missing.txt does not exist"),
    ],
)
async def test_a_tool_that_raises_gives_the_model_a_clear_error_and_the_run_goes_on(chat_server, model_for, path, expected):
    log: list[str] = []
    chat_server.add(tools(call("read_file", {"path": path})), text("I cannot read that file."))
    agent = Agent(model=model_for(), tools=make_tools(log))

    run = await agent.arun(f"Read {path}")

    assert run.status == RunStatus.completed
    assert run.content == "I cannot read that file."
    assert expected in only_tool_message(chat_server)
    assert "Traceback" not in only_tool_message(chat_server)
    assert run.tools[0].status == "error"


async def test_arguments_that_do_not_fit_the_schema_go_back_to_the_model(chat_server, model_for):
    log: list[str] = []
    chat_server.add(tools(call("read_file", {"file": "a.txt"})), text("Let me fix that."))
    agent = Agent(model=model_for(), tools=make_tools(log))

    run = await agent.arun("Read a.txt")

    assert run.status == RunStatus.completed
    message = only_tool_message(chat_server)
    assert "invalid arguments for read_file" in message and "path" in message
    assert log == []


# ----------------------------------------------------------------------------- API failures

API_FAILURES = {
    "401": (fault("401"), "rejected the API key (401"),
    "429": (fault("429"), "rate limiting requests (429"),
    "500": (fault("500"), "server error (500"),
    "timeout": (fault("delay", seconds=10), "did not answer within 0.5s"),
    "cut": (fault("cut", after=3, content="The answer is forty-two and more"), "broke mid-reply"),
}


@pytest.mark.parametrize("failure", list(API_FAILURES))
async def test_an_api_failure_ends_the_run_with_a_clear_error(chat_server, model_for, failure):
    reply, expected = API_FAILURES[failure]
    chat_server.add(reply)
    # Only the timeout case gets a short client timeout: elsewhere a slow machine must not turn
    # the failure under test into a timeout.
    agent = Agent(model=model_for(timeout=0.5 if failure == "timeout" else 10), tools=make_tools([]))

    run = await agent.arun("What is the answer?")

    assert run.status == RunStatus.error
    assert expected in (run.error or "")
    assert run.content is None, "a partial or failed reply is never used as the answer"
    assert not agent.is_paused


async def test_a_refused_connection_ends_the_run_with_a_clear_error(mode):
    model = OpenAIChat(
        id="test-model", base_url=f"http://127.0.0.1:{closed_port()}/v1", api_key="test", max_retries=0,
        timeout=2, stream=(mode == "sse"),
    )
    agent = Agent(model=model, tools=make_tools([]))

    events = [e async for e in agent.arun("Hello?", stream=True)]

    run = agent.run_response
    assert run.status == RunStatus.error
    assert "Could not connect to http://127.0.0.1:" in run.error
    assert "Is the server running?" in run.error
    assert isinstance(events[-1], RunError) and events[-1].error == run.error


@pytest.mark.parametrize("after", [1, 4])
async def test_a_stream_cut_mid_way_says_the_reply_broke_off(chat_server, after):
    """Cut after the first chunk (nothing said yet) or mid-sentence: either way the reply broke."""
    chat_server.add(fault("cut", after=after, content="The answer is forty-two, as everyone knows"))
    agent = Agent(model=make_model(chat_server, "sse"), tools=make_tools([]))

    events = [e async for e in agent.arun("What is the answer?", stream=True)]

    run = agent.run_response
    assert run.status == RunStatus.error
    assert "broke mid-reply" in run.error and "Could not connect" not in run.error
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunError)
    said = "".join(e.text for e in events if isinstance(e, ContentDelta))
    assert "The answer is forty-two, as everyone knows".startswith(said)
    assert run.content is None


async def test_a_stream_that_goes_silent_mid_reply_times_out_with_a_clear_error(chat_server):
    chat_server.add(fault("stall", after=3, seconds=10, content="The answer is forty-two, as everyone knows"))
    agent = Agent(model=make_model(chat_server, "sse", timeout=1), tools=make_tools([]))

    run = await agent.arun("What is the answer?")

    assert run.status == RunStatus.error
    assert "stopped sending mid-reply for more than 1s" in run.error
    assert run.content is None


async def test_a_stream_cut_in_the_middle_of_a_tool_call_runs_nothing(chat_server):
    log: list[str] = []
    chat_server.add(fault("cut", after=4, calls=[call("read_file", {"path": "a.txt"})]))
    agent = Agent(model=make_model(chat_server, "sse"), tools=make_tools(log))

    run = await agent.arun("Read a.txt")

    assert run.status == RunStatus.error and "broke mid-reply" in run.error
    assert run.tools == [] and log == []


async def test_an_error_event_in_the_middle_of_a_stream_ends_the_run_with_the_servers_message(chat_server):
    chat_server.add(fault("stream_error", after=3, content="Let me think about it some more"))
    agent = Agent(model=make_model(chat_server, "sse"), tools=make_tools([]))

    run = await agent.arun("Think")

    assert run.status == RunStatus.error
    assert "reported an error mid-reply: The server is overloaded; please retry." in run.error
    assert "continue the run" in run.error
    assert run.content is None


async def test_without_an_api_key_or_base_url_the_run_says_how_to_configure_one(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    agent = Agent(model=OpenAIChat(id="gpt-4o-mini"), tools=make_tools([]))

    run = await agent.arun("Hello")

    assert run.status == RunStatus.error
    assert "No API key" in run.error and "OPENAI_API_KEY" in run.error and "OPENAI_BASE_URL" in run.error


async def test_a_run_that_failed_on_a_server_error_completes_when_continued(chat_server, model_for):
    chat_server.add(fault("500"), text("Here is the answer."))
    agent = Agent(model=model_for(), tools=make_tools([]))

    run = await agent.arun("Question?")
    assert run.status == RunStatus.error

    run = await agent.acontinue_run(run_response=run)

    assert run.status == RunStatus.completed
    assert run.content == "Here is the answer."
    assert run.error is None
    assert [m["role"] for m in chat_server.last_messages] == ["user"], "the failed attempt left no trace"


async def test_an_approved_tool_is_not_run_again_when_the_model_request_after_it_fails(chat_server, model_for):
    log: list[str] = []
    chat_server.add(tools(call("delete_file", {"path": "a.txt"}, id="call_del")), fault("429"), text("Deleted."))
    agent = Agent(model=model_for(), tools=make_tools(log))

    run = await agent.arun("Delete a.txt")
    run.tools[0].confirm()
    run = await agent.acontinue_run(run_response=run)
    assert run.status == RunStatus.error and "429" in run.error
    assert log == ["delete a.txt"]

    run = await agent.acontinue_run(run_response=run)

    assert run.status == RunStatus.completed
    assert log == ["delete a.txt"], "the tool ran exactly once"
    assert only_tool_message(chat_server) == "deleted a.txt"


async def test_a_run_stopped_for_too_many_turns_gets_more_turns_when_continued(chat_server, model_for):
    log: list[str] = []
    chat_server.add(
        tools(call("read_file", {"path": "1.txt"})),
        tools(call("read_file", {"path": "2.txt"})),
        tools(call("read_file", {"path": "3.txt"})),
        text("Read three files."),
    )
    agent = Agent(model=model_for(), tools=make_tools(log), max_turns=2)

    run = await agent.arun("Read every file")
    assert run.status == RunStatus.error
    assert "Stopped after 2 model turns" in run.error and "Continue the run" in run.error
    assert log == ["read 1.txt", "read 2.txt"]

    run = await agent.acontinue_run(run_response=run)

    assert run.status == RunStatus.completed, run.error
    assert run.content == "Read three files."
    assert log == ["read 1.txt", "read 2.txt", "read 3.txt"]
