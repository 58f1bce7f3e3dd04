"""One human-in-the-loop cycle, hitl-tui's runtime vs Agno's agent, against the same local server.

A cycle is: prompt -> the model calls a gated tool -> the run pauses -> the tool is confirmed ->
the run continues, the tool runs -> the model's final answer. The server (`_chat.py`, a separate
process) answers at once with the same scripted replies for every runtime, so what is left is
each runtime's own overhead.

Rows (per cycle, median over ROUNDS rounds of CYCLES cycles, all in one run, interleaved):
- floor: a raw `openai.AsyncOpenAI` client (one client, reused) sending the same two requests;
  the least any runtime built on the openai client can spend. Overhead = cycle - floor.
- raw openai, new client per request: informational (what opening a client per request costs).
- hitl-tui: `tui.agent.Agent` + `tui.agent.models.OpenAIChat` + `@tool(requires_confirmation=True)`,
  three ways: `arun()` with the model's defaults (the issue's first row: before, this streamed),
  `OpenAIChat(stream=False)` with `arun()`, and `arun(stream=True)` (the streaming variant).
- agno: `agno.agent.Agent` + `agno.models.openai.OpenAIChat` + `agno.tools.tool(...)` (3.x API:
  `run.active_requirements[i].confirm()`, then `acontinue_run(run_response=run, requirements=...)`).

Both runtimes start each cycle in a fresh session (Agno adds no history by default; hitl-tui
always sends the session's earlier turns), so both send the model the same two requests.
Variants: non-streaming (`arun()`; the floor and Agno make plain JSON requests) and streaming
(`arun(stream=True)`, SSE from the server). Target: hitl-tui's overhead <= 1/3 of Agno's in every
row, on the median cycle (p50). The last line is the worst ratio.

    python tests/benchmarks/bench_hitl_cycle.py [--cycles 200] [--rounds 5] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Awaitable, Callable

os.environ.setdefault("AGNO_TELEMETRY", "false")
for _var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
    os.environ.pop(_var, None)

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _chat import FINAL, TOOL_NAME  # noqa: E402

PROMPT = "What is the weather in Oslo?"
CALLS = {"n": 0}
#: Clients to close on the loop that used them, before it closes (else they warn at exit).
CLOSERS: list[Callable[[], Awaitable[Any]]] = []


async def close_clients() -> None:
    while CLOSERS:
        try:
            await CLOSERS.pop()()
        except Exception:
            pass


def get_weather(city: str) -> str:
    """Get the current weather for a city.

    Args:
        city: The city to look up.
    """
    CALLS["n"] += 1
    return f"Sunny in {city}, 21 degrees."


TOOL_SCHEMA = {
    "type": "function",
    "function": {
        "name": TOOL_NAME,
        "description": "Get the current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "The city to look up."}},
            "required": ["city"],
        },
    },
}


# ----------------------------------------------------------------------------- server


class Server:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "_chat.py")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        line = self.proc.stdout.readline().split()
        assert line and line[0] == "PORT", line
        self.root = f"http://127.0.0.1:{line[1]}"
        self.url = f"{self.root}/v1"

    def stats(self) -> dict[str, float]:
        with urllib.request.urlopen(f"{self.root}/stats") as r:
            return json.loads(r.read())

    def reset(self) -> None:
        urllib.request.urlopen(urllib.request.Request(f"{self.root}/reset", data=b"{}", method="POST")).read()

    def stop(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(5)


# ----------------------------------------------------------------------------- the contenders


def make_floor(url: str, stream: bool, fresh: bool) -> Callable[[int], Awaitable[None]]:
    from openai import AsyncOpenAI

    shared = AsyncOpenAI(base_url=url, api_key="x", max_retries=0)
    CLOSERS.append(shared.close)

    async def ask(messages: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
        client = AsyncOpenAI(base_url=url, api_key="x", max_retries=0) if fresh else shared
        try:
            params = {"model": "test-model", "messages": messages, "tools": [TOOL_SCHEMA]}
            if not stream:
                m = (await client.chat.completions.create(**params)).choices[0].message
                calls = [{"id": c.id, "type": "function", "function": {"name": c.function.name, "arguments": c.function.arguments}} for c in m.tool_calls or []]
                return m.content or "", calls
            text, calls = "", {}
            async for ch in await client.chat.completions.create(**params, stream=True):
                for choice in ch.choices:
                    d = choice.delta
                    text += d.content or ""
                    for tc in d.tool_calls or []:
                        e = calls.setdefault(tc.index, {"id": tc.id, "type": "function", "function": {"name": "", "arguments": ""}})
                        if tc.function.name:
                            e["function"]["name"] = tc.function.name
                        e["function"]["arguments"] += tc.function.arguments or ""
            return text, list(calls.values())
        finally:
            if fresh:
                await client.close()

    async def cycle(i: int) -> None:
        messages: list[dict[str, Any]] = [{"role": "user", "content": PROMPT}]
        _, calls = await ask(messages)
        args = json.loads(calls[0]["function"]["arguments"])
        result = get_weather(**args)  # "confirmed"
        messages.append({"role": "assistant", "content": None, "tool_calls": calls})
        messages.append({"role": "tool", "tool_call_id": calls[0]["id"], "content": result})
        text, _ = await ask(messages)
        assert text == FINAL, text

    return cycle


def make_tui(url: str, stream: bool, model_stream: bool | None = None) -> Callable[[int], Awaitable[None]]:
    """hitl-tui; `stream`: the caller streams (`arun(stream=True)`); `model_stream`: `OpenAIChat(stream=...)`
    (None: the default, not passed)."""
    from tui.agent import Agent, tool
    from tui.agent.models import OpenAIChat

    options: dict[str, Any] = {} if model_stream is None else {"stream": model_stream}
    model = OpenAIChat(id="test-model", base_url=url, api_key="x", max_retries=0, **options)
    agent = Agent(model=model, tools=[tool(requires_confirmation=True)(get_weather)])

    async def cycle(i: int) -> None:
        sid = f"tui-{i}-{time.perf_counter_ns()}"
        if not stream:
            run = await agent.arun(PROMPT, session_id=sid)
        else:
            run = None
            async for ev in agent.arun(PROMPT, stream=True, session_id=sid):
                if type(ev).__name__ == "RunPaused":
                    run = ev.run
        assert run is not None and run.is_paused, run and (run.status, run.error)
        for t in run.tools_requiring_confirmation:
            t.confirm()
        if not stream:
            run = await agent.acontinue_run(run_response=run)
        else:
            async for ev in agent.acontinue_run(run_response=run, stream=True):
                pass
        assert run.content == FINAL, (run.status, run.error, run.content)

    return cycle


def make_agno(url: str, stream: bool) -> Callable[[int], Awaitable[None]]:
    from agno.agent import Agent
    from agno.models.openai import OpenAIChat
    from agno.tools import tool

    agent = Agent(
        model=OpenAIChat(id="test-model", base_url=url, api_key="x", max_retries=0),
        tools=[tool(requires_confirmation=True)(get_weather)],
        telemetry=False,
    )

    async def close() -> None:
        client = getattr(agent.model, "async_client", None)
        if client is not None:
            await client.close()

    CLOSERS.append(close)

    async def cycle(i: int) -> None:
        sid = f"agno-{i}-{time.perf_counter_ns()}"
        if not stream:
            run = await agent.arun(PROMPT, session_id=sid)
            assert run.is_paused, (run.status, run.content)
            for req in run.active_requirements:
                req.confirm()
            run = await agent.acontinue_run(run_response=run, requirements=run.requirements, session_id=sid)
            assert run.content == FINAL, (run.status, run.content)
            return
        run = None
        async for ev in agent.arun(PROMPT, stream=True, session_id=sid, yield_run_output=True):
            if type(ev).__name__ == "RunOutput":
                run = ev
        assert run is not None and run.is_paused
        for req in run.active_requirements:
            req.confirm()
        text = ""
        async for ev in agent.acontinue_run(
            run_response=run, requirements=run.requirements, stream=True, session_id=sid
        ):
            if type(ev).__name__ == "RunContentEvent" and isinstance(ev.content, str):
                text += ev.content
        assert text == FINAL, text

    return cycle


# ----------------------------------------------------------------------------- measuring

FLOOR = "floor: raw openai, one client"
TUI = "hitl-tui, arun() (model default)"
TUI_FORCED = "hitl-tui, OpenAIChat(stream=False)"
TUI_STREAM = "hitl-tui, arun(stream=True)"
AGNO = "agno"


async def batch(cycle: Callable[[int], Awaitable[None]], n: int, times: list[float] | None = None) -> float:
    """Run n cycles; returns the mean seconds per cycle and appends each cycle's time to `times`."""
    before = CALLS["n"]
    t0 = time.perf_counter()
    for i in range(n):
        c0 = time.perf_counter()
        await cycle(i)
        if times is not None:
            times.append(time.perf_counter() - c0)
    elapsed = time.perf_counter() - t0
    assert CALLS["n"] - before == n, "the confirmed tool did not run once per cycle"
    return elapsed / n


