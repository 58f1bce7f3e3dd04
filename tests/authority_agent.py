"""A small agent process for the store-authority tests (run with `sys.executable`).

    python tests/authority_agent.py DB race RUN_IDS_FILE BARRIER_DIR TAG
    python tests/authority_agent.py DB finish RUN_ID
    python tests/authority_agent.py DB secret_resume RUN_ID WORKSPACE

DB is a SQLite file or a postgresql:// URL (the tests run on both backends).

`race`: for each run id (one per line), wait at a file barrier until the other racer is there too,
then continue the run; prints one line per run: `RESULT <run_id> completed|conflict|finished|error:...` (completed: it ran here).
`finish`: continue one run to the end and print `DONE <status>`.
`secret_resume`: continue a run whose `write_file` call was approved in another process.

The tests import `make_agent` and the tools from here, so both sides share one definition.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

from tui.agent import Agent, tool
from tui.agent.conflicts import RunConflict
from tui.agent.models import DemoModel
from tui.store import RunStore, open_store


@tool(requires_confirmation=True)
def append_pid(path: str) -> str:
    """Append this process's pid to a file (a visible, countable side effect).

    Args:
        path: The file to append to.
    """
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(f"{os.getpid()}\n")
    return f"appended {os.getpid()}"


def make_agent(store: RunStore, extra: list | None = None, approver: str | None = None) -> Agent:
    return Agent(model=DemoModel(delay=0), tools=[append_pid, *(extra or [])], store=store, approver=approver)


def _barrier(folder: Path, name: str, tag: str, others: int = 1, timeout: float = 30.0) -> None:
    (folder / f"{name}.{tag}").touch()
    deadline = time.monotonic() + timeout
    while len(list(folder.glob(f"{name}.*"))) < others + 1:
        if time.monotonic() > deadline:
            raise SystemExit(f"barrier {name} timed out")
        time.sleep(0.0005)


async def _race(db: str, ids_file: Path, barrier: Path, tag: str) -> None:
    agent = make_agent(open_store(db))
    for run_id in ids_file.read_text().split():
        _barrier(barrier, run_id, tag)
        try:
            run = await agent.acontinue_run(run_id=run_id)
            if run.status.value != "completed":
                outcome = f"error:{run.status.value}:{run.error}"
            else:  # completed here, or found completed by the other racer (a stale copy: nothing ran)
                outcome = "completed" if run.tools[0].result == f"appended {os.getpid()}" else "finished"
        except RunConflict:
            outcome = "conflict"
        except ValueError as exc:  # "run ... is completed; there is nothing to continue"
            outcome = "finished" if "nothing to continue" in str(exc) else f"error:{exc}"
        print(f"RESULT {run_id} {outcome}", flush=True)


async def _finish(db: str, run_id: str) -> None:
    run = await make_agent(open_store(db)).acontinue_run(run_id=run_id)
    print(f"DONE {run.status.value} {run.error or ''}".rstrip(), flush=True)


async def _secret_resume(db: str, run_id: str, workspace: str) -> None:
    from tui.config import Settings
    from tui.toolbox.files import make_file_tools

    write_file, _, _ = make_file_tools(Settings(workspace=workspace))
    agent = Agent(model=DemoModel(delay=0), tools=[write_file], store=open_store(db))
    run = await agent.acontinue_run(run_id=run_id)
    print(f"DONE {run.status.value} {run.error or ''}".rstrip(), flush=True)


def main() -> None:
    db, stage, *rest = sys.argv[1:]
    if stage == "race":
        asyncio.run(_race(db, Path(rest[0]), Path(rest[1]), rest[2]))
    elif stage == "finish":
        asyncio.run(_finish(db, rest[0]))
    elif stage == "secret_resume":
        asyncio.run(_secret_resume(db, rest[0], rest[1]))
    else:
        raise SystemExit(f"unknown stage {stage}")


if __name__ == "__main__":
    main()
