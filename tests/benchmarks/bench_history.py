"""Benchmark: history listing and filtering at 10,000 runs and 100,000 ledger rows.

    .venv/bin/python tests/benchmarks/bench_history.py [--runs 10000] [--repeat 31]

Seeds a temporary database through the store's own `save_run` (10 decided tool calls per run; the
ledger rows are bulk-inserted with plain SQL, as replaying 100,000 `record_decision` calls would
only measure seeding). Then, in the same process and against the same file, it times each store
query and a plain `SELECT` returning the same rows (same columns, order and limit, no pydantic),
and prints the medians and the ratio. The ratio is the overhead of the store's API over SQLite
itself; the absolute times say whether the UI can afford to re-query on every keystroke.
Not collected by pytest (the pytest config ignores tests/benchmarks).
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

from tui.agent import Message, RunOutput, RunStatus, ToolExecution
from tui.agent.run import utcnow
from tui.store import RunStore

WORDS = (
    "fetch summarise email report weekly notes calendar invoice deploy review draft plan budget team "
    "meeting release bug ticket customer metrics dashboard backup archive translate schedule"
).split()
TOOLS = ["get_top_hackernews_stories", "send_email", "write_file", "read_file", "run_shell_command",
         "list_workspace", "publish_post", "create_ticket"]
DECISIONS = [("approved", "user"), ("edited", "user"), ("rejected", "user"), ("auto_allowed", "session-allow"),
             ("auto_allowed", "rule:safe-reads"), ("input_provided", "user"), ("result_provided", "user")]
NEEDLE = "kubernetes"  # in 1% of prompts: a selective text filter


def make_run(i: int, rng: random.Random, base: Any) -> RunOutput:
    words = rng.sample(WORDS, 6)
    if i % 100 == 0:
        words.insert(3, NEEDLE)
    prompt = " ".join(words).capitalize()
    when = base + timedelta(seconds=i * 7)
    status = rng.choices(["completed", "paused", "error", "cancelled"], [90, 4, 4, 2])[0]
    run = RunOutput(input=prompt, session_id=f"ses_{i // 5:06d}", model="gpt-4o-mini", created_at=when,
                    updated_at=when + timedelta(seconds=5), status=RunStatus(status), turns=2)
    calls = []
    for k in range(10):
        name = rng.choice(TOOLS)
        args = {"query": " ".join(rng.sample(WORDS, 3)), "n": rng.randint(1, 20)}
        t = ToolExecution(tool_call_id=f"call_{i}_{k}", tool_name=name, tool_args=args, proposed_args=dict(args),
                          turn=1, requires_confirmation=True, created_at=when)
        decision, _ = DECISIONS[(i + k) % len(DECISIONS)]
        if decision == "rejected":
            t.reject("not now")
            t.status = "rejected"
        else:
            t.confirm()
            t.status = "completed"
            t.executed_args = dict(args)
            t.result = json.dumps([{"title": f"result {j}", "score": j} for j in range(3)])
        run.tools.append(t)
        calls.append({"id": t.tool_call_id, "type": "function", "function": {"name": name, "arguments": json.dumps(args)}})
    run.messages = [Message(role="user", content=prompt), Message(role="assistant", content="", tool_calls=calls)]
    run.messages += [Message(role="tool", tool_call_id=t.tool_call_id, name=t.tool_name, content=t.result) for t in run.tools]
    run.messages.append(Message(role="assistant", content="Done: " + " ".join(rng.sample(WORDS, 12))))
    return run


def seed(db: Path, n_runs: int) -> tuple[float, int]:
    rng = random.Random(42)
    base = utcnow() - timedelta(days=30)
    started = time.perf_counter()
    store = RunStore(db, synchronous="OFF", recover=False)
    ledger_rows = []
    batch = 500
    for first in range(0, n_runs, batch):
        runs = [make_run(i, rng, base) for i in range(first, min(n_runs, first + batch))]
        with store.batch():
            for run in runs:
                store.save_run(run)
        for i, run in enumerate(runs, first):
            for k, t in enumerate(run.tools):
                decision, by = DECISIONS[(i + k) % len(DECISIONS)]
                ts = t.created_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                ledger_rows.append((run.run_id, t.tool_call_id, t.tool_name, decision, t.confirmation_note, by, ts,
                                    json.dumps(t.proposed_args), json.dumps(t.tool_args),
                                    json.dumps(t.executed_args) if t.executed_args else None, ts))
    store.close()
    with sqlite3.connect(db) as conn:
        conn.executemany(
            "INSERT INTO decisions (run_id, tool_call_id, tool_name, decision, note, decided_by, decided_at,"
            " proposed_args, decision_args, executed_args, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ledger_rows,
        )
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return time.perf_counter() - started, len(ledger_rows)


def median_ms(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    result = fn()  # warm the page cache and the statement cache
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples), result


COLUMNS = ("r.run_id, r.session_id, r.created_at, r.updated_at, r.input, r.model, r.status, r.tool_count,"
           " r.rejection_count, r.pending_count, r.error")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=31)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "runs.db"
        seconds, n_ledger = seed(db, args.runs)
        store = RunStore(db)
        plain = sqlite3.connect(db)
        size_mb = sum(p.stat().st_size for p in Path(tmp).glob("runs.db*")) / 1e6
        print(f"seeded {store.count_runs():,} runs, {n_ledger:,} ledger rows, "
              f"{args.runs * 10:,} tool rows in {seconds:.1f} s ({size_mb:.0f} MB); "
              f"median of {args.repeat} timings each, SQLite {sqlite3.sqlite_version}, Python {sys.version.split()[0]}")
        print()

        rows: list[tuple[str, float, float, int]] = []

        def compare(label: str, api: Callable[[], list[Any]], sql: str, params: tuple[Any, ...] = ()) -> None:
            api_ms, api_result = median_ms(api, args.repeat)
            sql_ms, sql_result = median_ms(lambda: plain.execute(sql, params).fetchall(), args.repeat)
            assert [r.run_id for r in api_result] == [r[0] for r in sql_result], label  # the same rows
            rows.append((label, api_ms, sql_ms, len(api_result)))

        order = "ORDER BY r.updated_at DESC, r.rowid DESC LIMIT 200"
        compare("list_runs() first page", lambda: store.list_runs(), f"SELECT {COLUMNS} FROM runs r {order}")
        compare(f"list_runs(text={NEEDLE!r})", lambda: store.list_runs(text=NEEDLE),
                f"SELECT {COLUMNS} FROM runs r WHERE r.input LIKE ? ESCAPE '\\' {order}", (f"%{NEEDLE}%",))
        compare("list_runs(text='report')", lambda: store.list_runs(text="report"),
                f"SELECT {COLUMNS} FROM runs r WHERE r.input LIKE ? ESCAPE '\\' {order}", ("%report%",))
        compare("list_runs(status='paused')", lambda: store.list_runs(status="paused"),
                f"SELECT {COLUMNS} FROM runs r WHERE r.status = ? {order}", ("paused",))
        compare("list_runs(tool='create_ticket')", lambda: store.list_runs(tool="create_ticket"),
                f"SELECT {COLUMNS} FROM runs r WHERE EXISTS (SELECT 1 FROM tool_executions t WHERE"
                f" t.run_id = r.run_id AND t.tool_name = ?) {order}", ("create_ticket",))

        print(f"{'query':<34} {'store API':>10} {'plain SQL':>10} {'ratio':>7} {'rows':>6}")
        for label, api_ms, sql_ms, n in rows:
            print(f"{label:<34} {api_ms:>8.2f}ms {sql_ms:>8.2f}ms {api_ms / sql_ms:>6.1f}x {n:>6}")

        other = store.list_runs(limit=1, offset=args.runs // 2)[0].run_id
        extras = [
            ("count_runs()", lambda: store.count_runs()),
            ("count_runs(text='report')", lambda: store.count_runs(text="report")),
            ("ledger(run_id) (10 rows)", lambda: store.ledger(other)),
            ("load_run(run_id)", lambda: store.load_run(other)),
            ("recover() (nothing to do)", lambda: store.recover()),
        ]
        print()
        for label, fn in extras:
            print(f"{label:<34} {median_ms(fn, args.repeat)[0]:>8.2f}ms")
        run = store.load_run(other)
        assert run is not None
        save_ms = median_ms(lambda: store.save_run(run), 11)[0]
        print(f"{'save_run() (10 tools, FULL sync)':<34} {save_ms:>8.2f}ms")
        with RunStore(db, synchronous="NORMAL", recover=False) as normal:
            normal_ms = median_ms(lambda: normal.save_run(run), 11)[0]
        print(f"{'save_run() (10 tools, NORMAL sync)':<34} {normal_ms:>8.2f}ms")

        first, text = rows[0], rows[1]
        print()
        print(f"ratio store/plain SELECT: first page {first[1] / first[2]:.1f}x "
              f"({first[1]:.2f} vs {first[2]:.2f} ms), text filter {text[1] / text[2]:.1f}x "
              f"({text[1]:.2f} vs {text[2]:.2f} ms)")
        plain.close()
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
