"""MCP servers in the dashboard, driven by keys: a server's tool asks before it runs, its
question (elicitation) is the user-input form, a broken server is reported and restarted.

Real parts: the notes MCP server (a process started by the app), the chat server as the model,
a RunStore in a temp dir.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from chatserver import ChatServer, call, text, tools
from conftest import make_model
from mcp_helpers import NOTES_SERVER
from textual.widgets import Select
from ui_support import WIDE, make_app, screen_text, settle, type_text, wait_for

from tui.cli import launch_for
from tui.mcp_config import MCPServerConfig
from tui.screens.confirm_modal import ConfirmModal
from tui.screens.dashboard import Dashboard
from tui.screens.elicitation_modal import ElicitationModal
from tui.widgets.tool_log import ToolLog

pytestmark = pytest.mark.timeout(120)


def notes_app(chat_server: ChatServer, *, env: dict[str, str] | None = None, **kwargs: Any) -> Any:
    import sys

    app = make_app(model=make_model(chat_server), builtin_tools=False, **kwargs)
    app.settings.mcp.servers["notes"] = MCPServerConfig(command=sys.executable, args=[str(NOTES_SERVER)], env=env or {})
    from tui.mcp_dashboard import MCPDashboard

    app.mcp = MCPDashboard(app)  # the settings changed after the app was built (as --mcp does before)
    app.dashboard.mcp_ready = app.mcp.ready
    return app


async def prompt(pilot: Any, app: Any, words: str) -> None:
    await type_text(pilot, words)
    await pilot.press("enter")


def flat(app: Any) -> str:
    """The screen's words in order, without borders or line breaks (so wrapped text still matches)."""
    return " ".join(re.sub(r"[│╭╮╰╯─▊▎▔▁]", " ", screen_text(app)).split())


def tool_states(app: Any) -> list[tuple[str, str]]:
    return [(e.tool.tool_name, e.tool.status) for e in app.query_one(ToolLog).entries]


async def test_an_mcp_tool_asks_in_the_confirmation_modal_with_the_servers_hint(chat_server: ChatServer) -> None:
    chat_server.add(tools(call("notes_add", {"a": 2, "b": 3})), text("The sum is 5."))
    app = notes_app(chat_server)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot, app)  # the server has started and its tools joined the agent's
        assert "notes_add" in app.agent.functions
        await prompt(pilot, app, "add")
        await settle(pilot, app)
        assert isinstance(app.screen, ConfirmModal)
        shown = screen_text(app)
        assert "notes_add" in shown
        assert "From the MCP server 'notes'" in shown
        assert "says it only reads" in shown and "hitl-tui asks anyway" in shown
        await pilot.press("y")
        await settle(pilot, app)
        assert isinstance(app.screen, Dashboard)
        assert tool_states(app) == [("notes_add", "completed")]
        assert "The sum is 5." in screen_text(app)
    assert chat_server.tool_messages()[-1]["content"] == "5"


async def answer_order(pilot: Any, app: Any, chat_server: ChatServer) -> ElicitationModal:
    chat_server.add(tools(call("notes_order", {"item": "a hat"})))
    await settle(pilot, app)
    await prompt(pilot, app, "order a hat")
    await settle(pilot, app)
    assert isinstance(app.screen, ConfirmModal)
    await pilot.press("y")
    await wait_for(pilot, lambda: isinstance(app.screen, ElicitationModal), timeout=30)
    return app.screen


async def test_an_elicitation_is_answered_in_the_typed_form_by_keys(chat_server: ChatServer) -> None:
    app = notes_app(chat_server)
    async with app.run_test(size=WIDE) as pilot:
        modal = await answer_order(pilot, app, chat_server)
        shown = screen_text(app)
        assert "The MCP server 'notes' asks, during notes_order:" in shown
        assert "How should a hat be shipped?" in shown
        assert "^s answer · ^r decline · esc cancel" in shown  # the legend, from the bindings
        speed = modal.query_one("#input-0", Select)
        assert speed.has_focus
        await pilot.press("enter", "down", "down", "enter")  # open the select, choose "express"
        assert speed.value == "express"
        await pilot.press("tab")
        await type_text(pilot, "20")  # more than the server allows (at most 10)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ElicitationModal)  # refused, with the reason under the field
        assert "20 is greater than the maximum of 10" in screen_text(app)
        await pilot.press("backspace", "backspace")
        await type_text(pilot, "3")
        chat_server.add(text("Ordered."))
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert isinstance(app.screen, Dashboard)
        assert tool_states(app) == [("notes_order", "completed")]
        run = app.agent.run_response
    assert run.tools[0].result == "ordered 3 x a hat, express"
    decisions = [(e.decision, e.decided_by) for e in app.store.ledger(run.run_id)]
    assert ("elicitation_accept", "user") in decisions


