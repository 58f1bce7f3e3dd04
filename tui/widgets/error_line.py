"""An inline error message that takes no space until there is something to say."""

from __future__ import annotations

from textual.widgets import Static

from .literal import literal


class ErrorLine(Static):
    """Shows one error (literally: messages often quote what the user or model typed)."""

    DEFAULT_CSS = """
    ErrorLine {
        display: none;
        height: auto;
        color: $text-error;
    }
    ErrorLine.-shown { display: block; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes)
        self.message = ""

    def show(self, message: str) -> None:
        self.message = message
        self.update(literal(message))
        self.set_class(bool(message), "-shown")

    def clear(self) -> None:
        self.show("")


if __name__ == "__main__":
    from textual.app import App, ComposeResult

    class _Demo(App[None]):
        def compose(self) -> ComposeResult:
            yield ErrorLine(id="e")

        def on_mount(self) -> None:
            self.query_one(ErrorLine).show("must be a whole number")

    _Demo().run()
