"""Programs that drive the agent from more than one event loop, or from synchronous code.

The Agno examples call `asyncio.run(agent.arun(...))` and later a second, separate
`asyncio.run(agent.acontinue_run(...))`. That must work, and must not leave HTTP connections open
on a closed loop (they leak, warn "unclosed transport", or print "Event loop is closed"
tracebacks when the client is collected while another loop runs).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from chatserver import call, text, tools

from tui.agent import Agent, RunStatus, tool
from tui.agent.events import RunCompleted, RunContinued, RunPaused, RunStarted, ToolCallCompleted
from tui.agent.models import OpenAIChat

REPO = Path(__file__).resolve().parents[1]


def make_tools(log: list[tuple[str, int]]):
    @tool(requires_confirmation=True)
    def book_table(restaurant: str, people: int) -> str:
        """Book a table.

        Args:
            restaurant: Where.
            people: How many people.
        """
        log.append((restaurant, people))
        return f"booked {restaurant} for {people}"

    return [book_table]


def test_continuing_on_a_second_event_loop_works(chat_server, model_for):
    log: list[tuple[str, int]] = []
    chat_server.add(tools(call("book_table", {"restaurant": "Noma", "people": 2})), text("Booked."))
    agent = Agent(model=model_for(), tools=make_tools(log))

    run = asyncio.run(agent.arun("Book Noma for two"))
    assert agent.is_paused and agent.run_response is run
    for t in run.tools_requiring_confirmation:
        t.confirmed = True

    run = asyncio.run(agent.acontinue_run(run_response=run))

    assert run.status == RunStatus.completed and run.content == "Booked."
    assert log == [("Noma", 2)]
    assert not agent.is_paused


def test_no_api_key_is_needed_when_openai_base_url_points_at_a_local_server(chat_server, monkeypatch, mode):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", chat_server.url)
    log: list[tuple[str, int]] = []
    chat_server.add(tools(call("book_table", {"restaurant": "Noma", "people": 2})), text("Booked."))
    agent = Agent(model=OpenAIChat(id="local-model", max_retries=0, timeout=5, stream=(mode == "sse")), tools=make_tools(log))

    asyncio.run(agent.arun("Book Noma for two"))
    assert agent.is_paused, agent.run_response.error
    agent.run_response.tools[0].confirm()
    run = asyncio.run(agent.acontinue_run())  # no argument: the agent's latest run

    assert run.status == RunStatus.completed, run.error
    assert log == [("Noma", 2)]
    assert [r["model"] for r in chat_server.requests] == ["local-model", "local-model"]


def test_sync_run_and_continue_run_work_like_their_async_twins(chat_server, model_for):
    log: list[tuple[str, int]] = []
    chat_server.add(tools(call("book_table", {"restaurant": "Noma", "people": 2})), text("Booked."))
    agent = Agent(model=model_for(), tools=make_tools(log))

    run = agent.run("Book Noma for two")
    assert run.is_paused and log == []
    run.tools[0].confirm()
    run = agent.continue_run(run)

    assert run.status == RunStatus.completed and run.content == "Booked."
    assert log == [("Noma", 2)]


def test_sync_streaming_run_and_continue_yield_the_events(chat_server, model_for):
    log: list[tuple[str, int]] = []
    chat_server.add(tools(call("book_table", {"restaurant": "Noma", "people": 2})), text("Booked."))
    agent = Agent(model=model_for(), tools=make_tools(log))

    first = list(agent.run("Book Noma for two", stream=True))
    assert isinstance(first[0], RunStarted) and isinstance(first[-1], RunPaused)
    first[-1].tools[0].confirm()
    second = list(agent.continue_run(stream=True))

    assert isinstance(second[0], RunContinued) and isinstance(second[-1], RunCompleted)
    assert any(isinstance(e, ToolCallCompleted) and e.tool.status == "completed" for e in second)
    assert log == [("Noma", 2)]


SCRIPT = """
import asyncio, gc
from tui.agent import Agent, tool
from tui.agent.models import OpenAIChat

@tool(requires_confirmation=True)
def book_table(restaurant: str) -> str:
    "Book a table."
    return "booked " + restaurant

agent = Agent(model=OpenAIChat(id="m", max_retries=0, timeout=5, stream={stream}), tools=[book_table])
run = asyncio.run(agent.arun("Book Noma"))
run.tools[0].confirmed = True
run = asyncio.run(agent.acontinue_run(run_response=run))

async def later():
    gc.collect()
    await asyncio.sleep(0.05)

asyncio.run(later())
print(run.status, run.content)
"""


def test_two_asyncio_runs_leave_no_open_connections_or_tracebacks_behind(chat_server, mode):
    chat_server.add(tools(call("book_table", {"restaurant": "Noma"})), text("Booked."))
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    env["OPENAI_BASE_URL"] = chat_server.url
    env["PYTHONWARNINGS"] = "default"

    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT.format(stream=mode == "sse"))],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=30,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "completed Booked."
    assert "Event loop is closed" not in done.stderr
    assert "unclosed" not in done.stderr, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
