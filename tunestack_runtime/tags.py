"""The tags tunestack puts on what it creates in SageMaker; IAM conditions read the team tag, the
EventBridge rules the team and pipeline tags."""

from __future__ import annotations

import unicodedata
from typing import Any

from tunestack_runtime.executions import Execution

TEAM_TAG = "tunestack:team"
#: The execution's ARN, for people (made tag-safe: see ``tag_safe``).
EXECUTION_TAG = "tunestack:execution"
#: The execution's launch key (``Execution.launch_key``): what adoption compares.
LAUNCH_TAG = "tunestack:launch"
#: "fine-tune", "tune" or "deploy": which pipeline waits on the resource. A tuning job's tags reach
#: every training job it launches, so this is what tells a fine-tune's job from a trial.
PIPELINE_TAG = "tunestack:pipeline"
MODEL_TAG = "tunestack:model"
#: A custom training image's serving image, for a later deploy of the model.
INFERENCE_IMAGE_TAG = "tunestack:inference-image"
#: Set when an input accepted a gated JumpStart model's EULA (``AcceptEula: true``).
EULA_TAG = "tunestack:eula-accepted"

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
