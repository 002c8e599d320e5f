"""The project's construct package must not shadow the ``constructs`` library."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import constructs

from tests.conftest import ROOT


def test_import_constructs_resolves_to_the_installed_library() -> None:
    location = Path(constructs.__file__).resolve()
    assert "site-packages" in location.parts
    assert not location.is_relative_to(ROOT / "tunestack" / "constructs")
    assert hasattr(constructs, "Construct") and hasattr(constructs, "IConstruct")


def test_project_has_no_top_level_constructs_package() -> None:
    assert not (ROOT / "constructs").exists()
    spec = importlib.util.find_spec("tunestack.constructs")
    assert spec is not None and spec.origin is not None
    assert Path(spec.origin).resolve().parent == ROOT / "tunestack" / "constructs"
