"""Models the agent can talk to. `OpenAIChat` imports the openai client lazily (on first request).

`DemoModel` and `OpenAIChat` are loaded on first use (PEP 562 module `__getattr__`), so that
`import tui.agent`, which needs only the protocol in `base`, does not pay for the demo model's
compiled rules or the OpenAI adapter. `from tui.agent.models import DemoModel, OpenAIChat` works
as before.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from .base import Model, ModelChunk, ModelError, ModelResponse, ToolCall

if TYPE_CHECKING:
    from .demo import DemoModel
    from .openai import OpenAIChat

_LAZY = {"DemoModel": ".demo", "OpenAIChat": ".openai"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


def default_model() -> Model:
    """OpenAIChat when an API is configured in the environment, else the offline DemoModel."""
    if os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL"):
        from .openai import OpenAIChat

        return OpenAIChat(id=os.environ.get("HITL_TUI_MODEL") or "gpt-4o-mini")
    from .demo import DemoModel

    return DemoModel()


__all__ = ["DemoModel", "Model", "ModelChunk", "ModelError", "ModelResponse", "OpenAIChat", "ToolCall", "default_model"]
