"""Import cost: `import tui.agent` vs `import agno.agent`, each in a fresh interpreter.

Every sample is a new `python` process that times the import statement itself (perf_counter
around it, so interpreter start-up is excluded) and reports it; rows are interleaved sample by
sample and the medians of N samples are printed. A second pair of rows times what an Agno HITL
example imports (Agent, tool, OpenAIChat) against the same lines for hitl-tui, and a third the
whole process (`python -c "import X"`, wall clock, start-up included) for the main pair.

Bytecode: the project's environment sets PYTHONDONTWRITEBYTECODE=1, which would make every
hitl-tui sample compile its sources while Agno's wheel ships .pyc files. The samples therefore
run with a private PYTHONPYCACHEPREFIX (a temp dir, warmed once), so both sides load cached
bytecode, as after a normal `pip install`.

    python tests/benchmarks/bench_import.py [-n 15] [--why]

`--why` adds the ten slowest modules (self time, `-X importtime`) under `import tui.agent`.
Target: hitl-tui under half of Agno's. The last line is the ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

CASES: dict[str, tuple[str, str]] = {
    "import tui.agent | agno.agent": ("import tui.agent", "import agno.agent"),
    "HITL example imports": (
        "from tui.agent import Agent, tool\nfrom tui.agent.models import OpenAIChat",
        "from agno.agent import Agent\nfrom agno.tools import tool\nfrom agno.models.openai import OpenAIChat",
    ),
}

PROBE = "import time\nt0 = time.perf_counter()\n{code}\nprint(time.perf_counter() - t0)"


def environment(prefix: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "PYTHONDONTWRITEBYTECODE"))}
    env["PYTHONPYCACHEPREFIX"] = prefix
    env["AGNO_TELEMETRY"] = "false"
    return env


def timed_import(code: str, env: dict[str, str]) -> float:
    out = subprocess.run([sys.executable, "-c", PROBE.format(code=code)], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def process_wall(code: str, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)
    return time.perf_counter() - t0


def why(env: dict[str, str], top: int = 10) -> list[tuple[int, int, str]]:
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import tui.agent"], env=env, capture_output=True, text=True, check=True)
    rows = []
    for line in out.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cum_us, name = line[len("import time:"):].split("|", 2)
        rows.append((int(self_us), int(cum_us), name.strip()))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=15, help="samples per row (default 15)")
    ap.add_argument("--why", action="store_true", help="list the slowest modules under import tui.agent")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-import-pyc-") as prefix:
        env = environment(prefix)
        for ours, theirs in CASES.values():  # warm-up: compile into the private bytecode cache
            timed_import(ours, env)
            timed_import(theirs, env)
        samples: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in CASES}
        walls: tuple[list[float], list[float], list[float]] = ([], [], [])
        main_ours, main_theirs = CASES["import tui.agent | agno.agent"]
        for i in range(args.n):
            for name, (ours, theirs) in CASES.items():
                pair = [(0, ours), (1, theirs)]
                for side, code in pair if i % 2 == 0 else pair[::-1]:
                    samples[name][side].append(timed_import(code, env))
            walls[0].append(process_wall("pass", env))
            walls[1].append(process_wall(main_ours, env))
            walls[2].append(process_wall(main_theirs, env))
        slowest = why(env) if args.why else []

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Import cost, fresh interpreter per sample, median of {args.n}; {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, load {load:.1f}")
    print(f"{'':34} {'hitl-tui ms':>12} {'agno ms':>9} {'ratio':>7}")
    ratio = 0.0
    for name, (ours, theirs) in samples.items():
        a, b = statistics.median(ours), statistics.median(theirs)
        r = a / b
        if name.startswith("import tui.agent"):
            ratio = r
        print(f"  {name:<32} {a*1e3:12.1f} {b*1e3:9.1f} {r:7.2f}")
    empty = statistics.median(walls[0])
    a, b = statistics.median(walls[1]), statistics.median(walls[2])
    print(f"  {'whole process, python -c import':<32} {a*1e3:12.1f} {b*1e3:9.1f} {a/b:7.2f}   (python -c pass: {empty*1e3:.1f} ms)")
    print(f"  {'whole process minus start-up':<32} {(a-empty)*1e3:12.1f} {(b-empty)*1e3:9.1f} {(a-empty)/(b-empty):7.2f}")
    if slowest:
        print()
        print("slowest modules under `import tui.agent` (self ms, cumulative ms):")
        for self_us, cum_us, name in slowest:
            print(f"  {self_us/1e3:7.1f} {cum_us/1e3:8.1f}  {name}")
    print()
    print(f"RATIO import tui.agent / import agno.agent: {ratio:.2f} (target < 0.50: {'MET' if ratio < 0.5 else 'MISSED'})")


if __name__ == "__main__":
    main()
