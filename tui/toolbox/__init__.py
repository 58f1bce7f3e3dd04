"""Built-in tools. Headless: imports neither textual nor rich.

    from tui.toolbox import builtin_tools
    agent = Agent(model=..., tools=builtin_tools(settings))

Each tool reads its settings (`hn_base_url`, `workspace`, `outbox`, `smtp_*`) when it is called:
from the settings object given to `builtin_tools` (the app's Settings is one), or, for the
module-level tool objects and `builtin_tools()` without settings, from the defaults and the
HITL_TUI_* environment variables (see settings.py). The toolbox imports nothing of the app.

The tool modules load on first use (PEP 562 `__getattr__`): the app's settings extend
`tui.toolbox.settings`, and reading the settings must not import httpx and every tool.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui.agent.tools import Function

    from .email import send_email
    from .files import list_workspace, read_file, write_file
    from .hackernews import get_top_hackernews_stories
    from .settings import ToolboxSettings
    from .shell import run_shell_command

_LAZY = {
    "send_email": ".email",
    "list_workspace": ".files",
    "read_file": ".files",
    "write_file": ".files",
    "get_top_hackernews_stories": ".hackernews",
    "run_shell_command": ".shell",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def builtin_tools(settings: ToolboxSettings | None = None) -> list[Function]:
    """Every built-in tool, bound to `settings` (None: the environment, read per call).

    Order: get_top_hackernews_stories (confirmation), send_email (user input: to_address),
    write_file (confirmation), read_file, list_workspace (ungated), run_shell_command (external).
    """
    from .email import make_send_email
    from .files import make_file_tools
    from .hackernews import make_get_top_hackernews_stories
    from .shell import run_shell_command

    write, read, listing = make_file_tools(settings)
    return [
        make_get_top_hackernews_stories(settings),
        make_send_email(settings),
        write,
        read,
        listing,
        run_shell_command,
    ]


__all__ = [
    "builtin_tools",
    "get_top_hackernews_stories",
    "list_workspace",
    "read_file",
    "run_shell_command",
    "send_email",
    "write_file",
]
