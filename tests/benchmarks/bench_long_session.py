"""One HITL cycle late in a long session (the whole session is the context) vs plain httpx + json.

A cycle is prompt -> gated tool call -> pause -> confirm -> continue -> final answer: two
requests, each carrying every earlier message of the session. After WARM cycles of history
(default 200), the two sides alternate, one cycle each, for SAMPLES cycles:

- hitl-tui: `Agent` + `OpenAIChat` (defaults: `arun()` makes plain requests) in one session;
- floor: `httpx.AsyncClient` posting `json.dumps` of the same growing message list (the same
  two requests per cycle, the same tool schema), parsing the reply with `json.loads`.

Both lists grow by the same four messages per cycle, so both sides send the same bytes. The
server is `_chat.py` in its own process (zero latency, one write per response). The last line
is the ratio of medians, hitl-tui / floor (target <= 2).

    python tests/benchmarks/bench_long_session.py [--history 200] [--samples 30] [--profile]

`--profile` runs pyinstrument over hitl-tui's sampled cycles instead (where the time goes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Awaitable, Callable

for _var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
    os.environ.pop(_var, None)

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _chat import FINAL  # noqa: E402
from bench_hitl_cycle import PROMPT, TOOL_SCHEMA, Server, get_weather  # noqa: E402


def make_tui(url: str) -> tuple[Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]]:
    from tui.agent import Agent, tool
    from tui.agent.models import OpenAIChat

    model = OpenAIChat(id="test-model", base_url=url, api_key="x", max_retries=0)
    agent = Agent(model=model, tools=[tool(requires_confirmation=True)(get_weather)])

    async def cycle() -> None:
        run = await agent.arun(PROMPT)
        assert run.is_paused, (run.status, run.error)
        for t in run.tools_requiring_confirmation:
            t.confirm()
        run = await agent.acontinue_run(run_response=run)
        assert run.content == FINAL, (run.status, run.error, run.content)

    return cycle, model.aclose


def make_floor(url: str) -> tuple[Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]]:
    import httpx

    client = httpx.AsyncClient(base_url=url, headers={"Authorization": "Bearer x"})
    messages: list[dict[str, Any]] = []

    async def ask() -> dict[str, Any]:
        body = json.dumps({"model": "test-model", "messages": messages, "tools": [TOOL_SCHEMA]}).encode()
        r = await client.post("/chat/completions", content=body, headers={"Content-Type": "application/json"})
        r.raise_for_status()
        return json.loads(r.content)["choices"][0]["message"]

    async def cycle() -> None:
        messages.append({"role": "user", "content": PROMPT})
        m = await ask()
        calls = m["tool_calls"]
        result = get_weather(**json.loads(calls[0]["function"]["arguments"]))
        messages.append({"role": "assistant", "content": None, "tool_calls": calls})
        messages.append({"role": "tool", "tool_call_id": calls[0]["id"], "content": result})
        m = await ask()
        assert m["content"] == FINAL
        messages.append({"role": "assistant", "content": m["content"]})

    return cycle, client.aclose


async def measure(url: str, history: int, samples: int, profile: bool) -> dict[str, list[float]]:
    tui, close_tui = make_tui(url)
    floor, close_floor = make_floor(url)
    t0 = time.perf_counter()
    for _ in range(history):  # build both sessions, alternating
        await tui()
        await floor()
    print(f"built {history} cycles of history on both sides in {time.perf_counter() - t0:.1f} s", flush=True)
    times: dict[str, list[float]] = {"hitl-tui": [], "floor: httpx + json": []}
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(async_mode="disabled")
    for i in range(samples):
        order = [("hitl-tui", tui), ("floor: httpx + json", floor)]
        if i % 2:
            order.reverse()
        for name, cycle in order:
            if profiler is not None and name == "hitl-tui":
                profiler.start()
            c0 = time.perf_counter()
            await cycle()
            times[name].append(time.perf_counter() - c0)
            if profiler is not None and name == "hitl-tui":
                profiler.stop()
    await close_tui()
    await close_floor()
    if profiler is not None:
        print(profiler.output_text(unicode=False, color=False, show_all=False))
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--history", type=int, default=200, help="cycles of session history before sampling (default 200)")
    ap.add_argument("--samples", type=int, default=30, help="sampled cycles per side, alternating (default 30)")
    ap.add_argument("--profile", action="store_true", help="pyinstrument hitl-tui's sampled cycles")
    args = ap.parse_args()
    server = Server()
    try:
        times = asyncio.run(measure(server.url, args.history, args.samples, args.profile))
    finally:
        server.stop()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"One HITL cycle (2 requests) after {args.history} cycles of session history; {args.samples} samples per side,"
        f" alternating; {os.cpu_count()} CPUs, load {load:.1f}, Python {sys.version.split()[0]}"
    )
    for name, values in times.items():
        print(f"  {name:<22} p50 {statistics.median(values)*1e3:8.2f} ms   min {min(values)*1e3:8.2f} ms   max {max(values)*1e3:8.2f} ms")
    ratio = statistics.median(times["hitl-tui"]) / statistics.median(times["floor: httpx + json"])
    verdict = "MET" if ratio <= 2 else "MISSED"
    print(f"RATIO hitl-tui/floor per cycle at {args.history} cycles of history: {ratio:.2f} (target <= 2: {verdict})")


if __name__ == "__main__":
    main()
