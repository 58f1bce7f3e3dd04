"""`hitl-tui demo`: both human-in-the-loop flows in a plain terminal, offline.

It runs the offline DemoModel with the built-in tools. First "Fetch the top 2 hackernews stories"
pauses for a y/n confirmation; then "Send an email with the subject … and the body …" pauses for the
recipient's address, asking again while a value is invalid. `--prompt TEXT` runs one prompt
instead. Answers are read with `input()`, so they can be piped in:

    printf 'y\\nada@example.com\\n' | hitl-tui demo

No textual here. Rich is used only by `pprint_run_response` for the final answer.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable, Iterable

from tui.agent import Agent
from tui.agent.approvals import ApprovalsCore
from tui.agent.decisions import Decision, DecisionError
from tui.agent.events import RunError, RunEvent, ToolCallCompleted, ToolCallStarted
from tui.agent.models.demo import DemoModel
from tui.agent.pprint import describe_outcome, format_call, pprint_run_response
from tui.agent.run import RunOutput, RunStatus, ToolExecution

HN_PROMPT = "Fetch the top 2 hackernews stories"
EMAIL_PROMPT = "Send an email with the subject 'Hello from hitl-tui' and the body 'This came through the human-in-the-loop demo.'"


class EndOfInput(Exception):
    """Standard input ended before every decision was made."""


def make_asker(stream: Any = None) -> Callable[[str], str]:
    """`input()` that raises EndOfInput at EOF and echoes piped answers, so transcripts read well."""
    stream = stream if stream is not None else sys.stdin
    echo = not (hasattr(stream, "isatty") and stream.isatty())

    def ask(prompt: str) -> str:
        try:
            answer = input(prompt)
        except EOFError:
            print()
            raise EndOfInput from None
        if echo:
            print(answer)
        return answer

    return ask


def _print_event(event: RunEvent) -> None:
    if isinstance(event, ToolCallStarted):
        tool = event.tool
        if tool.status == "running":
            print(f"  → running {format_call(tool)}")
        elif tool.status == "pending" and tool.is_gated:
            print(f"  → {format_call(tool)} waits for you")
    elif isinstance(event, ToolCallCompleted):
        print(f"  ← {event.tool.tool_name}: {describe_outcome(event.tool)}")
    elif isinstance(event, RunError):
        print(f"  ! {event.error}")


def _drain(events: Iterable[RunEvent]) -> None:
    for event in events:
        _print_event(event)
    sys.stdout.flush()


def decide_confirmation(core: ApprovalsCore, run: RunOutput, tool: ToolExecution, ask: Callable[[str], str]) -> None:
    print(f"\n{format_call(tool)} needs your confirmation.")
    if tool.description:
        print(f"  {tool.description}")
    while True:
        answer = ask("Run it? [y/n] ").strip().lower()
        if answer in ("y", "yes"):
            core.decide(run.run_id, tool.tool_call_id, Decision("approve"))
            return
        if answer in ("n", "no"):
            reason = ask("Reason for the model (optional, Enter to skip): ").strip()
            core.decide(run.run_id, tool.tool_call_id, Decision("reject", note=reason or None))
            return
        print("Please answer y or n.")


def collect_user_input(core: ApprovalsCore, run: RunOutput, tool: ToolExecution, ask: Callable[[str], str]) -> None:
    """Ask for each user-owned field; ask again for the fields the runtime finds invalid."""
    print(f"\n{format_call(tool)} needs information that only you may give.")
    fields = {f.name: f for f in tool.user_input_schema or [] if f.value is None or f.error}
    values: dict[str, Any] = {}

    def ask_field(name: str) -> None:
        field = fields[name]
        type_name = getattr(field.field_type, "__name__", str(field.field_type))
        if field.description:
            print(f"  {field.name} ({type_name}): {field.description}")
        values[name] = ask(f"{field.name}: ").strip()

    for name in fields:
        ask_field(name)
    while True:
        try:
            core.decide(run.run_id, tool.tool_call_id, Decision("input", values=dict(values)))
            return
        except DecisionError as exc:
            for name, error in exc.field_errors.items():
                print(f"  ✗ {name}: {error}")
            askable = [name for name in exc.field_errors if name in fields]
            if not askable:
                raise
            for name in askable:
                ask_field(name)


def collect_external_result(core: ApprovalsCore, run: RunOutput, tool: ToolExecution, ask: Callable[[str], str]) -> None:
    print(f"\n{format_call(tool)} is yours to run: hitl-tui does not run it.")
    for name, value in tool.tool_args.items():
        print(f"  {name}: {value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}")
    print("Run it, then paste its output and end with a line holding only '.'.")
    lines: list[str] = []
    while True:
        try:
            line = ask("")
        except EndOfInput:
            if not lines:
                raise
            break
        if line.strip() == ".":
            break
        lines.append(line)
    output = "\n".join(lines).strip("\n")
    core.decide(run.run_id, tool.tool_call_id, Decision("result", result=output or "(no output)"))


def decide(core: ApprovalsCore, run: RunOutput, ask: Callable[[str], str]) -> None:
    """Ask for every decision the paused run waits for, in the order the approvals core gives."""
    core.track(run)
    while (item := core.next_item(run.run_id)) is not None:
        _, tool = item
        if tool.awaiting_confirmation:
            if tool.error:  # e.g. edited arguments that did not validate
                print(f"  ✗ {tool.error}")
            decide_confirmation(core, run, tool, ask)
        elif tool.awaiting_user_input:
            collect_user_input(core, run, tool, ask)
        elif tool.awaiting_external_execution:
            collect_external_result(core, run, tool, ask)


def run_prompt(
    agent: Agent, prompt: str, ask: Callable[[str], str], *, markdown: bool = True, core: ApprovalsCore | None = None
) -> RunOutput:
    """Run one prompt to the end, asking on stdin whenever it pauses. Raises EndOfInput at EOF.

    The approvals core (the same one the dashboard renders) says what to ask next and when the
    run may continue.
    """
    core = core or ApprovalsCore(agent)
    print(f"\n> {prompt}")
    _drain(agent.run(prompt, stream=True))
    run = agent.run_response
    assert run is not None
    core.track(run)
    while run.is_paused:
        try:
            decide(core, run, ask)
        finally:
            if run.pending_tools:
                print(f"(end of input: the run stays paused; {len(run.pending_tools)} call(s) are undecided)")
        if not core.may_continue(run):
            break
        # A fresh event loop per step, as in Agno's examples: nothing may stay bound to the old one.
        _drain(agent.continue_run(run, stream=True))
    pprint_run_response(run, markdown=markdown)
    return run


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--prompt", help="run this one prompt instead of the two reference flows")
    parser.add_argument("--delay", type=float, default=None, help="seconds between streamed words (default: demo_delay)")
    parser.add_argument("--no-markdown", action="store_true", help="print the answers as plain text")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hitl-tui demo",
        description="Run hitl-tui's two human-in-the-loop flows (confirmation, user input) offline in this terminal.",
    )
    add_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    return run_demo(build_parser().parse_args(argv))


def run_demo(args: argparse.Namespace) -> int:
    """The demo with parsed arguments (`hitl-tui demo` parses them with the other subcommands)."""
    from tui.config import ConfigError, load_settings
    from tui.toolbox import builtin_tools  # the CLI may use the toolbox; the runtime never does

    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"hitl-tui: {exc}", file=sys.stderr)
        return 2
    delay = settings.demo_delay if args.delay is None else args.delay
    model = DemoModel(delay=max(0.0, delay))
    agent = Agent(model=model, tools=builtin_tools(settings), markdown=True)
    print(f"hitl-tui headless demo: {model.describe()}")
    print(f"  Hacker News API: {settings.hn_base_url}")
    print(f"  email outbox:    {settings.smtp_host or settings.outbox}")
    print(f"  workspace:       {settings.workspace}")

    ask = make_asker()
    prompts = [args.prompt] if args.prompt else [HN_PROMPT, EMAIL_PROMPT]
    status = 0
    for prompt in prompts:
        try:
            run = run_prompt(agent, prompt, ask, markdown=not args.no_markdown)
        except EndOfInput:
            return 1
        except DecisionError as exc:
            print(f"hitl-tui: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("\nInterrupted.")
            return 130
        if run.status != RunStatus.completed:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
