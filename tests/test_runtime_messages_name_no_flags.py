"""The runtime, the store and the toolbox speak of their own parameters and settings, never of
`hitl-tui`'s command-line flags: they are used without the command line (a script, the
dashboard), where `--base-url` means nothing. The command line maps its flags onto settings."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]+")
#: Files that quote a shell command for a person to type, which is not a message about a flag:
#: a waiting-call notice says "hitl-tui reject 12 --reason TEXT" (the command is a parameter).
QUOTES_COMMANDS = {"tui/agent/notify.py"}


def flag_mentions(path: Path) -> list[str]:
    """`line: text` for each string in the code (docstrings aside) that names a --flag."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        f"{node.lineno}: {FLAG.search(node.value).group(0)}"  # type: ignore[union-attr]
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings and FLAG.search(node.value)
    ]


def test_the_checker_finds_a_flag_in_a_message(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('"""Doc --flag."""\nraise ValueError(f"Check --base-url and {x}")\ny = "a-b--c"\n')
    assert flag_mentions(sample) == ["2: --base-url"]


@pytest.mark.parametrize(
    "path",
    sorted(
        p
        for d in ("agent", "store", "toolbox")
        for p in (ROOT / "tui" / d).rglob("*.py")
        if str(p.relative_to(ROOT)) not in QUOTES_COMMANDS
    ),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_no_runtime_message_names_a_command_line_flag(path: Path) -> None:
    assert flag_mentions(path) == []
