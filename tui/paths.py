"""Paths: where the TCSS lives, and how hitl-tui creates its private files (0600) and folders (0700).

The stylesheets live inside the package when installed from a wheel, else in the repo's styles/.
"""

from __future__ import annotations

from pathlib import Path

from tui.private_files import (  # re-exported: the UI's one place for paths
    PRIVATE_DIR,
    PRIVATE_FILE,
    append_private_text,
    create_private_file,
    make_private_dir,
    write_private_text,
)


def styles_dir() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / "styles", here.parent / "styles"):
        if candidate.is_dir() and any(candidate.glob("*.tcss")):
            return candidate
    try:  # editable installs map the tui.styles package onto the repo's styles/
        from importlib.resources import files

        return Path(str(files("tui.styles")))
    except Exception:
        return here.parent / "styles"


def stylesheet(name: str) -> Path:
    """The path of styles/<name>.tcss."""
    return styles_dir() / f"{name}.tcss"


