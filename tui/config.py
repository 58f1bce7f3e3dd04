"""Settings: defaults < config TOML < HITL_TUI_* environment variables < CLI flags.

The config file is `config.toml` in the platform config dir (`hitl-tui config-path` prints it);
`HITL_TUI_CONFIG` points at another file. Every setting can be overridden by an environment
variable named `HITL_TUI_<SETTING>` (upper case), e.g. `HITL_TUI_DB=/tmp/runs.db`.

The layering is pydantic-settings' (init arguments < env < TOML, ordered by
`settings_customise_sources`); this module adds the messages that name the file or variable at
fault, and `save_setting`, which writes one setting back (the chosen theme) without losing the
file's comments.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
from pydantic import Field, PlainValidator, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from tui.toolbox.settings import ToolboxSettings, UserPath

from .mcp_config import MCPSection

APP_NAME = "hitl-tui"
ENV_PREFIX = "HITL_TUI_"


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def _db_location(value: Any) -> Path | str:
    """A database URL stays a string (Path would fold its `//`); anything else is a file path."""
    if isinstance(value, str) and "://" in value:
        return value
    return Path(value).expanduser()


#: `db`: a SQLite file (Path) or a server URL (str, e.g. postgresql://...); see tui.store.open_store.
DbLocation = Annotated[Path | str, PlainValidator(_db_location)]


class ConfigError(Exception):
    """The config file or an environment variable is invalid; the message says which and why."""


class Settings(ToolboxSettings):
    """Every setting. The built-in tools' part (hn_base_url, workspace, outbox, smtp_*) is inherited."""

    # --- model
    model: str | None = Field(None, description="Model id for an OpenAI-compatible API (default: gpt-4o-mini when an API is configured).")
    base_url: str | None = Field(None, description="Base URL of an OpenAI-compatible API (else OPENAI_BASE_URL).")
    api_key_env: str = Field("OPENAI_API_KEY", description="Name of the environment variable that holds the API key.")
    request_timeout: float = Field(60.0, description="Seconds to wait for the model API before giving up.")
    max_retries: int = Field(2, description="Retries on 429/5xx/connection errors.")
    demo_delay: float = Field(0.02, description="Seconds between words streamed by the offline demo model.")
    instructions: str | None = Field(None, description="System instructions for the agent.")
    # --- storage
    db: DbLocation = Field(
        default_factory=lambda: data_dir() / "runs.db",
        description="History database: a SQLite file (default), or a postgresql:// URL for a team store.",
    )
    rules: UserPath = Field(default_factory=lambda: config_dir() / "rules.toml", description="Approval rules file.")
    # --- UI
    theme: str = "textual-dark"
    auto_open_modals: bool = True
    bell: bool = True
    keymap: dict[str, str] = Field(
        default_factory=dict,
        description="Binding id -> keys, e.g. {'app.history' = 'f3'}; applied with App.set_keymap.",
    )
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


#: The TOML file the layered settings read (set by load_settings for the duration of one load).
_toml_file: ContextVar[Path | None] = ContextVar("hitl_tui_toml_file", default=None)


class _LayeredSettings(BaseSettings, Settings):
    """Settings read from every source; `load_settings` turns it into a plain Settings."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_ignore_empty=True, extra="forbid")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # First wins: CLI flags (passed as init arguments) > HITL_TUI_* variables > the TOML file.
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=_toml_file.get()))


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _culprit(name: str, cli: dict[str, Any], path: Path) -> str:
    """Which source gave the value of `name`, in the user's words."""
    if name in cli:
        return _flag(name)
    if os.environ.get(ENV_PREFIX + name.upper()):
        return ENV_PREFIX + name.upper()
    return str(path)


def load_settings(cli: dict[str, Any] | None = None, *, path: Path | None = None) -> Settings:
    """Merge every source. Raises ConfigError naming the file, variable or flag that is wrong."""
    path = path or config_path()
    given = {k: v for k, v in (cli or {}).items() if v is not None}
    if path.exists():
        try:
            # Read once here for a clear message; pydantic-settings reads it again (it is small).
            tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: {exc}") from exc
    token = _toml_file.set(path if path.exists() else None)
    try:
        layered = _LayeredSettings(**given)
    except ValidationError as exc:
        unknown = sorted(str(e["loc"][0]) for e in exc.errors() if e["type"] == "extra_forbidden")
        if unknown:
            raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)}") from None
        problems = "; ".join(
            f"{_culprit(str(e['loc'][0]), given, path)}: {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"invalid settings ({problems})") from None
    finally:
        _toml_file.reset(token)
    return Settings.model_validate(dict(layered))


def save_setting(name: str, value: Any, *, path: Path | None = None) -> Path:
    """Write one setting into the config file, keeping its other settings and comments.

    The file is replaced atomically (a temporary file in the same folder, then a rename), so a
    crash never leaves half a file, and it is private to the user (0600): it may name servers
    and accounts.
    """
    import tomlkit  # only when a setting is saved: it stays off the start-up path

    if name not in Settings.model_fields:
        raise ValueError(f"unknown setting {name!r}")
    path = path or config_path()
    document = tomlkit.parse(path.read_text(encoding="utf-8")) if path.exists() else tomlkit.document()
    document[name] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(tomlkit.dumps(document))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
