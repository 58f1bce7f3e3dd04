"""What waiting for a person costs a headless agent, and how soon it wakes after a decision.

A real agent process pauses on a gated call and waits with `agent.wait_for_decisions(run)`
(poll interval 0.1 s by default). This script, as the deciding process, lets it wait WAIT seconds,
reads the waiter's CPU time from /proc (so the figure is the waiter's own, not ours), then records
a decision with `RunStore.decide` and times the waiter's wake-up (the moment it prints `DECIDED`).
Repeated ROUNDS times; medians printed. Baseline in the same run: the same process idling in
`asyncio.sleep` for WAIT seconds (the floor of any waiting).

Targets (issue 10): wakes within ~200 ms of a decision; costs next to nothing while waiting.

    python tests/benchmarks/bench_inbox_wait.py [--rounds 5] [--wait 5] [--poll 0.1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TICKS = os.sysconf("SC_CLK_TCK")

WAITER = textwrap.dedent(
    """
    import asyncio, sys
    from tui.agent import Agent, tool
    from tui.agent.models import DemoModel
    from tui.store import RunStore

    @tool(requires_confirmation=True)
    def publish_post(title: str) -> str:
        "Publish a post."
        return "published"

    async def main():
        agent = Agent(model=DemoModel(delay=0), tools=[publish_post], store=RunStore(sys.argv[1]))
        if sys.argv[2] == "idle":
            print("PAUSED", flush=True)
            await asyncio.sleep(float(sys.argv[3]) + 30)
            return
        run = await agent.arun('call publish_post {"title": "x"}')
        print("PAUSED", run.run_id, flush=True)
        await agent.wait_for_decisions(run, poll_interval=float(sys.argv[3]))
        print("DECIDED", flush=True)

    asyncio.run(main())
    """
)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def one_round(db: Path, mode: str, wait: float, poll: float) -> tuple[float, float | None]:
    from tui.store import RunStore

    proc = subprocess.Popen(
        [sys.executable, "-c", WAITER, str(db), mode, str(poll)],
        stdout=subprocess.PIPE, text=True, cwd=REPO,
    )
    assert proc.stdout is not None
    proc.stdout.readline()  # PAUSED
    start = cpu_seconds(proc.pid)
    time.sleep(wait)
    used = cpu_seconds(proc.pid) - start
    latency = None
    if mode == "wait":
        store = RunStore(db)
        [request] = store.pending_requests()
        decided = time.monotonic()
        store.decide(request.id, "approve", approver="bench")
        proc.stdout.readline()  # DECIDED
        latency = time.monotonic() - decided
        store.close()
    proc.kill()
    proc.wait()
    return used, latency


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--wait", type=float, default=5.0)
    parser.add_argument("--poll", type=float, default=0.1)
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.2f}; {args.rounds} rounds of {args.wait:g} s; poll {args.poll:g} s")
    idle, waiting, wakes = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.rounds):
            used, _ = one_round(Path(tmp) / f"idle{i}.db", "idle", args.wait, args.poll)
            idle.append(used / args.wait)
            used, latency = one_round(Path(tmp) / f"wait{i}.db", "wait", args.wait, args.poll)
            waiting.append(used / args.wait)
            wakes.append(latency or 0.0)
    med = statistics.median
    print(f"{'':34} {'CPU while waiting':>18}")
    print(f"{'asyncio.sleep (floor)':34} {med(idle) * 100:>17.2f}%")
    print(f"{'wait_for_decisions':34} {med(waiting) * 100:>17.2f}%")
    print(f"wake-up after a decision: median {med(wakes) * 1000:.0f} ms, max {max(wakes) * 1000:.0f} ms (target < 200 ms)")
    print(f"CPU while waiting: {med(waiting) * 100:.2f}% of one core (floor {med(idle) * 100:.2f}%)")


if __name__ == "__main__":
    main()
