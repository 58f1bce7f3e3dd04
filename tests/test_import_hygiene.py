"""The headless parts import no UI library, and the runtime loads the openai client only on demand.

A program that only runs agents (a script, a server, the Agno examples) must not pay for textual
or rich, and `import tui.agent` must stay fast: `openai` is imported on the first model request.
Each check runs in a fresh interpreter so that nothing imported by other tests can hide a leak.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

PROBE = """
import importlib, json, pkgutil, sys
names = {names!r}
imported = []
for name in names:
    module = importlib.import_module(name)
    imported.append(name)
    if {walk!r} and hasattr(module, "__path__"):
        for info in pkgutil.walk_packages(module.__path__, prefix=name + "."):
            if info.name.endswith("__main__"):
                continue
            importlib.import_module(info.name)
            imported.append(info.name)
print(json.dumps({{"imported": imported, "loaded": sorted(sys.modules)}}))
"""


def loaded_after(names: list[str], *, walk: bool = False) -> tuple[list[str], set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(names=names, walk=walk)],
        capture_output=True, text=True, cwd=REPO, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    return out["imported"], {m.split(".")[0] for m in out["loaded"]}


def headless_packages() -> list[str]:
    names = ["tui.agent"]
    if importlib.util.find_spec("tui.store") is not None:
        names.append("tui.store")
    return names


def test_the_runtime_imports_neither_textual_nor_rich():
    imported, loaded = loaded_after(["tui.agent", "tui.agent.models"])
    assert "tui.agent.models" in imported
    assert "textual" not in loaded
    assert "rich" not in loaded


def test_every_headless_module_imports_neither_textual_nor_rich():
    """Every module under tui.agent (and tui.store, when present), pprint included."""
    imported, loaded = loaded_after(headless_packages(), walk=True)
    assert "tui.agent.models.openai" in imported
    if importlib.util.find_spec("tui.agent.pprint") is not None:
        assert "tui.agent.pprint" in imported
    leaked = {"textual", "rich"} & loaded
    assert not leaked, f"{leaked} imported by one of {imported}"


def test_the_store_imports_neither_textual_nor_rich():
    if importlib.util.find_spec("tui.store") is None:
        pytest.skip("tui.store is not written yet")
    _, loaded = loaded_after(["tui.store"])
    assert not {"textual", "rich"} & loaded


def test_importing_the_runtime_does_not_import_the_openai_client():
    _, loaded = loaded_after(["tui.agent", "tui.agent.models"])
    assert "openai" not in loaded
    assert "httpx2" not in loaded


def test_importing_the_mcp_toolkit_does_not_import_the_mcp_sdk():
    """`tui.agent.mcp` is imported by the dashboard at start-up; the SDK loads when a server starts."""
    _, loaded = loaded_after(["tui.agent.mcp"])
    assert "mcp" not in loaded
    assert not {"textual", "rich"} & loaded
