"""Every key of the app, collected from the bindings of every screen, modal and widget.

The help screen shows these groups, so it cannot drift from the keys: a binding added to any class
in `tui.screens` or `tui.widgets` (or to the app) is listed without touching the help. Keys that are
not bindings (a text field's own `enter`) are the only rows written by hand (`EXTRA_ROWS`).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from dataclasses import dataclass, field

from textual.app import App
from textual.binding import Binding, BindingType
from textual.dom import DOMNode

#: Where the classes with bindings live (imported when the help is built).
PACKAGES = ("tui.screens", "tui.widgets")

#: Group titles by class name, in the order the help lists them; other classes follow, by name.
TITLES: dict[str, str] = {
    "HitlApp": "Everywhere",
    "Dashboard": "Dashboard",
    "PromptArea": "Prompt",
    "ApprovalsList": "Approvals pane",
    "ToolLog": "Tool calls pane",
    "DecisionModal": "Input and result dialogs",
    "ConfirmModal": "Confirmation dialog",
    "UserInputModal": "User-input form",
    "ExternalResultModal": "External result",
    "ForeignRunModal": "A run whose process has ended",
    "RunViewScreen": "Viewing a run (read-only)",
    "ElicitationModal": "An MCP server asks for input",
    "RuleDryRunModal": "Saving an always rule",
    "HistoryScreen": "History",
    "RulesScreen": "Approval rules (f2)",
    "MCPServersScreen": "MCP servers",
    "HelpScreen": "Help",
}

EVERYWHERE = "Everywhere"


@dataclass(frozen=True)
class KeyRow:
    keys: str
    description: str


@dataclass
class KeyGroup:
    title: str
    rows: list[KeyRow] = field(default_factory=list)
    #: The classes whose bindings these rows are (a test checks every binding is shown).
    owners: list[type] = field(default_factory=list)


#: Keys that are not bindings of ours (a text field's own keys), by class name.
EXTRA_ROWS: dict[str, list[KeyRow]] = {
    "UserInputModal": [KeyRow("enter", "Submit from a text field")],
}


def as_bindings(bindings: list[BindingType] | None) -> list[Binding]:
    """`BINDINGS` entries may be tuples: make them `Binding`s."""
    out: list[Binding] = []
    for b in bindings or []:
        out.append(b if isinstance(b, Binding) else Binding(*b))
    return out


def rows_from_bindings(app: App[object], bindings: list[Binding]) -> list[KeyRow]:
    """One row per action; keys bound to the same action are merged ("escape / q")."""
    order: list[str] = []
    keys: dict[str, list[str]] = {}
    text: dict[str, str] = {}
    for binding in bindings:
        description = binding.tooltip or binding.description
        if not description:
            continue
        for single in binding.key.split(","):
            display = app.get_key_display(binding.with_key(single.strip(), binding.key_display))
            if binding.action not in keys:
                order.append(binding.action)
                keys[binding.action] = []
                text[binding.action] = description
            if display not in keys[binding.action]:
                keys[binding.action].append(display)
    return [KeyRow(" / ".join(keys[a]), text[a]) for a in order]


def classes_with_bindings() -> list[type[DOMNode]]:
    """Every screen, modal and widget class of the project that declares its own BINDINGS."""
    found: list[type[DOMNode]] = []
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package_name}.{info.name}")
            for _name, cls in inspect.getmembers(module, inspect.isclass):
                if (
                    cls.__module__ == module.__name__
                    and issubclass(cls, DOMNode)
                    and cls.__dict__.get("BINDINGS")
                ):
                    found.append(cls)
    return found


def _title(cls: type) -> str:
    return str(cls.__dict__.get("HELP_TITLE") or TITLES.get(cls.__name__) or cls.__name__)


def _order(cls: type) -> tuple[int, str]:
    names = list(TITLES)
    return (names.index(cls.__name__) if cls.__name__ in names else len(names), cls.__name__)


def key_groups(app: App[object]) -> list[KeyGroup]:
    """The app's own keys first, then each screen's and widget's, in the order of `TITLES`."""
    app_classes = [
        cls for cls in type(app).__mro__ if cls is not App and issubclass(cls, App) and cls.__dict__.get("BINDINGS")
    ]
    everywhere = KeyGroup(EVERYWHERE)
    for cls in app_classes:
        everywhere.rows.extend(rows_from_bindings(app, as_bindings(cls.__dict__["BINDINGS"])))
        everywhere.owners.append(cls)
    palette = app.COMMAND_PALETTE_BINDING if app.ENABLE_COMMAND_PALETTE else None
    if palette:
        everywhere.rows.append(KeyRow(app.get_key_display(Binding(palette, "")), "The command palette: every action by name"))
    groups: dict[str, KeyGroup] = {EVERYWHERE: everywhere}
    for cls in sorted(classes_with_bindings(), key=_order):
        title = _title(cls)
        group = groups.setdefault(title, KeyGroup(title))
        group.rows.extend(rows_from_bindings(app, as_bindings(cls.__dict__["BINDINGS"])))
        group.rows.extend(EXTRA_ROWS.get(cls.__name__, []))
        group.owners.append(cls)
    return [group for group in groups.values() if group.rows]
