"""Settings: defaults < config TOML < HITL_TUI_* variables < CLI flags; a user keymap; a saved theme."""

from __future__ import annotations

import gc
import os
import stat
from pathlib import Path

import pytest
from ui_support import make_app, settle

from tui.config import ConfigError, Settings, load_settings, save_setting
from tui.toolbox.settings_source import current_settings


def write_config(text: str) -> Path:
    path = Path(os.environ["HITL_TUI_CONFIG"])
    path.write_text(text, encoding="utf-8")
    return path


def test_each_source_overrides_the_one_below(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HITL_TUI_DB")
    assert load_settings().demo_delay == Settings().demo_delay == 0.02  # the default
    write_config('demo_delay = 0.5\nmodel = "from-file"\ndb = "~/from-file.db"\n')
    settings = load_settings()
    assert (settings.demo_delay, settings.model) == (0.5, "from-file")
    assert settings.db == Path.home() / "from-file.db", "~ is expanded"
    monkeypatch.setenv("HITL_TUI_MODEL", "from-env")
    monkeypatch.setenv("HITL_TUI_DEMO_DELAY", "")  # empty: not set
    settings = load_settings()
    assert (settings.demo_delay, settings.model) == (0.5, "from-env")
    assert load_settings({"model": "from-flag", "theme": None}).model == "from-flag"


def test_a_bad_value_names_the_file_variable_or_flag_at_fault(monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_config("max_retries = 'many'\n")
    with pytest.raises(ConfigError, match=rf"^invalid settings \({path}: max_retries: Input should be a valid integer"):
        load_settings()
    write_config("colour = 'blue'\n")
    with pytest.raises(ConfigError, match=rf"^{path}: unknown setting\(s\) colour$"):
        load_settings()
    write_config("demo_delay = \n")
    with pytest.raises(ConfigError, match=rf"^{path}: "):
        load_settings()
    write_config("")
    monkeypatch.setenv("HITL_TUI_BELL", "loud")
    with pytest.raises(ConfigError, match=r"^invalid settings \(HITL_TUI_BELL: bell: "):
        load_settings()
    monkeypatch.delenv("HITL_TUI_BELL")
    with pytest.raises(ConfigError, match=r"^invalid settings \(--max-retries: max_retries: "):
        load_settings({"max_retries": "x"})


def test_the_toolbox_reads_its_own_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HITL_TUI_WORKSPACE", str(tmp_path / "ws"))
    assert current_settings().workspace == tmp_path / "ws"
    # The app's settings are the toolbox's too (a subclass), so `builtin_tools(settings)` takes them.
    assert load_settings().workspace == tmp_path / "ws"


async def test_a_keymap_in_the_config_rebinds_keys_by_binding_id() -> None:
    write_config('[keymap]\n"app.history" = "f3"\n')
    app = make_app()
    assert app.settings.keymap == {"app.history": "f3"}
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("tab")  # out of the prompt
        await pilot.press("f3")
        await pilot.pause()
        assert type(app.screen).__name__ == "HistoryScreen"


async def test_the_chosen_theme_is_saved_privately_keeping_the_rest_of_the_file(tmp_path: Path) -> None:
    path = write_config('# my settings\nbell = false  # quiet please\ntheme = "textual-dark"\n')
    os.chmod(path, 0o644)
    app = make_app(settings_file=path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        assert path.read_text() == '# my settings\nbell = false  # quiet please\ntheme = "textual-dark"\n', "nothing changed yet"
        app.theme = "nord"
        await pilot.pause()
    text = path.read_text()
    assert text == '# my settings\nbell = false  # quiet please\ntheme = "nord"\n'
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_settings().theme == "nord"
    assert sorted(p.name for p in path.parent.iterdir() if p.name.startswith(".config-")) == [], "a temp file was left"


def test_save_setting_creates_the_file_and_its_folder(tmp_path: Path) -> None:
    path = tmp_path / "new" / "config.toml"
    save_setting("theme", "gruvbox", path=path)
    assert path.read_text() == 'theme = "gruvbox"\n'
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(ValueError, match="unknown setting 'colour'"):
        save_setting("colour", "blue", path=path)


async def test_an_embedded_app_leaves_the_process_gc_settings_alone() -> None:
    before = gc.get_threshold()
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        assert gc.get_threshold() == before
