"""A person's decisions, end to end over real HTTP: what runs, and what the model is told.

Every test talks to the chat server through the real `openai` client, once with plain JSON
replies and once with SSE streaming (the `mode` fixture).
"""

from __future__ import annotations

import json

from chatserver import assert_valid_tool_history, call, text, tools

from tui.agent import Agent, RunStatus, tool


class Disk:
    """A pretend file system whose tools record every call that actually ran."""

    def __init__(self) -> None:
        self.deleted: list[str] = []
        self.listed = 0

        @tool(requires_confirmation=True)
        def delete_file(path: str) -> str:
            """Delete a file.

            Args:
                path: The file to delete.
            """
            self.deleted.append(path)
            return f"deleted {path}"

        @tool(requires_confirmation=True)
        def copy_files(source: str, count: int) -> str:
            """Copy the first files of a folder.

            Args:
                source: The folder to copy from.
                count: How many files to copy.
            """
            return f"copied {count} files from {source}"

        @tool
        def list_files() -> list[str]:
            """List the files."""
            self.listed += 1
            return ["a.txt", "b.txt"]

        self.tools = [delete_file, copy_files, list_files]


def tool_result(server, call_id: str, request: int = -1) -> str:
    matches = [m["content"] for m in server.tool_messages(request) if m["tool_call_id"] == call_id]
    assert len(matches) == 1, f"expected one result for {call_id}, got {matches}"
    return matches[0]


# ----------------------------------------------------------------------------- confirmation


async def test_approving_a_call_runs_the_tool_and_sends_its_result_to_the_model(chat_server, model_for):
    disk = Disk()
    chat_server.add(tools(call("delete_file", {"path": "a.txt"}, id="call_del")), text("a.txt is gone."))
    agent = Agent(model=model_for(), tools=disk.tools)

    run = await agent.arun("Delete a.txt")

    assert run.status == RunStatus.paused and agent.is_paused
    [pending] = run.tools_requiring_confirmation
    assert (pending.tool_name, pending.tool_args) == ("delete_file", {"path": "a.txt"})
    assert disk.deleted == [], "nothing may run before the user approves"

    pending.confirm()
    run = await agent.acontinue_run(run_response=run)

    assert run.status == RunStatus.completed
    assert run.content == "a.txt is gone."
    assert disk.deleted == ["a.txt"]
    assert tool_result(chat_server, "call_del") == "deleted a.txt"
    assert_valid_tool_history(chat_server.last_messages)


async def test_rejecting_with_a_note_sends_the_note_to_the_model(chat_server, model_for):
    disk = Disk()
    chat_server.add(
        tools(call("delete_file", {"path": "a.txt"}, id="call_del")),
        text("Understood, I will archive it instead."),
    )
    agent = Agent(model=model_for(), tools=disk.tools)

    run = await agent.arun("Delete a.txt")
    run.tools[0].reject("archive it instead, it is still needed")
    run = await agent.acontinue_run(run_response=run)

    assert run.status == RunStatus.completed
    assert disk.deleted == []
    message = tool_result(chat_server, "call_del")
    assert "declined" in message
    assert "archive it instead, it is still needed" in message
    assert run.tools[0].status == "rejected"


async def test_setting_confirmed_false_like_the_agno_examples_declines_the_call(chat_server, model_for):
    disk = Disk()
    chat_server.add(tools(call("delete_file", {"path": "a.txt"}, id="call_del")), text("OK, I left it."))
    agent = Agent(model=model_for(), tools=disk.tools)

    run = await agent.arun("Delete a.txt")
    for t in run.tools_requiring_confirmation:
        t.confirmed = False
    run = await agent.acontinue_run(run_response=run)

    assert run.status == RunStatus.completed
    assert disk.deleted == []
    assert "declined" in tool_result(chat_server, "call_del")
    assert run.tools[0].decided_by == "user"


