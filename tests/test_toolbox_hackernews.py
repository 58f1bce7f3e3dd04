"""get_top_hackernews_stories against a real local HTTP server speaking the Hacker News API."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Iterator

import pytest
from local_hn_server import HNServer, closed_port_url

from tui.agent import Agent, ToolError
from tui.agent.models import DemoModel
from tui.config import Settings
from tui.toolbox import builtin_tools, get_top_hackernews_stories
from tui.toolbox.hackernews import MAX_STORIES, fetch_top_stories, make_get_top_hackernews_stories


@pytest.fixture
def hn() -> Iterator[HNServer]:
    with HNServer() as server:
        yield server


def hn_tool(url: str):
    return make_get_top_hackernews_stories(Settings(hn_base_url=url))


async def test_returns_json_stories_with_the_useful_fields_and_without_text(hn: HNServer) -> None:
    stories = json.loads(await hn_tool(hn.url).acall({"num_stories": 3}))
    assert [s["id"] for s in stories] == [101, 102, 103]
    assert stories[0] == {
        "title": "A tiny SQLite trick",
        "url": "https://example.com/sqlite",
        "score": 321,
        "by": "ada",
        "id": 101,
        "time": 1700000000,
        "descendants": 42,
    }
    assert all("text" not in s and "kids" not in s for s in stories)


async def test_a_story_without_a_link_points_at_its_discussion(hn: HNServer) -> None:
    stories = json.loads(await hn_tool(hn.url).acall({"num_stories": 2}))
    assert stories[1]["url"] == "https://news.ycombinator.com/item?id=102"


async def test_deleted_items_are_left_out(hn: HNServer) -> None:
    stories = json.loads(await hn_tool(hn.url).acall({"num_stories": 5}))
    assert [s["id"] for s in stories] == [101, 102, 103, 105]


async def test_items_are_fetched_concurrently(hn: HNServer) -> None:
    hn.delay = 0.3
    started = time.monotonic()
    stories = json.loads(await hn_tool(hn.url).acall({"num_stories": 5}))
    elapsed = time.monotonic() - started
    assert len(stories) == 4
    assert hn.max_in_flight >= 3
    assert elapsed < 1.2, f"five 0.3 s items took {elapsed:.2f} s: not concurrent"


async def test_the_base_url_comes_from_the_environment_at_call_time(hn: HNServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # The module-level tool was built at import time; it must still see a variable set now.
    monkeypatch.setenv("HITL_TUI_HN_BASE_URL", hn.url)
    stories = json.loads(await get_top_hackernews_stories.acall({"num_stories": 1}))
    assert stories[0]["title"] == "A tiny SQLite trick"
    assert hn.requests[:2] == ["/v0/topstories.json", "/v0/item/101.json"]


async def test_a_settings_object_is_read_when_the_tool_is_called(hn: HNServer) -> None:
    settings = Settings(hn_base_url=closed_port_url())
    tool = builtin_tools(settings)[0]
    settings.hn_base_url = hn.url + "/"  # a trailing slash is fine too
    assert len(json.loads(await tool.acall({"num_stories": 1}))) == 1


@pytest.mark.parametrize("count", [0, -1, MAX_STORIES + 1, 500])
def test_the_schema_limits_the_number_of_stories(count: int) -> None:
    tool = builtin_tools()[0]
    schema = tool.parameters["properties"]["num_stories"]
    assert (schema["minimum"], schema["maximum"]) == (1, MAX_STORIES)
    with pytest.raises(ValueError, match="num_stories"):
        tool.validate_args({"num_stories": count})


@pytest.mark.parametrize("count", [0, 31, True, "3"])
async def test_out_of_range_counts_are_a_clear_error_when_called_directly(count: object) -> None:
    with pytest.raises(ToolError, match=r"num_stories must be"):
        await fetch_top_stories(count, base_url="http://127.0.0.1:9")  # type: ignore[arg-type]


async def test_a_slow_server_times_out_with_a_clear_error(hn: HNServer) -> None:
    hn.delay = 3.0
    started = time.monotonic()
    with pytest.raises(ToolError) as info:
        await fetch_top_stories(2, base_url=hn.url, timeout=0.3)
    assert time.monotonic() - started < 2.0
    assert str(info.value) == (
        f"Could not reach Hacker News at {hn.url}: no answer within 0.3 s (timeout). "
        "Check your connection or set HITL_TUI_HN_BASE_URL."
    )


async def test_offline_gives_the_clear_error() -> None:
    url = closed_port_url()
    with pytest.raises(ToolError) as info:
        await hn_tool(url).acall({"num_stories": 2})
    assert str(info.value) == (
        f"Could not reach Hacker News at {url}: connection refused. "
        "Check your connection or set HITL_TUI_HN_BASE_URL."
    )


async def test_an_unknown_host_gives_the_clear_error() -> None:
    url = "http://hitl-tui-test.invalid/v0"
    with pytest.raises(ToolError, match=r"^Could not reach Hacker News at http://hitl-tui-test\.invalid/v0: .*HITL_TUI_HN_BASE_URL\.$"):
        await fetch_top_stories(1, base_url=url, timeout=5)


async def test_a_server_error_is_reported_with_its_status(hn: HNServer) -> None:
    hn.status = 503
    with pytest.raises(ToolError, match=r"answered /topstories.json with HTTP 503 Service Unavailable"):
        await hn_tool(hn.url).acall({"num_stories": 2})


async def test_a_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(ToolError, match=r"must start with http:// or https://"):
        await fetch_top_stories(1, base_url="hacker-news.firebaseio.com/v0")


async def test_a_declined_fetch_makes_no_request(hn: HNServer) -> None:
    agent = Agent(model=DemoModel(delay=0), tools=builtin_tools(Settings(hn_base_url=hn.url)))
    run = await agent.arun("Fetch the top 2 hackernews stories")
    assert run.is_paused and hn.requests == []
    run.tools_requiring_confirmation[0].reject("not now")
    run = await agent.acontinue_run(run_response=run)
    assert run.status == "completed" and hn.requests == []


def test_the_confirmation_flow_works_across_fresh_event_loops(hn: HNServer) -> None:
    """As in Agno's example: asyncio.run(arun), decide, then asyncio.run(acontinue_run)."""
    agent = Agent(model=DemoModel(delay=0), tools=builtin_tools(Settings(hn_base_url=hn.url)), markdown=True)
    run = asyncio.run(agent.arun("Fetch the top 2 hackernews stories"))
    assert run.is_paused
    for tool in run.tools_requiring_confirmation:
        assert tool.tool_args == {"num_stories": 2}
        tool.confirmed = True
    run = asyncio.run(agent.acontinue_run(run_response=run))
    assert run.status == "completed"
    assert "[A tiny SQLite trick](https://example.com/sqlite)" in run.content
    assert "Ask HN: How do you review agent tool calls?" in run.content
    # ...and once more on yet another loop, so no client stayed bound to a closed one.
    run = asyncio.run(agent.arun("Fetch the top 1 hackernews stories"))
    run.tools[0].confirm()
    run = asyncio.run(agent.acontinue_run(run_response=run))
    assert run.tools[0].status == "completed"
