"""Real processes, killed with SIGKILL at each stage of a run: the run is never lost or stuck.

tests/durability_agent.py runs the agent and prints a marker at each stage; the test kills it there,
then a fresh store and Agent in this process find the run consistent and finish it.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from durability_agent import make_agent

from tui.agent import RunStatus
from tui.store import INTERRUPTED, RunStore, open_store

SCRIPT = Path(__file__).with_name("durability_agent.py")
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL semantics")


class AgentProcess:
    def __init__(self, db: Path | str, stage: str, *extra: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(SCRIPT), str(db), stage, *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.strip())

    def wait_for(self, name: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.proc.kill()
                raise AssertionError(f"no {name} marker; stderr:\n{self.proc.communicate()[1]}") from None
            if line.split()[0] == name:
                return line.split()[1] if len(line.split()) > 1 else ""
            if line.startswith(("NOT_KILLED", "FAILED")):
                raise AssertionError(f"unexpected marker {line}")

    def sigkill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        assert self.proc.returncode == -signal.SIGKILL
        assert "Traceback" not in (self.proc.stderr.read() if self.proc.stderr else "")


def kill_at(db: Path | str, stage: str, marker: str) -> str:
    proc = AgentProcess(db, stage)
    run_id = proc.wait_for(marker)
    proc.sigkill()
    return run_id


async def finish(store: RunStore, run_id: str) -> None:
    """Continue the run in a fresh Agent and check it completes with exactly one ledger row."""
    final = await make_agent(store).acontinue_run(run_id=run_id)
    assert final.status == RunStatus.completed, final.error
    reread = open_store(getattr(store, "url", store.path))
    assert reread.load_run(run_id).status == RunStatus.completed  # type: ignore[union-attr]
    [entry] = reread.ledger(run_id)
    assert (entry.tool_name, entry.decision, entry.decided_by) == (final.tools[0].tool_name, "approved", "user")
    assert reread.count_runs() == 1


async def test_killed_while_paused_the_run_stays_paused_with_its_pending_call(tmp_path: Path, store_url: str) -> None:
    db = store_url
    run_id = kill_at(db, "paused", "PAUSED")
    store = open_store(db)
    assert store.recovered == []  # paused is a resting state: nothing to recover
    run = store.load_run(run_id)
    assert run is not None and run.is_paused
    assert [t.tool_name for t in run.pending_tools] == ["publish_post"]
    assert store.ledger(run_id) == []

    agent = make_agent(store)
    run.tools[0].confirm()
    agent.save_decisions(run)
    await finish(store, run_id)


async def test_killed_after_a_decision_was_saved_the_decision_is_kept(tmp_path: Path, store_url: str) -> None:
    db = store_url
    run_id = kill_at(db, "decided", "DECIDED")
    store = open_store(db)
    assert store.recovered == []
    run = store.load_run(run_id)
    assert run is not None and run.is_paused
    assert run.pending_tools == [] and run.tools[0].confirmed is True and run.tools[0].decided_by == "user"
    await finish(store, run_id)  # nobody is asked again: the saved decision is applied


async def test_killed_mid_stream_the_run_becomes_a_resumable_error(tmp_path: Path, store_url: str) -> None:
    db = store_url
    run_id = kill_at(db, "streaming", "STREAMING")
    store = open_store(db)
    assert store.recovered == [run_id]
    run = store.load_run(run_id)
    assert run is not None and run.status == RunStatus.error and run.error == INTERRUPTED
    assert run.open_turn is None and run.tools[0].status == "completed"  # the tool's work is kept
    [summary] = store.list_runs()
    assert (summary.status, summary.error) == ("error", INTERRUPTED)
    await finish(store, run_id)


async def test_killed_mid_tool_the_run_pauses_and_the_model_hears_of_the_interruption(tmp_path: Path, store_url: str) -> None:
    db = store_url
    run_id = kill_at(db, "mid_tool", "TOOL_RUNNING")
    store = open_store(db)
    assert store.recovered == [run_id]
    run = store.load_run(run_id)
    assert run is not None and run.is_paused and run.open_turn == 1
    assert run.tools[0].status == "running" and run.tools[0].confirmed is True
    assert [e.decision for e in store.ledger(run_id)] == ["approved"]  # recorded before the tool ran

    await finish(store, run_id)
    done = store.load_run(run_id)
    assert done is not None and done.tools[0].status == "error"
    assert (done.tools[0].error or "").startswith("Interrupted")
    assert any(m.role == "tool" and (m.content or "").startswith("Interrupted") for m in done.messages)


def test_a_running_run_whose_process_is_alive_is_left_alone(tmp_path: Path, store_url: str) -> None:
    db = store_url
    proc = AgentProcess(db, "mid_tool")
    try:
        run_id = proc.wait_for("TOOL_RUNNING")
        store = open_store(db)  # the owner is alive: its run is not ours to settle
        assert store.recovered == []
        assert store.get_summary(run_id).status == "running"  # type: ignore[union-attr]
    finally:
        proc.sigkill()
    assert open_store(db).recovered == [run_id]


def test_two_processes_writing_at_once_lose_nothing_and_never_see_a_locked_database(tmp_path: Path, store_url: str) -> None:
    db = store_url
    go = tmp_path / "go"
    count = 60
    # Both processes open (and create) the database at once, then start writing together.
    procs = {tag: AgentProcess(db, "many", "--count", str(count), "--tag", tag, "--go", str(go)) for tag in "AB"}
    for p in procs.values():
        p.wait_for("READY")
    go.touch()
    for p in procs.values():
        assert p.wait_for("DONE", timeout=60) == str(count)
        p.proc.wait(timeout=10)
        stderr = p.proc.stderr.read() if p.proc.stderr else ""
        assert p.proc.returncode == 0, stderr
        assert "locked" not in stderr and "Traceback" not in stderr

    store = open_store(db)
    runs = store.list_runs(limit=None)
    assert store.count_runs() == len(runs) == 2 * count
    assert {r.status for r in runs} == {"completed"}
    assert sorted(r.prompt for r in runs) == sorted(
        f'call publish_post {{"title": "{tag}-{i}"}}' for tag in "AB" for i in range(count)
    )
    for r in runs:
        [entry] = store.ledger(r.run_id)
        assert (entry.decision, entry.decided_by) == ("auto_allowed", "session-allow")
    # The two writers really overlapped in time.
    spans = {tag: [r.updated_at for r in runs if f'"{tag}-' in (r.prompt or "")] for tag in "AB"}
    assert min(spans["A"]) < max(spans["B"]) and min(spans["B"]) < max(spans["A"])
