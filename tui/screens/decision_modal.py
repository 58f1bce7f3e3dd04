"""What every decision modal shares: the call, its header, a grace period, decline, and `esc` to decide later.

No decision by accident: a modal can open while the person is typing a prompt, and the next key
they type (`y` in "yes", `d` in "did") must not decide a call they have not read. So the keys that
decide are *armed* only after the modal has been on screen for `arm_delay` seconds (0.5 s by
default, `HITL_TUI_DECISION_DELAY` to change it); the countdown is shown while it lasts, and input
fields get the focus only once it is over. A printable key during the grace period means the
person is still typing: the modal steps aside at once (it closes as "decide later", and what was
typed is handed back to the prompt as `typed_ahead`), so the call waits in the approvals pane. The
timer is Textual's own (`set_interval`), and `arm()` can be called directly, so tests never wait
on the wall clock.
"""

from __future__ import annotations

import os
from typing import Any, Callable, ClassVar, Iterable

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from tui.agent.decisions import Decision
from tui.agent.run import ToolExecution
from tui.agent.visible import hidden_in
from tui.paths import stylesheet
from tui.screens.backdrop import BackdropCache
from tui.screens.breakpoints import breakpoint_class
from tui.widgets.literal import literal

#: Seconds a decision modal is shown before its decision keys work.
DEFAULT_ARM_DELAY = 0.5


def default_arm_delay() -> float:
    """The grace period: `HITL_TUI_DECISION_DELAY` seconds when set (0 turns it off), else 0.5 s."""
    raw = os.environ.get("HITL_TUI_DECISION_DELAY", "").strip()
    if not raw:
        return DEFAULT_ARM_DELAY
    try:
        return max(0.0, float(raw))
    except ValueError:
        return DEFAULT_ARM_DELAY


