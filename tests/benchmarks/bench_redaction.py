"""Benchmark: redacting hostile 100 KB texts, against the 50 ms target; the old redactor beside it.

    .venv/bin/python tests/benchmarks/bench_redaction.py [--repeat 7] [--quick] [--before-timeout 60]

AFTER is `tui.store.redact.Redactor` as it is now: each hostile text at 10 KB, 40 KB and 100 KB,
the median of `--repeat` runs, and at 100 KB a whole run state holding the text twice (a tool
result and the tool message the model reads), as the store redacts it on save.

BEFORE is the redactor this project shipped until issue 9 (`f9ee009:tui/store/redact.py`, read
with `git show` and loaded as a module). Its patterns are quadratic on some inputs, so it runs only
at 10 KB and 40 KB (`--quick`: 10 KB only), once per text, each in a subprocess killed after
`--before-timeout` seconds (reported as `>N s`). Its 100 KB time is not measured; the last column
extrapolates it from its growth between 10 and 40 KB (`n^k`, k=1 linear, k=2 quadratic), marked `~`.

The texts are built to hurt a backtracking regex: long runs that almost match (`sk-sk-sk-...`,
`a_a_a_..._token=`), separators without values, quotes inside quotes, PEM headers without an
END line, and dense real matches (a redaction every few characters). Benign prose and JSON are
included for reference. Every figure is the CPU time of the redacting thread (`time.thread_time`),
so other work on a shared machine does not count; the load average is printed first. Not collected by pytest (the pytest config ignores tests/benchmarks).
"""

from __future__ import annotations

import argparse
import base64
import importlib.util
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[2]
BEFORE_REV = "f9ee009"
TARGET_MS = 50.0
KB = 1000


