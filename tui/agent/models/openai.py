"""OpenAIChat: any OpenAI-compatible chat-completions API (OpenAI, Ollama, vLLM, llama.cpp, LM Studio).

Real servers differ, so this is forgiving:
- it streams, and falls back to a plain request when a server cannot stream with tools, or ends
  such a stream empty;
- it assembles tool-call deltas by index, tolerating missing indexes and ids;
- it keeps one client per event loop and closes it on that loop when the loop shuts down (a
  parked async generator that `asyncio.run()` finalises before closing the loop), so
  `asyncio.run(arun())` followed by a second `asyncio.run(acontinue_run())` works: no client
  stays bound to a closed loop, and no "Event loop is closed" tracebacks appear later;
- every client shares one SSL context (loading the CA bundle costs ~20 ms; measured in
  tests/benchmarks/bench_hitl_cycle.py);
- every failure becomes a ModelError whose message says what to do.
"""

from __future__ import annotations

import asyncio
import json
import os
import weakref
from typing import Any, AsyncIterator

from .base import ModelChunk, ModelError, ModelResponse, ToolCall

#: Placeholder key for local servers (Ollama, llama.cpp...) that need none; the client insists on one.
NO_KEY = "not-needed"

_SSL_CONTEXT: Any = None


def _shared_ssl_context() -> Any:
    """One SSL context for every client, built as the openai client's own HTTP library builds it
    (so SSL_CERT_FILE / SSL_CERT_DIR are honoured)."""
    global _SSL_CONTEXT
    if _SSL_CONTEXT is None:
        from openai import _base_client

        http = getattr(_base_client, "httpx2", None) or getattr(_base_client, "httpx")
        _SSL_CONTEXT = http.create_ssl_context()
    return _SSL_CONTEXT


async def _close_when_loop_ends(client: Any) -> AsyncIterator[None]:
    try:
        yield
    finally:
        await client.close()


class OpenAIChat:
    def __init__(
        self,
        id: str = "gpt-4o-mini",
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        stream: bool = True,
        timeout: float = 60.0,
        max_retries: int = 2,
        temperature: float | None = None,
        api_key_env: str = "OPENAI_API_KEY",
    ) -> None:
        self.id = id
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        self._api_key = api_key
        self.api_key_env = api_key_env
        self.stream = stream
        self.timeout = timeout
        self.max_retries = max_retries
        self.temperature = temperature
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

    def _params(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> dict[str, Any]:
        params: dict[str, Any] = {"model": self.id, "messages": messages}
        if tools:
            params["tools"] = tools
        if self.temperature is not None:
            params["temperature"] = self.temperature
        return params

    async def astream(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> AsyncIterator[ModelChunk]:
        client = await self._loop_client()
        async for chunk in self._astream(client, self._params(messages, tools), bool(tools)):
            yield chunk

    async def aclose(self) -> None:
        """Close this loop's client now (optional: it is closed when the loop ends anyway)."""
        entry = self._clients.pop(asyncio.get_running_loop(), None)
        if entry is not None:
            await entry[0].close()

    async def _astream(self, client: Any, params: dict[str, Any], has_tools: bool) -> AsyncIterator[ModelChunk]:
        if not self.stream or (has_tools and self._stream_with_tools_broken):
            async for chunk in self._whole(client, params):
                yield chunk
            return

        emitted = False  # text already handed to the caller: too late to fall back
        started = False  # the server accepted the request and began to answer
        response = ModelResponse()
        calls: dict[Any, dict[str, Any]] = {}
        order: list[Any] = []
        try:
            stream = await client.chat.completions.create(**params, stream=True)
            started = True
            async for chunk in stream:
                if getattr(chunk, "error", None):
                    raise ModelError(f"The model server reported an error mid-stream: {chunk.error}")
                for choice in chunk.choices or []:
                    delta = choice.delta
                    if delta is not None and delta.content:
                        response.content += delta.content
                        emitted = True
                        yield ModelChunk(text=delta.content)
                    for tc in (delta.tool_calls if delta is not None else None) or []:
                        key = _call_key(tc, calls, order)
                        if key not in calls:
                            calls[key] = {"id": tc.id, "name": "", "arguments": ""}
                            order.append(key)
                        entry = calls[key]
                        if tc.id and not entry["id"]:
                            entry["id"] = tc.id
                        if tc.function is not None:
                            # OpenAI sends the name once; some servers repeat it in every delta.
                            if tc.function.name and tc.function.name != entry["name"]:
                                entry["name"] += tc.function.name
                            if tc.function.arguments:
                                entry["arguments"] += _arguments_text(tc.function.arguments)
                    if choice.finish_reason:
                        response.finish_reason = choice.finish_reason
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
            completion = await client.chat.completions.create(**params)
        except Exception as exc:
            raise _model_error(exc, self) from exc
        if not getattr(completion, "choices", None):
            raise ModelError("The model server returned no choices. Check the model id and the server's logs.")
        choice = completion.choices[0]
        message = choice.message
        calls = [
            ToolCall(
                id=tc.id,
                name=(tc.function.name or "") if tc.function else "",
                arguments=_arguments_text(tc.function.arguments) if tc.function else "",
            )
            for tc in (message.tool_calls or [])
        ]
        return ModelResponse(content=message.content or "", tool_calls=calls, finish_reason=choice.finish_reason)


def _call_key(tc: Any, calls: dict[Any, dict[str, Any]], order: list[Any]) -> Any:
    """Which call a tool-call delta belongs to.

    OpenAI gives every delta an `index`; that alone decides (ids may repeat: some servers number
    calls "call_0" in every reply). Without an index, a delta with a known id continues that
    call, one with a new id starts a call, and one with neither continues the latest call.
    """
    if tc.index is not None:
        return tc.index
    if tc.id:
        known = next((k for k, c in calls.items() if c["id"] == tc.id), None)
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
