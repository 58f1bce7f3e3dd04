"""OpenAIChat: any OpenAI-compatible chat-completions API (OpenAI, Ollama, vLLM, llama.cpp, LM Studio).

Real servers differ, so this is forgiving:
- it makes a plain request when its caller does not stream (`agent.arun()`, like Agno), and
  streams (SSE) when the caller does (`arun(stream=True)`, the dashboard); `stream=True/False`
  forces either way. A server that cannot stream with tools, or ends such a stream empty, is
  asked again plainly;
- it assembles tool-call deltas by index, tolerating missing indexes and ids;
- it keeps one client per event loop and closes it on that loop when the loop shuts down (a
  parked async generator that `asyncio.run()` finalises before closing the loop), so
  `asyncio.run(arun())` followed by a second `asyncio.run(acontinue_run())` works: no client
  stays bound to a closed loop, and no "Event loop is closed" tracebacks appear later;
- every client shares one SSL context (loading the CA bundle costs ~20 ms; measured in
  tests/benchmarks/bench_hitl_cycle.py);
- every failure becomes a ModelError whose message says what the server sent and what to do.

Why requests go through `client.post(...)` with a ready JSON body instead of
`client.chat.completions.create(**params)`: `create()` walks every message of the context
against the API's TypedDicts (about 0.4 ms per message), so a long session spent ~97% of each
request there, on the event loop the dashboard shares (tests/benchmarks/bench_long_session.py).
The messages the agent builds are already plain JSON, so they are encoded once with `json`
(cost in proportion to the bytes) and sent with the client's documented low-level `post`,
which keeps its retries, timeouts, headers and error types. Replies come back as plain JSON
(`cast_to=bytes` / `AsyncStream[object]`) and are read here, so a malformed reply gets a
message that quotes it instead of an AttributeError.
"""

from __future__ import annotations

import asyncio
import json
import os
import weakref
from typing import Any, AsyncIterator, Mapping

from .base import ModelChunk, ModelError, ModelResponse, ToolCall

#: Placeholder key for local servers (Ollama, llama.cpp...) that need none; the client insists on one.
NO_KEY = "not-needed"

_SSL_CONTEXT: Any = None


def _shared_ssl_context() -> Any:
    """One SSL context for every client, built by the openai client's own HTTP library (so
    SSL_CERT_FILE / SSL_CERT_DIR are honoured as the client would honour them)."""
    global _SSL_CONTEXT
    if _SSL_CONTEXT is None:
        try:
            import httpx2 as http  # what openai >= 3 is built on
        except ImportError:  # pragma: no cover - older openai releases use httpx
            import httpx as http  # type: ignore[no-redef]
        _SSL_CONTEXT = http.create_ssl_context()
    return _SSL_CONTEXT


async def _close_when_loop_ends(client: Any) -> AsyncIterator[None]:
    try:
        yield
    finally:
        await client.close()


#: Keys of `request_params` that are options of the request, not fields of the JSON body.
_REQUEST_OPTIONS = ("extra_headers", "extra_query", "extra_body", "timeout")


