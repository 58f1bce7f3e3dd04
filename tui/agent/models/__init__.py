"""Models the agent can talk to. `OpenAIChat` imports the openai client lazily (on first request)."""

from __future__ import annotations

import os

from .base import Model, ModelChunk, ModelError, ModelResponse, ToolCall
from .demo import DemoModel
from .openai import OpenAIChat


def default_model() -> Model:
    """OpenAIChat when an API is configured in the environment, else the offline DemoModel."""
    if os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL"):
        return OpenAIChat(id=os.environ.get("HITL_TUI_MODEL") or "gpt-4o-mini")
    return DemoModel()


__all__ = ["DemoModel", "Model", "ModelChunk", "ModelError", "ModelResponse", "OpenAIChat", "ToolCall", "default_model"]
