"""`python -m tui` is the same as `hitl-tui`."""

from .cli import main

raise SystemExit(main())
