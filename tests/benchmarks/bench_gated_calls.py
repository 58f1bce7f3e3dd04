"""Many gated calls in one turn: approve them all, continue; the runtime and the store, headless.

The model (tests/chatserver.py, a real chat-completions server on 127.0.0.1, plain JSON, zero
latency) answers the prompt with N parallel calls of a gated tool, then with a final answer. The
agent is `tui.agent.Agent` + `OpenAIChat` + `RunStore` (a real SQLite file, `synchronous=FULL`).

Phases, timed separately:
- pause: `arun()` until the run pauses on the N calls (they are all stored);
- approve all: every call confirmed on the run object, then one `agent.save_decisions(run)`
  (the Agno style; the dashboard's "approve all" in the approvals pane);
- approve one by one: `apply_decision(..., Decision("approve"))` per call, each recorded at once
  (what the dashboard does per key press), on a second run;
- continue: `acontinue_run()` until the final answer (the N calls run).

Target: approve all + continue of 1,000 calls in under 2 s, and a store that grows linearly
(bytes per call about constant across N). `--before PYTHON` runs the same phases with another
interpreter (e.g. a checkout of the code before the change, `/work/main/.venv/bin/python`) and
prints both side by side; the last line is the speed-up.

    python tests/benchmarks/bench_gated_calls.py [--sizes 250,500,1000] [--variants all,one_by_one]
        [--before PYTHON] [--before-sizes 250,500]

To measure the code before the change: `git archive <commit> | tar -x -C /tmp/before`, then
`--before "env PYTHONPATH=/tmp/before python"` is not possible (one executable is expected), so
write a two-line wrapper script that sets PYTHONPATH and execs python, and pass its path.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TARGET_S = 2.0


def _db_bytes(folder: Path) -> int:
    """The store's size: the database file after folding the WAL into it (the WAL is scratch space)."""
    import sqlite3

    conn = sqlite3.connect(folder / "runs.db")
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return sum(p.stat().st_size for p in folder.glob("runs.db*"))


async def _measure(n: int, folder: Path, variants: tuple[str, ...] = ("all", "one_by_one")) -> dict[str, Any]:
    sys.path.insert(0, str(HERE.parent))
    from chatserver import ChatServer, call, text, tools

    from tui.agent import Agent, tool
    from tui.agent.decisions import Decision, apply_decision
    from tui.agent.models import OpenAIChat
    from tui.store import RunStore

    ran: list[str] = []

    @tool(requires_confirmation=True)
    def publish_post(title: str, body: str) -> str:
        """Publish a blog post.

        Args:
            title: The title.
            body: The text.
        """
        ran.append(title)
        return f"published {title}"

    out: dict[str, Any] = {"n": n}
    with ChatServer() as server:
        for variant in variants:
            db = folder / variant / "runs.db"
            db.parent.mkdir(parents=True, exist_ok=True)
            server.add(tools(*(call("publish_post", {"title": f"post {i}", "body": "x" * 100}, id=f"c{i}") for i in range(n))))
            server.add(text("All published."))
            model = OpenAIChat(id="bench", base_url=server.url, api_key="bench", stream=False, max_retries=0, timeout=120)
            agent = Agent(model=model, tools=[publish_post], store=RunStore(db))
            ran.clear()
            t0 = time.perf_counter()
            run = await agent.arun("publish them all")
            t1 = time.perf_counter()
            assert run.is_paused and len(run.pending_tools) == n, (run.status, run.error)
            paused_bytes = _db_bytes(db.parent)
            if variant == "all":
                for t in run.tools:
                    t.confirm()
                agent.save_decisions(run)
            else:
                for t in list(run.tools):
                    apply_decision(agent, run, t, Decision("approve"))
            t2 = time.perf_counter()
            done = await agent.acontinue_run(run)
            t3 = time.perf_counter()
            assert done.status.value == "completed", (done.status, done.error)
            assert len(ran) == n, len(ran)
            out[variant] = {
                "pause_s": t1 - t0,
                "decide_s": t2 - t1,
                "continue_s": t3 - t2,
                "paused_bytes": paused_bytes,
                "done_bytes": _db_bytes(db.parent),
            }
    return out


def _child(sizes: list[int], variants: tuple[str, ...]) -> None:
    results = []
    for n in sizes:
        with tempfile.TemporaryDirectory() as folder:
            results.append(asyncio.run(_measure(n, Path(folder), variants)))
    print("RESULTS " + json.dumps(results), flush=True)


def _run(python: str, sizes: list[int], variants: tuple[str, ...], cwd: Path | None = None) -> list[dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "HITL_TUI_"))}
    proc = subprocess.run(
        [python, str(Path(__file__).resolve()), "--child", ",".join(map(str, sizes)), "--variants", ",".join(variants)],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=3600,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULTS "):
            return json.loads(line[len("RESULTS "):])
    raise SystemExit(f"{python} failed:\n{proc.stderr[-3000:]}")


def _table(label: str, results: list[dict[str, Any]]) -> None:
    print(f"\n{label}")
    print(f"{'calls':>6} {'variant':>11} {'pause s':>8} {'decide s':>9} {'continue s':>11} {'decide+cont s':>14} {'KB paused':>10} {'KB done':>8} {'B/call':>7}")
    for r in results:
        for variant in ("all", "one_by_one"):
            if variant not in r:
                continue
            v = r[variant]
            total = v["decide_s"] + v["continue_s"]
            print(
                f"{r['n']:>6} {variant:>11} {v['pause_s']:>8.2f} {v['decide_s']:>9.2f} {v['continue_s']:>11.2f} "
                f"{total:>14.2f} {v['paused_bytes'] / 1024:>10.0f} {v['done_bytes'] / 1024:>8.0f} {v['done_bytes'] / r['n']:>7.0f}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="250,500,1000")
    parser.add_argument("--before", default=None, help="another interpreter to compare with (the code before)")
    parser.add_argument("--before-sizes", default=None, help="sizes for --before (default: --sizes)")
    parser.add_argument("--variants", default="all,one_by_one", help="all (one save_decisions), one_by_one (apply_decision per call)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    variants = tuple(args.variants.split(","))
    if args.child:
        _child([int(x) for x in args.child.split(",")], variants)
        return 0
    sizes = [int(x) for x in args.sizes.split(",")]
    print(f"load average: {os.getloadavg()[0]:.2f} (2-core machines: compare ratios from one run)")
    after = _run(sys.executable, sizes, variants)
    before_sizes = [int(x) for x in (args.before_sizes or args.sizes).split(",")]
    before = _run(args.before, before_sizes, variants, cwd=Path("/")) if args.before else []
    if before:
        _table(f"before ({args.before})", before)
    _table(f"after ({sys.executable})", after)
    big = after[-1]
    total = big["all"]["decide_s"] + big["all"]["continue_s"]
    print(f"\n{big['n']} gated calls, approve all + continue: {total:.2f} s (target < {TARGET_S:g} s: {'met' if total < TARGET_S else 'MISSED'})")
    per_call = [r["all"]["done_bytes"] / r["n"] for r in after]
    print(f"store growth, bytes per call across sizes: {', '.join(f'{b:.0f}' for b in per_call)} (linear if about constant)")
    same = [b for b in before if b["n"] == big["n"]]
    if same:
        old = same[0]["all"]["decide_s"] + same[0]["all"]["continue_s"]
        print(f"speed-up at {big['n']} calls (approve all + continue): {old / total:.1f}x ({old:.2f} s -> {total:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
