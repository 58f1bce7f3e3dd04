"""Shared fixtures: a real chat-completions server and OpenAIChat clients pointed at it.

Other test modules keep their own fixtures in their own files; this one holds only what the
runtime's integration tests share.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from chatserver import ChatServer  # noqa: E402

#: Both wire formats every integration test runs over.
MODES = ["json", "sse"]


def pytest_configure(config: pytest.Config) -> None:
    """The test process tunes its GC as `hitl-tui` does (process-wide, at the entry point): the
    dashboards under test then run as they run for users. (The app used to do this in on_mount,
    for every process that embedded it.)"""
    from tui.cli import tune_gc

    tune_gc()


@pytest.fixture
def chat_server() -> Iterator[ChatServer]:
    """A running chat-completions server with an empty script (add replies with `.add(...)`)."""
    server = ChatServer().start()
    try:
        yield server
    finally:
        server.stop()
    assert not server.unexpected, (
        f"the model was asked {len(server.unexpected)} more time(s) than the script allows; "
        f"last request: {server.unexpected[-1]['messages'][-1]}"
    )


def make_model(server: ChatServer, mode: str = "sse", *, timeout: float = 5.0, **kwargs: Any) -> Any:
    """An OpenAIChat talking to `server`: plain JSON (`mode="json"`) or SSE streaming (`"sse"`)."""
    from tui.agent.models import OpenAIChat

    assert mode in MODES, mode
    return OpenAIChat(
        id="test-model",
        base_url=server.url,
        api_key="test",
        max_retries=0,
        timeout=timeout,
        stream=(mode == "sse"),
        **kwargs,
    )


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    """The wire format under test: "json" (plain completions) or "sse" (streaming)."""
    return request.param


@pytest.fixture
def model_for(chat_server: ChatServer, mode: str) -> Callable[..., Any]:
    """`model_for(timeout=...)` builds an OpenAIChat on the test's server in the test's mode."""

    def build(**kwargs: Any) -> Any:
        return make_model(chat_server, mode, **kwargs)

    return build
