"""HitlApp: the dashboard application. Wiring (settings, store, agent), global keys, command palette.

`HitlApp()` with no arguments is the default dashboard: it loads the settings and asks the factory
(`tui.bootstrap.build_app_parts`) for the store and the agent; `hitl-tui` passes its settings,
tool specs and store the same way. Tests and embedders pass their own `agent` (and `store`).
Process-wide settings (GC thresholds) belong to the entry point (`tui.cli`), not to an App that
may be embedded: the app only tells the process's GC pacer (`tui.gc_pacing`), if one is
installed, when someone types and when a reply streams, so full collections wait for a quiet moment.

Start-up is fast where people feel it: `HitlApp()` without an agent or `--tools` first shows a
light starting screen, and only after that first frame (Textual's `Ready` event) loads the
settings, the store, the agent (pydantic models, the openai client, the toolbox) and the
dashboard (Markdown), off the event loop where it can (tests/benchmarks/bench_startup.py). This
module imports none of them at import time. Given an `agent` or `--tools` (whose errors must
reach the command line before the app starts), it builds everything at once, as before; so does
asking for `app.agent` (or the store, settings, dashboard) before the app runs.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Iterable

from rich.text import Text
from textual import events
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Header, Static

from tui import gc_pacing
from tui.paths import stylesheet

if TYPE_CHECKING:
    from tui.agent import Agent
    from tui.config import Settings
    from tui.screens.dashboard import Dashboard


class StartingScreen(Screen[None]):
    """The first frame of `HitlApp()`: shown while the settings, history and agent load."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Starting hitl-tui: loading the settings, the history and the agent…", id="starting")
        yield Footer()



def describe_model(model: Any) -> str:
    """"demo model (offline)" for the demo model, else "<id> @ <base URL>"."""
    describe = getattr(model, "describe", None)
    if callable(describe):
        try:
            return str(describe())
        except Exception:
            pass
    return str(getattr(model, "id", type(model).__name__))


