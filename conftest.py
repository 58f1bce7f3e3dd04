"""Test isolation for the whole suite: no test may touch the developer's real data or config.

Every test gets its own HOME, XDG dirs, history DB, rules file, workspace and outbox, and no
model API configured (tests that want one set it themselves).
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for var, sub in (
        ("XDG_DATA_HOME", "data"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_STATE_HOME", "state"),
    ):
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.setenv("HITL_TUI_DB", str(home / "runs.db"))
    monkeypatch.setenv("HITL_TUI_RULES", str(home / "rules.toml"))
    monkeypatch.setenv("HITL_TUI_WORKSPACE", str(home / "workspace"))
    monkeypatch.setenv("HITL_TUI_OUTBOX", str(home / "outbox.mbox"))
    monkeypatch.setenv("HITL_TUI_CONFIG", str(home / "config.toml"))
    monkeypatch.setenv("HITL_TUI_HN_BASE_URL", "http://127.0.0.1:9/v0")  # discard port: offline
    # Decision keys work at once in tests; the grace period's own tests set `arm_delay` themselves.
    monkeypatch.setenv("HITL_TUI_DECISION_DELAY", "0")
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "HITL_TUI_MODEL", "HITL_TUI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
