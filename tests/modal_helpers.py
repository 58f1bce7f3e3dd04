"""Real tools, real paused calls and a tiny host app for the decision-modal tests.

The tool calls the modals decide on are made by the runtime itself: an `Agent` with the offline
`DemoModel` is asked to `call TOOL {json}`, and the run pauses on that call.
"""

from __future__ import annotations

import enum
import html
import json
import re
from typing import Any, Literal

from textual.app import App
from textual.screen import Screen

from tui.agent import Agent, ToolExecution, tool
from tui.agent.decisions import Decision
from tui.agent.models import DemoModel


@tool(requires_confirmation=True)
def send_email(to: str, subject: str, body: str, copies: int = 1) -> str:
    """Send an email from your account.

    Args:
        to: The recipient's address.
        subject: The subject line.
        body: The message.
        copies: How many copies to send.
    """
    return f"sent {copies} email(s) to {to}"


class Colour(enum.Enum):
    red = "red"
    green = "green"
    blue = "blue"


@tool(requires_user_input=True, user_input_fields=["to", "copies", "urgent", "priority", "colour"])
def send_letter(
    subject: str,
    to: str,
    copies: int,
    urgent: bool = False,
    priority: Literal["low", "normal", "high"] = "normal",
    colour: Colour = Colour.blue,
) -> str:
    """Post a letter.

    Args:
        subject: What the letter is about.
        to: The recipient's postal address.
        copies: How many copies to print.
        urgent: Send it by express post.
        priority: How soon it must arrive.
        colour: The envelope's colour.
    """
    return f"posted {copies} letter(s) to {to}"


@tool(external_execution=True)
def run_shell_command(command: str) -> str:
    """Run a shell command on your own machine and report what it printed.

    Args:
        command: The command line to run.
    """
    return ""


def make_agent(**kwargs: Any) -> Agent:
    return Agent(model=DemoModel(delay=0), tools=[send_email, send_letter, run_shell_command], **kwargs)


async def paused_call(agent: Agent, name: str, args: dict[str, Any]) -> ToolExecution:
    """Have the model propose `name(**args)` and return the call the run paused on."""
    run = await agent.arun(f"call {name} {json.dumps(args)}")
    assert run.is_paused, run.error
    (pending,) = run.pending_tools
    return pending


def paused_call_now(agent: Agent, name: str, args: dict[str, Any]) -> ToolExecution:
    """`paused_call` for synchronous tests (the snapshot plugin runs its own event loop)."""
    run = agent.run(f"call {name} {json.dumps(args)}")
    assert run.is_paused, run.error
    (pending,) = run.pending_tools
    return pending


class DecisionApp(App[None]):
    """Pushes one modal on mount and keeps what it was dismissed with."""

    def __init__(self, modal: Screen[Any]) -> None:
        super().__init__()
        self.modal = modal
        self.decisions: list[Decision] = []

    def on_mount(self) -> None:
        self.push_screen(self.modal, self.decisions.append)

    @property
    def decision(self) -> Decision | None:
        return self.decisions[-1] if self.decisions else None


def screen_text(app: App[Any]) -> str:
    """What the terminal shows, as plain text lines (from the app's own SVG screenshot)."""
    svg = app.export_screenshot()
    rows: dict[float, list[tuple[float, str]]] = {}
    for m in re.finditer(r'<text[^>]*?x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', svg):
        text = html.unescape(re.sub(r"<[^>]+>", "", m.group(3))).replace("\xa0", " ")
        rows.setdefault(float(m.group(2)), []).append((float(m.group(1)), text))
    return "\n".join("".join(t for _, t in sorted(parts)) for _, parts in sorted(rows.items()))


# ----------------------------------------------------------------------------- history


def seed_history(store: Any) -> dict[str, str]:
    """Run a real agent a few times into `store`; returns the run ids by what happened to them.

    paused: a confirmation still waiting; rejected: rejected with a note; edited: approved with
    edited arguments; input: a user-input call completed; chat: no tool at all.
    """
    agent = make_agent(store=store)
    ids: dict[str, str] = {}
    run = agent.run("call send_email " + json.dumps({"to": "ann@example.com", "subject": "Report", "body": "Q3"}))
    ids["paused"] = run.run_id
    run = agent.run("call send_email " + json.dumps({"to": "bob@example.com", "subject": "Spam", "body": "Buy"}))
    run.tools[0].reject("not to Bob")
    agent.continue_run(run)
    ids["rejected"] = run.run_id
    run = agent.run("call send_email " + json.dumps({"to": "cy@example.com", "subject": "Hi", "body": "Hello"}))
    run.tools[0].confirm(args={"to": "dee@example.com", "subject": "Hi", "body": "Hello", "copies": 2})
    agent.continue_run(run)
    ids["edited"] = run.run_id
    run = agent.run("call send_letter " + json.dumps({"subject": "Invoice"}))
    run.tools[0].provide_user_input(
        {"to": "1 Main St", "copies": 1, "urgent": False, "priority": "high", "colour": "red"}
    )
    agent.continue_run(run)
    ids["input"] = run.run_id
    run = agent.run("hello there, what can you do?")
    ids["chat"] = run.run_id
    for key in ("rejected", "edited", "input", "chat"):
        assert store.load_run(ids[key]).status == "completed", key
    return ids
