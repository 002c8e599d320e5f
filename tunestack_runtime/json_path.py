"""JSON paths in error messages: one line per problem, whatever the input's keys contain."""

from __future__ import annotations

import json
import re

_PLAIN = re.compile(r"^[A-Za-z0-9_:\-]+$")


def child(parent: str, key: object) -> str:
    """``$.Field`` for ordinary keys, ``$["odd key"]`` (JSON-escaped) for anything else."""
    text = str(key)
    return f"{parent}.{text}" if _PLAIN.fullmatch(text) else f"{parent}[{json.dumps(text)}]"


def shown(name: object) -> str:
    """A name the input chose, on one line."""
    text = str(name)
    return text if _PLAIN.fullmatch(text) else json.dumps(text)
