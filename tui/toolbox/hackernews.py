"""`get_top_hackernews_stories`: the confirmation-flow example tool, done properly.

Compared with the usual example it has limits (1..30 stories), a timeout on every request, one
shared `httpx.AsyncClient` per call (never one that outlives the event loop it was made on),
concurrent item fetches, and failures that read like advice instead of tracebacks.
"""

from __future__ import annotations

import asyncio
import json
import socket
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from tui.agent.tools import Function, ToolError, tool
from .settings import ToolboxSettings

from .settings_source import settings_source

if TYPE_CHECKING:  # imported when a request is made: with click installed (the mcp SDK brings it), httpx imports rich
    import httpx

MAX_STORIES = 30
#: Seconds allowed for each request (connect, read, write and pool waits together).
REQUEST_TIMEOUT = 10.0
#: The fields of an item worth showing; the rest (notably `text`, `kids`) is noise for the model.
STORY_FIELDS = ("title", "url", "score", "by", "id", "time", "descendants")
ENV_HINT = "Check your connection or set HITL_TUI_HN_BASE_URL."


def _reason(exc: httpx.HTTPError, timeout: float) -> str:
    """The root cause in a few words ("connection refused", "DNS lookup failed ...")."""
    import httpx
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within {timeout:g} s (timeout)"
    seen: set[int] = set()
    node: BaseException | None = exc
    while node is not None and id(node) not in seen:
        seen.add(id(node))
        if isinstance(node, socket.gaierror):
            return f"DNS lookup failed ({node.strerror or node})"
        if isinstance(node, ConnectionRefusedError):
            return "connection refused"
        if isinstance(node, ConnectionResetError):
            return "connection reset by the server"
        node = node.__cause__ or node.__context__
    return str(exc).strip().rstrip(".") or type(exc).__name__


async def _get_json(client: httpx.AsyncClient, base_url: str, path: str, timeout: float) -> Any:
    import httpx

    try:
        response = await client.get(path)
    except httpx.HTTPError as exc:
        raise ToolError(f"Could not reach Hacker News at {base_url}: {_reason(exc, timeout)}. {ENV_HINT}") from None
    if response.status_code >= 400:
        raise ToolError(
            f"Hacker News at {base_url} answered {path} with HTTP {response.status_code} "
            f"{response.reason_phrase}. Try again later, or set HITL_TUI_HN_BASE_URL."
        )
    try:
        return response.json()
    except ValueError:
        raise ToolError(
            f"Hacker News at {base_url} sent a reply to {path} that is not JSON. "
            "Is HITL_TUI_HN_BASE_URL pointing at the Hacker News API?"
        ) from None


def _story(item: Any) -> dict[str, Any] | None:
    if not isinstance(item, dict) or item.get("deleted") or item.get("dead"):
        return None
    story = {key: item.get(key) for key in STORY_FIELDS}
    if not story["url"] and story["id"] is not None:
        # Ask HN and friends have no link of their own: point at the discussion.
        story["url"] = f"https://news.ycombinator.com/item?id={story['id']}"
    return story


async def fetch_top_stories(num_stories: int, *, base_url: str, timeout: float = REQUEST_TIMEOUT) -> list[dict[str, Any]]:
    """The top `num_stories` stories as dicts with STORY_FIELDS. Raises ToolError on any failure."""
    if isinstance(num_stories, bool) or not isinstance(num_stories, int):
        raise ToolError(f"num_stories must be a whole number from 1 to {MAX_STORIES}, not {num_stories!r}.")
    if not 1 <= num_stories <= MAX_STORIES:
        raise ToolError(f"num_stories must be from 1 to {MAX_STORIES}; {num_stories} was asked for.")
    base_url = (base_url or "").strip().rstrip("/")
    if not base_url.lower().startswith(("http://", "https://")):
        raise ToolError(
            f"The Hacker News API URL {base_url!r} must start with http:// or https://. Set HITL_TUI_HN_BASE_URL."
        )
    import httpx

    try:
        client = httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(timeout), follow_redirects=True)
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        raise ToolError(f"The Hacker News API URL {base_url!r} is not usable ({exc}). Set HITL_TUI_HN_BASE_URL.") from None
    async with client:
        ids = await _get_json(client, base_url, "/topstories.json", timeout)
        if not isinstance(ids, list):
            raise ToolError(f"Hacker News at {base_url} sent an unexpected top-stories list: {str(ids)[:100]!r}.")
        wanted = [i for i in ids if isinstance(i, int) and not isinstance(i, bool)][:num_stories]
        # Every fetch finishes (each is bounded by the timeout) before the client closes.
        results = await asyncio.gather(
            *(_get_json(client, base_url, f"/item/{i}.json", timeout) for i in wanted), return_exceptions=True
        )
    for result in results:
        if isinstance(result, BaseException):
            raise result
    items = results
    return [s for s in map(_story, items) if s is not None]


def make_get_top_hackernews_stories(settings: ToolboxSettings | None = None) -> Function:
    """Build the tool. It reads `hn_base_url` from `settings` (or the current config) at call time."""
    source = settings_source(settings)

    @tool(requires_confirmation=True)
    async def get_top_hackernews_stories(
        num_stories: Annotated[int, Field(ge=1, le=MAX_STORIES)],
    ) -> str:
        """Fetch the current top stories from Hacker News, with title, link, score, author and comment count.

        Args:
            num_stories: How many of the top stories to fetch, from 1 to 30.
        """
        base_url = source().hn_base_url
        return json.dumps(await fetch_top_stories(num_stories, base_url=base_url), ensure_ascii=False)

    return get_top_hackernews_stories


#: The tool with the current configuration (read per call).
get_top_hackernews_stories = make_get_top_hackernews_stories()
