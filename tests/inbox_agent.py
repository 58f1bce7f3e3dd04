"""A headless agent process for the inbox tests (run with `sys.executable`): it pauses and waits.

    python tests/inbox_agent.py DB PROMPT [--base-url URL] [--timeout S] [--effects FILE]

It runs PROMPT (offline DemoModel, or the chat server at --base-url), prints `PAUSED <run_id>`,
waits with `agent.wait_for_decisions(run)` for someone else to decide (the CLI, a dashboard),
prints `DECIDED <run_id>`, continues the run and prints `DONE <status>` with the tool messages.
Each tool execution appends one line to --effects, so a test can count executions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

from tui.agent import Agent, tool
from tui.agent.models import DemoModel
from tui.agent.waiting import DecisionTimeout
from tui.store import RunStore


def _effect(line: str) -> None:
    path = os.environ.get("INBOX_EFFECTS")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")


@tool(requires_confirmation=True)
def publish_post(title: str) -> str:
    """Publish a blog post.

    Args:
        title: The post's title.
    """
    _effect(f"publish_post {title} pid={os.getpid()}")
    return f"published {title!r}"


@tool(user_input_fields=["copies"])
def print_report(name: str, copies: int) -> str:
    """Print a report; the user says how many copies.

    Args:
        name: The report.
        copies: How many copies to print.
    """
    _effect(f"print_report {name} x{copies}")
    return f"printed {copies} copies of {name}"


@tool(external_execution=True)
def run_on_my_machine(command: str) -> str:
    """A command the user runs and reports on.

    Args:
        command: The shell command.
    """
    raise AssertionError("an external tool is never run by hitl-tui")


TOOLS = [publish_post, print_report, run_on_my_machine]


def marker(*parts: str) -> None:
    print(" ".join(parts), flush=True)


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("prompt")
    parser.add_argument("--base-url")
    parser.add_argument("--timeout", type=float)
    parser.add_argument("--effects")
    parser.add_argument("--name", default="inbox-test-agent")
    args = parser.parse_args()
    if args.effects:
        os.environ["INBOX_EFFECTS"] = args.effects
    if args.base_url:
        from tui.agent.models import OpenAIChat

        model = OpenAIChat(id="test-model", base_url=args.base_url, api_key="test", max_retries=0, stream=False)
    else:
        model = DemoModel(delay=0)
    agent = Agent(model=model, tools=TOOLS, store=RunStore(Path(args.db)), name=args.name)
    run = await agent.arun(args.prompt)
    while run.is_paused:
        marker("PAUSED", run.run_id)
        try:
            await agent.wait_for_decisions(run, timeout=args.timeout)
        except DecisionTimeout as exc:
            marker("TIMEOUT", str(exc))
            return 3
        marker("DECIDED", run.run_id)
        run = await agent.acontinue_run(run)
    tool_messages = [m.content for m in run.messages if m.role == "tool"]
    marker("DONE", str(run.status), json.dumps(tool_messages))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