@pytest.mark.parametrize(("keys", "action"), [(("ctrl+r",), "decline"), (("escape",), "cancel")])
async def test_an_elicitation_can_be_declined_or_cancelled(chat_server: ChatServer, keys: tuple[str, ...], action: str) -> None:
    app = notes_app(chat_server)
    async with app.run_test(size=WIDE) as pilot:
        await answer_order(pilot, app, chat_server)
        chat_server.add(text("No order then."))
        await pilot.press(*keys)
        await settle(pilot, app)
        assert isinstance(app.screen, Dashboard)
        run = app.agent.run_response
    assert run.tools[0].result == f"no order: the user chose {action}"
    assert f"elicitation_{action}" in [e.decision for e in app.store.ledger(run.run_id)]


async def test_a_server_that_cannot_start_is_reported_and_the_other_tools_keep_working(chat_server: ChatServer) -> None:
    from tui.agent import tool

    @tool
    def shout(words: str) -> str:
        """Say it louder."""
        return words.upper()

    chat_server.add(tools(call("shout", {"words": "hi"})), text("HI"))
    app = notes_app(chat_server, env={"NOTES_FAIL_AT_START": "1"}, tools=[shout])
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot, app)
        shown = flat(app)
        assert "could not be started" in shown and "permission denied" in shown  # with its stderr tail
        assert "Restart MCP server notes" in shown
        assert app.mcp.servers.status("notes") == "failed"
        await prompt(pilot, app, "shout")
        await settle(pilot, app)
        assert tool_states(app) == [("shout", "completed")]
        assert "notes_add" not in app.agent.functions


async def test_a_server_that_dies_mid_call_is_reported_and_restarted_from_the_palette(chat_server: ChatServer) -> None:
    chat_server.add(tools(call("notes_crash", {})), text("It crashed."))
    app = notes_app(chat_server)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot, app)
        await prompt(pilot, app, "crash")
        await settle(pilot, app)
        await pilot.press("y")
        await settle(pilot, app)
        shown = flat(app)
        assert "stopped during the call to crash" in shown and "out of cheese" in shown
        assert app.agent.run_response.status == "completed"  # the run is not stuck
        assert app.mcp.servers.status("notes") == "failed"

        await pilot.press("ctrl+p")
        await type_text(pilot, "Restart MCP server notes")
        await wait_for(pilot, lambda: "Restart MCP server notes" in screen_text(app))
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.mcp.servers.status("notes") == "running"
        chat_server.add(tools(call("notes_add", {"a": 1, "b": 1})), text("2"))
        await prompt(pilot, app, "add")
        await settle(pilot, app)
        await pilot.press("y")
        await settle(pilot, app)
        assert tool_states(app)[-1] == ("notes_add", "completed")


async def test_the_servers_screen_lists_each_server_and_its_tools(chat_server: ChatServer) -> None:
    app = notes_app(chat_server)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot, app)
        app.mcp.show()
        await pilot.pause()
        shown = screen_text(app)
        assert "notes (running)" in shown
        assert "notes_add  [read-only hint]" in shown and "notes_order" in shown
        await pilot.press("escape")
        assert isinstance(app.screen, Dashboard)
        server = app.mcp.servers.servers["notes"]
        assert server.is_connected
    assert not server.is_connected  # the dashboard stopped its server when it quit


async def test_a_changed_tool_definition_is_told_at_start_and_asks_despite_a_rule(chat_server: ChatServer) -> None:
    import os

    rules = Path(os.environ["HITL_TUI_RULES"])
    rules.write_text('[[rule]]\nname = "notes-ok"\ntool = "notes_write_note"\neffect = "allow"\n')
    first = notes_app(chat_server)
    async with first.run_test(size=WIDE) as pilot:
        await settle(pilot, first)  # first sight: the definitions are pinned
        assert "Changed MCP tool" not in flat(first)

    chat_server.add(tools(call("notes_write_note", {"text": "hello"})), text("Saved."))
    app = notes_app(chat_server, env={"NOTES_VARIANT": "2"})
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot, app)
        shown = flat(app)
        assert "The MCP server notes changed the description (was: 'Write a note.')" in shown
        assert "now ['overwrite_all', 'text']) of notes_write_note" in shown
        await prompt(pilot, app, "write hello")
        await settle(pilot, app)
        assert isinstance(app.screen, ConfirmModal)  # the rule does not decide the changed tool
        assert "outside address" in flat(app)
        await pilot.press("y")
        await settle(pilot, app)
        assert tool_states(app) == [("notes_write_note", "completed")]


