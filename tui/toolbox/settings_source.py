"""Where a built-in tool gets its settings: a fixed Settings object, or the current config.

Tools read their settings when they are *called*, not when they are built, so a change to the
environment (`HITL_TUI_HN_BASE_URL=...`) or to a Settings object the UI holds is seen by the next
call without rebuilding the toolbox.
"""

from __future__ import annotations

from typing import Callable

from tui.agent.tools import ToolError
from tui.config import ConfigError, Settings, load_settings

SettingsSource = Callable[[], Settings]


def settings_source(settings: Settings | None = None) -> SettingsSource:
    """A callable returning the settings to use right now.

    With a Settings object, that object (its attributes are read at call time). Without one, the
    merged configuration (defaults < config TOML < HITL_TUI_* variables) loaded afresh per call.
    """
    if settings is not None:
        return lambda: settings
    return current_settings


def current_settings() -> Settings:
    """Load the configuration now; a broken config becomes a ToolError the model and user can read."""
    try:
        return load_settings()
    except ConfigError as exc:
        raise ToolError(f"hitl-tui's settings are invalid, so the tool cannot run: {exc}") from None
