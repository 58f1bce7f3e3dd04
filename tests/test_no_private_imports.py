"""No code of ours (tui/ and tests/) imports a private module of textual or openai.

A private module (`textual._compositor`, `textual.widgets._markdown`, `openai._base_client`) may
change in any release without notice; the public names (`textual.widgets.markdown`, ...) are the
contract. Attribute access such as `app.screen._compositor` is caught too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUARDED = ("textual", "openai")


def _private(dotted: str) -> bool:
    parts = dotted.split(".")
    return parts[0] in GUARDED and any(p.startswith("_") and not p.startswith("__") for p in parts[1:])


def private_uses(path: Path) -> list[str]:
    """`file:line: what` for each import of, or attribute reach into, a private textual/openai module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[str] = []
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] if _private(node.module) else [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Attribute) and node.attr in ("_compositor",):
            names = ["textual." + node.attr]
        found.extend(f"{where}:{node.lineno}: {name}" for name in names if _private(name))
    return found


def python_files() -> list[Path]:
    return sorted(p for d in ("tui", "tests") for p in (ROOT / d).rglob("*.py") if ".venv" not in p.parts)


def test_the_checker_sees_each_kind_of_private_use(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import textual._tree_sitter\nfrom textual.widgets._markdown import X\nfrom openai import _base_client\n"
        "from textual.widgets import markdown\nx = app.screen._compositor\n",
        encoding="utf-8",
    )
    assert [line.split(": ", 1)[1] for line in private_uses(sample)] == [
        "textual._tree_sitter",
        "textual.widgets._markdown",
        "openai._base_client",
        "textual._compositor",
    ]


@pytest.mark.parametrize("path", python_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_module_of_textual_or_openai_is_used(path: Path) -> None:
    assert private_uses(path) == []