async def test_continuing_without_a_decision_pauses_again_and_runs_nothing(chat_server, model_for):
    disk = Disk()
    chat_server.add(tools(call("delete_file", {"path": "a.txt"})), text("done"))
    agent = Agent(model=model_for(), tools=disk.tools)

    run = await agent.arun("Delete a.txt")
    run = await agent.acontinue_run(run_response=run)

    assert run.status == RunStatus.paused
    assert [t.tool_args for t in run.tools_requiring_confirmation] == [{"path": "a.txt"}]
    assert run.tools[0].status == "pending", "an undecided call is never rejected silently"
    assert disk.deleted == []
    assert len(chat_server.requests) == 1, "the model must not hear anything until the call is decided"

    run.tools[0].confirm()
    run = await agent.acontinue_run(run_response=run)
    assert run.status == RunStatus.completed and disk.deleted == ["a.txt"]


# ----------------------------------------------------------------------------- parallel calls


async def test_parallel_calls_are_decided_one_by_one_and_the_model_gets_all_results_together(chat_server, model_for):
    disk = Disk()
    chat_server.add(
        tools(
            call("delete_file", {"path": "a.txt"}, id="call_a"),
            call("list_files", {}, id="call_ls"),
            call("delete_file", {"path": "b.txt"}, id="call_b"),
        ),
        text("a.txt deleted, b.txt kept."),
    )
    agent = Agent(model=model_for(), tools=disk.tools)

    run = await agent.arun("Delete a.txt and b.txt")
    assert run.is_paused
    assert [t.tool_call_id for t in run.tools_requiring_confirmation] == ["call_a", "call_b"]
    assert disk.listed == 1, "the ungated call of the turn runs at once"
    assert disk.deleted == []

    run.tool("call_a").confirm()  # call_b stays undecided
    run = await agent.acontinue_run(run_response=run)

    assert run.status == RunStatus.paused
    assert [t.tool_call_id for t in run.tools_requiring_confirmation] == ["call_b"]
    assert disk.deleted == ["a.txt"], "the undecided call did not run"
    assert len(chat_server.requests) == 1, "no partial results are sent while a call of the turn is undecided"

    run.tool("call_b").reject("keep b")
    run = await agent.acontinue_run(run_response=run)

    assert run.status == RunStatus.completed
    assert disk.deleted == ["a.txt"]
    assert len(chat_server.requests) == 2
    assert tool_result(chat_server, "call_a") == "deleted a.txt"
    assert json.loads(tool_result(chat_server, "call_ls")) == ["a.txt", "b.txt"]
    assert "keep b" in tool_result(chat_server, "call_b")
    assert_valid_tool_history(chat_server.last_messages)


# ----------------------------------------------------------------------------- edited arguments


async def test_edited_arguments_are_what_the_tool_runs_with_and_the_model_is_told(chat_server, model_for):
    disk = Disk()
    chat_server.add(tools(call("delete_file", {"path": "a.txt"}, id="call_del")), text("Deleted b.txt as you asked."))
    agent = Agent(model=model_for(), tools=disk.tools)

    run = await agent.arun("Delete a.txt")
    run.tools[0].confirm(args={"path": "b.txt"})
    run = await agent.acontinue_run(run_response=run)

    assert run.status == RunStatus.completed
    assert disk.deleted == ["b.txt"]
    assert run.tools[0].executed_args == {"path": "b.txt"}
    message = tool_result(chat_server, "call_del")
    assert "edited" in message
    assert '"path": "b.txt"' in message and '"path": "a.txt"' in message
    assert "deleted b.txt" in message


async def test_edited_arguments_that_break_the_schema_are_refused_and_the_run_stays_paused(chat_server, model_for):
    disk = Disk()
    chat_server.add(
        tools(call("copy_files", {"source": "docs", "count": 2}, id="call_cp")),
        text("Copied 3 files."),
    )
    agent = Agent(model=model_for(), tools=disk.tools)

    run = await agent.arun("Copy two files from docs")
    bad = {"source": "docs", "count": "a few"}
    try:
        agent.validate_edit(run.tools[0], bad)
    except ValueError as exc:
        assert "count" in str(exc)
    else:
        raise AssertionError("validate_edit accepted a non-integer count")

    run.tools[0].confirm(args=bad)  # a program may skip validate_edit: continuing must still refuse it
    run = await agent.acontinue_run(run_response=run)

    assert run.status == RunStatus.paused
    [pending] = run.tools_requiring_confirmation
    assert "count" in (pending.error or "") and "invalid" in pending.error
    assert len(chat_server.requests) == 1
    assert pending.status == "pending"

    pending.confirm(args={"source": "docs", "count": "3"})  # "3" is coerced to 3
    run = await agent.acontinue_run(run_response=run)

    assert run.status == RunStatus.completed
    assert run.tools[0].executed_args == {"source": "docs", "count": 3}
    assert "copied 3 files from docs" in tool_result(chat_server, "call_cp")


