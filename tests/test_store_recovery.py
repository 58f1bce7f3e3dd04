"""Which `running` runs `recover()` settles: only those whose process is provably gone."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from tui.agent import RunOutput, RunStatus, ToolExecution
from tui.store import INTERRUPTED, RunStore


def running_run(*, open_turn: bool) -> RunOutput:
    run = RunOutput(input="work", status=RunStatus.running)
    if open_turn:
        run.open_turn = 1
        run.tools = [ToolExecution(tool_call_id="c1", tool_name="publish_post", requires_confirmation=True, turn=1)]
    return run


def set_owner(db: Path, run_id: str, **columns: object) -> None:
    with sqlite3.connect(db) as conn:
        for name, value in columns.items():
            conn.execute(f"UPDATE runs SET {name} = ? WHERE run_id = ?", (value, run_id))


def test_a_run_owned_by_this_live_process_is_left_alone(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    run = running_run(open_turn=False)
    RunStore(db).save_run(run)
    store = RunStore(db)
    assert store.recovered == [] and store.recover() == []
    assert store.get_summary(run.run_id).status == "running"  # type: ignore[union-attr]


def test_a_run_whose_process_exited_is_settled_once(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    code = (
        "import sys; from tui.agent import RunOutput; from tui.store import RunStore;"
        "r = RunOutput(input='work'); RunStore(sys.argv[1]).save_run(r); print(r.run_id)"
    )
    run_id = subprocess.run([sys.executable, "-c", code, str(db)], capture_output=True, text=True, check=True).stdout.strip()
    store = RunStore(db)
    assert store.recovered == [run_id]
    run = store.load_run(run_id)
    assert run is not None and run.status == RunStatus.error and run.error == INTERRUPTED
    assert store.get_summary(run_id).error == INTERRUPTED  # type: ignore[union-attr]
    assert store.recover() == [] and RunStore(db).recovered == []


def test_an_open_turn_is_recovered_as_paused(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    run = running_run(open_turn=True)
    RunStore(db).save_run(run)
    set_owner(db, run.run_id, owner_boot="another-boot")  # the machine has rebooted since
    store = RunStore(db)
    assert store.recovered == [run.run_id]
    loaded = store.load_run(run.run_id)
    assert loaded is not None and loaded.is_paused and loaded.error is None
    assert [t.tool_name for t in loaded.pending_tools] == ["publish_post"]


def test_a_reused_pid_does_not_keep_a_dead_run_alive(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    run = running_run(open_turn=False)
    RunStore(db).save_run(run)
    set_owner(db, run.run_id, owner_started="1")  # our pid, but a process that started at another time
    store = RunStore(db)
    if Path("/proc/self/stat").exists():
        assert store.recovered == [run.run_id]
    else:  # without /proc the start time is unknown: the pid alone decides
        assert store.recovered == []


def test_a_run_owned_by_another_host_is_left_alone(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    run = running_run(open_turn=False)
    RunStore(db).save_run(run)
    set_owner(db, run.run_id, owner_host="some-other-machine", owner_pid=999999)
    assert RunStore(db).recovered == []


def test_a_store_opens_and_reads_while_another_process_holds_the_write_lock(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    run = running_run(open_turn=False)
    RunStore(db).save_run(run)
    set_owner(db, run.run_id, owner_boot="another-boot")  # needs recovering, which needs the lock
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        store = RunStore(db, busy_timeout=0.1)
        assert store.recovered == []
        assert "the database is locked" in store.recovery_problems[0]
        assert store.count_runs() == 1 and store.load_run(run.run_id) is not None  # readers never wait
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert store.recover() == [run.run_id]  # and recovery succeeds once the lock is free