async def measure(server: Server, stream: bool, cycles: int, rounds: int, extra: bool) -> dict[str, dict[str, float]]:
    contenders = {FLOOR: make_floor(server.url, stream, fresh=False)}
    if extra:
        contenders["raw openai, new client per request"] = make_floor(server.url, stream, fresh=True)
    if stream:
        contenders[TUI_STREAM] = make_tui(server.url, True)
    else:
        contenders[TUI] = make_tui(server.url, False)
        contenders[TUI_FORCED] = make_tui(server.url, False, model_stream=False)
    contenders[AGNO] = make_agno(server.url, stream)
    for cycle in contenders.values():  # warm up: imports, first connections, caches
        await batch(cycle, 10)
    means: dict[str, list[float]] = {k: [] for k in contenders}
    times: dict[str, list[float]] = {k: [] for k in contenders}
    handler: dict[str, float] = {k: 0.0 for k in contenders}
    block = 20  # interleave in blocks, so noise from the rest of the machine hits every row alike
    for r in range(rounds):
        elapsed = {k: 0.0 for k in contenders}
        for b in range(0, cycles, block):
            names = list(contenders)
            k = (b // block + r) % len(names)
            for name in names[k:] + names[:k]:
                n = min(block, cycles - b)
                server.reset()
                elapsed[name] += await batch(contenders[name], n, times[name]) * n
                handler[name] += server.stats()["handler_s"]
        for name in contenders:
            means[name].append(elapsed[name] / cycles)
    await close_clients()
    return {
        k: {
            "mean": statistics.median(v),
            "median": statistics.median(times[k]),
            "spread": max(v) - min(v),
            "handler": handler[k] / (cycles * rounds),
        }
        for k, v in means.items()
    }


def profile(server: Server, stream: bool, cycles: int) -> None:
    from pyinstrument import Profiler

    makers = {
        TUI: lambda: make_tui(server.url, stream),
        AGNO: lambda: make_agno(server.url, stream),
    }
    for name, make in makers.items():
        p = Profiler(async_mode="disabled")

        async def go() -> None:
            cycle = make()  # Agno's client stays bound to the loop it first ran on: one loop each
            await batch(cycle, 5)
            p.start()
            await batch(cycle, cycles)
            p.stop()
            await close_clients()

        asyncio.run(go())
        print(f"===== {name} ({'stream' if stream else 'json'})")
        print(p.output_text(unicode=False, color=False, show_all=False))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cycles", type=int, default=200, help="cycles per row per round (default 200)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    ap.add_argument("--no-stream", action="store_true", help="skip the streaming variant")
    ap.add_argument("--extra", action="store_true", help="add a raw-openai row that opens a client per request")
    ap.add_argument("--profile", action="store_true", help="pyinstrument the runtimes instead of timing")
    args = ap.parse_args()

    server = Server()
    try:
        if args.profile:
            profile(server, False, args.cycles)
            return
        variants = [False] if args.no_stream else [False, True]
        results = {s: asyncio.run(measure(server, s, args.cycles, args.rounds, args.extra)) for s in variants}
    finally:
        server.stop()

    print(
        f"HITL cycle (prompt -> gated call -> pause -> confirm -> continue -> answer), {args.cycles} cycles"
        f" x {args.rounds} rounds per row, interleaved; {os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    )
    print("mean = median over rounds of the mean ms/cycle; p50 = median single cycle; overhead = row - floor;")
    print("server = the server's own handling time per cycle (2 requests), already inside every row")
    ratios: dict[str, float] = {}
    for stream, res in results.items():
        floor = res[FLOOR]
        print()
        title = "streaming (SSE)" if stream else "non-streaming (JSON)"
        print(f"{title:<41} {'mean ms':>8} {'overhead':>9} {'p50 ms':>8} {'overhead':>9} {'server':>7} {'spread':>7}")
        for name, r in res.items():
            print(
                f"  {name:<39} {r['mean']*1e3:8.2f} {(r['mean']-floor['mean'])*1e3:9.2f}"
                f" {r['median']*1e3:8.2f} {(r['median']-floor['median'])*1e3:9.2f}"
                f" {r['handler']*1e3:7.2f} {r['spread']*1e3:7.2f}"
            )
        # The ratio uses the median single cycle (p50): on a loaded machine the means carry spikes of
        # several ms, as large as the overheads being compared. Means are shown for reference.
        agno = res[AGNO]["median"] - floor["median"]
        for name in (TUI, TUI_FORCED, TUI_STREAM):
            if name in res:
                ratios[name] = (res[name]["median"] - floor["median"]) / agno
                mean_ratio = (res[name]["mean"] - floor["mean"]) / (res[AGNO]["mean"] - floor["mean"])
                print(
                    f"  overhead ratio {name} / agno (p50): {ratios[name]:.2f} (means: {mean_ratio:.2f};"
                    f" cycle-time ratio {res[name]['median'] / res[AGNO]['median']:.2f}; a negative overhead"
                    " means faster than the bare openai client)"
                )
    print()
    parts = ", ".join(f"{k.removeprefix('hitl-tui, ')} {r:.2f}" for k, r in ratios.items())
    worst = max(ratios.values())
    verdict = "MET" if worst <= 1 / 3 else "MISSED"
    print(f"RATIO hitl-tui/agno overhead per HITL cycle: {worst:.2f} (worst of {parts}; target <= 0.33: {verdict})")


if __name__ == "__main__":
    main()
