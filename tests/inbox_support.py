"""Real processes for the inbox tests: a headless agent that waits, and `hitl-tui` commands.

Not a test module. The agent process is tests/inbox_agent.py; its marker lines (`PAUSED`,
`DECIDED`, `DONE`) are read on a thread so a test can wait for one with a deadline.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), str(REPO), env.get("PYTHONPATH", "")])
    env["PYTHONUNBUFFERED"] = "1"
    return env


class AgentProcess:
    """tests/inbox_agent.py in its own process; `expect("PAUSED")` returns the rest of that line."""

    def __init__(self, db: Path, prompt: str, *extra: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(TESTS / "inbox_agent.py"), str(db), prompt, *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
            cwd=REPO,
        )
        self.lines: "queue.Queue[str]" = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def expect(self, marker: str, timeout: float = 30.0) -> str:
        """Wait (up to `timeout`, a failure guard) for the next line starting with `marker`."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {marker} from the agent; saw {self.seen}; stderr: {self._stderr()}")
            try:
                line = self.lines.get(timeout=min(left, 0.5))
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    raise AssertionError(f"the agent exited ({self.proc.returncode}) before {marker}; saw {self.seen}; stderr: {self._stderr()}")
                continue
            self.seen.append(line)
            if line.startswith(marker):
                return line[len(marker):].strip()

    def _stderr(self) -> str:
        if self.proc.poll() is None or self.proc.stderr is None:
            return "(still running)"
        return self.proc.stderr.read()[-2000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)

    def __enter__(self) -> "AgentProcess":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def hitl(db: Path, *args: str, timeout: float = 60.0, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `hitl-tui ARGS --db DB` in a fresh process (as a user would from a shell)."""
    return subprocess.run(
        [sys.executable, "-m", "tui", *args, "--db", str(db)],
        capture_output=True,
        text=True,
        env={**_env(), **(env or {})},
        cwd=REPO,
        timeout=timeout,
    )


def hitl_async(db: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tui", *args, "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        cwd=REPO,
    )


def pending_json(db: Path) -> list[dict[str, Any]]:
    done = hitl(db, "pending", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
