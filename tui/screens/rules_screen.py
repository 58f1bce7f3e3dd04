"""The rules screen: every active approval rule with its source (saved, session, run); any can be revoked.

Session and run choices go at once with `x`; a saved rule is removed from the rules file after a
second `x` (the file is rewritten without that one [[rule]] block, and checked before it is written).
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from ..agent.policy import Policy
from ..agent.rules import Rule, RulesError, RulesPolicy, active_rules, revoke
from ..paths import stylesheet
from ..widgets.literal import literal
from ..widgets.steady_footer import SteadyFooter


class RulesScreen(Screen[None]):
    CSS_PATH = [stylesheet("rules")]
    TITLE = "Approval rules"
    BINDINGS = [
        Binding("escape,q", "close", "Back", id="rules.close", tooltip="Return to the dashboard"),
        Binding("delete,x", "delete_rule", "Revoke rule", id="rules.delete",
                tooltip="Revoke the selected rule (a saved rule asks once more, then leaves the rules file)"),
        Binding("r", "reload", "Reload file", id="rules.reload", tooltip="Re-read the rules file"),
    ]

    def __init__(self, policy: Policy) -> None:
        super().__init__()
        self.policy = policy
        #: The saved rule a first `x` asked about; a second `x` on it deletes it.
        self._armed_delete: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="rules-status")
        table: DataTable[object] = DataTable(id="rules-table", cursor_type="row", zebra_stripes=True)
        table.add_columns("source", "effect", "tool", "conditions", "name", "note / run")
        yield table
        yield Static(
            "Strictest wins: deny over ask over allow. Rules apply only to tools that need confirmation.",
            id="rules-help",
        )
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.refresh_rules()
        self.query_one(DataTable).focus()

    def _rules(self) -> list[Rule]:
        return active_rules(self.policy)

    def refresh_rules(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        rules = self._rules()
        for rule in rules:
            table.add_row(
                rule.source + (f" (line {rule.line})" if rule.line else ""),
                rule.effect,
                literal(rule.tool),
                literal(", ".join(c.describe() for c in rule.conditions) or "any arguments"),
                literal(rule.name),
                literal(rule.note or ""),
                key=rule.name,
            )
        status = self.query_one("#rules-status", Static)
        path = getattr(self.policy, "path", None)
        error = getattr(self.policy, "error", None)
        if error:
            status.update(literal(f"⚠ {error}", style="bold red"))
        elif not rules:
            status.update(
                literal(
                    "No rules yet. Press A in a confirmation to always allow a tool, or a to allow it for this session."
                    + (f"\nRules file: {path}" if path else "")
                )
            )
        else:
            count = f"{len(rules)} active rule{'s' if len(rules) != 1 else ''}"
            status.update(literal(count + " — x revokes the selected one" + (f" — file: {path}" if path else "")))

    def _selected(self) -> Rule | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((r for r in self._rules() if r.name == key), None)

    def action_delete_rule(self) -> None:
        rule = self._selected()
        if rule is None:
            return
        if rule.source == "file" and self._armed_delete != rule.name:
            self._armed_delete = rule.name
            self.notify(
                f"Press x again to delete the saved rule {rule.name!r} from the rules file.",
                title="Delete a saved rule?",
                severity="warning",
                markup=False,
            )
            return
        self._armed_delete = None
        try:
            revoke(self.policy, rule)
        except (RulesError, OSError) as exc:
            self.notify(f"Could not revoke {rule.name}: {exc}", severity="error", markup=False)
            return
        self.refresh_rules()
        scope = {"session": "for this session", "run": "for that run", "file": "from the rules file"}[rule.source]
        self.notify(f"Revoked the rule {scope}: {rule.describe()}.", markup=False)

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._armed_delete = None  # a second x must be on the same rule

    def action_reload(self) -> None:
        if isinstance(self.policy, RulesPolicy):
            self.policy.reload()
        self.refresh_rules()

    def action_close(self) -> None:
        self.dismiss()

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
