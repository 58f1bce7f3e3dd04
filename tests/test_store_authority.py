"""The store is the authority over run state: real processes, one real SQLite file.

- two processes continuing the same approved run execute its call exactly once (50 trials);
- a stale copy of a run that finished elsewhere executes nothing, and a stale save never reverts it;
- a decision on a decided call is refused with who and when, and changes nothing;
- a call is claimed in the store before it runs; a loser is told who holds it;
- an approved call resumed in a new process runs exactly the approved arguments, and the secret in
  them leaves the database once the call has finished;
- deciding or finishing one call writes that call's row, not the whole run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
from authority_agent import append_pid, make_agent
from chatserver import ChatServer, call, text, tools
from conftest import make_model

from tui.agent import Agent, RunStatus
from tui.agent.decisions import Decision, apply_decision
from tui.agent.events import RunCompleted
from tui.store import AlreadyDecided, CallClaimed, RunStore, StaleRun, StoreError

SCRIPT = Path(__file__).with_name("authority_agent.py")
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="process tests use POSIX paths")


def run_script(*args: str, timeout: float = 120) -> str:
    done = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return done.stdout


async def approved_run(agent: Agent, out: Path):
    run = await agent.arun("call append_pid " + json.dumps({"path": str(out)}))
    assert run.is_paused, run.error
    run.tools[0].confirm()
    agent.save_decisions(run)
    return run


def executions(out: Path) -> list[str]:
    return out.read_text().split() if out.exists() else []


async def test_two_processes_continuing_the_same_approved_run_execute_it_exactly_once(tmp_path: Path) -> None:
    db, trials = tmp_path / "runs.db", 50
    agent = make_agent(RunStore(db))
    runs = [await approved_run(agent, tmp_path / f"out_{i}.txt") for i in range(trials)]
    ids = tmp_path / "ids.txt"
    ids.write_text("\n".join(r.run_id for r in runs))
    barrier = tmp_path / "barrier"
    barrier.mkdir()

    procs = [
        subprocess.Popen([sys.executable, str(SCRIPT), str(db), "race", str(ids), str(barrier), tag],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for tag in "AB"
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, outputs):
        assert p.returncode == 0, err
        assert "Traceback" not in err, err
    outcomes: dict[str, list[str]] = {r.run_id: [] for r in runs}
    for out, _ in outputs:
        for line in out.splitlines():
            _, run_id, outcome = line.split()
            outcomes[run_id].append(outcome)

    store = RunStore(db)
    for i, run in enumerate(runs):
        assert len(executions(tmp_path / f"out_{i}.txt")) == 1, (i, outcomes[run.run_id])
        assert sorted(outcomes[run.run_id])[0] == "completed" and Counter(outcomes[run.run_id])["completed"] == 1
        assert set(outcomes[run.run_id]) <= {"completed", "conflict", "finished"}
        stored = store.load_run(run.run_id)
        assert stored is not None and stored.status == RunStatus.completed and stored.tools[0].status == "completed"
        [entry] = store.ledger(run.run_id)
        assert entry.decision == "approved" and entry.approver
    seen = Counter(o for pair in outcomes.values() for o in pair)
    print(f"\n50 races: {dict(seen)}")
    # The two processes really raced: at least once, the loser was refused while the run was held.
    assert seen["conflict"] >= 1, seen


async def test_a_stale_copy_continued_after_the_run_finished_elsewhere_executes_nothing(tmp_path: Path) -> None:
    db, out = tmp_path / "runs.db", tmp_path / "out.txt"
    agent = make_agent(RunStore(db))
    stale = await approved_run(agent, out)
    other_copy = RunStore(db).load_run(stale.run_id, exact=True)
    assert other_copy is not None

    assert run_script(str(db), "finish", stale.run_id).startswith("DONE completed")
    [child_pid] = executions(out)
    assert child_pid != str(os.getpid())

    result = await agent.acontinue_run(stale)
    assert result is stale  # the caller's object now shows the stored (finished) run
    assert result.status == RunStatus.completed and result.tools[0].result == f"appended {child_pid}"
    assert result.content and "append_pid" in result.content
    events = [e async for e in make_agent(RunStore(db)).acontinue_run(other_copy, stream=True)]
    assert [type(e) for e in events] == [RunCompleted]
    assert executions(out) == [child_pid]  # nothing ran again, in either stale holder


async def test_a_stale_save_never_reverts_a_completed_run(tmp_path: Path) -> None:
    db, out = tmp_path / "runs.db", tmp_path / "out.txt"
    agent = make_agent(RunStore(db))
    run = await approved_run(agent, out)
    old = RunStore(db).load_run(run.run_id, exact=True)  # e.g. a dashboard that still shows the call
    assert old is not None and old.is_paused
    assert run_script(str(db), "finish", run.run_id).startswith("DONE completed")

    store = RunStore(db)
    with pytest.raises(StaleRun, match=(
        rf"run {run.run_id} is completed in the store \(version \d+, saved by pid \d+ on host .+\); "
        rf"your copy is version {old.store_version}: nothing was saved\. Reload it with agent\.get_run"
    )):
        store.save_run(old)
    # A reject pressed in that dashboard: refused with who decided, and the run stays completed.
    with pytest.raises(AlreadyDecided, match=r"already decided \(approved\) by .+@.+ \(user\) at 20"):
        apply_decision(make_agent(store), old, old.tools[0], Decision("reject", note="too late"))

    stored = RunStore(db).load_run(run.run_id)
    assert stored is not None and stored.status == RunStatus.completed
    assert stored.tools[0].status == "completed" and (stored.tools[0].result or "").startswith("appended")
    assert stored.content
    assert [e.decision for e in store.ledger(run.run_id)] == ["approved"]
    assert len(executions(out)) == 1

    # The way back: reload in place (references to the object stay valid), then it saves again.
    holder = make_agent(RunStore(db))
    copy = holder.get_run(run.run_id)
    assert copy is not None
    copy.status = RunStatus.paused  # a local change that the store never accepted
    assert holder.get_run(run.run_id, refresh=True) is copy and copy.status == RunStatus.completed
    holder.store.save_run(copy)  # up to date again: its save is accepted


async def test_a_copy_loaded_for_display_shows_no_secret_and_cannot_be_saved_back(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    agent = make_agent(RunStore(db))
    secret = "sk-live-9f8e7d6c5b4a39281706"
    run = await agent.arun("call append_pid " + json.dumps({"path": f"/tmp/{secret}"}))
    shown = RunStore(db).load_run(run.run_id)
    assert shown is not None and secret not in shown.model_dump_json()
    with pytest.raises(StoreError, match="was loaded for display .* load it with load_run"):
        RunStore(db).save_run(shown)
    exact = RunStore(db).load_run(run.run_id, exact=True)
    assert exact is not None and secret in exact.tools[0].tool_args["path"]
    # Continued anyway, the display copy is first brought up to the exact stored state.
    shown.tools[0].confirm()
    done = await make_agent(RunStore(db)).acontinue_run(shown)
    assert done.status == RunStatus.completed
    assert done.tools[0].executed_args == {"path": f"/tmp/{secret}"}
    Path(f"/tmp/{secret}").unlink()


async def test_a_second_decision_from_another_holder_is_refused_with_who_and_when(tmp_path: Path) -> None:
    db, out = tmp_path / "runs.db", tmp_path / "out.txt"
    ada = make_agent(RunStore(db), approver="someone-else@laptop")  # the decision names its own approver
    run = await ada.arun("call append_pid " + json.dumps({"path": str(out)}))
    bob = make_agent(RunStore(db), approver="bob@desk")
    bobs_copy = bob.get_run(run.run_id)
    assert bobs_copy is not None and bobs_copy is not run

    apply_decision(ada, run, run.tools[0], Decision("approve", approver="ada@laptop"))
    with pytest.raises(AlreadyDecided, match=r"already decided \(approved\) by ada@laptop \(user\) at 20\d\d-\d\d-\d\dT"):
        apply_decision(bob, bobs_copy, bobs_copy.tools[0], Decision("reject", note="no"))
    assert bobs_copy.tools[0].confirmed is True  # bob's view now shows the decision that stands
    assert bobs_copy.tools[0].approver == "ada@laptop"

    done = await bob.acontinue_run(bobs_copy)  # bob continues: ada's approval is what runs
    assert done.status == RunStatus.completed and len(executions(out)) == 1
    [entry] = RunStore(db).ledger(run.run_id)
    assert (entry.decision, entry.approver, entry.note) == ("approved", "ada@laptop", None)


async def test_a_call_is_claimed_once_and_the_loser_is_told_who_holds_it(tmp_path: Path) -> None:
    db, out = tmp_path / "runs.db", tmp_path / "out.txt"
    agent = make_agent(RunStore(db))
    run = await approved_run(agent, out)
    first, second = RunStore(db), RunStore(db)
    mine = first.load_run(run.run_id, exact=True)
    assert mine is not None
    mine.tools[0].status = "running"
    first.save_run(mine, claim=[mine.tools[0].tool_call_id])

    theirs = second.load_run(run.run_id, exact=True)  # up to date, but it believes the call still waits
    assert theirs is not None and theirs.tools[0].status == "running"
    theirs.tools[0].status = "pending"
    with pytest.raises(CallClaimed, match=rf"append_pid call \S+ of run {run.run_id} is running \(claimed by pid {os.getpid()} on host "):
        second.save_run(theirs, claim=[theirs.tools[0].tool_call_id])
    assert executions(out) == []


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "workspace"
    folder.mkdir()
    return folder


async def test_an_approved_call_resumed_in_a_new_process_runs_the_exact_arguments_and_the_secret_then_leaves(
    tmp_path: Path, workspace: Path
) -> None:
    from tui.config import Settings
    from tui.toolbox.files import make_file_tools

    secret = "sk-proj-Zq81kLm02NxPq77RsTuVw"
    content = f"[service]\napi_key = {secret}\nregion = eu\n"
    db = tmp_path / "runs.db"
    write_file, _, _ = make_file_tools(Settings(workspace=str(workspace)))
    agent = Agent(model=DemoModel(delay=0), tools=[write_file], store=RunStore(db))
    run = await agent.arun("call write_file " + json.dumps({"path": "conf.ini", "content": content}))
    assert run.is_paused
    run.tools[0].confirm()
    agent.save_decisions(run)
    # Kept exactly while the call waits, in the owner-only database: that is what makes it resumable.
    assert secret.encode() in all_bytes(tmp_path)
    # ...but never shown: views and the inbox are redacted.
    assert secret not in RunStore(db).load_run(run.run_id).model_dump_json()  # type: ignore[union-attr]

    assert run_script(str(db), "secret_resume", run.run_id, str(workspace)).startswith("DONE completed")
    assert (workspace / "conf.ini").read_text() == content  # exactly what was approved
    assert secret.encode() not in all_bytes(tmp_path)  # and gone from every file SQLite keeps
    stored = RunStore(db).load_run(run.run_id)
    assert stored is not None and stored.tools[0].status == "completed"
    assert "[REDACTED]" in stored.tools[0].tool_args["content"]


def all_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.glob("runs.db*")))


from tui.agent.models import DemoModel  # noqa: E402  (used by the secret test's own agent)


async def test_deciding_or_finishing_one_call_writes_that_calls_row_not_the_whole_run(
    chat_server: ChatServer, tmp_path: Path
) -> None:
    import sqlite3

    n = 40
    db = tmp_path / "runs.db"
    chat_server.add(tools(*(call("append_pid", {"path": str(tmp_path / f"o{i}")}, id=f"c{i}") for i in range(n))))
    agent = Agent(model=make_model(chat_server, "json"), tools=[append_pid], store=RunStore(db))
    run = await agent.arun("append everywhere")
    assert run.is_paused and len(run.pending_tools) == n
    conn = sqlite3.connect(db)
    conn.executescript(
        "CREATE TABLE row_writes (n INTEGER); INSERT INTO row_writes VALUES (0);"
        "CREATE TRIGGER count_tool_updates AFTER UPDATE ON tool_executions BEGIN UPDATE row_writes SET n = n + 1; END;"
        "CREATE TRIGGER count_tool_inserts AFTER INSERT ON tool_executions BEGIN UPDATE row_writes SET n = n + 1; END;"
    )

    def row_writes() -> int:
        return conn.execute("SELECT n FROM row_writes").fetchone()[0]

    apply_decision(agent, run, run.tools[0], Decision("approve"))
    assert row_writes() == 0  # a decision is one record, not a rewrite of 40 rows

    for t in run.tools[1:]:
        t.confirm()
    chat_server.add(text("Done."))
    done = await agent.acontinue_run(run)
    assert done.status == RunStatus.completed
    # Each call's row is written when it is claimed and when it finishes (2 each, a few more for
    # the transitions around them); rewriting the run per save would be n writes per save.
    assert row_writes() <= 3 * n + 5, row_writes()


async def test_store_writes_run_off_the_event_loop(tmp_path: Path) -> None:
    threads: list[str] = []

    class WatchedStore(RunStore):
        def save_run(self, run, *, claim=()):  # type: ignore[no-untyped-def]
            threads.append(threading.current_thread().name)
            return super().save_run(run, claim=claim)

    agent = make_agent(WatchedStore(tmp_path / "runs.db"))
    run = await approved_run(agent, tmp_path / "out.txt")
    await agent.acontinue_run(run)
    assert threads and threading.main_thread().name not in threads
