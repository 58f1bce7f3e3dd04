"""How much making hidden characters visible costs on what the dashboard shows.

    .venv/bin/python tests/benchmarks/bench_visible.py

Prints, side by side in one run, the cost of `visible_controls` (control pictures + hidden-character
markers) against the control pictures alone (what it did before), for a long ASCII reply, a long
reply with non-ASCII text, and one streamed delta.
"""

from __future__ import annotations

import timeit

from tui.widgets.literal import _CONTROL, _picture, visible_controls


def before(text: str) -> str:
    return _CONTROL.sub(_picture, text)


CASES = {
    "90 KB ASCII reply": "The quick brown fox jumps over the lazy dog. " * 2000,
    "90 KB reply with accents": "Ça coûte 3 € — naïve café, déjà vu. " * 2500,
    "one 6-character delta": "token ",
}

if __name__ == "__main__":
    for name, text in CASES.items():
        n = 200 if len(text) > 100 else 200_000
        a = timeit.timeit(lambda: before(text), number=n) / n
        b = timeit.timeit(lambda: visible_controls(text), number=n) / n
        print(f"{name:28} before {a * 1e6:9.1f} µs   after {b * 1e6:9.1f} µs   ratio {b / a:5.2f}")
