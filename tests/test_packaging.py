"""The wheel users install carries every module and every stylesheet (not only editable installs)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_contains_every_module_and_stylesheet(tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    [wheel] = tmp_path.glob("hitl_tui-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())

    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "tui").rglob("*.py")}
    styles = {f"tui/styles/{p.name}" for p in (ROOT / "styles").glob("*.tcss")}
    assert styles, "no stylesheets found in styles/"
    assert modules - names == set(), "modules missing from the wheel (add their package to pyproject)"
    assert styles - names == set(), "stylesheets missing from the wheel"
    assert any(n.endswith("entry_points.txt") for n in names)
