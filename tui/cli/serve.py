"""`hitl-tui serve`: the dashboard in a browser, behind a token.

textual-serve (the optional extra `hitl-tui[serve]`) serves a page with a terminal (xterm.js) and,
for every browser session that connects its websocket, starts a full dashboard process
(`python -m tui` with the same database and settings) on the shared store: it lists the inbox of
every process and decides, like a dashboard in a terminal.

Anyone who reaches the port can drive that dashboard, so every request (the page, its assets, the
websocket) must carry the token: `?token=...` in the URL (printed at start), an
`Authorization: Bearer ...` header, or the HttpOnly, SameSite=Strict cookie the server sets when a
token in the URL was accepted (so the page's assets and websocket pass). Anything else gets 401
and nothing else. It binds to 127.0.0.1 by default; to reach it from another machine, put a TLS
reverse proxy in front (README, "In a browser").
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import logging
import os
import secrets
import shlex
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Awaitable, Callable
from urllib.parse import urlencode

if TYPE_CHECKING:
    from aiohttp import web

    from ..config import Settings

#: The environment variable that gives the token (better than --token: argv is visible in `ps`).
TOKEN_ENV = "HITL_TUI_SERVE_TOKEN"
#: The cookie that carries an accepted token for the page's assets and websocket.
COOKIE = "hitl_tui_token"
#: `hitl-tui` flags handed on to every dashboard the server starts (the same settings).
FORWARDED_FLAGS = ("model", "base_url", "api_key_env", "rules", "theme")

Handler = Callable[["web.Request"], Awaitable["web.StreamResponse"]]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of `hitl-tui serve` (the dashboard's own flags are added by the caller)."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    parser.add_argument(
        "--token", default=None,
        help=f"the access token (default: env {TOKEN_ENV}, else a new random one, printed at start)",
    )
    parser.add_argument(
        "--public-url", metavar="URL", default=None,
        help="the URL browsers use, when behind a reverse proxy (e.g. https://hitl.example.com)",
    )


def dashboard_command(args: argparse.Namespace, settings: Settings) -> str:
    """The shell command textual-serve runs for each browser session: this Python, `-m tui`, the
    resolved database (so a relative --db or a config file cannot point it elsewhere) and the
    dashboard flags given to `serve`. The environment (HITL_TUI_*, API keys) is inherited."""
    from ..store.open import is_database_url

    argv = [sys.executable, "-m", "tui"]
    if not is_database_url(settings.db):
        argv += ["--db", str(Path(settings.db).resolve())]
    # A PostgreSQL URL (it may hold a password) stays out of argv: serve_command hands it to the
    # dashboards in HITL_TUI_DB.
    if getattr(args, "config", None):
        argv += ["--config", os.path.abspath(args.config)]
    for name in FORWARDED_FLAGS:
        value = getattr(args, name, None)
        if value is not None:
            argv += ["--" + name.replace("_", "-"), str(value)]
    for spec in getattr(args, "tools", None) or []:
        argv += ["--tools", spec]
    for spec in getattr(args, "mcp", None) or []:
        argv += ["--mcp", spec]
    if getattr(args, "demo", False):
        argv.append("--demo")
    if getattr(args, "no_builtin_tools", False):
        argv.append("--no-builtin-tools")
    return shlex.join(argv)


def token_middleware(token: str, *, secure_cookie: bool) -> Any:
    """An aiohttp middleware that lets a request through only with the token, and remembers an
    accepted `?token=` in a cookie. Comparisons are constant-time; a token given in the URL wins
    over the cookie (a wrong one is refused even with a good cookie)."""
    from aiohttp import web

    def same(given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), token.encode())

    @web.middleware
    async def require_token(request: web.Request, handler: Handler) -> web.StreamResponse:
        in_url = request.query.get("token")
        bearer = request.headers.get("Authorization", "")
        if in_url is not None:
            ok = same(in_url)
        elif bearer.startswith("Bearer "):
            ok = same(bearer[len("Bearer "):])
        else:
            ok = same(request.cookies.get(COOKIE))
        if not ok:
            raise web.HTTPUnauthorized(text="401: Unauthorized\n")
        response = await handler(request)
        if in_url is not None and not response.prepared:
            response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", secure=secure_cookie, path="/")
        return response

    return require_token


class _Redact(logging.Filter):
    """Replaces the token in log lines with `***` (the filter never drops a line)."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.secret in message:
            record.msg, record.args = message.replace(self.secret, "***"), None
        return True


