"""The help (f1) lists every key of every screen, modal and widget, read from their bindings."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from textual.binding import Binding
from textual.dom import DOMNode
from ui_support import make_app, screen_text, settle

from tui.app import HitlApp
from tui.screens.dashboard import Dashboard
from tui.screens.help_screen import HelpScreen

TALL = (120, 200)  # the whole help fits on screen


def project_bindings() -> list[tuple[type, Binding]]:
    """Every binding declared by a class of the app, its screens or its widgets (found here, not by the help)."""
    classes: list[type] = [HitlApp]
    for package_name in ("tui.screens", "tui.widgets"):
        package = importlib.import_module(package_name)
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package_name}.{info.name}")
            classes += [
                cls
                for _, cls in inspect.getmembers(module, inspect.isclass)
                if cls.__module__ == module.__name__ and issubclass(cls, DOMNode) and "BINDINGS" in cls.__dict__
            ]
    out = []
    for cls in classes:
        for b in cls.__dict__["BINDINGS"]:
            out.append((cls, b if isinstance(b, Binding) else Binding(*b)))
    return out


def continuation(lines: list[str], i: int, descriptions: set[str]) -> str:
    if i >= len(lines) or any(text in lines[i] for text in descriptions):
        return ""
    return lines[i]


async def test_every_binding_of_every_screen_and_widget_is_in_the_help() -> None:
    bindings = project_bindings()
    assert len({cls for cls, _ in bindings}) >= 10  # the app, the dashboard, the modals, the panes…
    app = make_app()
    async with app.run_test(size=TALL) as pilot:
        await settle(pilot, app)
        await pilot.press("f1")
        await settle(pilot, app)
        assert isinstance(app.screen, HelpScreen)
        lines = screen_text(app).splitlines()
        descriptions = {b.tooltip or b.description for _, b in bindings} - {""}
        missing = []
        for cls, binding in bindings:
            text = binding.tooltip or binding.description
            assert text, f"{cls.__name__}: the key {binding.key!r} has no description, so help cannot explain it"
            # The keys of a row: left of its description, plus the next line if it only continues
            # the keys (a long key list wraps; the next row would have a description of its own).
            keys_shown = [
                line.split(text)[0] + " " + (continuation(lines, i + 1, descriptions))
                for i, line in enumerate(lines)
                if text in line
            ]
            for key in binding.key.split(","):
                display = app.get_key_display(binding.with_key(key.strip(), binding.key_display))
                if not any(display in shown for shown in keys_shown):
                    missing.append(f"{cls.__name__}: {display} ({text})")
        assert not missing, "keys missing from the help:\n" + "\n".join(missing)


async def test_the_keys_people_missed_are_in_the_help() -> None:
    app = make_app()
    async with app.run_test(size=TALL) as pilot:
        await pilot.press("f1")
        await settle(pilot, app)
        shown = screen_text(app)
        for key, text in [
            ("t", "allow this tool for the rest of this run"),
            ("esc esc", "cancel the turn"),
            ("^r", "Continue the run"),
            ("space", "Mark the item for a batch decision"),
            ("Y", "Approve the marked items"),
            ("N", "Reject the marked items"),
        ]:
            assert any(line.strip(" │").startswith(key + " ") and text in line for line in shown.splitlines()), (key, text)


async def test_the_footer_offers_f1_for_help_because_question_mark_types_into_the_prompt() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        footer = screen_text(app).splitlines()[-1]
        assert "f1 Help" in footer and "? Help" not in footer
        await pilot.press("question_mark")
        await settle(pilot, app)
        assert isinstance(app.screen, Dashboard)
        assert app.dashboard.conversation.prompt.text == "?"
        await pilot.press("f1")
        await settle(pilot, app)
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("f1")  # f1 closes it again
        await settle(pilot, app)
        assert isinstance(app.screen, Dashboard)
