"""Keys and an approval modal while a 50,000-character reply streams at 2,000 tokens/s.

The dashboard (`HitlApp`, headless under `run_test()`: every frame is laid out and rendered, only
the terminal write is skipped) streams a Markdown reply of 50,000 characters (headings,
paragraphs, lists, inline code) from a model paced at 2,000 tokens/s (a token is one word with
its spacing, as DemoModel streams). Meanwhile, every 50 ms, a probe is posted to the app as a
real key event:

- `j` in the focused tool log (8 calls; the cursor is put back, untimed, at the last one):
  latency from posting the key to the first frame after the tool log moved;
- every fourth probe, `f9`, bound (in this benchmark only) to opening the confirmation modal for
  a tool call: latency to the modal's first frame; then `escape` closes it (untimed).

The process is set up as `hitl-tui` sets itself up: its frame rate (`tune_frames`, 120 fps unless
TEXTUAL_FPS says otherwise) and its GC pacing (`tune_gc`). "First frame after" is
`call_after_refresh`, Textual's public hook for "after the screen has been refreshed". The
sides alternate in every round: the same probes while the reply streams, then with the same
reply on screen and nothing streaming (idle). Between rounds the conversation is
cleared, so every round streams the same reply into the same state.

Targets: p95 key latency < 50 ms and p95 modal opening < 100 ms while streaming; the stream
keeps its 2,000 tokens/s. The last line is the ratio of p95 key latency, streaming / idle.

    python tests/benchmarks/bench_stream_keys.py [--chars 50000] [--rate 2000] [--rounds 3] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, AsyncIterator

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent.parent))
from tui.cli import tune_frames  # noqa: E402

tune_frames()  # the frame rate `hitl-tui` runs the dashboard at (before Textual is imported)
from bench_streaming import TOKEN, isolate_environment, long_markdown, pct  # noqa: E402

SIZE = (160, 50)
PROBE_EVERY = 0.05
PROMPT = "Write me the long report."


def reply_of(chars: int) -> str:
    """Deterministic Markdown of about `chars` characters, cut at a token boundary."""
    text = long_markdown(max(100, chars // 4))
    out, size = [], 0
    for token in TOKEN.findall(text):
        if size + len(token) > chars:
            break
        out.append(token)
        size += len(token)
    return "".join(out)


class PacedModel:
    """Says `text` at `rate` tokens/s (on schedule: a late token is sent at once, never dropped)."""

    id = "paced-demo"

    def __init__(self, text: str, rate: float) -> None:
        self.text = text
        self.tokens = TOKEN.findall(text)
        self.rate = rate
        self.seconds = 0.0

    def describe(self) -> str:
        return f"paced demo ({self.rate:g} tokens/s)"

    async def astream(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], **_: Any) -> AsyncIterator[Any]:
        from tui.agent.models.base import ModelChunk, ModelResponse

        loop = asyncio.get_running_loop()
        t0 = loop.time()
        for i, token in enumerate(self.tokens):
            delay = t0 + i / self.rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            yield ModelChunk(text=token)
        self.seconds = loop.time() - t0
        yield ModelChunk(response=ModelResponse(content=self.text, finish_reason="stop"))


def make_app(model: PacedModel, db: Path) -> Any:
    from textual.binding import Binding

    from tui.agent.run import ToolExecution
    from tui.app import HitlApp
    from tui.bootstrap import build_agent
    from tui.config import load_settings
    from tui.screens.confirm_modal import ConfirmModal
    from tui.store import RunStore

    settings = load_settings()
    settings.db = db
    agent = build_agent(settings, builtin_tools=True, store=RunStore(db), model=model)  # type: ignore[arg-type]
    tool = ToolExecution(
        tool_call_id="call_bench", tool_name="send_email", tool_args={"to": "a@example.com", "subject": "Report"},
        requires_confirmation=True, description="Send an email.",
    )

    class BenchApp(HitlApp):
        BINDINGS = [Binding("f9", "bench_modal", "Open a modal (benchmark)")]
        opened: asyncio.Event | None = None

        def action_bench_modal(self) -> None:
            modal = ConfirmModal(tool)
            self.push_screen(modal)
            event = self.opened

            def framed() -> None:
                if event is not None:
                    event.set()

            modal.call_after_refresh(framed)

    return BenchApp(agent=agent, store=agent.store, deterministic=True)


async def probes(app: Any, pilot: Any, until: Any, count: int | None, keys: list[float], modals: list[float]) -> None:
    """Send probes every PROBE_EVERY s while `until()` holds (or `count` of them)."""
    from textual import events

    dashboard = app.dashboard
    log = dashboard.tool_log
    # Keys are posted to the app as the terminal driver posts them (not via Pilot.press, which
    # waits for the app to be idle and would hide the latency being measured).
    moved: list[asyncio.Event] = []
    original_move = log.action_move

    def timed_move(step: int) -> None:
        original_move(step)
        pending = list(moved)
        moved.clear()
        log.call_after_refresh(lambda: [e.set() for e in pending])

    log.action_move = timed_move  # type: ignore[method-assign]
    n = 0
    try:
        while (count is None and until()) or (count is not None and n < count):
            if n % 4 == 3:
                app.opened = asyncio.Event()
                t_key = time.perf_counter()
                app.post_message(events.Key("f9", None))
                await app.opened.wait()
                modals.append(time.perf_counter() - t_key)
                app.post_message(events.Key("escape", "\x1b"))
                while app.screen is not dashboard:
                    await asyncio.sleep(0.005)
                log.focus()
            else:
                if log.cursor >= len(log.entries) - 1:
                    log.cursor = 0
                done = asyncio.Event()
                moved.append(done)
                t_key = time.perf_counter()
                app.post_message(events.Key("j", "j"))
                await done.wait()
                keys.append(time.perf_counter() - t_key)
            n += 1
            await asyncio.sleep(PROBE_EVERY)
    finally:
        log.action_move = original_move  # type: ignore[method-assign]


async def run(text: str, rate: float, rounds: int, tmp: Path, profile: str | None = None) -> dict[str, Any]:
    from textual import events
    from textual.widgets import Markdown

    from tui.agent.run import ToolExecution

    model = PacedModel(text, rate)
    app = make_app(model, tmp / "runs.db")
    out: dict[str, Any] = {"stream_keys": [], "stream_modals": [], "idle_keys": [], "idle_modals": [], "rates": []}
    async with app.run_test(size=SIZE) as pilot:
        dashboard = app.dashboard
        log = dashboard.tool_log
        for i in range(8):  # something for `j` to move through
            log.upsert("run_bench", ToolExecution(tool_call_id=f"c{i}", tool_name="read_file", tool_args={"path": f"f{i}.txt"}, status="completed", result="ok"))
        for r in range(rounds):
            await dashboard.conversation.clear()
            dashboard.conversation.prompt.value = PROMPT
            dashboard.conversation.prompt.focus()
            await pilot.pause()
            app.post_message(events.Key("enter", "\r"))
            while not dashboard.is_busy:
                await asyncio.sleep(0)
            log.focus()
            log.cursor = 0
            keys: list[float] = []
            modals: list[float] = []
            profiler = start_profiler() if profile == "stream" else None
            await probes(app, pilot, lambda: dashboard.is_busy, None, keys, modals)
            stop_profiler(profiler)
            await app.workers.wait_for_complete()
            shown = "".join(m.source for m in dashboard.conversation.query(Markdown) if m.has_class("reply"))
            assert shown == text, f"the reply on screen differs from the model's ({len(shown)} vs {len(text)} chars)"
            out["rates"].append(len(model.tokens) / model.seconds)
            out["stream_keys"] += keys
            out["stream_modals"] += modals
            idle_keys: list[float] = []
            idle_modals: list[float] = []
            profiler = start_profiler() if profile == "idle" else None
            await probes(app, pilot, lambda: True, len(keys) + len(modals), idle_keys, idle_modals)
            stop_profiler(profiler)
            out["idle_keys"] += idle_keys
            out["idle_modals"] += idle_modals
            print(
                f"  round {r + 1}: streamed at {out['rates'][-1]:,.0f} tokens/s; key p95 {pct(keys, 0.95)*1e3:.1f} ms streaming,"
                f" {pct(idle_keys, 0.95)*1e3:.1f} ms idle; modal p95 {pct(modals, 0.95)*1e3:.1f} / {pct(idle_modals, 0.95)*1e3:.1f} ms",
                flush=True,
            )
    return out


def start_profiler() -> Any:
    from pyinstrument import Profiler

    profiler = Profiler(async_mode="disabled")
    profiler.start()
    return profiler


def stop_profiler(profiler: Any) -> None:
    if profiler is not None:
        profiler.stop()
        print(profiler.output_text(unicode=False, color=False, show_all=True, timeline=False))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chars", type=int, default=50_000, help="reply length in characters (default 50,000)")
    ap.add_argument("--rate", type=float, default=2000, help="tokens per second (default 2,000)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds, each streaming then idle (default 3)")
    ap.add_argument("--profile", choices=["stream", "idle"], help="pyinstrument the probes of one round, streaming or idle")
    args = ap.parse_args()
    from tui.cli import tune_gc

    tune_gc()  # the process-wide GC pacing `hitl-tui` installs (tui/gc_pacing.py)
    text = reply_of(args.chars)
    with tempfile.TemporaryDirectory(prefix="hitl-bench-") as tmp_name:
        tmp = Path(tmp_name)
        isolate_environment(tmp)
        if args.profile:
            asyncio.run(run(text, args.rate, 1, tmp, profile=args.profile))
            return
        out = asyncio.run(run(text, args.rate, args.rounds, tmp))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    tokens = len(TOKEN.findall(text))
    print(
        f"{len(text):,} chars ({tokens:,} tokens) at {args.rate:,.0f} tokens/s, {args.rounds} rounds, probes every"
        f" {PROBE_EVERY*1e3:.0f} ms; {os.cpu_count()} CPUs, load {load:.1f}, Python {sys.version.split()[0]}"
    )
    print(f"  stream rate achieved: median {statistics.median(out['rates']):,.0f} tokens/s")
    print(f"  {'':<28} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name in ("stream_keys", "idle_keys", "stream_modals", "idle_modals"):
        v = out[name]
        print(f"  {name.replace('_', ' '):<28} {len(v):>4} {pct(v, 0.5)*1e3:8.1f} {pct(v, 0.95)*1e3:8.1f} {max(v)*1e3:8.1f}")
    key95, modal95 = pct(out["stream_keys"], 0.95), pct(out["stream_modals"], 0.95)
    verdict = "MET" if key95 < 0.05 and modal95 < 0.1 else "MISSED"
    print(f"  targets while streaming: key p95 {key95*1e3:.1f} ms (< 50), modal p95 {modal95*1e3:.1f} ms (< 100): {verdict}")
    print(f"RATIO p95 key latency streaming/idle: {key95 / pct(out['idle_keys'], 0.95):.2f}")


if __name__ == "__main__":
    main()
