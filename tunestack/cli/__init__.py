"""The ``tunestack`` command (``tunestack.cli.main``); ``python -m tunestack.cli`` runs it too."""

from tunestack.cli.main import main

__all__ = ["main"]
