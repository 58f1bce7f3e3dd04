"""The built-in tools' own settings: where they fetch, write and deliver.

The toolbox depends on nothing but the runtime (`tui.agent`), so it cannot import the app's
settings. The app's `tui.config.Settings` extends this model, so an app Settings object can be
given to `builtin_tools(settings)` as it is.

Without a settings object (the module-level tools, `builtin_tools()`), a tool reads the defaults
overridden by `HITL_TUI_*` environment variables (`HITL_TUI_WORKSPACE`, `HITL_TUI_HN_BASE_URL`,
...), afresh at each call. The app's config file is the app's business: it passes its settings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import platformdirs
from pydantic import AfterValidator, BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "HITL_TUI_"


def _data_dir() -> Path:
    return Path(platformdirs.user_data_dir("hitl-tui", appauthor=False))


#: A path with `~` expanded, wherever it came from (a file, a variable, a flag).
UserPath = Annotated[Path, AfterValidator(lambda p: Path(p).expanduser())]


class ToolboxSettings(BaseModel):
    """What the built-in tools need; `tui.config.Settings` adds the app's own settings."""

    hn_base_url: str = Field("https://hacker-news.firebaseio.com/v0", description="Hacker News API base URL.")
    workspace: UserPath = Field(default_factory=lambda: _data_dir() / "workspace", description="Folder the file tools may write in.")
    outbox: UserPath = Field(default_factory=lambda: _data_dir() / "outbox.mbox", description="Local mbox the email tool delivers to.")
    smtp_host: str | None = Field(None, description="Send email through this SMTP server instead of the local outbox.")
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password_env: str = Field("HITL_TUI_SMTP_PASSWORD", description="Environment variable holding the SMTP password.")
    smtp_from: str = "hitl-tui@localhost"
    smtp_starttls: bool = True


class EnvToolboxSettings(BaseSettings, ToolboxSettings):
    """ToolboxSettings overridden by HITL_TUI_* environment variables (read when instantiated)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_ignore_empty=True, extra="ignore")
