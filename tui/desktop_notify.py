"""Desktop notifications through the terminal: OSC 9 and OSC 777, where the terminal has one.

The bell and the window title say "something waits" to someone looking at the terminal; a desktop
notification reaches someone who is not. There is no way to ask a terminal whether it supports
one, so `auto` goes by what the terminal says it is (TERM_PROGRAM, TERM, KITTY_WINDOW_ID,
VTE_VERSION) and sends nothing to a terminal it does not know (an unknown OSC is ignored by most
terminals, but some print it). Inside tmux the sequence is wrapped for passthrough (tmux 3.3+
needs `set -g allow-passthrough on`).

- OSC 9 (`ESC ] 9 ; body BEL`): iTerm2, WezTerm, kitty, Ghostty, ConEmu.
- OSC 777 (`ESC ] 777 ; notify ; title ; body BEL`): foot, rxvt-unicode, Ghostty, VTE terminals built
  with the notification patch (GNOME Terminal on Fedora, Tilix).
"""

from __future__ import annotations

import os
from typing import Literal, Mapping

Mode = Literal["auto", "osc9", "osc777", "off"]

_OSC9_PROGRAMS = ("iterm.app", "wezterm", "ghostty", "conemu")


def detect(env: Mapping[str, str] | None = None) -> Literal["osc9", "osc777"] | None:
    """The notification escape this terminal understands, or None when unknown."""
    env = os.environ if env is None else env
    program = env.get("TERM_PROGRAM", "").lower()
    term = env.get("TERM", "").lower()
    if program in _OSC9_PROGRAMS or env.get("KITTY_WINDOW_ID") or env.get("ConEmuPID") or term == "xterm-kitty":
        return "osc9"
    if term.startswith(("foot", "rxvt")) or env.get("VTE_VERSION"):
        return "osc777"
    return None


def _clean(text: str, limit: int = 200) -> str:
    """No control characters (they would end or break the sequence), one line, bounded."""
    flat = "".join(ch if ch.isprintable() else " " for ch in text)
    flat = " ".join(flat.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def sequence(title: str, body: str, mode: Mode = "auto", env: Mapping[str, str] | None = None) -> str | None:
    """The bytes to write for a desktop notification, or None when there is none to send."""
    env = os.environ if env is None else env
    kind = detect(env) if mode == "auto" else (None if mode == "off" else mode)
    if kind is None:
        return None
    title, body = _clean(title, 60), _clean(body)
    if kind == "osc9":
        seq = f"\x1b]9;{title}: {body}\x07"
    else:
        seq = f"\x1b]777;notify;{title.replace(';', ',')};{body}\x07"
    if env.get("TMUX"):
        seq = "\x1bPtmux;" + seq.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    return seq