class HitlApp(App[None]):
    """A terminal dashboard for an LLM agent whose tools need a human in the loop."""

    TITLE = "hitl-tui"
    # The default screen's own CSS_PATH is not loaded by Textual, so the app lists the dashboard's
    # (by name: importing the dashboard here would load the Markdown machinery before the first frame).
    CSS_PATH = [stylesheet(name) for name in ("app", "dashboard", "conversation", "tool_log", "approvals")]
    #: The other screens' sheets, loaded right after the first frame (`load_screen_css`): a screen
    #: whose sheet is new makes Textual re-parse all CSS and restyle every widget of every screen
    #: (with a long reply, 300+ ms on the first dialog of a session; bench_stream_keys.py).
    LATER_CSS: ClassVar[tuple[str, ...]] = ("modals", "help", "history", "rules")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+n", "new_session", "New session", id="app.new_session", tooltip="Start a fresh conversation (the history keeps the old one)"),
        Binding("h", "history", "History", id="app.history", tooltip="Browse past runs and sessions; resume a paused run"),
        Binding("f2", "rules", "Rules", id="app.rules", tooltip="The active approval rules; delete session rules"),
        # f1 first: the footer shows it. `?` works too, but not in the prompt, where it is a character.
        Binding("f1,question_mark", "help", "Help", id="app.help", tooltip="Keys, and how decisions work (? too, outside the prompt)"),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True, tooltip="Quit hitl-tui (paused runs stay paused in the history)"),
    ]

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        agent: "Agent | None" = None,
        store: Any = None,
        tool_specs: list[str] | None = None,
        builtin_tools: bool = True,
        resume_run_id: str | None = None,
        force_demo: bool = False,
        deterministic: bool = False,
        settings_file: Path | None = None,
    ) -> None:
        super().__init__()
        self.deterministic = deterministic
        self.resume_run_id = resume_run_id
        #: Where a theme the user picks is saved (None: not saved; `hitl-tui` passes the config file).
        self.settings_file = settings_file
        self._store_problem: str | None = None
        self._started = False
        self._built = False
        self._build_lock = threading.Lock()
        self._deferred: dict[str, Any] | None = None
        if settings is not None:
            self.settings = settings
            self.auto_open = settings.auto_open_modals
        if agent is None and not tool_specs:
            # Built after the first frame (`_start`): see the module docstring.
            self._deferred = {"settings": settings, "store": store, "builtin_tools": builtin_tools, "force_demo": force_demo}
            return
        self._build(settings, agent=agent, store=store, tool_specs=tool_specs, builtin_tools=builtin_tools, force_demo=force_demo)
        self._built = True
        self._make_dashboard()

    #: What `HitlApp()` builds after its first frame.
    _BUILT_LATER = frozenset({"settings", "store", "agent", "is_demo", "auto_open", "dashboard", "mcp"})

    def __getattr__(self, name: str) -> Any:
        # Asked for before the deferred start (e.g. `HitlApp().agent` in a script): build it all
        # now, as `HitlApp()` did before start-up was deferred; the app then opens on the dashboard.
        if name in HitlApp._BUILT_LATER and self.__dict__.get("_deferred") is not None:
            self._ensure_built()
            if "dashboard" not in self.__dict__:
                self._make_dashboard()
            self._deferred = None
            return self.__dict__[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _ensure_built(self) -> None:
        """The deferred settings, store and agent, built once (from any thread)."""
        with self._build_lock:
            if self._built:
                return
            deferred = self._deferred or {}
            self._build(
                deferred.get("settings"),
                store=deferred.get("store"),
                builtin_tools=deferred.get("builtin_tools", True),
                force_demo=deferred.get("force_demo", False),
            )
            self._built = True

    def _build(
        self,
        settings: "Settings | None",
        *,
        agent: "Agent | None" = None,
        store: Any = None,
        tool_specs: list[str] | None = None,
        builtin_tools: bool = True,
        force_demo: bool = False,
    ) -> None:
        """Settings, store and agent: headless work, safe to run off the event loop."""
        from tui.bootstrap import build_app_parts
        from tui.config import load_settings

        self.settings = settings if settings is not None else load_settings()
        self.auto_open = self.settings.auto_open_modals
        if agent is not None:
            self.agent = agent
            self.store = store if store is not None else agent.store
        else:
            # Construction lives in the factory; the app only wires what it is given.
            parts = build_app_parts(
                self.settings, store=store, tool_specs=tool_specs, builtin_tools=builtin_tools, force_demo=force_demo
            )
            self.agent, self.store, self._store_problem = parts.agent, parts.store, parts.store_problem
        if self.agent.store is None and self.store is not None:
            self.agent.store = self.store
        from tui.agent.models import DemoModel

        from tui.mcp_dashboard import MCPDashboard

        self.is_demo = isinstance(self.agent.model, DemoModel)
        self.mcp = MCPDashboard(self)
        if self.settings.approver:
            self.agent.approver = self.settings.approver  # who decides in this dashboard (audit)
        if self.settings.webhook_url:
            from tui.agent.notify import Webhook

            self.agent.on_pause.append(Webhook(self.settings.webhook_url, store=self.store))

    def _make_dashboard(self) -> None:
        from tui.screens.dashboard import Dashboard

        self.dashboard: Dashboard = Dashboard(
            self.agent,
            auto_open=self.auto_open,
            bell=self.settings.bell,
            deterministic=self.deterministic,
            is_demo=self.is_demo,
            mcp_ready=self.mcp.ready,
            approver=self.settings.approver,
            inbox_poll=self.settings.inbox_poll,
            desktop_notifications=self.settings.desktop_notifications,
            id="dashboard",
        )

    # ------------------------------------------------------------------ lifecycle

    def get_default_screen(self) -> Screen:
        return StartingScreen() if self._deferred is not None else self.dashboard

    def on_mount(self) -> None:
        if gc_pacing.current() is not None:
            self.set_interval(0.25, self.pace_gc, name="gc-pacing")
        if self._deferred is None:
            self.load_screen_css()
            self._on_started()

    def load_screen_css(self) -> None:
        """Load every screen's stylesheet now, while the screen has few widgets (see LATER_CSS)."""
        sheet = self.stylesheet
        new = [path for path in map(stylesheet, self.LATER_CSS) if not sheet.has_source(str(path))]
        if not new:
            return
        for path in new:
            sheet.read(path)
        sheet.reparse()
        sheet.update(self)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):
            pacer = gc_pacing.current()
            if pacer is not None:
                pacer.activity()
            if isinstance(event, (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp)):
                # Input first: streamed reply text waits a moment, so this key's frame is quick.
                dashboard = self.__dict__.get("dashboard")
                if dashboard is not None and dashboard.is_mounted:
                    dashboard.conversation.hold_for_input()
        await super().on_event(event)

    def pace_gc(self) -> bool:
        """Let the process's GC pacer run a full collection if this is a quiet moment (True if it did)."""
        pacer = gc_pacing.current()
        if pacer is None:
            return False
        dashboard = self.__dict__.get("dashboard")
        busy = dashboard is None or dashboard.is_busy  # starting up, or a reply is streaming
        return pacer.tick(busy=busy)

    def on_ready(self) -> None:
        """The first frame is on screen: now build what `HitlApp()` deferred."""
        if self._deferred is not None and not self._started:
            self._started = True
            self.run_worker(self._start(), name="start", group="start", exit_on_error=True)

    async def _start(self) -> None:
        import asyncio

        try:
            # Imports (pydantic, sqlite, the toolbox), settings, store and agent: off the loop.
            await asyncio.to_thread(self._ensure_built)
            await asyncio.to_thread(__import__, "tui.screens.dashboard")
            if "dashboard" not in self.__dict__:
                self._make_dashboard()
        except Exception as exc:  # say it on screen; ctrl+q still quits
            message = f"hitl-tui could not start: {type(exc).__name__}: {exc}"
            for screen in self.screen_stack:
                if isinstance(screen, StartingScreen):
                    screen.query_one("#starting", Static).update(message)
            self.notify(message, severity="error", markup=False, timeout=30)
            return
        self._deferred = None
        self.load_screen_css()  # on the starting screen: a few widgets to restyle, not hundreds
        while len(self.screen_stack) > 1:  # e.g. the command palette opened while starting
            await self.pop_screen()
        await self.push_screen(self.dashboard)  # over the starting screen, which stays below it
        self._on_started()

    def _on_started(self) -> None:
        """Set-up that needs the agent and the dashboard."""
        self.sub_title = describe_model(self.agent.model)
        if self.settings.theme and self.settings.theme != self.theme:
            if self.settings.theme in self.available_themes:
                self.theme = self.settings.theme
            else:
                self.notify(f"Unknown theme {self.settings.theme!r}; using {self.theme}.", severity="warning", markup=False)
        if self.settings.keymap:
            # The user's keys for binding ids (`[keymap]` in config.toml), as Posting does.
            self.set_keymap(self.settings.keymap)
        if self._store_problem:
            self.notify(self._store_problem, severity="error", markup=False, timeout=10)
        rules_error = getattr(self.agent.policy, "error", None)
        if rules_error:
            self.notify(rules_error, title="Approval rules are off", severity="error", markup=False, timeout=15)
            # A toast fades; the conversation keeps saying it until the file is fixed (f2 shows the rules).
            self.call_after_refresh(
                lambda: self.dashboard.conversation.add_error(
                    f"{rules_error} Every gated call asks you. f2 shows the rules.", title="Approval rules are off"
                )
            )
        self.mcp.start()
        if self.resume_run_id:
            self.call_after_refresh(self.resume_run, self.resume_run_id)
        else:
            self._announce_paused_runs()

    async def on_unmount(self) -> None:
        mcp = self.__dict__.get("mcp")  # None when quitting before the deferred start built it
        if mcp is not None:
            await mcp.stop()  # stdio MCP servers end with the dashboard

    def _announce_paused_runs(self) -> None:
        paused = getattr(self.store, "paused_runs", None)
        if paused is None:
            return
        try:
            runs = paused()
        except Exception as exc:
            self.notify(f"Could not read the history: {exc}", severity="error", markup=False)
            return
        if runs:
            count = len(runs)
            waiting = sum(len(r.pending_tools) for r in runs)
            runs_text = f"{count} paused run{'s' if count != 1 else ''}"
            calls_text = f"{waiting} call{'s' if waiting != 1 else ''}"
            where = (
                "They are in Approvals (tab to it, enter decides); press h for the history."  # the inbox lists every process's calls
                if callable(getattr(self.store, "pending_requests", None))
                else "Press h (outside the prompt: tab first) or ctrl+p → History to resume "
                f"{'them' if count != 1 else 'it'}."
            )
            self.notify(
                f"{runs_text} ({calls_text}) {'wait' if count != 1 else 'waits'} for your decision. " + where,
                title="Paused runs",
                timeout=12,
                markup=False,
            )

    def watch_theme(self, theme: str) -> None:
        """Remember a theme the user picks (command palette → theme) in the config file."""
        if self.settings_file is None or theme == self.settings.theme:
            return
        self.settings.theme = theme
        from tui.config import save_setting

        try:
            save_setting("theme", theme, path=self.settings_file)
        except (OSError, ValueError) as exc:
            self.notify(f"Could not save the theme in {self.settings_file}: {exc}", severity="warning", markup=False)

    # ------------------------------------------------------------------ waiting state

    def show_waiting(self, count: int) -> None:
        """Say in the header and the terminal's title when calls wait for the user."""
        base = describe_model(self.agent.model)
        self.sub_title = f"⏸ {count} waiting for you · {base}" if count else base
        title = f"hitl-tui — ⏸ {count} waiting" if count else "hitl-tui"
        if title != getattr(self, "_terminal_title", None):
            self._terminal_title = title
            driver = getattr(self, "_driver", None)
            if driver is not None and not self.is_headless:
                driver.write(f"\x1b]2;{title}\x07")  # OSC 2: the terminal window's title

    # ------------------------------------------------------------------ API for other screens

    def resume_run(self, run_id: str) -> bool:
        """Open the dashboard on `run_id` (the history screen calls this)."""
        while len(self.screen_stack) > 1 and self.screen is not self.dashboard:
            self.pop_screen()
        return self.dashboard.resume_run(run_id)

    # ------------------------------------------------------------------ actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self._deferred is not None and action in ("new_session", "history", "rules", "model_info", "toggle_auto_open", "decide_next"):
            return False  # still starting: there is no agent or dashboard yet
        if action in ("new_session", "history", "rules"):
            # Not over a modal or another screen: decide or close that first.
            return self.screen is self.dashboard
        if action == "help":
            return not self._is_help(self.screen)
        return True

    @staticmethod
    def _is_help(screen: Screen) -> bool:
        return type(screen).__name__ == "HelpScreen"

    def action_quit(self) -> None:
        """Quit at once, even mid-run; say how to get back to runs that still wait for decisions."""
        hint = self.resume_hint()
        self.exit(message=Text(hint) if hint else None)

    #: At most this many `hitl-tui resume` lines are printed on quit.
    RESUME_HINT_LINES: ClassVar[int] = 5

    def resume_hint(self) -> str | None:
        """The commands that resume the paused runs (printed when the app quits).

        This dashboard's paused runs first, then older ones from the history.
        """
        from tui.agent.run import RunStatus  # deferred: the app's first frame does not wait for the runtime

        # Read without building: quitting on the starting screen must not build the agent.
        dashboard = self.__dict__.get("dashboard")
        runs = dashboard.runs.values() if dashboard is not None else []
        paused = {run.run_id: run for run in runs if run.status == RunStatus.paused}
        paused_runs = getattr(self.__dict__.get("store"), "paused_runs", None)
        if paused_runs is not None:
            try:
                for run in paused_runs(limit=100):
                    paused.setdefault(run.run_id, run)
            except Exception:  # quitting never fails on a broken history
                pass
        if not paused:
            return None
        count = len(paused)
        lines = [
            f"{count} paused run{'s' if count != 1 else ''} {'wait' if count != 1 else 'waits'} for your decision. "
            f"To go on later, run:"
        ]
        for run in list(paused.values())[: self.RESUME_HINT_LINES]:
            names = ", ".join(sorted({t.tool_name for t in run.pending_tools})) or "no call left: it continues"
            lines.append(f"  hitl-tui resume {run.run_id}    ({names})")
        if count > self.RESUME_HINT_LINES:
            lines.append(f"  … and {count - self.RESUME_HINT_LINES} more.")
        lines.append("`hitl-tui history` lists every run.")
        return "\n".join(lines)

    def action_new_session(self) -> None:
        if self.dashboard.new_session():
            self.notify("New session: the model no longer sees the earlier conversation.", timeout=3)

    def action_history(self) -> None:
        try:
            from tui.screens.history_screen import HistoryScreen
        except ImportError:
            self.notify("The history screen is not available in this build. Try `hitl-tui history`.", severity="warning")
            return
        if self.store is None:
            self.notify("History is off: no history database could be opened.", severity="warning")
            return
        self.push_screen(HistoryScreen(self.store))

    def action_rules(self) -> None:
        from tui.screens.rules_screen import RulesScreen

        self.push_screen(RulesScreen(self.agent.policy))

    def action_help(self) -> None:
        try:
            from tui.screens.help_screen import HelpScreen
        except ImportError:
            self.action_show_help_panel()
            return
        self.push_screen(HelpScreen())

    def action_model_info(self) -> None:
        tools = []
        for fn in self.agent.tools:
            kind = (
                "confirmation" if fn.requires_confirmation else
                "your input" if fn.requires_user_input else
                "external" if fn.external_execution else "runs at once"
            )
            tools.append(f"  {fn.name} ({kind})")
        text = f"Model: {describe_model(self.agent.model)}\nTools:\n" + ("\n".join(tools) or "  none")
        if self.mcp:
            text += "\nMCP servers:\n" + self.mcp.servers.summary()
        self.notify(text, title="Model", markup=False, timeout=10)

    def action_toggle_auto_open(self) -> None:
        self.auto_open = not self.auto_open
        self.dashboard.auto_open = self.auto_open
        state = "open by themselves" if self.auto_open else "wait in the Approvals pane (enter opens one)"
        self.notify(f"Decision dialogs now {state}.", timeout=4)

    def action_decide_next(self) -> None:
        self.dashboard.open_first_pending()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if isinstance(screen, ModalScreen):
            return
        yield SystemCommand("New session", "Start a fresh conversation (ctrl+n)", self.action_new_session)
        yield SystemCommand("History", "Browse runs and sessions; resume a paused run (h)", self.action_history)
        yield SystemCommand("Approval rules", "The active rules and their source; delete session rules (f2)", self.action_rules)
        yield SystemCommand("Decide the next waiting call", "Open the oldest item of the Approvals pane", self.action_decide_next)
        yield SystemCommand("Model info", "Which model and tools this dashboard uses", self.action_model_info)
        if "mcp" in self.__dict__:  # built after the first frame
            yield from self.mcp.commands()
        yield SystemCommand(
            "Toggle auto-open of decision dialogs",
            f"Now {'on' if self.auto_open else 'off'}: when a run pauses, its dialog {'opens by itself' if self.auto_open else 'waits in Approvals'}",
            self.action_toggle_auto_open,
        )
        yield SystemCommand("Help", "Keys, and how decisions work (f1)", self.action_help)


if __name__ == "__main__":
    HitlApp().run()
