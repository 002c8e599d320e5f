"""The code of every function: the ``tunestack_runtime`` package, wherever it is installed."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import cache
from pathlib import Path

import tunestack_runtime

#: Never part of the asset: they differ between machines and would change its hash.
_NOT_CODE = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache")


@cache
def lambda_code_directory() -> Path:
    """A directory holding only the ``tunestack_runtime`` package, staged once per process.

    The package sits beside others wherever it is installed (site-packages, or this repository's
    root with ``node_modules``); an asset of its parent directory would fingerprint all of them.
    """
    package = Path(tunestack_runtime.__file__).resolve().parent
    root = Path(tempfile.mkdtemp(prefix="tunestack-lambda-code-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    shutil.copytree(package, root / package.name, ignore=_NOT_CODE)
    return root