async def test_a_paused_mcp_call_is_resumed_after_a_restart_on_a_fresh_server(chat_server: ChatServer, tmp_path: Path) -> None:
    chat_server.add(tools(call("notes_write_note", {"text": "kept"})))
    first = notes_app(chat_server)
    async with first.run_test(size=WIDE) as pilot:
        await settle(pilot, first)
        await prompt(pilot, first, "write")
        await settle(pilot, first)
        assert isinstance(first.screen, ConfirmModal)
        run_id = first.agent.run_response.run_id
        await pilot.press("escape")  # decide later; then the dashboard (and its server) goes away
    first.store.close()

    chat_server.add(text("Written."))
    go = tmp_path / "go"
    app = notes_app(chat_server, resume_run_id=run_id, env={"NOTES_WAIT_FOR": str(go)})
    async with app.run_test(size=WIDE) as pilot:
        # Decide before the server has started: the run waits for it instead of missing its tool.
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await pilot.pause()
        assert app.mcp.servers.status("notes") == "starting"
        go.touch()
        await settle(pilot, app)
        run = app.agent.get_run(run_id)
        assert run is not None and run.status == "completed"
        assert run.tools[0].result == "saved note 1: kept"  # ran on the server started for this dashboard


def test_the_mcp_flag_adds_a_server_and_a_bad_one_is_refused_with_what_to_write(capsys: pytest.CaptureFixture[str]) -> None:
    launch = launch_for(["--mcp", "time=uvx mcp-server-time --local-timezone UTC", "--mcp", "docs=http://127.0.0.1:8000/mcp"])
    servers = launch.settings.mcp.servers
    assert (servers["time"].command, servers["time"].args) == ("uvx", ["mcp-server-time", "--local-timezone", "UTC"])
    assert servers["docs"].url == "http://127.0.0.1:8000/mcp"
    with pytest.raises(SystemExit) as exit_:
        launch_for(["--mcp", "time"])
    assert exit_.value.code == 2
    assert "write NAME=COMMAND ARGS" in capsys.readouterr().err


def test_the_config_file_and_the_flag_both_add_servers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tui.config import ConfigError, load_settings
    from tui.mcp_config import parse_mcp_flag

    config = tmp_path / "config.toml"
    config.write_text('[mcp.servers.time]\ncommand = "uvx"\nargs = ["mcp-server-time"]\nenv = { TZ = "UTC" }\n'
                      '[mcp.servers.docs]\nurl = "http://127.0.0.1:8000/mcp"\n')
    settings = load_settings(path=config)
    assert settings.mcp.servers["time"].args == ["mcp-server-time"]
    assert settings.mcp.servers["docs"].url == "http://127.0.0.1:8000/mcp"
    name, server = parse_mcp_flag("git=uvx mcp-server-git --repository '/tmp/my repo'")
    assert (name, server.command, server.args) == ("git", "uvx", ["mcp-server-git", "--repository", "/tmp/my repo"])
    config.write_text('[mcp.servers.broken]\nargs = ["x"]\n')
    with pytest.raises(ConfigError, match="give either command"):
        load_settings(path=config)


async def test_a_server_tool_never_replaces_a_tool_of_the_same_name(chat_server: ChatServer) -> None:
    import sys

    from tui.agent import Agent, tool
    from tui.mcp_servers import MCPServers

    @tool
    def notes_add(a: int, b: int) -> int:
        """My own adder."""
        return a - b

    agent = Agent(model=make_model(chat_server), tools=[notes_add])
    config = MCPServerConfig(command=sys.executable, args=[str(NOTES_SERVER)], exclude_tools=["crash"])
    servers = MCPServers({"notes": config}, agent=agent)
    try:
        assert await servers.start_all() == {}
        assert agent.functions["notes_add"] is notes_add
        assert "notes_write_note" in agent.functions
        assert "notes_crash" not in agent.functions  # excluded in the config
        assert "whose name another tool already uses" in servers.summary()
    finally:
        await servers.stop_all()
