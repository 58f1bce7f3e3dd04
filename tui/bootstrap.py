"""Build the agent the dashboard runs, from settings: model, tools, store, policy.

Headless (no textual): the CLI, the app and the tests share it.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .agent import Agent, Policy
from .agent.models import DemoModel, OpenAIChat
from .agent.models.base import Model
from .agent.tools import Function
from .config import Settings

if TYPE_CHECKING:
    from .store import RunStore


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


def _describe(obj: object) -> str:
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    return f"{name!r}" if callable(obj) and name else f"{type(obj).__name__} {repr(obj)[:60]}"


def _collect_tools(obj: object, origin: str) -> list[Function]:
    """Only `@tool` functions are accepted. A plain callable is refused rather than wrapped: it
    would run without any decision (os:system as an ungated tool), and its author never chose
    whether it needs a confirmation."""
    items = list(obj) if isinstance(obj, (list, tuple)) else [obj]
    if not items:
        raise ToolLoadError(f"--tools {origin}: the list is empty")
    out: list[Function] = []
    for item in items:
        if isinstance(item, Function):
            out.append(item)
        elif callable(item):
            raise ToolLoadError(
                f"--tools {origin}: {_describe(item)} is a plain function, not a tool. Wrap it in your own "
                "module with @tool (from tui.agent import tool), choosing whether it needs confirmation, "
                "e.g. @tool(requires_confirmation=True)."
            )
        else:
            raise ToolLoadError(f"--tools {origin}: {_describe(item)} is not a tool (expected an @tool function or a list of them)")
    return out


def canonical_spec(spec: str) -> str:
    """The spec with a file path made absolute, so a run records a spec that loads from anywhere."""
    target, sep, attr = _split(spec)
    path = Path(target)
    if target.endswith(".py") or path.exists():
        return str(path.expanduser().resolve()) + (sep + attr if sep else "")
    return spec


def _split(spec: str) -> tuple[str, str, str]:
    # A Windows drive letter ("C:\\tools.py") is not a module:attr separator.
    if len(spec) > 1 and spec[1] == ":":
        head, sep, attr = spec[2:].partition(":")
        return spec[:2] + head, sep, attr
    return spec.partition(":")


def load_tools(spec: str) -> list[Function]:
    """Load user tools from `module:attr`, `module`, `path/to/file.py` or `path/to/file.py:attr`.

    Without an attribute, every `@tool` Function defined at module level is taken.
    """
    target, _, attr = _split(spec)
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
    agent = Agent(
        model=model or build_model(settings),
        tools=list(by_name.values()),
        instructions=settings.instructions,
        markdown=True,
        store=store,
        policy=policy,
    )
    # Recorded in each run (so `hitl-tui resume` loads the same tools), with file paths made absolute.
    agent.tool_specs = [canonical_spec(spec) for spec in tool_specs or []]
    return agent


@dataclass
class AppParts:
    """What the dashboard runs on, built before the app exists (the app only wires them)."""

    agent: Agent
    store: RunStore | None
    #: Why history is off (the database could not be opened), for the app to say at start-up.
    store_problem: str | None = None


def open_store(settings: Settings) -> tuple[RunStore | None, str | None]:
    """The history database, or None and the reason: the dashboard still runs without history."""
    from .store import open_store as open_at

    try:
        return open_at(settings.db), None
    except Exception as exc:
        return None, f"History is off: {exc}"


def build_app_parts(
    settings: Settings,
    *,
    store: RunStore | None = None,
    tool_specs: list[str] | None = None,
    builtin_tools: bool = True,
    force_demo: bool = False,
) -> AppParts:
    """The default dashboard's agent and store from settings (`HitlApp()` and `hitl-tui` use it).

    Raises ToolLoadError when a tool spec cannot be loaded.
    """
    problem = None
    if store is None:
        store, problem = open_store(settings)
    model = DemoModel(delay=settings.demo_delay) if force_demo else None
    agent = build_agent(settings, tool_specs=tool_specs, builtin_tools=builtin_tools, store=store, model=model)
    return AppParts(agent=agent, store=store, store_problem=problem)
