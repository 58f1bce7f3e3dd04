"""Exports show hidden characters: Markdown as ⟨U+202E⟩ markers, JSON as \\u escapes of the exact text."""

from __future__ import annotations

import json
from pathlib import Path

from modal_helpers import make_agent

from tui.store import RunStore
from tui.store.export import export_json, export_markdown


async def test_an_export_never_carries_a_raw_bidi_override(tmp_path: Path):
    store = RunStore(tmp_path / "runs.db")
    agent = make_agent(store=store)
    run = await agent.arun('call send_email {"to": "ann@example.com", "subject": "invoice\\u202egpj.sh", "body": "a\\u200bb"}')
    run.tools[0].reject("no\u2066pe")
    await agent.acontinue_run(run)
    md = export_markdown(store, run.run_id)
    assert "invoice⟨U+202E⟩gpj.sh" in md and "a⟨U+200B⟩b" in md and "no⟨U+2066⟩pe" in md
    assert "\u202e" not in md and "\u200b" not in md
    text = export_json(store, run.run_id)
    assert "\u202e" not in text and "\\u202e" in text
    doc = json.loads(text)
    assert doc["run"]["tools"][0]["tool_args"]["subject"] == "invoice\u202egpj.sh"  # the exact text survives
