"""A real HTTP server on 127.0.0.1 that speaks the Hacker News API (`/topstories.json`, `/item/<id>.json`).

Used by the toolbox and demo tests instead of the real Hacker News, which is unreachable here.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_ITEMS: dict[int, dict[str, Any] | None] = {
    101: {"id": 101, "type": "story", "title": "A tiny SQLite trick", "url": "https://example.com/sqlite",
          "score": 321, "by": "ada", "time": 1700000000, "descendants": 42, "text": "long body", "kids": [1, 2]},
    102: {"id": 102, "type": "story", "title": "Ask HN: How do you review agent tool calls?", "score": 88,
          "by": "grace", "time": 1700000100, "descendants": 17, "text": "<p>I wonder…</p>"},
    103: {"id": 103, "type": "story", "title": "Show HN: A terminal dashboard", "url": "https://example.com/tui",
          "score": 55, "by": "linus", "time": 1700000200, "descendants": 3},
    104: None,  # deleted items come back as JSON null
    105: {"id": 105, "type": "story", "title": "Fifth story", "url": "https://example.com/5", "score": 5,
          "by": "ken", "time": 1700000400, "descendants": 0},
}


class HNServer:
    """Start with `.start()`; `.url` is the API base URL. Set `delay` / `status` to misbehave."""

    def __init__(self, items: dict[int, dict[str, Any] | None] | None = None, *, prefix: str = "/v0") -> None:
        self.items = dict(DEFAULT_ITEMS if items is None else items)
        self.top = list(self.items)
        self.prefix = prefix
        self.delay = 0.0  # seconds before answering item requests
        self.top_delay = 0.0  # seconds before answering /topstories.json
        self.status = 200  # answer every request with this status
        self.requests: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}{self.prefix}"

    def start(self) -> "HNServer":
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                with server._lock:
                    server.requests.append(self.path)
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    self._answer()
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def _answer(self) -> None:
                path = self.path
                if not path.startswith(server.prefix + "/"):
                    return self._send(404, {"error": "not found"})
                path = path[len(server.prefix):]
                if server.status != 200:
                    return self._send(server.status, {"error": "broken"})
                if path == "/topstories.json":
                    time.sleep(server.top_delay)
                    return self._send(200, server.top)
                m = re.fullmatch(r"/item/(\d+)\.json", path)
                if m:
                    time.sleep(server.delay)
                    return self._send(200, server.items.get(int(m.group(1))))
                return self._send(404, {"error": "not found"})

            def _send(self, status: int, payload: Any) -> None:
                body = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def __enter__(self) -> "HNServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v0"
