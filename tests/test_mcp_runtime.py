"""MCPTools against real MCP servers: the notes server written here with the SDK (over stdio and
streamable HTTP) and the published `mcp-server-time`. The model side is the real chat server.

Every MCP call goes through the same pause, decision, ledger and rules as a Python tool.
"""

from __future__ import annotations

import stat
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from chatserver import ChatServer, call, text, tools
from conftest import make_model
from mcp_helpers import HttpNotesServer, notes_command, notes_tools, time_server_command
from tui.agent import Agent, RunStatus
from tui.agent.mcp import ElicitationRequest, ElicitationResponse, MCPServerError, MCPTools, ToolPins
from tui.agent.rules import RulesPolicy
from tui.store import RunStore

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(params=["stdio", "http"])
def transport(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def http_server(transport: str) -> Iterator[HttpNotesServer | None]:
    if transport != "http":
        yield None
        return
    server = HttpNotesServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RunStore]:
    s = RunStore(tmp_path / "runs.db")
    yield s
    s.close()


def tool_message(server: ChatServer, request: int = -1) -> str:
    return server.tool_messages(request)[-1]["content"]


async def test_an_mcp_tool_pauses_for_approval_then_runs_on_the_server(chat_server, transport, http_server, store):
    chat_server.add(tools(call("notes_add", {"a": 2, "b": 40})), text("It is 42."))
    async with notes_tools(transport, http_server) as mcp:
        agent = Agent(model=make_model(chat_server), tools=[mcp], store=store)
        # The model sees ordinary functions with the server's schema.
        spec = {t["function"]["name"]: t["function"] for t in [f.to_openai_tool() for f in agent.tools]}
        assert spec["notes_add"]["parameters"]["properties"].keys() == {"a", "b"}
        assert spec["notes_add"]["description"] == "Add two whole numbers."  # no hint leaks to the model

        run = await agent.arun("What is 2 + 40?")
        assert run.status == RunStatus.paused
        [pending] = run.tools_requiring_confirmation
        assert pending.tool_name == "notes_add"
        assert "only reads" in (pending.description or "") and "not a permission" in (pending.description or "")

        pending.confirm()
        run = await agent.acontinue_run(run)
    assert run.status == RunStatus.completed
    assert run.tools[0].result == "42"
    assert tool_message(chat_server) == "42"
    [entry] = store.ledger(run.run_id)
    assert (entry.tool_name, entry.decision, entry.decided_by) == ("notes_add", "approved", "user")


async def test_rejecting_an_mcp_tool_with_a_reason_tells_the_model_and_never_calls_the_server(chat_server, transport, http_server, store):
    chat_server.add(
        tools(call("notes_write_note", {"text": "buy milk"})),
        tools(call("notes_list_notes", {})),
        text("Nothing was written."),
    )
    async with notes_tools(transport, http_server) as mcp:
        agent = Agent(model=make_model(chat_server), tools=[mcp], store=store)
        run = await agent.arun("Write a note")
        run.tools[0].reject("not today")
        run = await agent.acontinue_run(run)
        assert "not today" in tool_message(chat_server) and "declined" in tool_message(chat_server)
        run.tools[1].confirm()
        run = await agent.acontinue_run(run)
    assert run.status == RunStatus.completed
    assert run.tools[1].result == "notes: none"  # the server never wrote the rejected note
    decisions = [(e.tool_name, e.decision) for e in store.ledger(run.run_id)]
    assert decisions == [("notes_write_note", "rejected"), ("notes_list_notes", "approved")]