def hostile_texts(n: int) -> dict[str, str]:
    """Each text cut to exactly `n` characters (a unit repeated, or random data)."""
    rng = random.Random(7)

    def rep(unit: str, tail: str = "") -> str:
        body = unit * (n // len(unit) + 1)
        return (body[: n - len(tail)] + tail) if tail else body[:n]

    b64 = base64.b64encode(rng.randbytes(n)).decode()[:n]
    lines = "\n".join(base64.b64encode(rng.randbytes(30)).decode() for _ in range(n // 41 + 1))[:n]
    words = "the quick brown fox jumps over lazy dog and then returns a value from function list files".split()
    prose = " ".join(rng.choice(words) for _ in range(n // 4))[:n]
    doc = json.dumps([{"name": rng.choice(words), "count": i, "path": "/tmp/" + rng.choice(words)} for i in range(n // 40)])[:n]
    return {
        "sk- repeated": rep("sk-"),
        "a_a_a_a_... (a key name?)": rep("a_"),
        "key=key=...": rep("key="),
        "password=password=...": rep("password="),
        "one base64 word": b64,
        "base64, 40-char lines": lines,
        "nested escaped quotes": '{"token": "' + rep('\\"')[: n - 14] + '"}',
        "escaped keys, no values": rep('\\"password\\": \\"'),
        "://://://": rep("://"),
        "scheme://u:p@ (dense hits)": rep("b://u:p@"),
        "PEM headers, no END": rep("-----BEGIN RSA PRIVATE KEY-----\n"),
        "Bearer Bearer ...": rep("Bearer "),
        "token token ...": rep("token "),
        "eyJ. SG. AKIA hf_": rep("eyJ.SG.AKIA hf_ "),
        "sig=& (pairs, no values)": rep("sig=&"),
        "token=a, (dense hits)": rep("token=a,"),
        "AWS id + secret pairs": rep("AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY "),
        "prose (benign)": prose,
        "JSON (benign)": doc,
    }


def median_ms(fn: Callable[[], Any], repeat: int) -> float:
    """Median CPU time of this thread: on a shared machine, wall time mostly measures the neighbours."""
    samples = []
    for _ in range(repeat):
        started = time.thread_time()
        fn()
        samples.append((time.thread_time() - started) * 1000)
    return statistics.median(samples)


def run_state_with(text: str) -> dict[str, Any]:
    from tui.agent import Message, RunOutput, RunStatus, ToolExecution

    run = RunOutput(input="list the files", status=RunStatus.completed)
    t = ToolExecution(tool_call_id="call_1", tool_name="read_file", tool_args={"path": "notes.txt"}, result=text,
                      status="completed")
    run.tools.append(t)
    run.messages = [Message(role="user", content="list the files"),
                    Message(role="tool", tool_call_id="call_1", name="read_file", content=text)]
    return run.model_dump(mode="json")


# ----------------------------------------------------------------------------- before (subprocess)

_CHILD = """
import importlib.util, sys, time
spec = importlib.util.spec_from_file_location("old_redact", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
text = open(sys.argv[2], encoding="utf-8").read()
redactor = module.Redactor(include_environment=False)
started = time.thread_time()
redactor.text(text)
print((time.thread_time() - started) * 1000)
"""


def old_source(rev: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), "show", f"{rev}:tui/store/redact.py"], capture_output=True,
                          text=True, check=True).stdout


def before_ms(module_path: Path, text: str, timeout: float, scratch: Path) -> float | None:
    """One run of the old redactor in a fresh interpreter; None when it ran past `timeout`."""
    data = scratch / "text.txt"
    data.write_text(text, encoding="utf-8")
    try:
        done = subprocess.run([sys.executable, "-c", _CHILD, str(module_path), str(data)], capture_output=True,
                              text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return None
    return float(done.stdout.strip())


def extrapolate(t10: float | None, t40: float | None, args: argparse.Namespace) -> str:
    """The old redactor at 100 KB, from how it grew between 10 and 40 KB (t ~ n^k)."""
    if args.quick:
        return "n/a"
    if t40 is None:  # cut off at 40 KB: at least the timeout, grown at least linearly
        return f">{args.before_timeout * 2.5:.0f} s"
    k = math.log(max(t40, 1e-6) / max(t10 or 1e-6, 1e-6)) / math.log(4)
    return f"~{fmt(t40 * 2.5 ** max(k, 1.0), 0)} (n^{k:.1f})"


def fmt(ms: float | None, timeout: float) -> str:
    if ms is None:
        return f">{timeout:.0f} s"
    return f"{ms / 1000:.1f} s" if ms >= 1000 else f"{ms:.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per AFTER figure (median)")
    parser.add_argument("--quick", action="store_true", help="BEFORE at 10 KB only")
    parser.add_argument("--before-timeout", type=float, default=60.0, help="seconds before a BEFORE run is cut off")
    parser.add_argument("--before-rev", default=BEFORE_REV, help="git revision holding the old redactor")
    args = parser.parse_args()

    from tui.store.redact import Redactor

    print(f"load average {os.getloadavg()[0]:.2f}; Python {sys.version.split()[0]}; target {TARGET_MS:.0f} ms per 100 KB")
    after = Redactor(include_environment=False)
    sizes = (10 * KB, 40 * KB, 100 * KB)
    texts = {size: hostile_texts(size) for size in sizes}
    before_sizes = (10 * KB,) if args.quick else (10 * KB, 40 * KB)

    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        old_path = scratch / "old_redact.py"
        old_path.write_text(old_source(args.before_rev), encoding="utf-8")

        header = (f"{'text':28} {'before 10K':>10} {'after 10K':>9} {'before 40K':>10} {'after 40K':>9} "
                  f"{'after 100K':>10} {'run state':>9} {'target':>7} {'before 100K':>18}")
        print("times in ms (median of %d for after; one run for before)" % args.repeat)
        print(header)
        print("-" * len(header))
        worst_after, worst_case = 0.0, ""
        ratios: list[float] = []
        for name in texts[100 * KB]:
            row: dict[str, str] = {}
            b: dict[int, float | None] = {}
            for size in sizes:
                ms = median_ms(lambda: after.text(texts[size][name]), args.repeat)
                row[f"after{size}"] = f"{ms:.1f}"
                if size == 100 * KB:
                    a100 = ms
                    if ms > worst_after:
                        worst_after, worst_case = ms, name
                if size in before_sizes:
                    b[size] = before_ms(old_path, texts[size][name], args.before_timeout, scratch)
                    if b[size] is not None and size == before_sizes[-1] and ms > 0:
                        ratios.append(b[size] / ms)  # type: ignore[operator]
            state = run_state_with(texts[100 * KB][name])
            state_ms = median_ms(lambda: after.run_state(state), args.repeat)
            extrapolated = extrapolate(b.get(10 * KB), b.get(40 * KB), args)
            print(
                f"{name:28} {fmt(b.get(10 * KB), args.before_timeout):>10} {row[f'after{10 * KB}']:>9} "
                f"{(fmt(b.get(40 * KB), args.before_timeout) if 40 * KB in before_sizes else '-'):>10} "
                f"{row[f'after{40 * KB}']:>9} {row[f'after{100 * KB}']:>10} {state_ms:>9.1f} "
                f"{'met' if a100 < TARGET_MS else 'MISSED':>7} {extrapolated:>18}",
                flush=True,
            )
    size = before_sizes[-1] // KB
    print(f"worst after at 100 KB: {worst_after:.1f} ms ({worst_case}) vs target {TARGET_MS:.0f} ms: "
          f"{'met' if worst_after < TARGET_MS else 'MISSED'}; ratio {worst_after / TARGET_MS:.2f} of the target")
    if ratios:
        print(f"before/after at {size} KB: median {statistics.median(ratios):.0f}x, max {max(ratios):.0f}x")
    return 0 if worst_after < TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
