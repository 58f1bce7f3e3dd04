"""hitl-tui: a terminal dashboard for LLM agents whose tools need a human in the loop."""

__version__ = "0.1.0"
