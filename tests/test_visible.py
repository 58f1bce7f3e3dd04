"""Hidden characters become visible markers; everything else is left exactly as it is."""

from __future__ import annotations

import json
import unicodedata

import pytest

from tui.agent.visible import escape_hidden_json, has_hidden, hidden_in, one_line, visible


@pytest.mark.parametrize(
    "ch",
    ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069",  # bidi
     "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2060", "\ufeff",  # zero-width
     "\U000e0001", "\U000e0041", "\U000e007f",  # Unicode tags
     "\ud800", "\udfff",  # lone surrogates
     "\u00ad", "\u2028", "\u2029", "\u3164"],  # soft hyphen, line separators, a blank Hangul letter
)
def test_each_hidden_character_becomes_one_marker(ch: str):
    assert visible(f"a{ch}b") == f"a⟨U+{ord(ch):04X}⟩b"
    assert has_hidden({"k": [f"x{ch}"]})


def test_every_format_character_of_unicode_is_marked():
    import sys

    missed = [hex(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf" and visible(chr(c)) == chr(c)]
    assert missed == []


def test_visible_text_is_left_alone():
    text = "Ça coûte 3 € — naïve 😀 日本語 \t tab\nline ✋ ⟨already⟩"
    assert visible(text) == text and not has_hidden(text)


def test_the_markers_of_a_call_are_listed_once_in_order():
    assert hidden_in({"a\u202e": ["x\u200b", "y\u202e"]}) == ["⟨U+202E⟩", "⟨U+200B⟩"]


def test_json_keeps_the_exact_text_and_shows_the_characters():
    value = {"path": "invoice\u202egpj.sh", "tag": "\U000e0041", "lone": "\ud800"}
    text = escape_hidden_json(json.dumps(value, ensure_ascii=False))
    assert "\\u202e" in text and "\\udb40\\udc41" in text and "\u202e" not in text
    assert json.loads(text) == value


def test_a_cut_line_never_splits_a_marker():
    line = one_line({"p": "\u202e" * 10}, 20)
    assert line == '{"p": "⟨U+202E⟩…' and "\u202e" not in line
    assert len(one_line({"p": "x" * 100}, 20)) == 20
