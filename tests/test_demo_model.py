"""DemoModel: offline, deterministic, and it plays the human-in-the-loop flows like a real model."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

import pytest
from local_hn_server import HNServer

from tui.agent import Agent, tool
from tui.agent.events import ContentDelta, RunCompleted
from tui.agent.models import DemoModel
from tui.agent.models.demo import plan
from tui.config import Settings
from tui.toolbox import builtin_tools

ALL = {t.name for t in builtin_tools()}


@pytest.fixture
def hn() -> Iterator[HNServer]:
    with HNServer() as server:
        yield server


@pytest.fixture
def agent(tmp_path: Path, hn: HNServer) -> Agent:
    settings = Settings(hn_base_url=hn.url, workspace=tmp_path / "ws", outbox=tmp_path / "outbox.mbox")
    return Agent(model=DemoModel(delay=0), tools=builtin_tools(settings), markdown=True)


def calls(prompt: str, tools: set[str] = ALL) -> list[list[tuple[str, dict]]]:
    return [[(f.name, f.args) for f in step] for step in plan(prompt, tools)]


def test_it_describes_itself_as_offline() -> None:
    assert DemoModel().describe() == "demo model (offline)"


def test_the_hackernews_reference_prompt() -> None:
    assert calls("Fetch the top 2 hackernews stories") == [[("get_top_hackernews_stories", {"num_stories": 2})]]


def test_the_email_reference_prompt() -> None:
    assert calls("Send an email with the subject 'Hello' and the body 'Hello, world!'") == [
        [("send_email", {"subject": "Hello", "body": "Hello, world!"})]
    ]


@pytest.mark.parametrize(
    "prompt, expected",
    [
        ("Get the top 10 stories on Hacker News", ("get_top_hackernews_stories", {"num_stories": 10})),
        ("show me the top five HN stories", ("get_top_hackernews_stories", {"num_stories": 5})),
        ("What's on hacker news?", ("get_top_hackernews_stories", {"num_stories": 5})),
        ('send an email with the subject "Plans" and the body "I can\'t come, sorry." please',
         ("send_email", {"subject": "Plans", "body": "I can't come, sorry."})),
        ("Write a file named notes/todo.md with 'buy milk'", ("write_file", {"path": "notes/todo.md", "content": "buy milk"})),
        ("Save 'hello' to greeting.txt.", ("write_file", {"path": "greeting.txt", "content": "hello"})),
        ("Read notes.txt", ("read_file", {"path": "notes.txt"})),
        ("what's in todo.md?", ("read_file", {"path": "todo.md"})),
        ("List the files in the workspace", ("list_workspace", {})),
        ("Run the command `uname -a`", ("run_shell_command", {"command": "uname -a"})),
        ('call write_file {"path": "x.txt", "content": "top 5 hackernews stories"}',
         ("write_file", {"path": "x.txt", "content": "top 5 hackernews stories"})),
    ],
)
def test_a_rule_per_built_in_tool(prompt: str, expected: tuple[str, dict]) -> None:
    assert calls(prompt) == [[expected]]


def test_two_requests_in_one_prompt_become_parallel_calls_in_one_turn() -> None:
    assert calls("Fetch the top 3 hackernews stories and write a file named todo.txt with 'read HN'") == [
        [("get_top_hackernews_stories", {"num_stories": 3}), ("write_file", {"path": "todo.txt", "content": "read HN"})]
    ]


def test_then_makes_steps_one_turn_after_the_other() -> None:
    assert calls("Write a file named a.txt with 'now and then' and then read a.txt") == [
        [("write_file", {"path": "a.txt", "content": "now and then"})],
        [("read_file", {"path": "a.txt"})],
    ]


def test_rules_only_use_tools_on_offer() -> None:
    assert calls("Fetch the top 2 hackernews stories", {"send_email"}) == []


async def test_parallel_calls_get_one_decision_each(agent: Agent, hn: HNServer, tmp_path: Path) -> None:
    run = await agent.arun("Fetch the top 2 hackernews stories and write a file named todo.txt with 'read HN'")
    assert run.is_paused
    fetch, write = run.tools
    assert fetch.turn == write.turn and fetch.awaiting_confirmation and write.awaiting_confirmation
    fetch.confirm()
    write.reject("not that file")
    run = await agent.acontinue_run(run)
    assert run.status == "completed"
    assert "A tiny SQLite trick" in run.content
    assert "you declined `write_file`" in run.content and "“not that file”" in run.content
    assert not (tmp_path / "ws" / "todo.txt").exists()


async def test_a_rejection_is_acknowledged_with_its_reason(agent: Agent) -> None:
    run = await agent.arun("Fetch the top 2 hackernews stories")
    run.tools[0].reject("I only read HN on Sundays")
    run = await agent.acontinue_run(run)
    assert run.content == (
        "Understood: you declined `get_top_hackernews_stories`, so I did not run it. "
        "Your reason: “I only read HN on Sundays”.\n\nWhat would you like me to do instead?"
    )


async def test_a_rejection_without_a_reason_is_acknowledged_too(agent: Agent) -> None:
    run = await agent.arun("Fetch the top 2 hackernews stories")
    run.tools[0].confirmed = False
    run = await agent.acontinue_run(run)
    assert run.content.startswith("Understood: you declined `get_top_hackernews_stories`, so I did not run it.")
    assert "Your reason" not in run.content


async def test_a_rejected_first_step_stops_the_later_ones(agent: Agent) -> None:
    run = await agent.arun("Write a file named a.txt with 'x' then read a.txt")
    run.tools[0].reject()
    run = await agent.acontinue_run(run)
    assert [t.tool_name for t in run.tools] == ["write_file"]
    assert "I stopped there" in run.content


async def test_steps_run_in_order_and_are_all_summarised(agent: Agent) -> None:
    run = await agent.arun("Write a file named a.txt with 'hello there' and then read a.txt")
    run.tools[0].confirm()
    run = await agent.acontinue_run(run)
    assert run.status == "completed"
    assert [t.tool_name for t in run.tools] == ["write_file", "read_file"]
    assert run.tools[1].turn == run.tools[0].turn + 1
    assert "Created a.txt" in run.content and "```\nhello there\n```" in run.content


async def test_tool_errors_are_reported_plainly() -> None:
    from local_hn_server import closed_port_url

    url = closed_port_url()
    agent = Agent(model=DemoModel(delay=0), tools=builtin_tools(Settings(hn_base_url=url)))
    run = await agent.arun("Fetch the top 2 hackernews stories")
    run.tools[0].confirm()
    run = await agent.acontinue_run(run)
    assert run.content == (
        f"`get_top_hackernews_stories` failed: Could not reach Hacker News at {url}: connection refused. "
        "Check your connection or set HITL_TUI_HN_BASE_URL."
    )


async def test_an_out_of_range_request_is_refused_before_anyone_is_asked(agent: Agent, hn: HNServer) -> None:
    run = await agent.arun("Fetch the top 50 hackernews stories")
    assert run.status == "completed" and hn.requests == []
    assert "`get_top_hackernews_stories` failed" in run.content and "less than or equal to 30" in run.content


async def test_edited_arguments_are_acknowledged(agent: Agent) -> None:
    run = await agent.arun("Fetch the top 3 hackernews stories")
    run.tools[0].confirm(args={"num_stories": 1})
    run = await agent.acontinue_run(run)
    assert run.content.startswith('You edited the call; it ran with `{"num_stories": 1}`.')
    assert "Here is the top story on Hacker News:" in run.content


async def test_the_external_tool_summarises_what_the_user_pasted(agent: Agent) -> None:
    run = await agent.arun("Run the command 'uname -a'")
    assert run.tools_awaiting_external_execution
    run.tools[0].set_result("Linux box 6.1.0")
    run = await agent.acontinue_run(run)
    assert "You ran `uname -a`" in run.content and "Linux box 6.1.0" in run.content


async def test_anything_else_gets_a_guide_to_the_tools_on_offer() -> None:
    @tool
    def shout(text: str) -> str:
        """Shout."""
        return text.upper()

    agent = Agent(model=DemoModel(delay=0), tools=[shout, builtin_tools()[1]])
    run = await agent.arun("hello, what can you do?")
    assert run.status == "completed" and not run.tools
    assert "Send an email with the subject 'Hello'" in run.content
    assert "hackernews" not in run.content
    assert "call <tool> {json arguments}" in run.content and "send_email, shout" in run.content

    bare = await Agent(model=DemoModel(delay=0), tools=[]).arun("hi")
    assert "no tools are loaded" in bare.content


async def test_it_streams_word_by_word_with_the_configured_delay() -> None:
    agent = Agent(model=DemoModel(delay=0.01), tools=[])
    started = time.monotonic()
    deltas = []
    async for event in agent.arun("hi", stream=True):
        if isinstance(event, ContentDelta):
            deltas.append(event.text)
        elif isinstance(event, RunCompleted):
            final = event.run.content
    assert len(deltas) > 10 and "".join(deltas) == final
    assert time.monotonic() - started >= 0.01 * len(deltas) * 0.9


async def test_it_is_deterministic(agent: Agent) -> None:
    first = await agent.arun("hi")
    second = await agent.arun("hi")
    assert first.content == second.content
