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

Resource-based policies (bucket, key and VPC endpoint policies) also name a ``Principal``: a
statement applies only to the principals it names. ``"*"`` is anyone; an account (``"111122223333"``
or ``arn:aws:iam::111122223333:root``) is every principal of that account, which the account's own
identity policies must then allow as well; a role ARN is that role; ``Service`` names a service.
Within one account a request is allowed when an identity policy or the resource policy allows it
and nothing denies it; a KMS key is the exception, its key policy must allow (directly or by naming
the account); a VPC endpoint policy is one more gate the request must pass ("Policy evaluation
logic", "Cross-account policy evaluation logic", AWS KMS "Key policies", Amazon VPC "Control access
to VPC endpoints using endpoint policies").
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
    #: ("AWS", principal ARN) or ("Service", service principal); what resource policies match on.
    principal: tuple[str, str] = ("AWS", "")

    def values(self, key: str) -> list[str] | None:
        for name, value in self.context.items():
            if name.lower() == key.lower():
                return [value] if isinstance(value, str) else list(value)
        # aws:PrincipalArn is in every request an IAM principal makes (global condition keys).
        if key.lower() == "aws:principalarn" and self.principal[0] == "AWS" and self.principal[1]:
            return [self.principal[1]]
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


def _account_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else ""


def principal_matches(listed: Any, principal: tuple[str, str]) -> bool:
    """Whether a statement's ``Principal`` names the request's principal."""
    if listed == "*":
        return True
    kind, name = principal
    for value in _as_list((listed or {}).get(kind, [])):
        value = str(value)
        if value == "*" or value == name:
            return True
        if kind == "AWS" and (value == _account_of(name) or value == f"arn:aws:iam::{_account_of(name)}:root"):
            return True
    return False


def _account_only(listed: Any, principal: tuple[str, str]) -> bool:
    """The statement names the principal only through its account (the account must then allow it)."""
    if listed == "*":
        return False
    kind, name = principal
    values = [str(v) for v in _as_list((listed or {}).get(kind, []))]
    return kind == "AWS" and name not in values and "*" not in values


def evaluate_resource_policy(documents: Sequence[Mapping[str, Any]], request: Request) -> tuple[str, bool]:
    """(decision, delegated) of a resource-based policy alone: "Allow", "ExplicitDeny" or
    "ImplicitDeny"; ``delegated`` when the only allow names the principal's account, not the
    principal, so the account's identity policies must allow too."""
    statements = [s for d in documents for s in _as_list(d.get("Statement", []))]
    applying = [
        s
        for s in statements
        if ("Principal" not in s or principal_matches(s["Principal"], request.principal))
        and not ("NotPrincipal" in s and principal_matches(s["NotPrincipal"], request.principal))
        and statement_applies(s, request)
    ]
    if any(s["Effect"] == "Deny" for s in applying):
        return "ExplicitDeny", False
    allows = [s for s in applying if s["Effect"] == "Allow"]
    if not allows:
        return "ImplicitDeny", False
    return "Allow", all(_account_only(s.get("Principal"), request.principal) for s in allows)


def evaluate_access(
    request: Request,
    *,
    identity: Sequence[Mapping[str, Any]] = (),
    resource: Sequence[Mapping[str, Any]] | None = None,
    endpoint: Sequence[Mapping[str, Any]] | None = None,
    key_policy: bool = False,
) -> str:
    """One account's decision for ``request``: its principal's identity policies, the resource's
    policy (``None``: it has none) and, for a request through a VPC endpoint, the endpoint's policy
    (an endpoint without a policy document has the default one, which allows everything).
    ``key_policy``: the resource policy is a KMS key policy, without whose allow nothing is."""
    decisions = [evaluate(identity, request)] if identity else ["ImplicitDeny"]
    delegated = False
    resource_decision = "ImplicitDeny"
    if resource is not None:
        resource_decision, delegated = evaluate_resource_policy(resource, request)
        decisions.append(resource_decision)
    if endpoint is not None:
        endpoint_decision, _ = evaluate_resource_policy(endpoint, request)
        if endpoint_decision != "Allow":
            return endpoint_decision
    if "ExplicitDeny" in decisions:
        return "ExplicitDeny"
    identity_allows = decisions[0] == "Allow"
    if key_policy:
        if resource_decision != "Allow":
            return "ImplicitDeny"
        return "Allow" if not delegated or identity_allows else "ImplicitDeny"
    if resource_decision == "Allow" and not delegated:
        return "Allow"
    return "Allow" if identity_allows else "ImplicitDeny"