# ----------------------------------------------------------------------------- user input


class Speaker:
    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

        @tool(user_input_fields=["level"])
        def set_volume(room: str, level: int) -> str:
            """Set the speaker volume in a room.

            Args:
                room: The room.
                level: Volume from 0 to 100.
            """
            self.calls.append((room, level))
            return f"{room} volume is {level}"

        self.tools = [set_volume]


async def test_user_input_is_coerced_to_the_field_type_before_the_tool_runs(chat_server, model_for):
    speaker = Speaker()
    chat_server.add(
        tools(call("set_volume", {"room": "kitchen", "level": 100}, id="call_vol")),  # the model's level is ignored
        text("The kitchen is at 42."),
    )
    agent = Agent(model=model_for(), tools=speaker.tools)

    run = await agent.arun("Make the kitchen louder")

    offered = chat_server.requests[0]["tools"][0]["function"]["parameters"]["properties"]
    assert "level" not in offered, "a user-owned field is hidden from the model"
    [pending] = run.tools_requiring_user_input
    [field] = pending.user_input_schema
    assert (field.name, field.field_type, field.description) == ("level", int, "Volume from 0 to 100.")
    assert field.value is None, "what the model sent for a user field is never offered as the value"

    assert pending.provide_user_input({"level": "42"}) == {}
    run = await agent.acontinue_run(run_response=run)

    assert run.status == RunStatus.completed
    assert speaker.calls == [("kitchen", 42)]
    assert type(speaker.calls[0][1]) is int
    assert tool_result(chat_server, "call_vol") == "kitchen volume is 42"


async def test_an_invalid_user_value_gives_a_field_error_and_keeps_the_run_paused(chat_server, model_for):
    speaker = Speaker()
    chat_server.add(tools(call("set_volume", {"room": "kitchen"})), text("Done."))
    agent = Agent(model=model_for(), tools=speaker.tools)

    run = await agent.arun("Set the kitchen volume")
    [pending] = run.tools_requiring_user_input
    assert pending.provide_user_input({"level": "loud"}) == {"level": "must be a whole number"}

    # The Agno examples set field.value directly and continue: the run must refuse it the same way.
    pending.user_input_schema[0].value = "very loud"
    run = await agent.acontinue_run(run_response=run)

    assert run.status == RunStatus.paused
    [still] = run.tools_requiring_user_input
    assert still.user_input_schema[0].error == "must be a whole number"
    assert speaker.calls == []
    assert len(chat_server.requests) == 1

    still.user_input_schema[0].value = "7"
    run = await agent.acontinue_run(run_response=run)
    assert run.status == RunStatus.completed
    assert speaker.calls == [("kitchen", 7)]


# ----------------------------------------------------------------------------- external execution


async def test_a_result_typed_by_the_user_for_an_external_tool_reaches_the_model(chat_server, model_for):
    ran: list[str] = []

    @tool(external_execution=True)
    def run_shell(command: str) -> str:
        """Run a shell command on the user's machine.

        Args:
            command: The command line.
        """
        ran.append(command)
        return "never"

    chat_server.add(tools(call("run_shell", {"command": "ls"}, id="call_sh")), text("The folder is empty."))
    agent = Agent(model=model_for(), tools=[run_shell])

    run = await agent.arun("What is in this folder?")
    [pending] = run.tools_awaiting_external_execution
    assert pending.tool_args == {"command": "ls"}

    pending.set_result("total 0")
    run = await agent.acontinue_run(run_response=run)

    assert run.status == RunStatus.completed
    assert ran == [], "an external tool is run by the user, never by the runtime"
    assert tool_result(chat_server, "call_sh") == "total 0"
