"""Commands for this area register here (see cli/__init__.py)."""

import typer


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
