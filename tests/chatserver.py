"""A real OpenAI-compatible chat-completions server for tests, driven by a script of replies.

It listens on 127.0.0.1 (a free port) in a background thread and answers
`POST /v1/chat/completions` with the next scripted reply, as plain JSON or, when the request
says `"stream": true`, as SSE chunks split the way OpenAI splits them (text over several content
deltas, tool-call arguments over several deltas carrying an `index`). Every request body is
recorded, so a test can check what the model was actually sent.

A script entry is built with one of:

    text("Hello")                                   a plain answer
    tools(call("get_weather", {"city": "Oslo"}))    one or more tool calls (optionally with text)
    fault("401") / fault("429") / fault("500")      HTTP errors with OpenAI-style JSON bodies
    fault("delay", seconds=5)                       answer later than the client's timeout
    fault("cut", after=2)                           close the socket after `after` SSE chunks
    fault("stream_error", after=2)                  an error event in the stream after `after` chunks
    fault("stall", after=2, seconds=5)              stream `after` chunks, then go silent for `seconds`
    raw(b'{"choices": [{}]}')                       exactly these bytes as the body (status 200 by default)

A server that cannot stream when tools are offered is a property of the server, as in real life:
`ChatServer(stream_with_tools="error")` answers every such stream request with 400 "streaming is
not supported with tools", and `"empty"` with a 200 stream that holds nothing. Those requests are
recorded but take nothing from the script; plain requests are answered from it as usual.

`call(name, args, id=...)` takes `args` as a dict (JSON-encoded for the wire) or as a raw string,
sent exactly as given (invalid JSON, stray whitespace...). `id=None` omits the id; the default
gives each call a fresh `call_N`.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Literal

_AUTO = object()

FaultKind = Literal["401", "429", "500", "delay", "cut", "stream_error", "stall"]
StreamWithTools = Literal["ok", "error", "empty"]


@dataclass
class Call:
    name: str
    arguments: str
    id: str | None | object = _AUTO
    #: Send `arguments` as a JSON object instead of a string (some servers do).
    as_object: bool = False


@dataclass
class Reply:
    content: str = ""
    calls: list[Call] = field(default_factory=list)
    fault: FaultKind | None = None
    #: For "delay" / "stall": how long to wait. For "cut" / "stream_error" / "stall": how many SSE chunks to send first.
    seconds: float = 0.0
    after: int = 1
    #: Stream each tool call's name in every delta, as some servers do (OpenAI sends it once).
    repeat_name: bool = False
    #: Stream tool-call deltas without `index` (only the first delta of a call has its id).
    no_index: bool = False
    #: Send exactly these bytes as the body (a broken server), with `raw_status`.
    raw: bytes | None = None
    raw_status: int = 200
    raw_type: str = "application/json"


Script = Reply | Callable[[dict[str, Any]], Reply]


def call(name: str, args: dict[str, Any] | str | None = None, *, id: str | None | object = _AUTO, as_object: bool = False) -> Call:
    raw = args if isinstance(args, str) else json.dumps(args or {})
    return Call(name=name, arguments=raw, id=id, as_object=as_object)


def text(content: str) -> Reply:
    return Reply(content=content)


def tools(*calls: Call, content: str = "", repeat_name: bool = False, no_index: bool = False) -> Reply:
    return Reply(content=content, calls=list(calls), repeat_name=repeat_name, no_index=no_index)


def fault(kind: FaultKind, *, seconds: float = 5.0, after: int = 1, content: str = "", calls: list[Call] | None = None) -> Reply:
    """A failure. For "cut", `content` / `calls` are what the stream was in the middle of sending."""
    return Reply(content=content, calls=list(calls or []), fault=kind, seconds=seconds, after=after)


def raw(body: bytes, *, status: int = 200, content_type: str = "application/json") -> Reply:
    """A reply of exactly `body` (for plain and streaming requests alike): malformed servers."""
    return Reply(raw=body, raw_status=status, raw_type=content_type)


_ERRORS: dict[str, tuple[int, str, str, str | None]] = {
    "401": (401, "Incorrect API key provided: test. You can find your API key at https://platform.openai.com/account/api-keys.", "invalid_request_error", "invalid_api_key"),
    "429": (429, "Rate limit reached for gpt-4o-mini on requests per min (RPM): Limit 3, Used 3.", "requests", "rate_limit_exceeded"),
    "500": (500, "The server had an error while processing your request. Sorry about that!", "server_error", None),
    "no_stream_with_tools": (400, "streaming is not supported with tools", "invalid_request_error", None),
}


def _split(text: str, parts: int = 3) -> list[str]:
    """Split text into about `parts` pieces on character boundaries (at least one piece)."""
    if not text:
        return []
    size = max(1, -(-len(text) // parts))
    return [text[i : i + size] for i in range(0, len(text), size)]


class ChatServer:
    """The server. Use as a context manager or call start()/stop()."""

    def __init__(
        self, script: list[Script] | None = None, *, model: str = "test-model", stream_with_tools: StreamWithTools = "ok"
    ) -> None:
        self.script: list[Script] = list(script or [])
        self.model = model
        self.stream_with_tools = stream_with_tools
        #: Every request body received, in order (parsed JSON).
        self.requests: list[dict[str, Any]] = []
        #: Requests that arrived after the script ran out (a test bug or a runtime bug).
        self.unexpected: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._ids = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> "ChatServer":
        server = self

        class Handler(_Handler):
            chat = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="chatserver", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> "ChatServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "the server is not running"
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """The base URL to give the client (`.../v1`)."""
        return f"http://127.0.0.1:{self.port}/v1"

    # ------------------------------------------------------------------ script

    def add(self, *replies: Script) -> None:
        with self._lock:
            self.script.extend(replies)

    @property
    def remaining(self) -> int:
        with self._lock:
            return len(self.script)

    def _record(self, body: dict[str, Any]) -> None:
        with self._lock:
            self.requests.append(body)

    def _next(self, body: dict[str, Any]) -> Reply | None:
        with self._lock:
            self.requests.append(body)
            if not self.script:
                self.unexpected.append(body)
                return None
            entry = self.script.pop(0)
        return entry(body) if callable(entry) else entry

    def _call_id(self) -> str:
        with self._lock:
            self._ids += 1
            return f"call_{self._ids}"

    # ------------------------------------------------------------------ what the model was sent

    @property
    def last_messages(self) -> list[dict[str, Any]]:
        return self.requests[-1]["messages"]

    def tool_messages(self, request: int = -1) -> list[dict[str, Any]]:
        """The tool-result messages of one recorded request (default: the latest)."""
        return [m for m in self.requests[request]["messages"] if m.get("role") == "tool"]


class _Handler(BaseHTTPRequestHandler):
    chat: ChatServer
    protocol_version = "HTTP/1.1"  # keep-alive and chunked streaming, as real servers do
    disable_nagle_algorithm = True  # one write per response part, sent at once (no Nagle + delayed-ACK stall)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # ------------------------------------------------------------------ plumbing

    def _send_json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _send_error(self, kind: str) -> None:
        status, message, type_, code = _ERRORS[kind]
        self._send_json(status, {"error": {"message": message, "type": type_, "param": None, "code": code}})

    def _chunk(self, payload: bytes) -> None:
        self.wfile.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
        self.wfile.flush()

    def _sse(self, data: dict[str, Any] | str) -> None:
        text = data if isinstance(data, str) else json.dumps(data)
        self._chunk(f"data: {text}\n\n".encode())

    def _drop(self) -> None:
        """Close the socket at once, mid-response."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.connection.close()

    # ------------------------------------------------------------------ requests

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            self._send_json(200, {"object": "list", "data": [{"id": self.chat.model, "object": "model"}]})
        else:
            self._send_json(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send_json(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})
            return
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            self._send_json(400, {"error": {"message": "the body is not JSON", "type": "invalid_request_error"}})
            return
        stream = bool(body.get("stream"))
        if stream and body.get("tools") and self.chat.stream_with_tools != "ok":
            self.chat._record(body)
            if self.chat.stream_with_tools == "error":
                self._send_error("no_stream_with_tools")
            else:
                self._stream(Reply(), [], "empty")
            return
        reply = self.chat._next(body)
        if reply is None:
            self._send_json(
                500, {"error": {"message": "chatserver: the script has no reply left for this request", "type": "test_error"}}
            )
            return
        if reply.raw is not None:
            self.send_response(reply.raw_status)
            self.send_header("Content-Type", reply.raw_type)
            self.send_header("Content-Length", str(len(reply.raw)))
            self.end_headers()
            self.wfile.write(reply.raw)
            self.wfile.flush()
            return
        kind: str | None = reply.fault
        if kind in ("401", "429", "500") or (kind == "stream_error" and not stream):
            self._send_error("500" if kind == "stream_error" else kind)
            return
        if kind == "delay":
            if self.chat._stopping.wait(reply.seconds):
                return
            kind = None
        ids = [self.chat._call_id() if c.id is _AUTO else c.id for c in reply.calls]
        if stream:
            self._stream(reply, ids, kind)
        elif kind == "cut":
            self._plain_cut(reply, ids)
        else:
            self._plain(reply, ids)

    def _completion_id(self) -> str:
        return f"chatcmpl-{int(time.time() * 1000)}"

    def _plain(self, reply: Reply, ids: list[Any]) -> None:
        message: dict[str, Any] = {"role": "assistant", "content": reply.content or None}
        if reply.calls:
            message["tool_calls"] = [self._wire_call(c, cid) for c, cid in zip(reply.calls, ids)]
        self._send_json(200, self._completion(message, "tool_calls" if reply.calls else "stop"))

    def _completion(self, message: dict[str, Any], finish: str) -> dict[str, Any]:
        return {
            "id": self._completion_id(),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.chat.model,
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        }

    @staticmethod
    def _wire_call(c: Call, cid: Any) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "function",
            "function": {"name": c.name, "arguments": json.loads(c.arguments) if c.as_object else c.arguments},
        }
        if cid is not None:
            out["id"] = cid
        return out

    def _plain_cut(self, reply: Reply, ids: list[Any]) -> None:
        """A JSON body that stops half-way (Content-Length promises more)."""
        message: dict[str, Any] = {"role": "assistant", "content": reply.content or None}
        data = json.dumps(self._completion(message, "stop")).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self._drop()

    def _stream(self, reply: Reply, ids: list[Any], kind: str | None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        cid = self._completion_id()
        created = int(time.time())

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": self.chat.model,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            }

        if kind == "empty":
            self._sse(chunk({"role": "assistant", "content": ""}))
            self._sse(chunk({}, "stop"))
            self._sse("[DONE]")
            self._chunk(b"")
            return

        events: list[dict[str, Any]] = [chunk({"role": "assistant", "content": ""})]
        for piece in _split(reply.content, 3):
            events.append(chunk({"content": piece}))
        for index, (c, call_id) in enumerate(zip(reply.calls, ids)):
            first: dict[str, Any] = {"index": index, "type": "function", "function": {"name": c.name, "arguments": ""}}
            if call_id is not None:
                first["id"] = call_id
            events.append(chunk({"tool_calls": [first]}))
            if c.as_object:
                pieces = [json.loads(c.arguments)]
            else:
                pieces = _split(c.arguments, 3)
            for piece in pieces:
                fn: dict[str, Any] = {"arguments": piece}
                if reply.repeat_name:
                    fn["name"] = c.name
                events.append(chunk({"tool_calls": [{"index": index, "function": fn}]}))
            if reply.no_index:
                for event in events:
                    for delta_call in event["choices"][0]["delta"].get("tool_calls", []):
                        delta_call.pop("index", None)
        events.append(chunk({}, "tool_calls" if reply.calls else "stop"))

        if kind == "cut":
            for event in events[: reply.after]:
                self._sse(event)
            self._drop()
            return
        if kind == "stall":
            for event in events[: reply.after]:
                self._sse(event)
            if self.chat._stopping.wait(reply.seconds):
                return
            for event in events[reply.after :]:
                self._sse(event)
            self._sse("[DONE]")
            self._chunk(b"")
            return
        if kind == "stream_error":  # what OpenAI and vLLM send when they fail mid-stream
            for event in events[: reply.after]:
                self._sse(event)
            self._sse({"error": {"message": "The server is overloaded; please retry.", "type": "server_error", "code": None}})
            self._chunk(b"")
            return
        for event in events:
            self._sse(event)
        self._sse("[DONE]")
        self._chunk(b"")  # end of the chunked body


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (for "connection refused")."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]



def assert_valid_tool_history(messages: list[dict[str, Any]]) -> None:
    """What a strict server (OpenAI) insists on: every tool call answered once, right after it.

    Each assistant message's tool calls have distinct, non-empty ids; the messages that follow it
    are exactly one tool result per call; no tool result answers a call that was not made.
    """
    i = 0
    while i < len(messages):
        m = messages[i]
        if m.get("role") == "tool":
            raise AssertionError(f"tool result {m.get('tool_call_id')!r} does not follow the call it answers")
        if m.get("role") == "assistant" and m.get("tool_calls"):
            ids = [c.get("id") for c in m["tool_calls"]]
            assert all(ids), f"a tool call has no id: {m['tool_calls']}"
            assert len(set(ids)) == len(ids), f"tool call ids repeat within one message: {ids}"
            answers = []
            j = i + 1
            while j < len(messages) and messages[j].get("role") == "tool":
                answers.append(messages[j].get("tool_call_id"))
                j += 1
            assert sorted(answers) == sorted(ids), f"calls {ids} were answered by {answers}"
            i = j
            continue
        i += 1


__all__ = ["Call", "ChatServer", "Reply", "assert_valid_tool_history", "call", "closed_port", "fault", "text", "tools"]
