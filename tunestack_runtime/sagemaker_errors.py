"""What SageMaker's errors mean to a pipeline: retry (throttling, a quota in use), fail at once
with a name (a quota that can never fit the request), or let the caller decide (anything else).

Every task reaches SageMaker through ``retrying_client``, so each of its calls raises the same
retryable names, and every task's Retry lists them: one retry policy for every SageMaker call, in
Step Functions where the execution's history shows it (the SDK itself does not retry).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from tunestack_runtime.errors import TransientError, TunestackError

#: What SageMaker answers for a resource that does not exist, or that IAM hides (another team's).
_NOT_VISIBLE = {"ResourceNotFound", "ValidationException", "AccessDeniedException"}
_THROTTLING = {"ThrottlingException", "Throttling", "TooManyRequestsException", "ServiceUnavailable", "InternalFailure"}
#: SageMaker's ResourceLimitExceeded message, e.g. "The account-level service limit 'ml.p3.2xlarge
#: for training job usage' is 0 Instances, with current utilization of 0 Instances and a request
#: delta of 1 Instances." (older form: "... limit for training-job/ml.p2.xlarge is 0 Instances ...").
_QUOTA = re.compile(
    r"limit (?:'(?P<quoted>[^']+)'|for (?P<bare>\S+)) is (?P<limit>\d+) (?P<unit>\w+), "
    r"with current utilization of (?P<used>\d+) \w+ and a request delta of (?P<delta>\d+)"
)


class SageMakerThrottled(TransientError):
    """SageMaker throttled or failed the call; retried with backoff."""


class SageMakerQuotaInUse(TransientError):
    """The account's SageMaker quota is in use by other jobs; retried slowly while capacity frees up."""


class ResourceLimitExceeded(TunestackError):
    """The account's SageMaker quota can never fit the request (it is 0, or smaller than the request):
    retrying cannot help; the message names the quota to raise in Service Quotas."""


def translate(error: ClientError) -> Exception:
    """Throttling and quota errors become named domain errors; anything else stays as it is."""
    code = error.response.get("Error", {}).get("Code", "")
    message = error.response.get("Error", {}).get("Message", str(error))
    if code in _THROTTLING:
        return SageMakerThrottled(f"{code}: {message}")
    if code == "ResourceLimitExceeded":
        return _quota_error(message)
    return error


def _quota_error(message: str) -> Exception:
    found = _QUOTA.search(message)
    if found is None:
        return SageMakerQuotaInUse(message)
    quota = found["quoted"] or found["bare"]
    limit, used, delta, unit = int(found["limit"]), int(found["used"]), int(found["delta"]), found["unit"]
    if limit == 0 or delta > limit:
        return ResourceLimitExceeded(
            f"the account's SageMaker quota '{quota}' is {limit} {unit} and this request needs {delta}: it can "
            f"never run until the quota is raised (Service Quotas, Amazon SageMaker, '{quota}'), or choose "
            f"another instance type. SageMaker said: {message}"
        )
    return SageMakerQuotaInUse(
        f"the account's SageMaker quota '{quota}' is {limit} {unit}, {used} in use, and this request needs "
        f"{delta}; retried while capacity frees up. SageMaker said: {message}"
    )


def not_visible(error: ClientError) -> bool:
    """The resource is missing, or IAM hides it: either way this team has no such resource."""
    return error.response.get("Error", {}).get("Code") in _NOT_VISIBLE


def already_exists(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code", "")
    return code in {"ResourceInUse", "ValidationException"} and "already" in str(error).lower()


class _RetryingClient:
    """A SageMaker client whose calls raise ``translate``'s errors (attributes pass through)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name.startswith("_") or not callable(attribute) or name in {"can_paginate", "close"}:
            return attribute
        return _translating(attribute)


def _translating(call: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(call)
    def translated(*args: Any, **kwargs: Any) -> Any:
        try:
            return call(*args, **kwargs)
        except ClientError as error:
            raise translate(error) from None

    return translated


def retrying_client(client: Any) -> Any:
    """``client`` (SageMaker) with each call's throttling and quota errors translated."""
    return _RetryingClient(client)
