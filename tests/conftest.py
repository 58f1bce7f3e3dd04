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
    """The test process paces its GC as `hitl-tui` does (process-wide, at the entry point): the
    dashboards under test then run as they run for users. (The app used to do this in on_mount,
    for every process that embedded it.)"""
    from tui.cli import tune_gc

    tune_gc()


def pytest_runtest_teardown(item: pytest.Item) -> None:
    """Between tests is a quiet moment: the pacer may run a full collection (at most every 5 s)."""
    from tui import gc_pacing

    pacer = gc_pacing.current()
    if pacer is not None:
        pacer.tick(busy=False)


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


# ---------------------------------------------------------------- both store backends
#
# Store tests take `store_url` (or `make_store`) and run once on SQLite (a file in tmp_path) and
# once on PostgreSQL (a fresh schema on a throwaway server started once per session by
# tests/pg_server.py). Without PostgreSQL the postgres half skips with the reason, except in CI
# (CI=true), where it fails: CI must test both backends.

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    import os

    import pg_server

    try:
        server = pg_server.start()
    except pg_server.Unavailable as exc:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI must test the PostgreSQL store: {exc}")
        pytest.skip(f"PostgreSQL store tests skipped: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where the test's store lives: a SQLite file path, or a `postgresql://` URL (empty schema)."""
    if request.param == "sqlite":
        return str(tmp_path / "runs.db")
    return str(request.getfixturevalue("postgres_server").new_schema())


@pytest.fixture
def make_store(store_url: str) -> Iterator[Callable[..., Any]]:
    """`make_store(**options)` opens a store at the test's `store_url` (closed after the test)."""
    from tui.store.open import open_store

    opened: list[Any] = []

    def build(**options: Any) -> Any:
        store = open_store(store_url, **options)
        opened.append(store)
        return store

    yield build
    for store in opened:
        store.close()