class OpenAIChat:
    """A chat model behind an OpenAI-compatible API. The keyword options mirror Agno's
    `OpenAIChat` (temperature, max_tokens, top_p, ..., `extra_body`, `request_params`), so a
    program written for Agno keeps its settings."""

    def __init__(
        self,
        id: str = "gpt-4o-mini",
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        stream: bool | None = None,
        timeout: float = 60.0,
        max_retries: int = 2,
        temperature: float | None = None,
        max_tokens: int | None = None,
        max_completion_tokens: int | None = None,
        top_p: float | None = None,
        frequency_penalty: float | None = None,
        presence_penalty: float | None = None,
        seed: int | None = None,
        stop: str | list[str] | None = None,
        user: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        request_params: Mapping[str, Any] | None = None,
        api_key_env: str = "OPENAI_API_KEY",
    ) -> None:
        self.id = id
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        self._api_key = api_key
        self.api_key_env = api_key_env
        #: None: stream when the caller streams. True / False: always / never.
        self.stream = stream
        self.timeout = timeout
        self.max_retries = max_retries
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.max_completion_tokens = max_completion_tokens
        self.top_p = top_p
        self.frequency_penalty = frequency_penalty
        self.presence_penalty = presence_penalty
        self.seed = seed
        self.stop = stop
        self.user = user
        self.extra_headers = dict(extra_headers or {})
        self.extra_query = dict(extra_query or {})
        self.extra_body = dict(extra_body or {})
        self.request_params = dict(request_params or {})
        #: Set once a server showed it cannot stream with tools; later requests go plain.
        self._stream_with_tools_broken = False
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[Any, Any]] = weakref.WeakKeyDictionary()

    # ------------------------------------------------------------------ client

    @property
    def api_key(self) -> str | None:
        return self._api_key or os.environ.get(self.api_key_env) or None

    def describe(self) -> str:
        where = self.base_url or "api.openai.com"
        return f"{self.id} @ {where}"

    def _client(self) -> Any:
        """A new client (the caller owns it and closes it on the loop that made it)."""
        from openai import AsyncOpenAI, DefaultAsyncHttpxClient  # lazy: keeps `import tui.agent` light

        key = self.api_key
        if key is None:
            if self.base_url is None:
                raise ModelError(
                    f"No API key: set {self.api_key_env} (or pass api_key=), or point OPENAI_BASE_URL / "
                    "base_url at a local server such as Ollama. Without either, use the offline demo model."
                )
            key = NO_KEY
        http_client = DefaultAsyncHttpxClient(verify=_shared_ssl_context(), timeout=self.timeout)
        return AsyncOpenAI(
            api_key=key, base_url=self.base_url, timeout=self.timeout, max_retries=self.max_retries, http_client=http_client
        )

    async def _loop_client(self) -> Any:
        """This event loop's client: made on first use, closed when the loop shuts down."""
        loop = asyncio.get_running_loop()
        entry = self._clients.get(loop)
        if entry is not None and not entry[0].is_closed():
            return entry[0]
        # Importing openai and loading the CA bundle take ~0.3 s: off the loop, so a UI keeps drawing.
        client = await asyncio.to_thread(self._client)
        keeper = _close_when_loop_ends(client)
        await keeper.__anext__()  # parked; the loop's shutdown_asyncgens() runs its `finally`
        self._clients[loop] = (client, keeper)  # strong refs while the loop lives
        return client

    # ------------------------------------------------------------------ requests

    def _params(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], tool_choice: Any = None) -> dict[str, Any]:
        """The JSON body (without "stream"), as the API documents it: plain dicts, no SDK types."""
        params: dict[str, Any] = {"model": self.id, "messages": messages}
        if tools:
            params["tools"] = tools
            if tool_choice is not None:
                params["tool_choice"] = tool_choice
        for name in (
            "temperature", "max_tokens", "max_completion_tokens", "top_p", "frequency_penalty",
            "presence_penalty", "seed", "stop", "user",
        ):
            value = getattr(self, name)
            if value is not None:
                params[name] = value
        params.update((k, v) for k, v in self.request_params.items() if k not in _REQUEST_OPTIONS)
        params.update(self.extra_body)
        params.update(self.request_params.get("extra_body") or {})
        return params

    def _options(self) -> dict[str, Any]:
        """Per-request options of the openai client (headers, query, timeout)."""
        options: dict[str, Any] = {}
        headers = {**self.extra_headers, **(self.request_params.get("extra_headers") or {})}
        if headers:
            options["headers"] = headers
        query = {**self.extra_query, **(self.request_params.get("extra_query") or {})}
        if query:
            options["params"] = query
        if self.request_params.get("timeout") is not None:
            options["timeout"] = self.request_params["timeout"]
        return options

    def streams(self, caller_streams: bool) -> bool:
        """Whether a request streams: as forced by `stream=`, else as the caller does."""
        return caller_streams if self.stream is None else self.stream

    async def astream(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        *,
        stream: bool = True,
        tool_choice: Any = None,
    ) -> AsyncIterator[ModelChunk]:
        client = await self._loop_client()
        params = self._params(messages, tools, tool_choice)
        if not self.streams(stream) or (tools and self._stream_with_tools_broken):
            source = self._whole(client, params)
        else:
            source = self._astream(client, params, bool(tools))
        async for chunk in source:
            yield chunk

    async def aclose(self) -> None:
        """Close this loop's client now (optional: it is closed when the loop ends anyway)."""
        entry = self._clients.pop(asyncio.get_running_loop(), None)
        if entry is not None:
            await entry[0].close()

    async def _post(self, client: Any, params: dict[str, Any], *, stream: bool) -> Any:
        """Send the body with the client's low-level `post`: bytes for a plain reply, an
        AsyncStream of plain dicts for SSE. Encoding is one `json.dumps` (proportional to the
        bytes); the client's parameter transformation is never applied."""
        from openai import AsyncStream

        body = dict(params, stream=True) if stream else params
        try:
            content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        except (TypeError, ValueError) as exc:
            raise ModelError(
                f"The request to {self._where()} could not be encoded as JSON ({exc}). "
                "Check the values given in extra_body / request_params."
            ) from exc
        if stream:
            return await client.post(
                "/chat/completions", content=content, cast_to=object, options=self._options(),
                stream=True, stream_cls=AsyncStream[object],
            )
        return await client.post("/chat/completions", content=content, cast_to=bytes, options=self._options())

    async def _astream(self, client: Any, params: dict[str, Any], has_tools: bool) -> AsyncIterator[ModelChunk]:
        emitted = False  # text already handed to the caller: too late to fall back
        started = False  # the server accepted the request and began to answer
        response = ModelResponse()
        calls: dict[Any, dict[str, Any]] = {}
        order: list[Any] = []
        where = self._where()
        try:
            stream = await self._post(client, params, stream=True)
            started = True
            async for chunk in stream:
                if not isinstance(chunk, dict):
                    raise ModelError(
                        f"{where} sent a stream event that is not a JSON object: {_quote(chunk)}. "
                        "Check that base_url / OPENAI_BASE_URL points at an OpenAI-compatible /v1 endpoint; continue the run to try again.",
                        retryable=True,
                    )
                if chunk.get("error"):
                    raise ModelError(f"The model server reported an error mid-stream: {chunk['error']}")
                for choice in chunk.get("choices") or []:
                    if not isinstance(choice, dict):
                        raise _bad_reply(where, "a stream chunk whose choice is not an object", chunk)
                    delta = choice.get("delta") or {}
                    if not isinstance(delta, dict):
                        raise _bad_reply(where, "a stream chunk whose delta is not an object", chunk)
                    text = delta.get("content")
                    if text:
                        text = text if isinstance(text, str) else _arguments_text(text)
                        response.content += text
                        emitted = True
                        yield ModelChunk(text=text)
                    for tc in delta.get("tool_calls") or []:
                        if not isinstance(tc, dict):
                            raise _bad_reply(where, "a tool-call delta that is not an object", chunk)
                        key = _call_key(tc, calls, order)
                        if key not in calls:
                            calls[key] = {"id": tc.get("id"), "name": "", "arguments": ""}
                            order.append(key)
                        entry = calls[key]
                        if tc.get("id") and not entry["id"]:
                            entry["id"] = tc["id"]
                        function = tc.get("function") or {}
                        if isinstance(function, dict):
                            # OpenAI sends the name once; some servers repeat it in every delta.
                            name = function.get("name")
                            if name and name != entry["name"]:
                                entry["name"] += str(name)
                            if function.get("arguments"):
                                entry["arguments"] += _arguments_text(function["arguments"])
                    if choice.get("finish_reason"):
                        response.finish_reason = str(choice["finish_reason"])
        except ModelError:
            raise
        except Exception as exc:
            if not emitted and has_tools and _looks_like_no_stream_support(exc):
                self._stream_with_tools_broken = True
                async for chunk in self._whole(client, params):
                    yield chunk
                return
            raise _model_error(exc, self, partial=started) from exc

        response.tool_calls = [
            ToolCall(id=calls[k]["id"], name=calls[k]["name"], arguments=calls[k]["arguments"]) for k in order
        ]
        if not response.content and not response.tool_calls:
            # An empty stream: some servers do this when tools are offered. Ask again without streaming.
            if has_tools:
                self._stream_with_tools_broken = True
            async for chunk in self._whole(client, params):
                yield chunk
            return
        if response.finish_reason is None:
            raise ModelError(
                "The model's stream was cut off before it finished (no finish_reason). "
                "The partial reply was not used; continue the run to try again."
            )
        yield ModelChunk(response=response)

    async def _whole(self, client: Any, params: dict[str, Any]) -> AsyncIterator[ModelChunk]:
        """A plain (non-streamed) reply, told as one text delta then the response, like a stream."""
        response = await self._complete(client, params)
        if response.content:
            yield ModelChunk(text=response.content)
        yield ModelChunk(response=response)

    async def _complete(self, client: Any, params: dict[str, Any]) -> ModelResponse:
        try:
            raw = await self._post(client, params, stream=False)
        except ModelError:
            raise
        except Exception as exc:
            raise _model_error(exc, self) from exc
        return parse_completion(raw, self._where())

    def _where(self) -> str:
        return self.base_url or "the OpenAI API"


