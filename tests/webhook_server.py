"""A local webhook receiver on 127.0.0.1 for the notification tests (not a test module).

It records every POSTed JSON body. `hold` makes it accept a request and not answer until the test
releases it (a hanging endpoint); `status` makes it answer with an error.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class WebhookServer:
    def __init__(self, *, status: int = 200, hold: bool = False) -> None:
        self.status = status
        self.bodies: list[dict[str, Any]] = []
        self.received = threading.Event()
        self.release = threading.Event()
        if not hold:
            self.release.set()
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/hook"

    def start(self) -> "WebhookServer":
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length).decode("utf-8"))
                server.bodies.append(body)
                server.received.set()
                server.release.wait(30)
                try:
                    self.send_response(server.status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self.release.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def __enter__(self) -> "WebhookServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
