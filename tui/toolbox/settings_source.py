"""Where a built-in tool gets its settings: a fixed settings object, or the environment.

Tools read their settings when they are *called*, not when they are built, so a change to the
environment (`HITL_TUI_HN_BASE_URL=...`) or to a settings object the UI holds is seen by the next
call without rebuilding the toolbox.
"""

from __future__ import annotations

from typing import Callable

from pydantic import ValidationError

from tui.agent.tools import ToolError

from .settings import EnvToolboxSettings, ToolboxSettings

SettingsSource = Callable[[], ToolboxSettings]


def settings_source(settings: ToolboxSettings | None = None) -> SettingsSource:
    """A callable returning the settings to use right now.

    With a settings object, that object (its attributes are read at call time). Without one, the
    defaults overridden by HITL_TUI_* variables, read afresh per call.
    """
    if settings is not None:
        return lambda: settings
    return current_settings


def current_settings() -> ToolboxSettings:
    """Read the environment now; an invalid variable becomes a ToolError the model and user can read."""
    try:
        return EnvToolboxSettings()
    except ValidationError as exc:
        problems = "; ".join(f"HITL_TUI_{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        raise ToolError(f"The built-in tools' settings are invalid, so the tool cannot run: {problems}") from None
