"""`run_shell_command`: the external-execution example. hitl-tui never runs the command itself.

The model proposes a command; the user runs it wherever they like (or not at all) and types or
pastes the output back, which becomes the tool's result.
"""

from __future__ import annotations

from typing import Any

from tui.agent.preview import Preview
from tui.agent.tools import tool


@tool(external_execution=True)
def run_shell_command(command: str) -> str:
    """Ask the user to run a shell command on their machine and report its output back to you.

    Args:
        command: The exact shell command to run, like `ls -la` or `git status`.
    """
    # Never called by the runtime: an external-execution tool's result comes from the user.
    return (
        f"hitl-tui does not run shell commands itself. Run {command!r} yourself and provide "
        "its output as the result of this call."
    )


def command_preview(args: dict[str, Any]) -> Preview:
    """`$ command`, exactly as the model wrote it (the copy key copies the command alone)."""
    command = str(args.get("command", ""))
    return Preview(title="Run this yourself, then paste what it printed:", text=f"$ {command}", kind="command", copy=command)


run_shell_command.preview = command_preview