def parse_completion(raw: bytes | str, where: str) -> ModelResponse:
    """Read a plain chat-completion body. Anything unusable becomes a ModelError that quotes what
    the server sent and says what to do (never an AttributeError from deep inside)."""
    if not raw or not raw.strip():
        raise ModelError(
            f"{where} answered with an empty body instead of a chat completion (HTTP 200, nothing in it). "
            "Check that base_url / OPENAI_BASE_URL points at the server's OpenAI-compatible /v1 endpoint, "
            "and the server's logs; continue the run to try again.",
            retryable=True,
        )
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ModelError(
            f"{where} sent a reply that is not JSON ({getattr(exc, 'msg', exc)}): {_quote(raw)}. "
            "Check that base_url / OPENAI_BASE_URL points at the server's OpenAI-compatible /v1 endpoint "
            "(not its web page); continue the run to try again.",
            retryable=True,
        ) from None
    if not isinstance(data, dict):
        raise _bad_reply(where, "a reply that is not a JSON object", data)
    if data.get("error"):
        error = data["error"]
        message = error.get("message") if isinstance(error, dict) else error
        raise ModelError(
            f"{where} answered with an error instead of a completion: {_quote(message)}. "
            "Check the model id and the server's logs; continue the run to try again.",
            retryable=True,
        )
    choices = data.get("choices")
    if not choices or not isinstance(choices, list):
        raise ModelError(
            f"{where} returned no choices ({_quote(data)}). Check the model id and the server's logs.",
            retryable=True,
        )
    choice = choices[0]
    message = choice.get("message") if isinstance(choice, dict) else None
    if not isinstance(message, dict):
        raise _bad_reply(where, "a choice without a message", data)
    content = message.get("content")
    if content is not None and not isinstance(content, str):
        content = _arguments_text(content)
    calls = []
    for tc in message.get("tool_calls") or []:
        if not isinstance(tc, dict):
            raise _bad_reply(where, "a tool call that is not an object", data)
        function = tc.get("function")
        if not isinstance(function, dict):
            function = {}
        calls.append(
            ToolCall(id=tc.get("id"), name=str(function.get("name") or ""), arguments=_arguments_text(function.get("arguments")))
        )
    finish = choice.get("finish_reason")
    return ModelResponse(content=content or "", tool_calls=calls, finish_reason=str(finish) if finish else None)


