"""`hitl-tui demo` (`python -m tui demo`) end to end in a subprocess, answers piped on stdin; and pprint_run_response."""

from __future__ import annotations

import io
import mailbox
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
from local_hn_server import HNServer, closed_port_url

from tui.agent import Agent
from tui.agent.models import DemoModel
from tui.agent.pprint import pprint_run_response
from tui.config import Settings
from tui.toolbox import builtin_tools


@pytest.fixture
def hn() -> Iterator[HNServer]:
    with HNServer() as server:
        yield server


def run_demo(tmp_path: Path, answers: str, *args: str, hn_url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update(
        HITL_TUI_HN_BASE_URL=hn_url or closed_port_url(),
        HITL_TUI_OUTBOX=str(tmp_path / "outbox.mbox"),
        HITL_TUI_WORKSPACE=str(tmp_path / "workspace"),
        HITL_TUI_CONFIG=str(tmp_path / "no-config.toml"),
        HITL_TUI_DEMO_DELAY="0",
        COLUMNS="200",  # rich wraps at 80 columns otherwise
        PYTHONIOENCODING="utf-8",
    )
    return subprocess.run(
        [sys.executable, "-m", "tui", "demo", *args],
        input=answers,
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        encoding="utf-8",
    )


def outbox(tmp_path: Path) -> list[mailbox.mboxMessage]:
    path = tmp_path / "outbox.mbox"
    if not path.exists():
        return []
    box = mailbox.mbox(str(path))
    try:
        return list(box)
    finally:
        box.close()


def test_both_flows_run_end_to_end_with_piped_answers(tmp_path: Path, hn: HNServer) -> None:
    # y: approve the fetch; an empty address is refused per field and asked again; then a real one.
    done = run_demo(tmp_path, "y\n\nada@example.com\n", hn_url=hn.url)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "get_top_hackernews_stories(num_stories=2) needs your confirmation." in out
    assert "[A tiny SQLite trick](https://example.com/sqlite)" not in out  # rendered as Markdown, not raw
    assert "A tiny SQLite trick" in out and "Ask HN: How do you review agent tool calls?" in out
    assert "✗ to_address: a value is required" in out
    assert out.count("to_address (str): The recipient's email address") == 2
    assert "Sent email to ada@example.com" in out
    assert hn.requests[0] == "/v0/topstories.json"
    [msg] = outbox(tmp_path)
    assert msg["To"] == "ada@example.com" and msg["Subject"] == "Hello from hitl-tui"


def test_offline_the_fetch_fails_clearly_and_the_demo_goes_on(tmp_path: Path) -> None:
    done = run_demo(tmp_path, "y\nada@example.com\n")
    assert done.returncode == 0, done.stderr
    assert "Could not reach Hacker News at http://127.0.0.1:" in done.stdout
    assert "Check your connection or set HITL_TUI_HN_BASE_URL." in done.stdout
    assert len(outbox(tmp_path)) == 1


def test_declining_with_a_reason_is_acknowledged(tmp_path: Path, hn: HNServer) -> None:
    done = run_demo(tmp_path, "maybe\nn\nnot on a weekday\ngrace@example.org\n", hn_url=hn.url)
    assert done.returncode == 0, done.stderr
    assert "Please answer y or n." in done.stdout
    assert "you declined get_top_hackernews_stories" in done.stdout
    assert "Your reason: “not on a weekday”." in done.stdout
    assert hn.requests == []


def test_when_input_ends_the_run_stays_paused_and_the_exit_code_says_so(tmp_path: Path) -> None:
    done = run_demo(tmp_path, "")
    assert done.returncode == 1
    assert "the run stays paused; 1 call(s) are undecided" in done.stdout
    assert outbox(tmp_path) == []


def test_a_single_prompt_with_parallel_calls(tmp_path: Path, hn: HNServer) -> None:
    prompt = "Fetch the top 1 hackernews stories and write a file named todo.txt with 'read HN'"
    done = run_demo(tmp_path, "y\nn\n\n", "--prompt", prompt, "--no-markdown", hn_url=hn.url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("needs your confirmation.") == 2
    assert "Here is the top story on Hacker News:" in done.stdout
    assert "you declined `write_file`" in done.stdout
    assert not (tmp_path / "workspace" / "todo.txt").exists()


def test_an_external_tool_takes_the_pasted_output(tmp_path: Path) -> None:
    done = run_demo(tmp_path, "Linux box 6.1\nsecond line\n.\n", "--prompt", "Run the command 'uname -a'")
    assert done.returncode == 0, done.stderr
    assert "is yours to run: hitl-tui does not run it." in done.stdout
    assert "Linux box 6.1" in done.stdout and "second line" in done.stdout


def test_the_demo_and_pprint_import_neither_textual_nor_rich_up_front() -> None:
    code = (
        "import sys, tui.cli.demo, tui.agent.pprint, tui.toolbox; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr


# ----------------------------------------------------------------------------- pprint


def printed(run, **kwargs) -> str:
    from rich.console import Console

    buffer = io.StringIO()
    pprint_run_response(run, console=Console(file=buffer, width=200, color_system=None), **kwargs)
    return buffer.getvalue()


async def test_pprint_shows_the_answer_and_each_call_with_its_decision(tmp_path: Path, hn: HNServer) -> None:
    agent = Agent(model=DemoModel(delay=0), tools=builtin_tools(Settings(hn_base_url=hn.url, workspace=tmp_path)))
    run = await agent.arun("Fetch the top 2 hackernews stories and write a file named a.txt with 'x'")
    text = printed(run)
    assert "Paused: 2 call(s) wait for you." in text
    assert "get_top_hackernews_stories(num_stories=2) — waiting for confirmation" in text

    run.tools[0].confirm()
    run.tools[1].reject("no files today")
    run = await agent.acontinue_run(run)
    text = printed(run)
    assert "✓ get_top_hackernews_stories(num_stories=2) — done (approved by user)" in text
    assert '✗ write_file(path="a.txt", content="x") — declined by user: no files today' in text
    assert "Response" in text and "A tiny SQLite trick" in text
    assert "[A tiny SQLite trick]" not in text  # Markdown links are rendered

    assert "[A tiny SQLite trick](https://example.com/sqlite)" in printed(run, markdown=False)
    assert "Tool calls" not in printed(run, show_tools=False)


async def test_pprint_shows_errors_and_never_passes_escape_codes_through() -> None:
    from tui.agent import RunOutput, RunStatus

    run = RunOutput(status=RunStatus.error, error="boom \x1b[31mred\x1b[0m")
    text = printed(run)
    assert "Error" in text and "boom ␛[31mred␛[0m" in text and "\x1b" not in text


def test_pprint_accepts_a_stream_of_events(tmp_path: Path) -> None:
    agent = Agent(model=DemoModel(delay=0), tools=[])
    assert "demo model" in printed(agent.run("hi", stream=True))