async def test_a_rule_that_allows_one_mcp_tool_decides_only_that_tool(chat_server, tmp_path, store):
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rule]]\nname = "sums"\ntool = "notes_add"\neffect = "allow"\n')
    chat_server.add(tools(call("notes_add", {"a": 1, "b": 1}), call("notes_write_note", {"text": "x"})))
    async with notes_tools("stdio") as mcp:
        agent = Agent(model=make_model(chat_server), tools=[mcp], store=store, policy=RulesPolicy.from_file(rules))
        run = await agent.arun("add and write")
        assert run.status == RunStatus.paused
        add, write = run.tools
        assert [t.tool_name for t in run.tools_requiring_confirmation] == ["notes_write_note"]
        assert add.confirmed is True and add.decided_by == "rule:sums"
        write.reject()
        chat_server.add(text("done"))
        run = await agent.acontinue_run(run)
    assert add.result == "2"
    assert [(e.tool_name, e.decision, e.decided_by) for e in store.ledger(run.run_id)] == [
        ("notes_add", "auto_allowed", "rule:sums"),
        ("notes_write_note", "rejected", "user"),
    ]


async def test_a_server_that_crashes_mid_call_gives_a_clear_error_and_the_run_goes_on(chat_server, transport, http_server, store):
    chat_server.add(tools(call("notes_crash", {"reason": "out of cheese"})), text("The notes server crashed."))
    stopped: list[str] = []
    async with notes_tools(transport, http_server, on_stop=lambda tools, why: stopped.append(why)) as mcp:
        agent = Agent(model=make_model(chat_server), tools=[mcp], store=store)
        run = await agent.arun("crash it")
        run.tools[0].confirm()
        run = await agent.acontinue_run(run)
        assert run.status == RunStatus.completed  # not stuck: the model heard about it and answered
        crash = run.tools[0]
        assert crash.status == "error"
        assert "the MCP server 'notes' stopped during the call to crash" in crash.result
        if transport == "stdio":
            assert "notes: fatal: out of cheese" in crash.result  # the server's stderr tail
        assert "stopped during the call" in tool_message(chat_server)
        assert mcp.error and not mcp.is_connected
        assert stopped == [mcp.error]  # reported once, with the same words

        # A later call fails at once and says how to recover; a restart brings the tools back.
        chat_server.add(tools(call("notes_add", {"a": 1, "b": 2})), text("ok"))
        run = await agent.arun("add")
        run.tools[0].confirm()
        run = await agent.acontinue_run(run)
        assert "Restart it" in run.tools[0].result
        if transport == "stdio":
            await mcp.restart()
            chat_server.add(tools(call("notes_add", {"a": 1, "b": 2})), text("3"))
            run = await agent.arun("add again")
            run.tools[0].confirm()
            run = await agent.acontinue_run(run)
            assert run.tools[0].result == "3"


async def test_a_server_that_cannot_start_is_reported_with_its_stderr(monkeypatch):
    tools_ = MCPTools(command=notes_command(), env={"NOTES_FAIL_AT_START": "1"}, name="notes")
    with pytest.raises(MCPServerError) as info:
        await tools_.connect()
    message = str(info.value)
    assert "the MCP server 'notes' could not be started" in message
    assert "permission denied" in message  # the stderr tail
    missing = MCPTools(command="no-such-mcp-server-binary --x", name="ghost")
    with pytest.raises(MCPServerError, match="no such command 'no-such-mcp-server-binary'"):
        await missing.connect()


async def test_an_unknown_tool_name_from_the_model_is_answered_and_nobody_is_asked(chat_server, store):
    chat_server.add(tools(call("notes_delete_everything", {})), text("That tool does not exist."))
    async with notes_tools("stdio") as mcp:
        agent = Agent(model=make_model(chat_server), tools=[mcp], store=store)
        run = await agent.arun("delete everything")
    assert run.status == RunStatus.completed
    message = tool_message(chat_server)
    assert "there is no tool named 'notes_delete_everything'" in message
    assert "notes_add" in message and "notes_write_note" in message
    assert store.ledger(run.run_id) == []


