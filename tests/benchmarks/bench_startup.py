"""Start-up: the dashboard (`HitlApp()`, defaults) vs a minimal Textual app (Header, Static, Footer).

Two measurements, both sides interleaved, medians of N:

- in process: from constructing the app (for HitlApp: loading settings, opening the history
  database, building the agent and its tools) to the first frame of its first screen, the app
  running headless under `app.run_test()`. Imports are done beforehand (they are the next row);
- whole process: `python -c` that imports the app, runs it headless and exits right after its
  first frame, timed from the parent (interpreter start-up included; `python -c pass` shown).

"First frame" is Textual's `Ready` event, which it sends right after the first screen has been
laid out and rendered (a public hook: `on_ready` in a subclass). `HitlApp()` shows a light
starting screen first and builds settings, store, agent and dashboard after it; the in-process
rows also show when the dashboard is on screen (informational). The environment is a temp dir
(HITL_TUI_DB, _WORKSPACE, _OUTBOX, _RULES, _CONFIG, HOME, XDG_*) with no OPENAI_* variables,
so HitlApp uses the demo model, as on a fresh machine. Bytecode is cached in a private
PYTHONPYCACHEPREFIX for the subprocesses (the environment disables writing it).

    python tests/benchmarks/bench_startup.py [-n 15] [--profile]

Target: hitl-tui within 1.5x of the minimal app. The last line is the ratio (whole process).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

SIZE = (120, 40)

MINIMAL = '''
from textual.app import App
from textual.widgets import Footer, Header, Static

class Minimal(App):
    def compose(self):
        yield Header()
        yield Static("Hello")
        yield Footer()
'''

PROCESS = '''
{setup}
class _FirstFrame({cls}):
    def on_ready(self, event) -> None:
        event.prevent_default()  # exit on the first frame: nothing after it is measured
        self.exit()
_FirstFrame().run(headless=True, size={size})
'''

CASES = {
    "hitl-tui": ("from tui.app import HitlApp", "HitlApp"),
    "minimal": (MINIMAL, "Minimal"),
}


def isolated_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "PYTHONDONTWRITEBYTECODE"))}
    for var in ("HITL_TUI_MODEL", "HITL_TUI_BASE_URL"):
        env.pop(var, None)
    env["HOME"] = str(tmp / "home")
    for var, sub in (("XDG_DATA_HOME", "data"), ("XDG_CONFIG_HOME", "config"), ("XDG_CACHE_HOME", "cache"), ("XDG_STATE_HOME", "state")):
        env[var] = str(tmp / "home" / sub)
    for var, name in (
        ("HITL_TUI_DB", "runs.db"),
        ("HITL_TUI_WORKSPACE", "workspace"),
        ("HITL_TUI_OUTBOX", "outbox.mbox"),
        ("HITL_TUI_RULES", "rules.toml"),
        ("HITL_TUI_CONFIG", "config.toml"),
    ):
        env[var] = str(tmp / name)
    env["HITL_TUI_HN_BASE_URL"] = "http://127.0.0.1:9/v0"
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pyc")
    return env


# ----------------------------------------------------------------------------- in process


def timed(cls: type, seen: dict[int, float]) -> type:
    """`cls` that records when its first frame is on screen (Textual's Ready event)."""

    class Timed(cls):  # type: ignore[misc, valid-type]
        def on_ready(self) -> None:  # the base class's on_ready runs too
            seen[id(self)] = time.perf_counter()

    return Timed


async def in_process(make: Callable[[], Any], seen: dict[int, float]) -> tuple[float, float, float]:
    """(seconds to the first frame, until run_test hands over the Pilot, until the dashboard (if any) is up)."""
    t0 = time.perf_counter()
    app = make()
    async with app.run_test(size=SIZE) as pilot:
        t_pilot = time.perf_counter()
        await app.workers.wait_for_complete()  # HitlApp(): the deferred build
        if hasattr(app, "dashboard"):
            while app.screen is not app.dashboard:
                await pilot.pause(0.001)
        t_ready = time.perf_counter()
        assert id(app) in seen, "no frame was rendered"
        t_frame = seen.pop(id(app))
    return t_frame - t0, t_pilot - t0, t_ready - t0


def process_wall(code: str, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, timeout=60)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=15, help="samples per row (default 15)")
    ap.add_argument("--profile", action="store_true", help="pyinstrument HitlApp() to its first frame, in process")
    ap.add_argument("--profile-all", action="store_true", help="with --profile: show library frames too")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        tmp_path = Path(tmp)
        env = isolated_env(tmp_path)
        os.environ.clear()
        os.environ.update({k: v for k, v in env.items() if k != "PYTHONPYCACHEPREFIX"})

        from textual.app import App  # noqa: F401  (imports are not part of the in-process rows)

        from tui.app import HitlApp

        namespace: dict[str, Any] = {}
        exec(MINIMAL, namespace)
        Minimal = namespace["Minimal"]
        seen: dict[int, float] = {}
        makers = {"hitl-tui": timed(HitlApp, seen), "minimal": timed(Minimal, seen)}

        if args.profile:
            from pyinstrument import Profiler

            asyncio.run(in_process(makers["hitl-tui"], seen))
            p = Profiler(async_mode="disabled", interval=0.0002)
            p.start()
            asyncio.run(in_process(makers["hitl-tui"], seen))
            p.stop()
            print(p.output_text(unicode=False, color=False, show_all=args.profile_all))
            return

        for make in makers.values():  # warm-up (and the subprocesses' bytecode cache)
            asyncio.run(in_process(make, seen))
        codes = {name: PROCESS.format(setup=setup, cls=cls, size=SIZE) for name, (setup, cls) in CASES.items()}
        for code in codes.values():
            process_wall(code, env)

        frame: dict[str, list[float]] = {k: [] for k in makers}
        pilot: dict[str, list[float]] = {k: [] for k in makers}
        ready: dict[str, list[float]] = {k: [] for k in makers}
        wall: dict[str, list[float]] = {k: [] for k in makers}
        empty: list[float] = []
        for i in range(args.n):
            order = list(makers) if i % 2 == 0 else list(makers)[::-1]
            for name in order:
                f, p, r = asyncio.run(in_process(makers[name], seen))
                frame[name].append(f)
                pilot[name].append(p)
                ready[name].append(r)
            for name in order:
                wall[name].append(process_wall(codes[name], env))
            empty.append(process_wall("pass", env))

    med = {
        k: {"frame": statistics.median(frame[k]), "pilot": statistics.median(pilot[k]), "ready": statistics.median(ready[k]), "wall": statistics.median(wall[k])}
        for k in makers
    }
    base = statistics.median(empty)
    load = os.getloadavg()[0]
    print(f"Start-up to the first frame, headless {SIZE[0]}x{SIZE[1]}, median of {args.n}; {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, load {load:.1f}")
    print(f"{'':36} {'hitl-tui ms':>12} {'minimal ms':>11} {'ratio':>6}")
    a, b = med["hitl-tui"], med["minimal"]
    print(f"  {'in process: app() -> first frame':<34} {a['frame']*1e3:12.1f} {b['frame']*1e3:11.1f} {a['frame']/b['frame']:6.2f}")
    print(f"  {'in process: app() -> Pilot ready':<34} {a['pilot']*1e3:12.1f} {b['pilot']*1e3:11.1f} {a['pilot']/b['pilot']:6.2f}")
    print(f"  {'in process: app() -> dashboard up':<34} {a['ready']*1e3:12.1f} {b['ready']*1e3:11.1f} {a['ready']/b['ready']:6.2f}   (informational)")
    print(f"  {'whole process, exit on 1st frame':<34} {a['wall']*1e3:12.1f} {b['wall']*1e3:11.1f} {a['wall']/b['wall']:6.2f}")
    print(f"  {'whole process minus python start':<34} {(a['wall']-base)*1e3:12.1f} {(b['wall']-base)*1e3:11.1f} {(a['wall']-base)/(b['wall']-base):6.2f}   (python -c pass: {base*1e3:.1f} ms)")
    ratio = a["wall"] / b["wall"]
    in_ratio = a["frame"] / b["frame"]
    verdict = "MET" if max(ratio, in_ratio) <= 1.5 else "MISSED"
    print(f"targets: within 1.5x of the minimal app: in process {in_ratio:.2f}, whole process {ratio:.2f}: {verdict}")
    print(f"RATIO hitl-tui/minimal start-up (whole process): {ratio:.2f}")


if __name__ == "__main__":
    main()
