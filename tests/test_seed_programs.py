"""The two Agno example programs run on hitl-tui's runtime with only their import lines changed.

The programs live outside the repository (`<repo>/../shared/seeds/*.txt`, one ```python block
each) and are not copied here: the test reads them at run time, points their imports at
`tui.agent`, and runs each in a subprocess against the local chat server (`OPENAI_BASE_URL`, no
`OPENAI_API_KEY`), typing the answers on standard input as a person would.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from chatserver import ChatServer, call, closed_port, text, tools

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO.parent / "shared" / "seeds"

IMPORTS = [  # most specific first
    ("agno.tools.function", "tui.agent"),
    ("agno.models.openai", "tui.agent.models"),
    ("agno.agent", "tui.agent"),
    ("agno.tools", "tui.agent"),
    ("agno.utils", "tui.agent"),
]


def seed_program(marker: str) -> str:
    """The python block of the seed whose code contains `marker`, with its imports rewritten."""
    if not SEEDS.is_dir():
        pytest.skip(f"no seed programs at {SEEDS}")
    for path in sorted(SEEDS.glob("*.txt")):
        m = re.search(r"```python[^\n]*\n(.*?)```", path.read_text(encoding="utf-8"), re.S)
        if m and marker in m.group(1):
            return rewrite_imports(m.group(1))
    pytest.skip(f"no seed program uses {marker}")


def rewrite_imports(code: str) -> str:
    lines = []
    for line in code.splitlines():
        if re.match(r"\s*(from|import)\s+agno\b", line):
            for old, new in IMPORTS:
                line, n = re.subn(rf"\b{re.escape(old)}\b", new, line, count=1)
                if n:
                    break
        lines.append(line)
    out = "\n".join(lines) + "\n"
    assert "agno" not in out, "an Agno import was left unrewritten"
    return out


def run_program(code: str, server: ChatServer, answers: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    program = tmp_path / "program.py"
    program.write_text(code, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    env["OPENAI_BASE_URL"] = server.url
    # The network is out of reach whatever machine runs this: any outside request goes to a
    # proxy that is not there (the local chat server is exempt).
    dead = f"http://127.0.0.1:{closed_port()}"
    env.update(HTTP_PROXY=dead, HTTPS_PROXY=dead, ALL_PROXY=dead, NO_PROXY="127.0.0.1,localhost")
    env["COLUMNS"] = "120"
    return subprocess.run(
        [sys.executable, str(program)], input=answers, capture_output=True, text=True,
        env=env, cwd=tmp_path, timeout=60,
    )


def hn_server() -> ChatServer:
    return ChatServer(
        [
            tools(call("get_top_hackernews_stories", {"num_stories": 2}, id="call_hn")),
            text("I could not reach Hacker News just now."),
        ]
    ).start()


def test_the_confirmation_program_runs_the_tool_when_the_user_types_y(tmp_path):
    code = seed_program("requires_confirmation=True")
    server = hn_server()
    try:
        done = run_program(code, server, "y\n", tmp_path)
    finally:
        server.stop()

    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert len(server.requests) == 2 and not server.unexpected
    # The tool ran, could not reach Hacker News (offline), and the model heard why.
    [result] = server.tool_messages()
    assert result["tool_call_id"] == "call_hn"
    assert result["content"].startswith("Error: the tool get_top_hackernews_stories raised")
    assert "requires confirmation" in done.stdout
    assert "I could not reach Hacker News just now." in done.stdout


def test_the_confirmation_program_does_not_run_the_tool_when_the_user_types_n(tmp_path):
    code = seed_program("requires_confirmation=True")
    server = hn_server()
    try:
        done = run_program(code, server, "n\n", tmp_path)
    finally:
        server.stop()

    assert done.returncode == 0, done.stderr
    assert len(server.requests) == 2 and not server.unexpected
    [result] = server.tool_messages()
    assert "declined" in result["content"]
    assert "raised" not in result["content"], "a declined tool never runs"
    assert "I could not reach Hacker News just now." in done.stdout


def test_the_user_input_program_sends_the_typed_address_to_the_tool(tmp_path):
    code = seed_program("user_input_fields")
    server = ChatServer(
        [
            tools(call("send_email", {"subject": "Hello", "body": "Hello, world!"}, id="call_mail")),
            text("Your email to ann@example.com is on its way."),
        ]
    ).start()
    try:
        done = run_program(code, server, "ann@example.com\n", tmp_path)
    finally:
        server.stop()

    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert len(server.requests) == 2 and not server.unexpected
    offered = server.requests[0]["tools"][0]["function"]["parameters"]["properties"]
    assert set(offered) == {"subject", "body"}, "the address is the user's to give, not the model's"
    [result] = server.tool_messages()
    assert result["content"] == "Sent email to ann@example.com with subject Hello and body Hello, world!"
    assert "Field: to_address" in done.stdout
    assert "Description: The address to send the email to." in done.stdout
    assert "Your email to ann@example.com is on its way." in done.stdout
