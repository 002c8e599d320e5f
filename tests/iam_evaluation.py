"""A small evaluator of IAM policy documents for concrete requests, under AWS's documented rules.

No maintained evaluator works offline, so the tests carry this one; ``tests/test_iam_evaluation.py``
checks its semantics against the examples of AWS's documentation. The rules, from the IAM User
Guide ("Policy evaluation logic", "IAM JSON policy elements: Condition operators", "Single-valued
vs. multivalued context keys"):

* An explicit Deny in any statement wins; otherwise an Allow is needed; otherwise implicitly denied.
* Action and NotAction match case-insensitively with ``*`` and ``?``; Resource and NotResource
  match ARNs case-sensitively with ``*`` and ``?``.
* All condition operators of a statement must hold, and every key within an operator; any one of a
  key's listed values suffices. Condition key names are case-insensitive.
* A key absent from the request makes an operator false, except: negated operators (``StringNotEquals``,
  ``ArnNotLike``, ...) are true; ``...IfExists`` is true; ``Null`` tests presence itself;
  ``ForAllValues`` is true (the "vacuous truth" the guide warns of); ``ForAnyValue`` is false.
* ``ArnEquals`` and ``ArnLike`` behave alike (wildcards allowed in both).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Value = str | Sequence[str]


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: Mapping[str, Value] = field(default_factory=dict)

    def values(self, key: str) -> list[str] | None:
        for name, value in self.context.items():
            if name.lower() == key.lower():
                return [value] if isinstance(value, str) else list(value)
        return None


def _glob(pattern: str, text: str, ignore_case: bool) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.IGNORECASE if ignore_case else 0) is not None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _compare(base: str, wanted: str, given: str) -> bool:
    """One condition value against one request value, for a base operator without Not/IfExists."""
    if base == "StringEquals":
        return given == wanted
    if base == "StringEqualsIgnoreCase":
        return given.lower() == wanted.lower()
    if base in {"StringLike", "ArnEquals", "ArnLike"}:
        return _glob(wanted, given, ignore_case=False)
    if base == "Bool":
        return given.lower() == str(wanted).lower()
    if base.startswith("Numeric"):
        a, b = float(given), float(wanted)
        return {
            "NumericEquals": a == b,
            "NumericLessThan": a < b,
            "NumericLessThanEquals": a <= b,
            "NumericGreaterThan": a > b,
            "NumericGreaterThanEquals": a >= b,
        }[base]
    raise ValueError(f"condition operator {base} is not supported by this evaluator")


_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
    "NumericNotEquals": "NumericEquals",
}


def _operator_holds(operator: str, block: Mapping[str, Any], request: Request) -> bool:
    qualifier, _, name = operator.rpartition(":")
    if_exists = name.endswith("IfExists")
    name = name.removesuffix("IfExists")
    for key, listed in block.items():
        wanted = [str(v) for v in _as_list(listed)]
        given = request.values(key)
        if name == "Null":
            if (given is None) != (wanted[0].lower() == "true"):
                return False
            continue
        negated = name in _NEGATED
        base = _NEGATED.get(name, name)
        if given is None:
            if qualifier == "ForAllValues" or if_exists or negated:
                continue
            return False
        if qualifier == "ForAllValues":
            holds = all(any(_compare(base, w, g) for w in wanted) != negated for g in given)
        elif qualifier == "ForAnyValue":
            holds = any(any(_compare(base, w, g) for w in wanted) != negated for g in given)
        else:
            matched = any(_compare(base, w, g) for w in wanted for g in given)
            holds = not matched if negated else matched
        if not holds:
            return False
    return True


def statement_applies(statement: Mapping[str, Any], request: Request) -> bool:
    if "Action" in statement:
        if not any(_glob(a, request.action, True) for a in _as_list(statement["Action"])):
            return False
    elif any(_glob(a, request.action, True) for a in _as_list(statement["NotAction"])):
        return False
    if "Resource" in statement:
        if not any(_glob(r, request.resource, False) for r in _as_list(statement["Resource"])):
            return False
    elif "NotResource" in statement and any(
        _glob(r, request.resource, False) for r in _as_list(statement["NotResource"])
    ):
        return False
    return all(_operator_holds(op, block, request) for op, block in (statement.get("Condition") or {}).items())


def evaluate(documents: Sequence[Mapping[str, Any]], request: Request) -> str:
    """ "Allow", "ExplicitDeny" or "ImplicitDeny" for ``request`` under the identity policies given."""
    statements = [s for d in documents for s in _as_list(d.get("Statement", []))]
    applying = [s for s in statements if statement_applies(s, request)]
    if any(s["Effect"] == "Deny" for s in applying):
        return "ExplicitDeny"
    if any(s["Effect"] == "Allow" for s in applying):
        return "Allow"
    return "ImplicitDeny"
