"""The cloud assembly the simulator runs: cdk.out, synthesized again when sources changed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

SOURCES = (
    "app.py",
    "cdk.json",
    "tunestack/app",
    "tunestack/stacks",
    "tunestack/constructs",
    "tunestack_runtime",
)


def _newest_source(root: Path) -> float:
    newest = 0.0
    for name in SOURCES:
        path = root / name
        files = (
            [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
        )
        newest = max([newest, *(f.stat().st_mtime for f in files)])
    return newest


def ensure_synthesized(root: Path) -> Path:
    """``root/cdk.out``, synthesized in-process (same app, same context as the CLI) if missing or stale."""
    outdir = root / "cdk.out"
    manifest = outdir / "manifest.json"
    if manifest.is_file() and manifest.stat().st_mtime >= _newest_source(root):
        return outdir
    import aws_cdk as cdk

    from tunestack.app.factory import build_app

    print("tunestack: synthesizing the app to cdk.out (sources changed)", file=sys.stderr)
    context = json.loads((root / "cdk.json").read_text())["context"]
    app = cdk.App(context=context, outdir=str(outdir))
    build_app(app)
    app.synth()
    return outdir