class DecisionModal(ModalScreen[Decision]):
    """A modal about one pending tool call. Dismisses with a Decision; `defer` leaves it pending."""

    CSS_PATH = stylesheet("modals")
    #: Below 30 rows the key legend is hidden (the footer shows the keys): the arguments get the room.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]
    AUTO_FOCUS = None  # nothing takes keys before the modal is armed (see `on_arm`)

    #: Actions that decide; they do nothing until the modal is armed. Subclasses extend this.
    DECIDING: ClassVar[frozenset[str]] = frozenset({"decline", "send_decline"})

    BINDINGS = [
        # decline (user-input and external modals; the confirmation modal has its own n / r)
        Binding("ctrl+r", "decline", "Decline", id="decision.decline",
                tooltip="Do not run the call; the model is told (you can give a reason)"),
    ]

    def __init__(
        self,
        tool: ToolExecution,
        *,
        arm_delay: float | None = None,
        position: tuple[int, int] | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        # The size class Textual would give on the first resize, given now: a class that changes
        # after mounting restyles the whole dialog again (VERTICAL_BREAKPOINTS).
        try:
            height = self.app.size.height
        except Exception:  # built outside a running app
            height = None
        size_class = None if height is None else breakpoint_class(self.VERTICAL_BREAKPOINTS, height)
        if size_class:
            self.add_class(size_class, update=False)
        self.tool = tool
        self.arm_delay = default_arm_delay() if arm_delay is None else max(0.0, arm_delay)
        #: (n, m): this is call n of m waiting in the same turn.
        self.position = position
        self.armed = False
        #: Printable keys that arrived before the modal was armed (for the prompt they were meant for).
        self.typed_ahead = ""
        #: Where those keys go (the dashboard's prompt), as they arrive, even after the modal closed.
        self.forward_typing: Callable[[str], None] | None = None
        #: True while the decline panel (reason input) is open.
        self.declining = False
        self._left = 0
        self._backdrop = BackdropCache()

    def render(self) -> Any:
        # The dimmed dashboard behind the dialog, rendered again only when it changed (backdrop.py).
        return self._backdrop.render(self, super().render())

    def _opened(self) -> None:
        """The first frame is on screen: the backdrop follows changes below from now on."""
        self._backdrop.opening = False
        if self._backdrop.stale:
            self.refresh()

    def refresh(self, *regions: Any, **kwargs: Any) -> Any:
        if regions:  # Textual repaints a dialog's regions when the screen below them changed
            self._backdrop.stale = True
        return super().refresh(*regions, **kwargs)

    # ------------------------------------------------------------------ header

    def dialog_title(self, title: str) -> str:
        """The frame's title, with "n of m" when several calls of the turn wait."""
        if self.position is not None and self.position[1] > 1:
            return f"{title} · {self.position[0]} of {self.position[1]}"
        return title

    def header(self, title: Text, why: str) -> Iterable[Widget]:
        """Title, the tool's description, why it asks, hidden characters, an earlier error, the countdown."""
        tool = self.tool
        yield Static(title, id="title", classes="modal-title")
        if tool.description:
            yield Static(literal(tool.description), id="description", classes="modal-description")
        yield Static(literal(why), id="why", classes="modal-why")
        hidden = hidden_in(tool.tool_name) + [m for m in hidden_in(tool.tool_args) if m not in hidden_in(tool.tool_name)]
        if hidden:
            yield Static(
                Text.assemble(
                    ("⚠ Hidden characters: ", "bold"),
                    (" ".join(hidden[:6]) + (" …" if len(hidden) > 6 else ""), ""),
                    (" (shown as markers): this text may not read as it looks.", ""),
                ),
                id="hidden-warning",
                classes="modal-error",
            )
        if tool.error:
            yield Static(literal(tool.error), id="tool-error", classes="modal-error")
        yield Static("", id="arming", classes="modal-arming")

    def decline_panel(self) -> ComposeResult:
        """The reason input of `ctrl+r` (hidden until used)."""
        with Vertical(id="decline-panel", classes="panel"):
            yield Label("Decline: the call does not run. Why? (optional; the model reads it)", classes="section-label")
            yield Input(placeholder="Reason (enter declines, esc goes back)", id="decline-reason")

    # ------------------------------------------------------------------ arming

    def on_mount(self) -> None:
        self.call_after_refresh(self._opened)
        if self.arm_delay <= 0:
            self.arm()
            return
        self._left = max(1, round(self.arm_delay * 10))
        self._show_countdown()
        self.set_interval(0.1, self._count_down, repeat=self._left, name="arming")

    def _count_down(self) -> None:
        if self.armed:
            return
        self._left -= 1
        if self._left <= 0:
            self.arm()
        else:
            self._show_countdown()

    def _show_countdown(self) -> None:
        seconds = self._left / 10
        self.query_one("#arming", Static).update(
            Text(f"⏳ Read first: the keys work in {seconds:.1f} s (nothing typed before this opened reaches it).", style="italic")
        )

    def arm(self) -> None:
        """Make the decision keys work (called by the timer; tests may call it directly)."""
        if self.armed:
            return
        self.armed = True
        arming = self.query("#arming")
        if arming:
            arming.first(Static).display = False
        self.refresh_bindings()
        self.on_arm()

    def on_arm(self) -> None:
        """Give the focus to what takes keys (subclasses: their first field)."""

    def on_key(self, event: events.Key) -> None:
        """Before it is armed, a typed character means the person is still typing: step aside."""
        if self.armed or not (event.is_printable and event.character):
            return
        event.stop()
        event.prevent_default()
        first = not self.typed_ahead
        self.typed_ahead += event.character
        if self.forward_typing is not None:
            self.forward_typing(event.character)
        if first:
            self.dismiss(Decision("defer"))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.DECIDING and not self.armed:
            return None  # shown disabled in the footer; the key does nothing
        if action == "decline" and self.declining:
            return False
        if action == "send_decline" and not self.declining:
            return False
        return True

    # ------------------------------------------------------------------ decline (user input, external)

    def action_decline(self) -> None:
        panel = self.query("#decline-panel")
        if not panel:
            return
        self.declining = True
        self.add_class("-declining")
        self.refresh_bindings()
        self.query_one("#decline-reason", Input).focus()

    def action_send_decline(self) -> None:
        note = self.query_one("#decline-reason", Input).value.strip()
        self.dismiss(Decision("reject", note=note or None))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "decline-reason":
            event.stop()
            if self.armed:
                self.action_send_decline()

    def cancel_decline(self) -> bool:
        """esc while declining: back to the form. True when it was declining."""
        if not self.declining:
            return False
        self.declining = False
        self.remove_class("-declining")
        self.refresh_bindings()
        self.on_arm()
        return True

    def action_defer(self) -> None:
        if self.cancel_decline():
            return
        self.dismiss(Decision("defer"))
