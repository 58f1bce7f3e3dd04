"""A small agent process for the store's durability tests (run with `sys.executable`).

    python tests/durability_agent.py DB STAGE [--count N --tag T --go FILE]

It runs the offline DemoModel against a RunStore on DB and prints one marker line per stage
(`PAUSED <run_id>`, `DECIDED <run_id>`, `STREAMING <run_id>`, `TOOL_RUNNING <run_id>`), then waits
to be killed. Stage `many` prints `READY`, waits until the file named by --go exists (so that
several processes start writing together), runs N complete runs as fast as it can and prints
`DONE <N>`.

The tests import the tools and `make_agent` from here too, so the killed process and the process
that finishes its runs share exactly the same tool definitions.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from tui.agent import Agent, Policy, tool
from tui.agent.events import ContentDelta
from tui.agent.models import DemoModel
from tui.store import RunStore, open_store

_current_run: dict[str, str] = {}


@tool(requires_confirmation=True)
def publish_post(title: str) -> str:
    """Publish a blog post.

    Args:
        title: The post's title.
    """
    return f"published {title!r}"


@tool(requires_confirmation=True)
async def slow_job(seconds: float) -> str:
    """A long job that must be confirmed first.

    Args:
        seconds: How long the job takes.
    """
    marker("TOOL_RUNNING", _current_run.get("id", ""))
    await asyncio.sleep(seconds)
    return "job done"


@tool(user_input_fields=["to"])
def send_message(body: str, to: str) -> str:
    """Send a message to someone the user names.

    Args:
        body: The text of the message.
        to: Who receives it.
    """
    return f"sent {body!r} to {to}"


TOOLS = [publish_post, slow_job, send_message]
PUBLISH = 'call publish_post {"title": "Hello"}'
SLOW = 'call slow_job {"seconds": 120}'


def make_agent(store: RunStore, *, delay: float = 0.0, policy: Policy | None = None) -> Agent:
    return Agent(model=DemoModel(delay=delay), tools=TOOLS, store=store, policy=policy)


def marker(name: str, run_id: str = "") -> None:
    print(f"{name} {run_id}".rstrip(), flush=True)


async def _wait_to_be_killed() -> None:
    await asyncio.sleep(600)
    marker("NOT_KILLED")
    sys.exit(3)


async def _paused(db: str) -> None:
    agent = make_agent(open_store(db))
    run = await agent.arun(PUBLISH)
    assert run.is_paused, run.status
    marker("PAUSED", run.run_id)
    await _wait_to_be_killed()


async def _decided(db: str) -> None:
    agent = make_agent(open_store(db))
    run = await agent.arun(PUBLISH)
    run.tools[0].confirm()
    agent.save_decisions(run)
    marker("DECIDED", run.run_id)
    await _wait_to_be_killed()


async def _streaming(db: str) -> None:
    agent = make_agent(open_store(db))
    run = await agent.arun(PUBLISH)
    run.tools[0].confirm()
    agent.model.delay = 0.5  # type: ignore[attr-defined]  # the summary streams slowly: kill it mid-way
    seen = False
    async for event in agent.acontinue_run(run, stream=True):
        if isinstance(event, ContentDelta) and not seen:
            seen = True
            marker("STREAMING", run.run_id)
    marker("NOT_KILLED")
    sys.exit(3)


async def _mid_tool(db: str) -> None:
    agent = make_agent(open_store(db))
    run = await agent.arun(SLOW)
    _current_run["id"] = run.run_id
    run.tools[0].confirm()
    await agent.acontinue_run(run)  # slow_job prints TOOL_RUNNING and sleeps until killed
    marker("NOT_KILLED")
    sys.exit(3)


async def _many(db: str, count: int, tag: str, go: Path | None) -> None:
    store = open_store(db)
    policy = Policy()
    policy.allow_for_session("publish_post")
    agent = make_agent(store, policy=policy)
    marker("READY")
    deadline = time.monotonic() + 60
    while go is not None and not go.exists():  # every writer begins together
        if time.monotonic() > deadline:
            sys.exit(4)
        await asyncio.sleep(0.002)
    for i in range(count):
        agent.new_session()  # one run per session: each run's context stays one prompt long
        run = await agent.arun(f'call publish_post {{"title": "{tag}-{i}"}}')
        if run.status.value != "completed":
            marker("FAILED", f"{run.run_id} {run.status} {run.error}")
            sys.exit(1)
        if i == 0 and go is not None:
            # A second barrier: nobody goes on until every writer has finished its first run, so
            # the writes really interleave (a fast writer could otherwise finish before the other
            # process is even scheduled).
            go.with_name(f"{go.name}.{tag}").touch()
            while len(list(go.parent.glob(f"{go.name}.*"))) < 2:
                if time.monotonic() > deadline:
                    sys.exit(4)
                await asyncio.sleep(0.002)
    marker("DONE", str(count))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("db", help="a SQLite file or a postgresql:// URL")
    parser.add_argument("stage", choices=["paused", "decided", "streaming", "mid_tool", "many"])
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--tag", default="p")
    parser.add_argument("--go", type=Path, default=None)
    args = parser.parse_args(argv)
    stages: dict[str, Any] = {
        "paused": lambda: _paused(args.db),
        "decided": lambda: _decided(args.db),
        "streaming": lambda: _streaming(args.db),
        "mid_tool": lambda: _mid_tool(args.db),
        "many": lambda: _many(args.db, args.count, args.tag, args.go),
    }
    asyncio.run(stages[args.stage]())


if __name__ == "__main__":
    main()
