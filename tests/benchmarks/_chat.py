"""A minimal, fast chat-completions server for the benchmarks (zero model latency).

Run as a separate process (`python tests/benchmarks/_chat.py`): it prints `PORT <n>` on stdout,
serves `POST /v1/chat/completions` on 127.0.0.1 until its stdin closes, and keeps the client and
server off each other's GIL. Its replies are a fixed script keyed on the conversation, so every
runtime gets exactly the same replies:

- the last message is a tool result  -> the final answer `FINAL`;
- otherwise                          -> one call of `get_weather({"city": "Oslo"})`.

Plain JSON when the request has no `"stream": true`, else SSE split the way OpenAI splits it
(text over several content deltas, the call's arguments over several deltas with an `index`).
Each response is written with one `sendall` and TCP_NODELAY, so a request costs well under a
millisecond here (tests/chatserver.py writes headers and body separately and hits the 40 ms
Nagle/delayed-ACK stall on every request, which would drown the overhead being measured).

`GET /stats` returns `{"requests": n, "handler_s": total}`, the server's own handling time
(parse + build + write), and `POST /reset` zeroes it.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FINAL = "It is sunny in Oslo, 21 degrees."
TOOL_NAME = "get_weather"
TOOL_ARGS = json.dumps({"city": "Oslo"})

_lock = threading.Lock()
_stats = {"requests": 0, "handler_s": 0.0, "ids": 0}


def _split(text: str, parts: int = 3) -> list[str]:
    size = max(1, -(-len(text) // parts))
    return [text[i : i + size] for i in range(0, len(text), size)]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16  # buffer headers + body: one write per response

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def do_GET(self) -> None:
        if self.path == "/stats":
            with _lock:
                data = {"requests": _stats["requests"], "handler_s": _stats["handler_s"]}
            self._send(200, json.dumps(data).encode())
        else:
            self._send(404, b'{"error": {"message": "no route"}}')

    def do_POST(self) -> None:
        t0 = time.perf_counter()
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/reset":
            with _lock:
                _stats.update(requests=0, handler_s=0.0)
            self._send(200, b"{}")
            return
        body = json.loads(raw)
        messages = body.get("messages") or []
        final = bool(messages) and messages[-1].get("role") == "tool"
        with _lock:
            _stats["ids"] += 1
            call_id = f"call_{_stats['ids']}"
        created = int(time.time())
        model = body.get("model", "test-model")
        if body.get("stream"):
            self._stream(final, call_id, created, model)
        else:
            message: dict[str, Any] = {"role": "assistant", "content": FINAL if final else None}
            if not final:
                message["tool_calls"] = [
                    {"id": call_id, "type": "function", "function": {"name": TOOL_NAME, "arguments": TOOL_ARGS}}
                ]
            payload = {
                "id": f"chatcmpl-{call_id}",
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [
                    {"index": 0, "message": message, "logprobs": None, "finish_reason": "stop" if final else "tool_calls"}
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
            }
            self._send(200, json.dumps(payload).encode())
        with _lock:
            _stats["requests"] += 1
            _stats["handler_s"] += time.perf_counter() - t0

    def _stream(self, final: bool, call_id: str, created: int, model: str) -> None:
        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {
                "id": f"chatcmpl-{call_id}",
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            }

        events: list[Any] = [chunk({"role": "assistant", "content": ""})]
        if final:
            events += [chunk({"content": piece}) for piece in _split(FINAL)]
            events.append(chunk({}, "stop"))
        else:
            first = {"index": 0, "id": call_id, "type": "function", "function": {"name": TOOL_NAME, "arguments": ""}}
            events.append(chunk({"tool_calls": [first]}))
            events += [chunk({"tool_calls": [{"index": 0, "function": {"arguments": p}}]}) for p in _split(TOOL_ARGS)]
            events.append(chunk({}, "tool_calls"))
        data = b"".join(f"data: {json.dumps(e)}\n\n".encode() for e in events) + b"data: [DONE]\n\n"
        self._send(200, data, "text/event-stream")


def main() -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    print(f"PORT {httpd.server_address[1]}", flush=True)
    sys.stdin.read()  # until the parent closes our stdin (or dies)
    httpd.shutdown()


if __name__ == "__main__":
    main()