async def test_edited_arguments_are_checked_against_the_servers_schema(chat_server):
    chat_server.add(tools(call("notes_add", {"a": 1, "b": 2})), text("ok"))
    async with notes_tools("stdio") as mcp:
        agent = Agent(model=make_model(chat_server), tools=[mcp])
        run = await agent.arun("add")
        with pytest.raises(ValueError, match="'x' is not of type 'integer'"):
            agent.validate_edit(run.tools[0], {"a": "x", "b": 2})
        run.tools[0].confirm({"a": 20, "b": 22})
        run = await agent.acontinue_run(run)
    assert run.tools[0].result == "42"
    assert "instead of the proposed" in tool_message(chat_server)


async def test_invalid_arguments_from_the_model_are_refused_before_anyone_is_asked(chat_server):
    chat_server.add(tools(call("notes_add", {"a": "two"})), text("sorry"))
    async with notes_tools("stdio") as mcp:
        agent = Agent(model=make_model(chat_server), tools=[mcp])
        run = await agent.arun("add")
    assert run.status == RunStatus.completed
    assert "invalid arguments for notes_add" in tool_message(chat_server)
    assert "'b' is a required property" in tool_message(chat_server)


# ----------------------------------------------------------------------------- elicitation


def order_script(chat_server: ChatServer) -> None:
    chat_server.add(tools(call("notes_order", {"item": "a hat"})), text("done"))


async def run_order(chat_server, store, transport, http, handler) -> Any:
    async with notes_tools(transport, http, elicitation_handler=handler) as mcp:
        agent = Agent(model=make_model(chat_server), tools=[mcp], store=store)
        run = await agent.arun("order a hat")
        run.tools[0].confirm()
        return await agent.acontinue_run(run)


async def test_elicitation_answered_reaches_the_server_and_the_ledger(chat_server, transport, http_server, store):
    order_script(chat_server)
    asked: list[ElicitationRequest] = []

    async def handler(request: ElicitationRequest) -> ElicitationResponse:
        asked.append(request)
        return ElicitationResponse("accept", {"speed": "express", "copies": "2"}, by="script")

    run = await run_order(chat_server, store, transport, http_server, handler)
    [request] = asked
    assert request.message == "How should a hat be shipped?"
    assert request.tool_name == "notes_order" and request.run is not None and request.run.run_id == run.run_id
    fields = {f.name: f for f in request.fields}
    assert fields["speed"].choices == ["standard", "express"]
    assert fields["copies"].type_name == "int" and fields["gift"].type_name == "bool"
    assert run.tools[0].result == "ordered 2 x a hat, express"  # "2" was coerced to 2
    entries = [(e.tool_call_id, e.decision, e.decided_by, e.executed_args) for e in store.ledger(run.run_id)]
    call_id = run.tools[0].tool_call_id
    assert (f"{call_id}#elicitation-1", "elicitation_accept", "script", {"speed": "express", "copies": 2}) in entries
    assert (call_id, "approved", "user", {"item": "a hat"}) in entries


async def test_elicitation_over_the_older_protocol_is_matched_to_its_call(chat_server, store):
    """Before 2026-07-28 the server's question arrives as a request of its own, not inside the call."""
    order_script(chat_server)
    asked: list[ElicitationRequest] = []

    async def handler(request: ElicitationRequest) -> ElicitationResponse:
        asked.append(request)
        return ElicitationResponse("accept", {"speed": "standard", "copies": 1, "gift": True})

    async with notes_tools("stdio", elicitation_handler=handler, protocol="legacy") as mcp:
        agent = Agent(model=make_model(chat_server), tools=[mcp], store=store)
        run = await agent.arun("order a hat")
        run.tools[0].confirm()
        run = await agent.acontinue_run(run)
    assert run.tools[0].result == "ordered 1 x a hat, standard (gift)"
    assert asked[0].tool is run.tools[0]
    assert "elicitation_accept" in [e.decision for e in store.ledger(run.run_id)]


