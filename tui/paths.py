"""Where the TCSS lives: inside the package when installed from a wheel, else the repo's styles/."""

from __future__ import annotations

from pathlib import Path


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
