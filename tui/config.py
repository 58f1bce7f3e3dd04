"""Settings: defaults < config TOML < HITL_TUI_* environment variables < CLI flags.

The config file is `config.toml` in the platform config dir (`hitl-tui config-path` prints it);
`HITL_TUI_CONFIG` points at another file. Every setting can be overridden by an environment
variable named `HITL_TUI_<SETTING>` (upper case), e.g. `HITL_TUI_DB=/tmp/runs.db`.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, Field, ValidationError

from .mcp_config import MCPSection

APP_NAME = "hitl-tui"
ENV_PREFIX = "HITL_TUI_"


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


class ConfigError(Exception):
    """The config file or an environment variable is invalid; the message says which and why."""


class Settings(BaseModel):
    # --- model
    model: str | None = Field(None, description="Model id for an OpenAI-compatible API (default: gpt-4o-mini when an API is configured).")
    base_url: str | None = Field(None, description="Base URL of an OpenAI-compatible API (else OPENAI_BASE_URL).")
    api_key_env: str = Field("OPENAI_API_KEY", description="Name of the environment variable that holds the API key.")
    request_timeout: float = Field(60.0, description="Seconds to wait for the model API before giving up.")
    max_retries: int = Field(2, description="Retries on 429/5xx/connection errors.")
    demo_delay: float = Field(0.02, description="Seconds between words streamed by the offline demo model.")
    instructions: str | None = Field(None, description="System instructions for the agent.")
    # --- storage
    db: Path = Field(default_factory=lambda: data_dir() / "runs.db", description="SQLite history database.")
    rules: Path = Field(default_factory=lambda: config_dir() / "rules.toml", description="Approval rules file.")
    # --- built-in tools
    hn_base_url: str = Field("https://hacker-news.firebaseio.com/v0", description="Hacker News API base URL.")
    workspace: Path = Field(default_factory=lambda: data_dir() / "workspace", description="Folder the file tools may write in.")
    outbox: Path = Field(default_factory=lambda: data_dir() / "outbox.mbox", description="Local mbox the email tool delivers to.")
    smtp_host: str | None = Field(None, description="Send email through this SMTP server instead of the local outbox.")
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password_env: str = Field("HITL_TUI_SMTP_PASSWORD", description="Environment variable holding the SMTP password.")
    smtp_from: str = "hitl-tui@localhost"
    smtp_starttls: bool = True
    # --- UI
    theme: str = "textual-dark"
    auto_open_modals: bool = True
    bell: bool = True
    # --- approvals inbox (issue 10)
    approver: str | None = Field(None, description="Name recorded with every decision made in the dashboard (default: user@host).")
    webhook_url: str | None = Field(None, description="POST a JSON notice here when a call starts waiting (ntfy, chat tools); never blocks a run.")
    desktop_notifications: Literal["auto", "osc9", "osc777", "off"] = Field(
        "auto", description="Desktop notification when a call starts waiting: auto-detect the terminal, force OSC 9 / OSC 777, or off."
    )
    inbox_poll: float = Field(0.5, description="Seconds between the dashboard's looks at the store for other processes' pending calls.")
    # --- MCP servers: [mcp.servers.NAME] with command/args/env or url (see tui/mcp_servers.py)
    mcp: MCPSection = Field(default_factory=lambda: MCPSection(), description="MCP servers whose tools the agent may call.")

    @property
    def api_key(self) -> str | None:
        return os.environ.get(self.api_key_env) or None

    @property
    def resolved_base_url(self) -> str | None:
        return self.base_url or os.environ.get("OPENAI_BASE_URL") or None

    @property
    def uses_demo_model(self) -> bool:
        """No API key and no base URL configured: run offline with the demo model."""
        return not (self.api_key or self.resolved_base_url or self.model)


def config_path() -> Path:
    override = os.environ.get(ENV_PREFIX + "CONFIG")
    return Path(override).expanduser() if override else config_dir() / "config.toml"


def _env_overrides() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in Settings.model_fields:
        value = os.environ.get(ENV_PREFIX + name.upper())
        if value is not None and value != "":
            out[name] = value
    return out


def load_settings(cli: dict[str, Any] | None = None, *, path: Path | None = None) -> Settings:
    """Merge every source. Raises ConfigError naming the file or variable that is wrong."""
    path = path or config_path()
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: {exc}") from exc
        unknown = sorted(set(data) - set(Settings.model_fields))
        if unknown:
            raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)}")
    data.update(_env_overrides())
    data.update({k: v for k, v in (cli or {}).items() if v is not None})
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid settings ({problems})") from exc
    for p in ("db", "rules", "workspace", "outbox"):
        setattr(settings, p, Path(getattr(settings, p)).expanduser())
    return settings