@pytest.mark.parametrize("action", ["decline", "cancel"])
async def test_elicitation_declined_or_cancelled_is_told_to_the_server(chat_server, store, action):
    order_script(chat_server)

    async def handler(request: ElicitationRequest) -> ElicitationResponse:
        return ElicitationResponse(action)  # type: ignore[arg-type]

    run = await run_order(chat_server, store, "stdio", None, handler)
    assert run.tools[0].result == f"no order: the user chose {action}"
    assert f"elicitation_{action}" in [e.decision for e in store.ledger(run.run_id)]


async def test_an_invalid_elicitation_answer_is_refused_with_the_field_named(chat_server, store):
    order_script(chat_server)

    async def handler(request: ElicitationRequest) -> ElicitationResponse:
        return ElicitationResponse("accept", {"speed": "teleport", "copies": 99})

    run = await run_order(chat_server, store, "stdio", None, handler)
    result = run.tools[0].result or ""
    assert run.tools[0].status == "error"
    assert "speed: must be one of standard, express" in result
    assert run.status == RunStatus.completed


async def test_without_a_handler_the_server_is_told_the_question_was_declined(chat_server, store):
    order_script(chat_server)
    async with notes_tools("stdio") as mcp:
        agent = Agent(model=make_model(chat_server), tools=[mcp], store=store)
        run = await agent.arun("order")
        run.tools[0].confirm()
        run = await agent.acontinue_run(run)
    assert run.tools[0].result == "no order: the user chose decline"


# ----------------------------------------------------------------------------- pinned definitions


async def test_a_changed_tool_definition_is_told_and_its_rule_waits_until_a_person_approves(chat_server, tmp_path, store):
    pins = ToolPins(tmp_path / "pins.json")
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rule]]\nname = "notes-ok"\ntool = "notes_write_note"\neffect = "allow"\n')
    policy = RulesPolicy.from_file(rules)

    async with notes_tools("stdio", pins=pins) as mcp:  # first sight: pinned, the rule applies
        assert mcp.changed_tools == []
        chat_server.add(tools(call("notes_write_note", {"text": "one"})), text("ok"))
        run = await Agent(model=make_model(chat_server), tools=[mcp], store=store, policy=policy).arun("write")
        assert run.tools[0].decided_by == "rule:notes-ok"
    assert stat.S_IMODE((tmp_path / "pins.json").stat().st_mode) == 0o600

    async with notes_tools("stdio", pins=pins, env={"NOTES_VARIANT": "2"}) as mcp:  # the server changed the tool
        assert [f.name for f in mcp.changed_tools] == ["notes_write_note"]
        agent = Agent(model=make_model(chat_server), tools=[mcp], store=store, policy=policy)
        chat_server.add(tools(call("notes_write_note", {"text": "two"})), text("ok"))
        run = await agent.arun("write")
        assert run.status == RunStatus.paused  # the rule no longer decides it
        description = run.tools[0].description or ""
        assert "changed this tool's description" in description and "outside address" in description
        assert "was: 'Write a note.'" in description
        run.tools[0].confirm()
        run = await agent.acontinue_run(run)
        assert run.tools[0].result == "saved note 1: two"
        assert mcp.changed_tools == []

        chat_server.add(tools(call("notes_write_note", {"text": "three"})), text("ok"))
        run = await agent.arun("write again")  # approved once: the rule applies again
        assert run.tools[0].decided_by == "rule:notes-ok"

    async with notes_tools("stdio", pins=pins, env={"NOTES_VARIANT": "2"}) as mcp:  # the new definition is pinned
        assert mcp.changed_tools == []


async def test_a_changed_tool_that_was_not_gated_asks_before_it_runs(chat_server, tmp_path):
    pins = ToolPins(tmp_path / "pins.json")
    async with notes_tools("stdio", pins=pins, requires_confirmation_tools=[]) as mcp:
        assert not mcp.functions["notes_write_note"].requires_confirmation
    async with notes_tools("stdio", pins=pins, requires_confirmation_tools=[], env={"NOTES_VARIANT": "2"}) as mcp:
        chat_server.add(tools(call("notes_write_note", {"text": "x"})))
        run = await Agent(model=make_model(chat_server), tools=[mcp]).arun("write")
        assert run.status == RunStatus.paused