def _quote(value: Any, limit: int = 200) -> str:
    """What the server sent, short enough for one line of an error message."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _bad_reply(where: str, what: str, sent: Any) -> ModelError:
    return ModelError(
        f"{where} sent {what}: {_quote(sent)}. The server may not support chat completions for this model; "
        "check the model id and the server's logs, then continue the run to try again.",
        retryable=True,
    )


def _call_key(tc: dict[str, Any], calls: dict[Any, dict[str, Any]], order: list[Any]) -> Any:
    """Which call a tool-call delta belongs to.

    OpenAI gives every delta an `index`; that alone decides (ids may repeat: some servers number
    calls "call_0" in every reply). Without an index, a delta with a known id continues that
    call, one with a new id starts a call, and one with neither continues the latest call.
    """
    if tc.get("index") is not None:
        return tc["index"]
    if tc.get("id"):
        known = next((k for k, c in calls.items() if c["id"] == tc["id"]), None)
        return known if known is not None else f"id:{len(order)}"
    return order[-1] if order else 0


def _arguments_text(arguments: Any) -> str:
    """Tool-call arguments as JSON text: some servers send an object where OpenAI sends a string."""
    if arguments is None:
        return ""
    if isinstance(arguments, str):
        return arguments
    try:
        return json.dumps(arguments, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(arguments)


def _looks_like_no_stream_support(exc: Exception) -> bool:
    status = getattr(exc, "status_code", None)
    text = str(exc).lower()
    return status in (400, 422, 501) and "stream" in text


def _model_error(exc: Exception, model: OpenAIChat, *, partial: bool = False) -> ModelError:
    """Translate the openai client's exceptions into messages that say what to do."""
    import openai

    where = model.base_url or "the OpenAI API"
    status = getattr(exc, "status_code", None)
    detail = _error_detail(exc)
    if isinstance(exc, openai.AuthenticationError) or status == 401:
        return ModelError(
            f"{where} rejected the API key (401{detail}). Check {model.api_key_env} (api_key_env names the variable).",
            status_code=401,
        )
    if isinstance(exc, openai.PermissionDeniedError) or status == 403:
        return ModelError(f"{where} refused access (403{detail}). Check the key's permissions for model {model.id}.", status_code=403)
    if isinstance(exc, openai.NotFoundError) or status == 404:
        return ModelError(f"{where} does not know model {model.id!r} or the URL is wrong (404{detail}). Check the model id and base_url.", status_code=404)
    if isinstance(exc, openai.RateLimitError) or status == 429:
        return ModelError(
            f"{where} is rate limiting requests (429{detail}). Wait a moment, then continue the run.",
            status_code=429,
            retryable=True,
        )
    if isinstance(exc, openai.APITimeoutError) and partial:
        return ModelError(
            f"{where} stopped sending mid-reply for more than {model.timeout:g}s (timeout). "
            "The partial reply was not used; continue the run to try again.",
            retryable=True,
        )
    if isinstance(exc, openai.APITimeoutError):
        return ModelError(
            f"{where} did not answer within {model.timeout:g}s (timeout). Continue the run to try again, or raise request_timeout.",
            retryable=True,
        )
    if isinstance(exc, openai.APIConnectionError):
        if partial or _broke_mid_reply(exc):
            return ModelError(
                f"The connection to {where} broke mid-reply (stream cut off). The partial reply was not used; continue the run to try again.",
                retryable=True,
            )
        return ModelError(
            f"Could not connect to {where} ({exc.__cause__ or exc}). Is the server running? Check base_url / OPENAI_BASE_URL.",
            retryable=True,
        )
    if isinstance(exc, openai.APIStatusError) and status is not None and status >= 500:
        return ModelError(f"{where} failed with a server error ({status}{detail}). Continue the run to try again.", status_code=status, retryable=True)
    if isinstance(exc, openai.APIStatusError):
        return ModelError(f"{where} rejected the request ({status}{detail}).", status_code=status)
    if isinstance(exc, openai.APIError) and partial:
        # An error event inside a stream (OpenAI and vLLM send one when they fail mid-reply).
        return ModelError(
            f"{where} reported an error mid-reply: {getattr(exc, 'message', exc)}. "
            "The partial reply was not used; continue the run to try again.",
            retryable=True,
        )
    if isinstance(exc, openai.APIError):
        return ModelError(f"{where} returned an unusable reply: {exc}", retryable=True)
    if isinstance(exc, ValueError) and partial:  # an SSE event whose data is not JSON
        return ModelError(
            f"{where} sent a stream event that is not JSON ({exc}). Check that base_url / OPENAI_BASE_URL points at an "
            "OpenAI-compatible /v1 endpoint; the partial reply was not used, continue the run to try again.",
            retryable=True,
        )
    return ModelError(f"The model call failed: {type(exc).__name__}: {exc}")


def _broke_mid_reply(exc: Exception) -> bool:
    """The server answered, then the connection dropped (as opposed to never connecting)."""
    cause = exc.__cause__ or exc.__context__
    name = type(cause).__name__ if cause is not None else ""
    return name in ("RemoteProtocolError", "ReadError") or "peer closed connection" in str(cause or "")


def _error_detail(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    message = None
    if isinstance(body, dict):
        err = body.get("error", body)
        message = err.get("message") if isinstance(err, dict) else err
    elif isinstance(body, str):
        message = body
    if not message:
        return ""
    message = str(message).strip().replace("\n", " ")
    return f": {message[:200]}"
