"""The store is headless: importing it (and using it) pulls in neither textual nor rich."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_the_store_imports_neither_textual_nor_rich(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "import tui.store, tui.store.export, tui.cli.history, tui.store.postgres\n"
        "from tui.store import RunStore\n"
        "from tui.agent import RunOutput\n"
        "s = RunStore(sys.argv[1]); r = RunOutput(input='x'); s.save_run(r)\n"
        "tui.store.export.export_markdown(s, r.run_id); tui.cli.history.history_command(s)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print('BAD:' + ','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "runs.db")], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "BAD:"