# ----------------------------------------------------------------------------- toolkit options


async def test_include_exclude_and_prefix_choose_what_the_model_sees():
    async with MCPTools(command=notes_command(), include_tools=["add", "write_*"], exclude_tools=["write_note"]) as mcp:
        assert sorted(mcp.functions) == ["add"]
    async with MCPTools(command=notes_command(), tool_name_prefix="n", requires_confirmation_tools=["write_note"]) as mcp:
        gated = {name for name, f in mcp.functions.items() if f.requires_confirmation}
        assert gated == {"n_write_note"}
        assert "n_add" in mcp.functions


def test_an_agent_cannot_be_given_mcp_tools_that_never_connected():
    with pytest.raises(RuntimeError, match="inside `async with MCPTools"):
        Agent(model=None, tools=[MCPTools(command=notes_command())])


def test_mcptools_needs_a_command_or_a_url():
    with pytest.raises(ValueError, match="either command="):
        MCPTools()
    with pytest.raises(ValueError, match="transport must be"):
        MCPTools(url="http://x", transport="sse")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- durability


async def test_a_paused_mcp_call_survives_a_restart_and_runs_on_a_new_server_process(chat_server, tmp_path):
    db = tmp_path / "runs.db"
    chat_server.add(tools(call("notes_write_note", {"text": "kept"})))
    first = RunStore(db)
    async with notes_tools("stdio") as mcp:
        run = await Agent(model=make_model(chat_server), tools=[mcp], store=first).arun("write")
        assert run.status == RunStatus.paused
    first.close()  # the process (and its server) are gone

    second = RunStore(db)
    chat_server.add(text("Written."))
    async with notes_tools("stdio") as mcp:  # the server is started again
        agent = Agent(model=make_model(chat_server), tools=[mcp], store=second)
        loaded = agent.get_run(run.run_id)
        assert loaded is not None and loaded.is_paused
        loaded.tools[0].confirm()
        done = await agent.acontinue_run(loaded)
    assert done.status == RunStatus.completed
    assert done.tools[0].result == "saved note 1: kept"
    second.close()


# ----------------------------------------------------------------------------- a published server


@pytest.fixture
def time_command() -> str:
    command = time_server_command()
    if command is None:
        pytest.skip("mcp-server-time is not installed (pip install -e '.[test]')")
    return command


async def test_the_published_time_server_approve_and_reject_with_a_reason(chat_server, time_command, store):
    chat_server.add(
        tools(call("time_convert_time", {"source_timezone": "Europe/Paris", "time": "12:00", "target_timezone": "Asia/Tokyo"})),
        text("20:00 in Tokyo."),
        tools(call("time_get_current_time", {"timezone": "UTC"})),
        text("I will not look."),
    )
    async with MCPTools(command=time_command, tool_name_prefix="time", requires_confirmation_tools=["*"]) as mcp:
        assert {"time_get_current_time", "time_convert_time"} <= set(mcp.functions)
        agent = Agent(model=make_model(chat_server), tools=[mcp], store=store)
        run = await agent.arun("12:00 in Paris is what in Tokyo?")
        assert "only reads" in (run.tools[0].description or "")
        run.tools[0].confirm()
        run = await agent.acontinue_run(run)
        assert '"datetime": "' in run.tools[0].result and "+09:00" in run.tools[0].result

        run = await agent.arun("What time is it?")
        run.tools[0].reject("the clock is private")
        run = await agent.acontinue_run(run)
    assert "the clock is private" in tool_message(chat_server)
    assert [e.decision for e in store.ledger(run.run_id)] == ["rejected"]


