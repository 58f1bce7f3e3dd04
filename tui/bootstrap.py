"""Build the agent the dashboard runs, from settings: model, tools, store, policy.

Headless (no textual): the CLI, the app and the tests share it.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from .agent import Agent, Policy
from .agent.models import DemoModel, OpenAIChat
from .agent.models.base import Model
from .agent.tools import Function, as_function
from .config import Settings


class ToolLoadError(Exception):
    """A `--tools` spec could not be loaded; the message says what to fix."""


def build_model(settings: Settings) -> Model:
    if settings.uses_demo_model:
        return DemoModel(delay=settings.demo_delay)
    return OpenAIChat(
        id=settings.model or "gpt-4o-mini",
        base_url=settings.resolved_base_url,
        api_key=settings.api_key,
        api_key_env=settings.api_key_env,
        timeout=settings.request_timeout,
        max_retries=settings.max_retries,
    )


def _collect_tools(obj: Any, origin: str) -> list[Function]:
    if isinstance(obj, Function):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [as_function(o) for o in obj]
    if callable(obj):
        return [as_function(obj)]
    raise ToolLoadError(f"{origin}: {obj!r} is not a tool, a function or a list of them")


def load_tools(spec: str) -> list[Function]:
    """Load user tools from `module:attr`, `module`, `path/to/file.py` or `path/to/file.py:attr`.

    Without an attribute, every `@tool` Function defined at module level is taken.
    """
    target, _, attr = spec.partition(":") if not (len(spec) > 1 and spec[1] == ":") else (spec, "", "")
    path = Path(target)
    try:
        if target.endswith(".py") or path.exists():
            if not path.is_file():
                raise ToolLoadError(f"--tools {spec}: no such file {path}")
            name = f"hitl_user_tools_{abs(hash(str(path.resolve())))}"
            module_spec = importlib.util.spec_from_file_location(name, path)
            if module_spec is None or module_spec.loader is None:
                raise ToolLoadError(f"--tools {spec}: cannot import {path}")
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[name] = module
            module_spec.loader.exec_module(module)
        else:
            module = importlib.import_module(target)
    except ToolLoadError:
        raise
    except Exception as exc:
        raise ToolLoadError(f"--tools {spec}: importing it failed: {type(exc).__name__}: {exc}") from exc
    if attr:
        if not hasattr(module, attr):
            raise ToolLoadError(f"--tools {spec}: {target} has no attribute {attr!r}")
        return _collect_tools(getattr(module, attr), spec)
    found = [v for v in vars(module).values() if isinstance(v, Function)]
    if not found:
        raise ToolLoadError(f"--tools {spec}: no @tool functions found (decorate them with tui.agent.tool)")
    return found


def build_agent(
    settings: Settings,
    *,
    tool_specs: list[str] | None = None,
    builtin_tools: bool = True,
    store: Any = None,
    policy: Policy | None = None,
    model: Model | None = None,
) -> Agent:
    tools: list[Function] = []
    if builtin_tools:
        from .toolbox import builtin_tools as make_builtin

        tools.extend(make_builtin(settings))
    for spec in tool_specs or []:
        tools.extend(load_tools(spec))
    # A user's tool replaces a built-in one of the same name.
    by_name: dict[str, Function] = {}
    for t in tools:
        by_name[t.name] = t
    if policy is None:
        from .agent.rules import RulesPolicy

        # An invalid file leaves policy.error set and rules off; the app says so at start-up.
        policy = RulesPolicy.from_file(settings.rules)
    return Agent(
        model=model or build_model(settings),
        tools=list(by_name.values()),
        instructions=settings.instructions,
        markdown=True,
        store=store,
        policy=policy,
    )
