"""Tagging what tunestack creates in SageMaker: tag-safe values, the tags of an execution, reading a
resource's tags. The tag keys are the contract's (``tunestack_runtime.contract``)."""

from __future__ import annotations

import unicodedata
from typing import Any

from tunestack_runtime.contract import (  # noqa: F401 (the tag keys, re-exported for the runtime)
    EULA_TAG,
    EXECUTION_TAG,
    INFERENCE_IMAGE_TAG,
    LAUNCH_TAG,
    MODEL_TAG,
    PIPELINE_TAG,
    TEAM_TAG,
)
from tunestack_runtime.executions import Execution

#: Characters a SageMaker tag value may hold besides letters, numbers and spaces: the pattern
#: ``^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`` of the Tag shape (SageMaker API reference, "Tag").
_TAG_PUNCTUATION = frozenset("_.:/=+-@")
MAX_TAG_VALUE = 256


def tag_safe(value: str) -> str:
    """``value`` as a SageMaker tag value can hold it: each other character (an execution name may
    hold parentheses, ``!`` or ``'``) becomes ``_``, and at most 256 characters."""
    safe = (c if c in _TAG_PUNCTUATION or unicodedata.category(c)[0] in "LNZ" else "_" for c in value)
    return "".join(safe)[:MAX_TAG_VALUE]


def execution_tags(execution: Execution, pipeline: str) -> list[dict[str, str]]:
    return [
        {"Key": EXECUTION_TAG, "Value": tag_safe(execution.arn)},
        {"Key": LAUNCH_TAG, "Value": execution.launch_key},
        {"Key": PIPELINE_TAG, "Value": pipeline},
    ]


def resource_tags(sagemaker: Any, arn: str) -> dict[str, str]:
    """A SageMaker resource's tags as a dict."""
    return {t["Key"]: t["Value"] for t in sagemaker.list_tags(ResourceArn=arn)["Tags"]}


def owner(tags: dict[str, str]) -> str:
    """Who created a resource, as an error message names it."""
    return tags.get(EXECUTION_TAG, "no tunestack execution")
