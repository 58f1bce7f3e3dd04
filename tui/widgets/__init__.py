"""Dashboard widgets. One concept per module."""
