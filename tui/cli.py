"""`hitl-tui`: launch the dashboard, or work with run history from the shell."""

from __future__ import annotations

import argparse
import sys
from typing import Any, Sequence

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
"""


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="PATH", help="history database (default: the user data dir; env HITL_TUI_DB)")
    parser.add_argument("--config", metavar="PATH", help="config file (default: the user config dir; env HITL_TUI_CONFIG)")


def _app_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="model id for an OpenAI-compatible API (e.g. gpt-4o-mini, llama3.1)")
    parser.add_argument("--base-url", help="base URL of an OpenAI-compatible API (else OPENAI_BASE_URL)")
    parser.add_argument("--api-key-env", metavar="NAME", help="environment variable holding the API key (default OPENAI_API_KEY)")
    parser.add_argument("--demo", action="store_true", help="use the offline demo model even if an API is configured")
    parser.add_argument("--tools", action="append", default=[], metavar="SPEC", help="load your own @tool functions: module:attr or path/to/file.py (repeatable)")
    parser.add_argument("--no-builtin-tools", action="store_true", help="leave out the built-in toolbox")
    parser.add_argument("--rules", metavar="PATH", help="approval rules TOML file (default: the user config dir)")
    parser.add_argument("--theme", help="Textual theme name (e.g. textual-dark, nord, gruvbox)")
    parser.add_argument("--mcp", action="append", default=[], metavar="NAME=COMMAND", help='an MCP server whose tools the agent may call: "NAME=COMMAND ARGS..." or NAME=URL (repeatable; its tools are named NAME_tool and ask unless a rule allows them)')


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hitl-tui",
        description="A terminal dashboard for LLM agents whose tools need a human in the loop.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"hitl-tui {__version__}")
    _common(parser)
    _app_flags(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("history", help="list runs (a table, or JSON with --json)")
    _common(p)
    p.add_argument("--status", choices=["running", "paused", "completed", "cancelled", "error"])
    p.add_argument("--tool", help="only runs that called this tool")
    p.add_argument("--search", "-s", metavar="TEXT", help="only runs whose prompt contains TEXT")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("export", help="export a run as Markdown or JSON")
    _common(p)
    p.add_argument("run_id")
    p.add_argument("--format", choices=["md", "json"], default="md")

    p = sub.add_parser("resume", help="open the dashboard on a paused run")
    _common(p)
    _app_flags(p)
    p.add_argument("run_id")

    p = sub.add_parser("rules", help="approval rules")
    _common(p)
    rules_sub = p.add_subparsers(dest="rules_command", metavar="ACTION")
    rt = rules_sub.add_parser("test", help="dry-run a rules file against the history")
    _common(rt)
    rt.add_argument("file")
    rules_sub.add_parser("path", help="print the rules file path")

    sub.add_parser("config-path", help="print the config file path")
    from .inbox_cli import add_subcommands as add_inbox_subcommands

    add_inbox_subcommands(sub, _common)
    return parser


def _settings(args: argparse.Namespace) -> Any:
    import os

    from .config import ConfigError, load_settings

    if getattr(args, "config", None):
        os.environ["HITL_TUI_CONFIG"] = args.config
    cli: dict[str, Any] = {
        "db": getattr(args, "db", None),
        "model": getattr(args, "model", None),
        "base_url": getattr(args, "base_url", None),
        "api_key_env": getattr(args, "api_key_env", None),
        "rules": getattr(args, "rules", None),
        "theme": getattr(args, "theme", None),
    }
    try:
        return load_settings(cli)
    except ConfigError as exc:
        print(f"hitl-tui: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _open_store(settings: Any) -> Any:
    from .store import RunStore

    try:
        return RunStore(settings.db)
    except Exception as exc:
        print(f"hitl-tui: cannot open the history database {settings.db}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    settings = _settings(args)

    if args.command == "config-path":
        from .config import config_path

        print(config_path())
        return 0
    if args.command == "history":
        from .store.commands import history_command

        return history_command(
            _open_store(settings), status=args.status, tool=args.tool, text=args.search, as_json=args.json, limit=args.limit
        )
    if args.command == "export":
        from .store.commands import export_command

        return export_command(_open_store(settings), args.run_id, args.format)
    if args.command in ("pending", "approve", "reject", "input", "result"):
        from .inbox_cli import main as inbox_main

        return inbox_main(args, _open_store(settings), settings)
    if args.command == "rules":
        if args.rules_command == "path":
            print(settings.rules)
            return 0
        if args.rules_command == "test":
            from .rules_cli import rules_test_command

            return rules_test_command(_open_store(settings), args.file)
        parser.parse_args(["rules", "--help"])
        return 2

    return _launch(args, settings, resume_run_id=getattr(args, "run_id", None) if args.command == "resume" else None)


def _launch(args: argparse.Namespace, settings: Any, *, resume_run_id: str | None) -> int:
    from .bootstrap import ToolLoadError

    if args.demo:
        settings.model = None
        settings.base_url = None
    try:  # --mcp servers join (or replace, by name) those of the config file
        from .mcp_config import parse_mcp_flag

        settings.mcp.servers.update(dict(parse_mcp_flag(spec) for spec in args.mcp))
    except ValueError as exc:
        print(f"hitl-tui: {exc}", file=sys.stderr)
        return 2
    try:
        from .app import HitlApp

        app = HitlApp(
            settings=settings,
            tool_specs=args.tools,
            builtin_tools=not args.no_builtin_tools,
            resume_run_id=resume_run_id,
            force_demo=args.demo,
        )
    except ToolLoadError as exc:
        print(f"hitl-tui: {exc}", file=sys.stderr)
        return 2
    app.run()
    return app.return_code or 0


if __name__ == "__main__":
    raise SystemExit(main())
