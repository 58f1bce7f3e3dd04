"""`hitl-tui serve`: the dashboard in a real browser, and the token that guards it.

A real `hitl-tui serve` process (textual-serve) on a free port of 127.0.0.1 and a temporary SQLite
file; a real headless agent process (tests/inbox_agent.py) pauses on a gated call and waits with
`wait_for_decisions`. Without the token (or with a wrong one) the page, its assets and the
websocket get 401. With it, Debian's Chromium (driven by Playwright, never `playwright install`)
opens the page, the call shows in the served dashboard, ctrl+o and `y` approve it, and the
waiting agent finishes: the tool ran once, and the ledger names the served dashboard's approver.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

from inbox_support import REPO, TESTS, AgentProcess

from tui.store import RunStore

PUBLISH = 'call publish_post {"title": "Hello"}'
TOKEN = "t0ken-for-the-test_0123456789abcdef"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ANSI = re.compile(r"\x1b(\[[0-9;?$]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServeProcess:
    """`hitl-tui serve` in its own process group (its dashboards are its children)."""

    def __init__(self, db: Path, tmp: Path) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "HITL_TUI_"))}
        env.update(
            PYTHONPATH=os.pathsep.join([str(TESTS), str(REPO)]),
            PYTHONUNBUFFERED="1",
            HITL_TUI_SERVE_TOKEN=TOKEN,
            HITL_TUI_CONFIG=str(tmp / "config.toml"),  # no user config
            HITL_TUI_RULES=str(tmp / "rules.toml"),
            HITL_TUI_APPROVER="browser-alice",
            HITL_TUI_DECISION_DELAY="0",  # the modal's grace period (tested elsewhere)
            XDG_DATA_HOME=str(tmp / "data"),  # nothing reaches the user's own history or config
            XDG_CONFIG_HOME=str(tmp / "config"),
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tui", "--db", str(db), "serve", "--port", str(self.port)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp,
            start_new_session=True,
        )
        assert self.proc.stdout is not None
        self.banner = self.proc.stdout.readline()  # printed once the port is bound
        assert "hitl-tui serve: the dashboard at" in self.banner, self.banner + self.proc.stdout.read()
        self.base = f"http://127.0.0.1:{self.port}"

    def dashboards(self) -> dict[int, bytes]:
        """The processes the server started (its process group, Linux /proc): pid -> environment."""
        found = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == self.proc.pid:
                continue
            try:
                if os.getpgid(int(entry.name)) == self.proc.pid and b"-m\0tui" in (entry / "cmdline").read_bytes():
                    found[int(entry.name)] = (entry / "environ").read_bytes()
            except (OSError, ProcessLookupError):
                continue
        return found

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # any dashboard left behind (our own group)
        except ProcessLookupError:
            pass
        self.proc.wait(10)
        assert self.proc.stdout is not None
        return self.proc.stdout.read()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServeProcess]:
    server = ServeProcess(tmp_path / "runs.db", tmp_path)
    try:
        yield server
    finally:
        log = server.stop()
        assert TOKEN not in log.split("\n", 1)[-1], "the token leaked into the server's log"


def status_and_body(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def websocket_status(url: str, headers: dict[str, str] | None = None) -> int:
    """The status of a websocket handshake (101 when it is accepted)."""
    import aiohttp

    async def attempt() -> int:
        async with aiohttp.ClientSession() as session:
            try:
                async with session.ws_connect(url, headers=headers) as ws:
                    await ws.close()
                    return 101
            except aiohttp.WSServerHandshakeError as exc:
                return exc.status

    return asyncio.run(attempt())


def test_without_the_right_token_the_page_its_assets_and_the_websocket_get_401_and_nothing_else(served: ServeProcess) -> None:
    assert f"{served.base}/?token={TOKEN}" in served.banner  # the URL to open, printed at start
    refused = [
        status_and_body(served.base + "/"),
        status_and_body(served.base + "/?token=wrong"),
        status_and_body(served.base + f"/?token={TOKEN}x"),
        status_and_body(served.base + "/static/js/textual.js"),
        status_and_body(served.base + "/static/js/textual.js", {"Cookie": "hitl_tui_token=wrong"}),
        status_and_body(served.base + "/", {"Authorization": "Bearer wrong"}),
        status_and_body(served.base + f"/?token=wrong", {"Cookie": f"hitl_tui_token={TOKEN}"}),  # URL wins
    ]
    assert refused == [(401, b"401: Unauthorized\n")] * len(refused)
    assert websocket_status(f"ws://127.0.0.1:{served.port}/ws") == 401
    assert websocket_status(f"ws://127.0.0.1:{served.port}/ws?token=wrong") == 401

    request = urllib.request.Request(f"{served.base}/?token={TOKEN}")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert b"textual-terminal" in response.read()
        cookie = response.headers["Set-Cookie"]
    assert f"hitl_tui_token={TOKEN}" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert status_and_body(served.base + "/static/js/textual.js", {"Cookie": f"hitl_tui_token={TOKEN}"})[0] == 200
    assert status_and_body(served.base + "/static/css/xterm.css", {"Authorization": f"Bearer {TOKEN}"})[0] == 200


def test_each_browser_session_runs_the_dashboard_on_the_same_database_with_the_same_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tui.cli import build_parser
    from tui.cli.serve import dashboard_command
    from tui.config import load_settings

    monkeypatch.chdir(tmp_path)
    argv = ["--db", "team.db", "serve", "--model", "llama3.1", "--tools", "my tools.py", "--no-builtin-tools", "--mcp", "time=uvx mcp-server-time", "--port", "9000"]
    args = build_parser().parse_args(argv)
    command = dashboard_command(args, load_settings({"db": args.db}))
    assert shlex.split(command) == [
        sys.executable, "-m", "tui", "--db", str(tmp_path / "team.db"),  # absolute: the same file, wherever it starts
        "--model", "llama3.1", "--tools", "my tools.py", "--mcp", "time=uvx mcp-server-time", "--no-builtin-tools",
    ]


def test_a_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "tui", "--db", str(tmp_path / "runs.db"), "serve", "--port", str(port)],
            capture_output=True, text=True, timeout=60, cwd=tmp_path,
            env={**os.environ, "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)},
        )
    assert done.returncode == 2
    assert f"hitl-tui: cannot listen on 127.0.0.1:{port}: " in done.stderr and "Traceback" not in done.stderr


def test_a_postgresql_url_reaches_the_dashboards_by_environment_not_argv(monkeypatch: pytest.MonkeyPatch) -> None:
    from tui.cli import build_parser
    from tui.cli.serve import dashboard_command
    from tui.config import load_settings

    url = "postgresql://hitl:s3cret@db.example/hitl"
    args = build_parser().parse_args(["--db", url, "serve"])
    command = dashboard_command(args, load_settings({"db": args.db}))
    assert shlex.split(command) == [sys.executable, "-m", "tui"]  # the password is not in `ps`


def _browser_unavailable() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright package is missing (pip install -e '.[test]')"
    return None


@pytest.fixture
def chromium() -> Iterator[Any]:
    reason = _browser_unavailable()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser test must run in CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30_000)
        try:
            yield browser
        finally:
            browser.close()


class Screen:
    """What the served dashboard drew in the page's terminal: the websocket's terminal output
    (the bytes xterm.js renders, on a canvas) without escape sequences, accumulated."""

    def __init__(self, page: Any) -> None:
        self.chunks: list[str] = []
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, payload: str | bytes) -> None:
        text = payload if isinstance(payload, str) else payload.decode("utf-8", "replace")
        self.chunks.append(ANSI.sub("", text))

    def mark(self) -> int:
        return len(self.chunks)

    def wait_for(self, page: Any, text: str, *, since: int = 0, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in "".join(self.chunks[since:]):
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared in the browser; last: {''.join(self.chunks)[-1500:]!r}")
            page.wait_for_timeout(100)  # lets Playwright deliver the frames (a poll, not a timeout)


def test_a_call_paused_in_an_agent_process_is_approved_by_keys_in_the_browser(
    served: ServeProcess, chromium: Any, tmp_path: Path
) -> None:
    db, fx = tmp_path / "runs.db", tmp_path / "effects.txt"
    with AgentProcess(db, PUBLISH, "--effects", str(fx)) as agent:
        run_id = agent.expect("PAUSED")

        # Without the token, the browser gets the 401 and nothing else (no terminal, no websocket).
        stranger = chromium.new_page()
        opened: list[str] = []
        stranger.on("websocket", lambda ws: opened.append(ws.url))
        for url in (served.base + "/", served.base + "/?token=wrong"):
            response = stranger.goto(url)
            assert response is not None and response.status == 401
            assert stranger.content().count("401: Unauthorized") == 1 and "textual" not in stranger.content()
        closed = stranger.evaluate(
            """url => new Promise(done => { const ws = new WebSocket(url);
                 ws.onopen = () => done('open'); ws.onclose = () => done('closed'); })""",
            f"ws://127.0.0.1:{served.port}/ws",
        )
        assert closed == "closed"
        stranger.close()

        page = chromium.new_page(viewport={"width": 1400, "height": 800})
        # The page asks Google Fonts for a font: nothing but this server is reachable in a test.
        page.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())
        screen = Screen(page)
        response = page.goto(f"{served.base}/?token={TOKEN}")
        assert response is not None and response.status == 200
        page.wait_for_selector(".textual-terminal.-connected", timeout=30_000)
        screen.wait_for(page, "publish_post")  # the served dashboard's inbox lists the waiting call
        assert RunStore(db).pending_requests()

        page.click(".textual-terminal")  # the keyboard goes to the terminal
        since = screen.mark()
        page.keyboard.press("Control+o")  # "Decide": open the oldest call that waits
        screen.wait_for(page, "held by", since=since)  # the modal for another process's run
        page.keyboard.press("y")
        status = agent.expect("DONE", timeout=30)
        [dashboard_env] = served.dashboards().values()  # one browser session, one dashboard process
        assert TOKEN.encode() not in dashboard_env  # the token stays with the server
        page.close()
    assert status.startswith("completed") and "published 'Hello'" in status
    assert fx.read_text().splitlines() == [f"publish_post Hello pid={agent.pid}"]  # once, by its owner
    [entry] = RunStore(db).ledger(run_id)
    assert (entry.decision, entry.approver) == ("approved", "browser-alice")
    assert RunStore(db).pending_requests() == []