def make_server(command: str, *, token: str, host: str, port: int, public_url: str | None) -> Any:
    """A textual-serve Server whose aiohttp app requires the token on every request."""
    from aiohttp import web
    from textual_serve.server import Server

    class TokenServer(Server):
        """textual-serve's Server plus the token middleware. `_make_app` is the one place where
        its aiohttp app exists before it is frozen (middlewares cannot be added later)."""

        def initialize_logging(self) -> None:
            super().initialize_logging()
            # The access log would write every `GET /?token=...` line with the token in it.
            logging.getLogger("aiohttp.access").addFilter(_Redact(token))

        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            app.middlewares.append(token_middleware(token, secure_cookie=self.public_url.startswith("https:")))
            return app

        async def on_startup(self, app: web.Application) -> None:
            """Nothing: textual-serve prints its logo here, before the port is bound."""

        def banner(self, _aiohttp_message: str = "") -> None:
            # Plain print, not textual-serve's console: a rich console wraps the long URL.
            url = f"{self.public_url.rstrip('/')}/?{urlencode({'token': token})}"
            print(f"hitl-tui serve: the dashboard at {url}", flush=True)
            print(f"  (listening on {self.host}:{self.port}; every browser session runs `{self.command}`; Ctrl+C to stop)", flush=True)

        def serve(self, debug: bool = False) -> None:
            """textual-serve's `serve`, except that the URL is printed once the port is bound
            (aiohttp's `print` hook runs after the sites started; `on_startup` runs before), so
            whoever reads it (a person, a test, a supervisor) can connect at once."""
            self.debug = debug
            self.initialize_logging()
            loop = asyncio.new_event_loop()
            loop.add_signal_handler(signal.SIGINT, self.request_exit)
            loop.add_signal_handler(signal.SIGTERM, self.request_exit)
            web.run_app(
                self._make_app(), host=self.host, port=self.port, handle_signals=False, loop=loop, print=self.banner
            )

    return TokenServer(command, host=host, port=port, title="hitl-tui", public_url=public_url)


def serve_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run the server until Ctrl+C / SIGTERM."""
    try:
        import textual_serve  # noqa: F401
    except ImportError:
        print("hitl-tui: `hitl-tui serve` needs textual-serve: pip install 'hitl-tui[serve]'", file=sys.stderr)
        return 2
    # Out of the environment the dashboards inherit: their tools have no use for it.
    from_env = os.environ.pop(TOKEN_ENV, None)
    token = args.token or from_env or secrets.token_urlsafe(32)
    if not 1 <= args.port <= 65535:
        print(f"hitl-tui: --port must be 1..65535 (got {args.port})", file=sys.stderr)
        return 2
    if args.host not in ("127.0.0.1", "localhost", "::1") and not args.public_url:
        print(
            f"hitl-tui: warning: listening on {args.host} without TLS: the token crosses the network in clear text."
            " Prefer 127.0.0.1 behind a TLS reverse proxy (README, \"In a browser\").",
            file=sys.stderr,
        )
    from ..store.open import is_database_url

    if is_database_url(settings.db):
        os.environ["HITL_TUI_DB"] = str(settings.db)  # the dashboards' store, out of their argv
    server = make_server(
        dashboard_command(args, settings), token=token, host=args.host, port=args.port, public_url=args.public_url
    )
    try:
        server.serve()
    except OSError as exc:  # the port is taken, the address is not this machine's, ...
        print(f"hitl-tui: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    return 0
