"""`hitl-tui`: launch the dashboard, or work with run history from the shell."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn, Sequence

from tui import gc_pacing

if TYPE_CHECKING:
    from ..bootstrap import AppParts
    from ..config import Settings
    from ..store import RunStore

#: The offline demo model's id, as runs record it (`DemoModel().id`).
DEMO_MODEL_ID = "demo"

EPILOG = """\
models:
  With no API configured, hitl-tui runs offline with the demo model. To use a real model, set
  OPENAI_API_KEY (or --api-key-env NAME), and optionally --base-url for any OpenAI-compatible
  server (Ollama: http://localhost:11434/v1, llama.cpp, vLLM, LM Studio).

your own tools:
  --tools my_tools.py       every @tool in that file (from tui.agent import tool)
  --tools pkg.module:attr   one tool, or a list of tools
  --no-builtin-tools        leave out the built-in toolbox (hacker news, email, files)

configuration:
  Settings come from defaults < the config file (`hitl-tui config-path`) < HITL_TUI_* environment
  variables < these flags. HITL_TUI_DB / --db choose the history database.

examples:
  hitl-tui                                   the dashboard, offline demo model
  hitl-tui --model llama3.1 --base-url http://localhost:11434/v1
  hitl-tui --mcp "time=uvx mcp-server-time"  an MCP server's tools, each asking before it runs
  hitl-tui history --status paused           runs waiting for a decision
  hitl-tui resume RUN_ID                     open the dashboard on a paused run
  hitl-tui export RUN_ID --format md         a readable transcript
  hitl-tui pending                           calls that wait for a decision, from every process
  hitl-tui approve ID | reject ID --reason T decide one by its id (input ID f=v, result ID TEXT)
  hitl-tui demo                              both flows on this terminal, offline, no dashboard
  hitl-tui serve                             the dashboard in a browser (token-protected URL)
"""


def _common(parser: argparse.ArgumentParser, *, sub: bool = False) -> None:
    # A subcommand repeats the global flags with SUPPRESS as default, so a flag given before the
    # subcommand (`hitl-tui --db x history`) is not overwritten by the subcommand's default.
    default = argparse.SUPPRESS if sub else None
    parser.add_argument("--db", metavar="PATH|URL", default=default, help="history database: a SQLite file (default: in the user data dir) or a postgresql:// URL; env HITL_TUI_DB")
    parser.add_argument("--config", metavar="PATH", default=default, help="config file (default: the user config dir; env HITL_TUI_CONFIG)")


def _app_flags(parser: argparse.ArgumentParser, *, sub: bool = False) -> None:
    default = argparse.SUPPRESS if sub else None
    parser.add_argument("--model", default=default, help="model id for an OpenAI-compatible API (e.g. gpt-4o-mini, llama3.1)")
    parser.add_argument("--base-url", default=default, help="base URL of an OpenAI-compatible API (else OPENAI_BASE_URL)")
    parser.add_argument("--api-key-env", metavar="NAME", default=default, help="environment variable holding the API key (default OPENAI_API_KEY)")
    parser.add_argument("--demo", action="store_true", default=argparse.SUPPRESS if sub else False, help="use the offline demo model even if an API is configured")
    parser.add_argument("--tools", action="append", default=default, metavar="SPEC", help="load your own @tool functions: module:attr or path/to/file.py (repeatable)")
    parser.add_argument("--no-builtin-tools", action="store_true", default=argparse.SUPPRESS if sub else False, help="leave out the built-in toolbox")
    parser.add_argument("--rules", metavar="PATH", default=default, help="approval rules TOML file (default: the user config dir)")
    parser.add_argument("--theme", default=default, help="Textual theme name (e.g. textual-dark, nord, gruvbox)")
    parser.add_argument("--mcp", action="append", default=default, metavar="NAME=COMMAND", help='an MCP server whose tools the agent may call: "NAME=COMMAND ARGS..." or NAME=URL (repeatable; its tools are named NAME_tool and ask unless a rule allows them)')


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hitl-tui",
        description="A terminal dashboard for LLM agents whose tools need a human in the loop.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"hitl-tui {__version__}")
    _common(parser)
    _app_flags(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("history", help="list runs (a table, or JSON with --json)")
    _common(p, sub=True)
    p.add_argument("--status", choices=["running", "paused", "completed", "cancelled", "error"])
    p.add_argument("--tool", help="only runs that called this tool")
    p.add_argument("--search", "-s", metavar="TEXT", help="only runs whose prompt contains TEXT")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("export", help="export a run as Markdown or JSON")
    _common(p, sub=True)
    p.add_argument("run_id")
    p.add_argument("--format", choices=["md", "json"], default="md")

    p = sub.add_parser(
        "resume", help="open the dashboard on a paused run (with the model, base URL and tools it used, unless given)"
    )
    _common(p, sub=True)
    _app_flags(p, sub=True)
    p.add_argument("run_id")

    p = sub.add_parser("rules", help="approval rules")
    _common(p, sub=True)
    rules_sub = p.add_subparsers(dest="rules_command", metavar="ACTION")
    rt = rules_sub.add_parser("test", help="dry-run a rules file against the history")
    _common(rt, sub=True)
    rt.add_argument("file")
    rules_sub.add_parser("path", help="print the rules file path")

    sub.add_parser("config-path", help="print the config file path")
    p = sub.add_parser("demo", help="both human-in-the-loop flows on this terminal, offline (no dashboard)")
    _common(p, sub=True)
    from .demo import add_arguments as add_demo_arguments

    add_demo_arguments(p)
    from .inbox import add_subcommands as add_inbox_subcommands

    add_inbox_subcommands(sub, lambda q: _common(q, sub=True))
    p = sub.add_parser("serve", help="the dashboard in a browser (textual-serve), behind a token")
    _common(p, sub=True)
    _app_flags(p, sub=True)
    from .serve import add_arguments as add_serve_arguments

    add_serve_arguments(p)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    from ..config import ConfigError, load_settings

    if getattr(args, "config", None):
        os.environ["HITL_TUI_CONFIG"] = args.config
    cli: dict[str, Any] = {
        name: getattr(args, name, None) for name in ("db", "model", "base_url", "api_key_env", "rules", "theme")
    }
    try:
        return load_settings(cli)
    except ConfigError as exc:
        _fail(str(exc), code=2)


def _fail(message: str, *, code: int = 1) -> NoReturn:
    print(f"hitl-tui: {message}", file=sys.stderr)
    raise SystemExit(code)


def _open_store(settings: Settings, *, read_only: bool = False) -> RunStore:
    """The history database. A read-only command never creates one: a typo in --db is an error."""
    from ..store import db_exists, open_store, shown_location

    if read_only and not db_exists(settings.db):
        _fail(f"no history database at {shown_location(settings.db)} (nothing recorded there yet; check --db / HITL_TUI_DB)")
    try:
        return open_store(settings.db)
    except Exception as exc:
        _fail(f"cannot open the history database {shown_location(settings.db)}: {exc}", code=2)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    settings = _settings(args)

    if args.command == "config-path":
        from ..config import config_path

        print(config_path())
        return 0
    if args.command == "history":
        from .history import history_command

        return history_command(
            _open_store(settings, read_only=True),
            status=args.status, tool=args.tool, text=args.search, as_json=args.json, limit=args.limit,
        )
    if args.command == "export":
        from .history import export_command

        return export_command(_open_store(settings, read_only=True), args.run_id, args.format)
    if args.command in ("pending", "approve", "reject", "input", "result"):
        from .inbox import main as inbox_main

        # Deciding needs calls that wait: a database that does not exist has none (never create it).
        return inbox_main(args, _open_store(settings, read_only=True), settings)
    if args.command == "rules":
        if args.rules_command == "path":
            print(settings.rules)
            return 0
        if args.rules_command == "test":
            from .rules import rules_test_command

            # No database yet: the dry run is over an empty history (and creates nothing).
            from ..store import db_exists

            store = _open_store(settings, read_only=True) if db_exists(settings.db) else None
            return rules_test_command(store, args.file)
        parser.parse_args(["rules", "--help"])
        return 2
    if args.command == "demo":
        from .demo import run_demo

        return run_demo(args)
    if args.command == "serve":
        from .serve import serve_command

        return serve_command(args, settings)
    if args.command == "resume":
        return _run_dashboard(_resume(args, settings))
    return _run_dashboard(_launch(args, settings))


@dataclass
class Launch:
    """What `hitl-tui` (or `hitl-tui resume RUN`) opens the dashboard with, decided from the flags."""

    settings: Settings
    tool_specs: list[str] = field(default_factory=list)
    builtin_tools: bool = True
    force_demo: bool = False
    store: RunStore | None = None
    resume_run_id: str | None = None

    def parts(self) -> AppParts:
        """The agent and store this launch gives the dashboard (raises ToolLoadError)."""
        from ..bootstrap import build_app_parts

        return build_app_parts(
            self.settings,
            store=self.store,
            tool_specs=self.tool_specs,
            builtin_tools=self.builtin_tools,
            force_demo=self.force_demo,
        )


def launch_for(argv: Sequence[str]) -> Launch:
    """How `hitl-tui ARGV` would open the dashboard. Exits (SystemExit, message on stderr) where
    `hitl-tui` would."""
    args = build_parser().parse_args(argv)
    settings = _settings(args)
    if args.command == "resume":
        return _resume(args, settings)
    if args.command is not None:
        raise ValueError(f"`hitl-tui {args.command}` does not open the dashboard")
    return _launch(args, settings)


def _resume(args: argparse.Namespace, settings: Settings) -> Launch:
    """The dashboard on a stored run, by default with the model, base URL and tools the run used.

    Flags given on the command line win over what the run recorded; the run's record wins over
    the config file and the environment (the run is what the user is continuing).
    """
    store = _open_store(settings, read_only=True)
    run = store.load_run(args.run_id)
    if run is None:
        _fail(f"no run {args.run_id!r} in {settings.db} (`hitl-tui history` lists the runs)")
    if not (args.model is not None or args.base_url is not None or args.demo):
        if run.model == DEMO_MODEL_ID and run.base_url is None:
            args.demo = True
        else:
            settings.model = run.model or settings.model
            settings.base_url = run.base_url or settings.base_url
    if args.tools is None and run.tool_specs:
        args.tools = list(run.tool_specs)
    return _launch(args, settings, store=store, resume_run_id=run.run_id)


def _launch(
    args: argparse.Namespace, settings: Settings, *, store: RunStore | None = None, resume_run_id: str | None = None
) -> Launch:
    if args.demo:
        settings.model = None
        settings.base_url = None
    try:  # --mcp servers join (or replace, by name) those of the config file
        from ..mcp_config import parse_mcp_flag

        settings.mcp.servers.update(dict(parse_mcp_flag(spec) for spec in getattr(args, "mcp", None) or []))
    except ValueError as exc:
        _fail(str(exc), code=2)
    return Launch(
        settings=settings,
        tool_specs=list(args.tools or []),
        builtin_tools=not args.no_builtin_tools,
        force_demo=args.demo,
        store=store,
        resume_run_id=resume_run_id,
    )


#: Frames per second of the dashboard (Textual's default is 60). A frame is drawn only when
#: something changed, so this adds no frames when idle; it halves the wait between a key and the
#: frame that shows it (up to 16.7 ms at 60 fps). Measured: p95 key latency while a long reply
#: streams 52 -> 41 ms, a dialog 128 -> 117 ms (tests/benchmarks/bench_stream_keys.py).
DASHBOARD_FPS = 120


def tune_frames() -> None:
    """Process-wide, before Textual is imported: the dashboard's frame rate (TEXTUAL_FPS wins)."""
    os.environ.setdefault("TEXTUAL_FPS", str(DASHBOARD_FPS))


def _run_dashboard(launch: Launch) -> int:
    tune_frames()
    from ..app import HitlApp
    from ..bootstrap import ToolLoadError
    from ..config import config_path

    try:
        # The app asks the factory (tui.bootstrap.build_app_parts) for its agent and store.
        app = HitlApp(
            launch.settings,
            store=launch.store,
            tool_specs=launch.tool_specs,
            builtin_tools=launch.builtin_tools,
            force_demo=launch.force_demo,
            resume_run_id=launch.resume_run_id,
            settings_file=config_path(),
        )
    except ToolLoadError as exc:
        _fail(str(exc), code=2)
    tune_gc()
    try:
        app.run()
    finally:
        gc_pacing.uninstall()
    return app.return_code or 0


def tune_gc() -> gc_pacing.GcPacer:
    """Process-wide: full collections (100-200 ms with a long reply on screen) wait for a quiet
    moment instead of landing inside a frame (tui/gc_pacing.py). It belongs to the process that
    runs the dashboard, not to an App that may be embedded; the dashboard tells the pacer when
    it is quiet."""
    return gc_pacing.install()


if __name__ == "__main__":
    raise SystemExit(main())
