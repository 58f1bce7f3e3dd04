"""MCP costs, measured side by side in one run.

1. `import tui.agent.mcp` vs `import tui.agent` (fresh interpreters, medians): the SDK is not
   loaded until a server starts, so the dashboard's start-up does not pay for it.
2. Start-up of the test notes server over stdio (connect + tools/list), median of N.
3. One tool call: the SDK's `Client.call_tool` directly vs `MCPTools.call_tool` (the wrapper the
   agent uses: the race against a dying server, result to text), same server, interleaved.

    python tests/benchmarks/bench_mcp.py [-n 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOTES = HERE.parent / "mcp_support" / "notes_server.py"
PROBE = "import time\nt0 = time.perf_counter()\nimport {name}\nprint(time.perf_counter() - t0)"


def import_time(name: str, samples: int) -> float:
    times = []
    for _ in range(samples):
        out = subprocess.run([sys.executable, "-c", PROBE.format(name=name)], capture_output=True, text=True, check=True)
        times.append(float(out.stdout))
    return statistics.median(times)


async def calls(n: int) -> None:
    from mcp import Client, StdioServerParameters

    from tui.agent.mcp import MCPTools

    starts = []
    for _ in range(5):
        t0 = time.perf_counter()
        async with MCPTools(command=f"{sys.executable} {NOTES}"):
            starts.append(time.perf_counter() - t0)
    print(f"notes server start (connect + tools/list), median of 5: {statistics.median(starts) * 1000:.0f} ms")

    params = StdioServerParameters(command=sys.executable, args=[str(NOTES)])
    async with Client(params) as raw, MCPTools(command=f"{sys.executable} {NOTES}") as wrapped:
        raw_t, wrapped_t = [], []
        for i in range(n):
            t0 = time.perf_counter()
            await raw.call_tool("add", {"a": i, "b": 1})
            raw_t.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            await wrapped.call_tool("add", {"a": i, "b": 1})
            wrapped_t.append(time.perf_counter() - t0)
    r, w = statistics.median(raw_t) * 1000, statistics.median(wrapped_t) * 1000
    print(f"tools/call median over {n}: SDK Client {r:.2f} ms | MCPTools {w:.2f} ms | ratio {w / r:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=200)
    args = parser.parse_args()
    a, m = import_time("tui.agent", 9), import_time("tui.agent.mcp", 9)
    print(f"import tui.agent {a * 1000:.1f} ms | import tui.agent.mcp {m * 1000:.1f} ms (includes tui.agent)")
    sdk = import_time("mcp", 9)
    print(f"import mcp (the SDK, paid when a server starts) {sdk * 1000:.1f} ms")
    asyncio.run(calls(args.n))


if __name__ == "__main__":
    main()