async def test_the_published_time_server_under_a_rule(chat_server, time_command, tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rule]]\nname = "clock"\ntool = "time_get_current_time"\neffect = "allow"\n')
    chat_server.add(tools(call("time_get_current_time", {"timezone": "UTC"})), text("It is now."))
    async with MCPTools(command=time_command, tool_name_prefix="time", requires_confirmation_tools=["*"]) as mcp:
        run = await Agent(model=make_model(chat_server), tools=[mcp], policy=RulesPolicy.from_file(rules)).arun("time?")
    assert run.status == RunStatus.completed
    assert run.tools[0].decided_by == "rule:clock"
    assert '"timezone": "UTC"' in run.tools[0].result


# ----------------------------------------------------------------------------- elicitation schemas


def test_a_requested_schema_becomes_typed_fields_and_answers_are_checked_against_it():
    from tui.agent.mcp import fields_from_schema, validate_content

    schema = {
        "type": "object",
        "properties": {
            "size": {"type": "string", "oneOf": [{"const": "s", "title": "Small"}, {"const": "l", "title": "Large"}]},
            "name": {"type": "string", "maxLength": 5, "title": "Your name"},
            "age": {"type": "integer", "minimum": 0},
            "note": {"type": "string"},
        },
        "required": ["size", "name", "age"],
    }
    fields = {f.name: f for f in fields_from_schema(schema)}
    assert fields["size"].choices == ["s", "l"] and fields["name"].description == "Your name"
    assert fields["age"].type_name == "int"

    content, errors = validate_content(schema, {"size": "l", "name": "Ann", "age": "7", "note": ""})
    assert errors == {} and content == {"size": "l", "name": "Ann", "age": 7}  # the empty optional is left out

    _, errors = validate_content(schema, {"size": "xl", "name": "Annabelle", "age": -1, "extra": 1})
    assert errors["size"] == "must be one of s, l"
    assert "too long" in errors["name"] and "minimum of 0" in errors["age"]
    assert errors["extra"] == "the server did not ask for this field"
    _, errors = validate_content(schema, {})
    assert set(errors) == {"size", "name", "age"}


def test_a_damaged_pins_file_is_refused_not_trusted(tmp_path):
    path = tmp_path / "pins.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="cannot read the MCP tool pins"):
        ToolPins(path).check("notes", {"name": "add", "description": "", "inputSchema": {}})


async def test_stopping_the_server_while_its_question_is_open_ends_the_call_with_a_clear_error(chat_server, store):
    """E.g. the user restarts a server from the palette while its question waits: the call must not hang."""
    import asyncio

    order_script(chat_server)
    holder: dict[str, MCPTools] = {}

    async def handler(request: ElicitationRequest) -> ElicitationResponse:
        asyncio.ensure_future(holder["mcp"].close())
        await asyncio.Event().wait()  # nobody answers
        raise AssertionError("unreachable")

    async with notes_tools("stdio", elicitation_handler=handler) as mcp:
        holder["mcp"] = mcp
        agent = Agent(model=make_model(chat_server), tools=[mcp], store=store)
        run = await agent.arun("order")
        run.tools[0].confirm()
        run = await asyncio.wait_for(agent.acontinue_run(run), 60)
    assert run.status == RunStatus.completed
    assert "the MCP server 'notes' stopped during the call to order" in (run.tools[0].result or "")


async def test_the_ledger_row_of_a_question_says_who_asked_what(chat_server, store):
    order_script(chat_server)

    async def handler(request: ElicitationRequest) -> ElicitationResponse:
        return ElicitationResponse("decline")

    run = await run_order(chat_server, store, "stdio", None, handler)
    [row] = [e for e in store.ledger(run.run_id) if e.decision.startswith("elicitation_")]
    assert row.note == "The MCP server 'notes' asked: How should a hat be shipped?"
    assert row.tool_name == "notes_order" and row.decided_by == "handler"
    assert row.proposed_args["requested_schema"]["required"] == ["speed", "copies"]
