"""Declining works for every kind of gated call: the model is told, nothing runs.

Over real HTTP (the chat server, JSON and SSE), with the Agno-style API a program would use:
`tool.reject(note)`, or `confirmed = False` set directly.
"""

from __future__ import annotations

import pytest
from chatserver import assert_valid_tool_history, call, text, tools

from tui.agent import Agent, RunStatus, tool


class Desk:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.ran: list[str] = []

        @tool(requires_user_input=True, user_input_fields=["to"])
        def send_letter(subject: str, to: str) -> str:
            """Post a letter.

            Args:
                subject: What it is about.
                to: The recipient.
            """
            self.sent.append(to)
            return f"posted to {to}"

        @tool(external_execution=True)
        def run_shell_command(command: str) -> str:
            """Run a command.

            Args:
                command: The command.
            """
            self.ran.append(command)
            return "ran"

        self.tools = [send_letter, run_shell_command]


def _result(server, call_id: str) -> str:
    (content,) = [m["content"] for m in server.tool_messages(-1) if m["tool_call_id"] == call_id]
    return content


async def test_a_declined_user_input_call_never_runs_and_the_model_hears_the_reason(chat_server, model_for):
    desk = Desk()
    chat_server.add(tools(call("send_letter", {"subject": "Invoice"}, id="call_l")), text("Fine, no letter."))
    agent = Agent(model=model_for(), tools=desk.tools)
    run = await agent.arun("Post the invoice")
    (pending,) = run.tools_requiring_user_input
    pending.reject("I will post it myself")
    assert run.pending_tools == []  # declined: nothing left to fill in
    run = await agent.acontinue_run(run)
    assert run.status == RunStatus.completed and run.content == "Fine, no letter."
    assert desk.sent == []
    assert pending.status == "rejected"
    message = _result(chat_server, "call_l")
    assert "declined" in message and "I will post it myself" in message
    assert_valid_tool_history(chat_server.last_messages)


async def test_an_external_call_declined_by_setting_confirmed_false_is_not_run(chat_server, model_for):
    desk = Desk()
    chat_server.add(tools(call("run_shell_command", {"command": "rm -rf /"}, id="call_x")), text("Understood."))
    agent = Agent(model=model_for(), tools=desk.tools)
    run = await agent.arun("Run the command 'rm -rf /'")
    (pending,) = run.tools_awaiting_external_execution
    pending.confirmed = False  # as an Agno program would
    run = await agent.acontinue_run(run)
    assert run.status == RunStatus.completed
    assert desk.ran == [] and pending.result is not None and "declined" in pending.result
    assert "declined" in _result(chat_server, "call_x")


def test_requires_user_input_with_nothing_left_for_the_user_is_refused_by_the_decorator():
    with pytest.raises(ValueError, match="no parameter for the user"):

        @tool(requires_user_input=True)
        def ping() -> str:
            """Ping."""
            return "pong"
