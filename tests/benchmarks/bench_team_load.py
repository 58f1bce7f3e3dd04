"""A team under load: N agent processes and M approvers on one store, on PostgreSQL and on SQLite.

Each agent process (this script, `--role agent`) loops until the deadline: a run whose model calls
a gated tool (`effect`), which pauses; `agent.wait_for_decisions(run)` (PostgreSQL: woken by
LISTEN/NOTIFY; SQLite: polls the change token every 0.1 s); then `acontinue_run`, which executes
the call (appending one line to an effects file) and finishes. Each approver process
(`--role approver`, a CLI loop on the store API: `pending_requests` + `decide`) approves whatever
is pending, racing the other approvers for the same calls; between rounds it blocks on
`store.wait_for_change`.

Printed per backend, side by side from one run:
- decisions/s: decisions recorded (first-wins) per second of the run;
- p50/p95 decision -> continue: from the moment an approver's `decide` committed to the moment
  the waiting agent returned from `wait_for_decisions` (wall clocks of one machine);
- lost decisions: a recorded decision whose call never ran or whose run did not complete;
- double executions: a call whose effect line appears more than once;
- double decisions: a call with more than one ledger row, or more than one approver told "yours
  won" (AlreadyDecided for the others is expected: they raced). All three must be 0.

    python tests/benchmarks/bench_team_load.py [--duration 60] [--agents 8] [--approvers 3]
                                               [--backends postgres,sqlite]

PostgreSQL: a throwaway server started by tests/pg_server.py (fsync off: the semantics and the
protocol are measured, not the disk); SQLite: a file with its default synchronous=FULL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))


# ------------------------------------------------------------------ the worker processes


def ready_then_go(go: Path) -> float:
    """Say READY (imports done, store open), wait for the go file; returns the deadline in it."""
    print("READY", flush=True)
    while not go.exists() or not go.read_text().strip():
        time.sleep(0.01)
    return float(go.read_text().split()[0])


async def agent_loop(db: str, out: Path, effects: Path, go: Path) -> None:
    from tui.agent import Agent, tool
    from tui.agent.models import DemoModel
    from tui.store import open_store

    @tool(requires_confirmation=True)
    def effect(n: int) -> str:
        """Append one line per execution (counted afterwards).

        Args:
            n: A sequence number.
        """
        with open(effects, "a", encoding="utf-8") as fh:
            fh.write(f"{os.getpid()} {n}\n")
        return f"done {n}"

    agent = Agent(model=DemoModel(delay=0), tools=[effect], store=open_store(db), name=f"load-{os.getpid()}")
    deadline = ready_then_go(go)
    n = 0
    with open(out, "a", encoding="utf-8") as log:
        while time.time() < deadline:
            n += 1
            run = await agent.arun("call effect " + json.dumps({"n": n}))
            if not run.is_paused:
                log.write(json.dumps({"run_id": run.run_id, "error": f"not paused: {run.status}"}) + "\n")
                continue
            try:
                await agent.wait_for_decisions(run, timeout=max(5.0, deadline + 30 - time.time()))
            except TimeoutError:
                log.write(json.dumps({"run_id": run.run_id, "timeout": True}) + "\n")
                break
            woke = time.time()
            done = await agent.acontinue_run(run)
            log.write(json.dumps({
                "run_id": run.run_id, "call_id": run.tools[0].tool_call_id, "woke": woke,
                "status": done.status.value, "ran": done.tools[0].status, "effect_n": n,
            }) + "\n")
            log.flush()


def approver_loop(db: str, name: str, out: Path, go: Path, stop: Path) -> None:
    from tui.store import AlreadyDecided, DecisionRefused, open_store

    store = open_store(db, recover=False)
    deadline = ready_then_go(go) + 60
    token = store.change_token()
    refused = 0
    with open(out, "a", encoding="utf-8") as log:
        while time.time() < deadline and not stop.exists():
            pending = store.pending_requests()
            for p in pending:
                try:
                    record = store.decide(p.id, "approve", seen_digest=p.args_digest, approver=name)
                except AlreadyDecided:
                    refused += 1
                    continue
                except DecisionRefused:
                    refused += 1
                    continue
                log.write(json.dumps({"run_id": record.run_id, "call_id": record.tool_call_id, "at": time.time()}) + "\n")
                log.flush()
            if not pending:
                token = store.wait_for_change(token, 0.5)
    print(f"REFUSED {refused}", flush=True)


# ------------------------------------------------------------------ one backend


def run_backend(name: str, db: str, work: Path, agents: int, approvers: int, duration: float) -> dict[str, Any]:
    from tui.store import open_store

    open_store(db).close()  # create / migrate once before the crowd arrives
    work.mkdir(parents=True, exist_ok=True)
    effects = work / "effects.txt"
    go = work / "go"
    procs = []
    for i in range(approvers):
        procs.append(subprocess.Popen(
            [sys.executable, __file__, "--role", "approver", "--db", db, "--out", str(work / f"approver{i}.jsonl"),
             "--go", str(go), "--name", f"approver{i}@bench", "--effects", str(work / "stop")],
            stdout=subprocess.PIPE, text=True))
    for i in range(agents):
        procs.append(subprocess.Popen(
            [sys.executable, __file__, "--role", "agent", "--db", db, "--out", str(work / f"agent{i}.jsonl"),
             "--effects", str(effects), "--go", str(go)],
            stdout=subprocess.PIPE, text=True))
    for p in procs:  # everyone has imported and opened the store: start together
        assert p.stdout is not None and p.stdout.readline().strip() == "READY"
    start = time.time()
    deadline = start + duration
    (work / "go.tmp").write_text(f"{deadline}\n")
    (work / "go.tmp").rename(go)  # atomic: a reader never sees half of it
    agent_procs, approver_procs = procs[approvers:], procs[:approvers]
    for p in agent_procs:
        p.wait(timeout=duration + 300)
    elapsed = time.time() - start
    (work / "stop").touch()  # every agent is done: nothing left to decide
    refused = 0
    for p in approver_procs:
        out, _ = p.communicate(timeout=30)
        refused += sum(int(line.split()[1]) for line in (out or "").splitlines() if line.startswith("REFUSED"))

    def lines(pattern: str) -> list[dict[str, Any]]:
        rows = []
        for f in sorted(work.glob(pattern)):
            rows += [json.loads(line) for line in f.read_text().splitlines() if line.strip()]
        return rows

    finished, decisions = lines("agent*.jsonl"), lines("approver*.jsonl")
    decided_at: dict[tuple[str, str], list[float]] = {}
    for d in decisions:
        decided_at.setdefault((d["run_id"], d["call_id"]), []).append(d["at"])
    runs = {(f["run_id"], f.get("call_id")): f for f in finished if "woke" in f}
    waits = sorted(f["woke"] - min(decided_at[k]) for k, f in runs.items() if k in decided_at)
    effect_lines = Counter(effects.read_text().splitlines()) if effects.exists() else Counter()
    store = open_store(db, recover=False)
    ledger_rows = Counter()
    completed = set()
    for summary in store.list_runs(limit=None):
        for e in store.ledger(summary.run_id):
            ledger_rows[(e.run_id, e.tool_call_id)] += 1
        if summary.status == "completed":
            completed.add(summary.run_id)
    ran = {k for k, f in runs.items() if f.get("ran") == "completed"}
    lost = sum(1 for k in ledger_rows if k[0] not in completed or k not in ran)
    double_exec = sum(1 for c in effect_lines.values() if c > 1)
    double_dec = sum(1 for c in ledger_rows.values() if c > 1) + sum(1 for v in decided_at.values() if len(v) > 1)
    store.close()
    return {
        "backend": name,
        "seconds": elapsed,
        "decisions": len(ledger_rows),
        "per_s": len(ledger_rows) / elapsed if elapsed else 0.0,
        "p50_ms": 1000 * statistics.median(waits) if waits else float("nan"),
        "p95_ms": 1000 * waits[max(0, int(0.95 * len(waits)) - 1)] if waits else float("nan"),
        "lost": lost,
        "double_exec": double_exec,
        "double_dec": double_dec,
        "races_refused": refused,
        "timeouts": sum(1 for f in finished if f.get("timeout")),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load per backend (default 60)")
    parser.add_argument("--agents", type=int, default=8)
    parser.add_argument("--approvers", type=int, default=3)
    parser.add_argument("--backends", default="postgres,sqlite")
    parser.add_argument("--role", choices=("agent", "approver"), help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--effects", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--go", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--name", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.role:
        if args.role == "agent":
            asyncio.run(agent_loop(args.db, args.out, args.effects, args.go))
        else:
            approver_loop(args.db, args.name, args.out, args.go, args.effects)
        return 0

    import pg_server

    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    print(f"{args.agents} agent processes, {args.approvers} approvers, {args.duration:g} s per backend; "
          f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores", flush=True)
    results = []
    server = None
    with tempfile.TemporaryDirectory(prefix="hitl-load-") as tmp:
        try:
            for backend in backends:
                if backend == "postgres":
                    server = server or pg_server.start()
                    db = server.new_database("load")
                else:
                    db = str(Path(tmp) / "sqlite" / "runs.db")
                results.append(run_backend(backend, db, Path(tmp) / backend, args.agents, args.approvers, args.duration))
                r = results[-1]
                print(f"  {backend}: done ({r['decisions']} decisions)", flush=True)
        finally:
            if server is not None:
                server.stop()
    print()
    print(f"{'backend':10} {'decisions':>9} {'per s':>7} {'p50 ms':>7} {'p95 ms':>7} {'lost':>5} {'2x exec':>8} "
          f"{'2x dec':>7} {'races':>6} {'timeouts':>8}")
    for r in results:
        print(f"{r['backend']:10} {r['decisions']:9d} {r['per_s']:7.1f} {r['p50_ms']:7.0f} {r['p95_ms']:7.0f} "
              f"{r['lost']:5d} {r['double_exec']:8d} {r['double_dec']:7d} {r['races_refused']:6d} {r['timeouts']:8d}")
    ok = all(r["lost"] == r["double_exec"] == r["double_dec"] == 0 for r in results)
    if len(results) == 2:
        a, b = results
        print(f"ratio decisions/s {a['backend']}/{b['backend']}: {a['per_s'] / b['per_s']:.2f}x; "
              f"p95 wake {a['backend']}/{b['backend']}: {a['p95_ms'] / b['p95_ms']:.2f}x; "
              f"lost/double all zero: {ok}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
