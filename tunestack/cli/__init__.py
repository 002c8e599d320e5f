"""The ``tunestack`` command line (``tunestack.cli.main:main``)."""

from tunestack.cli.main import main

__all__ = ["main"]
