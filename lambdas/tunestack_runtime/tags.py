"""The tags tunestack puts on what it creates in SageMaker; IAM conditions read the team tag."""

from typing import Any

TEAM_TAG = "tunestack:team"
EXECUTION_TAG = "tunestack:execution"
MODEL_TAG = "tunestack:model"
#: A custom training image's serving image, for a later deploy of the model.
INFERENCE_IMAGE_TAG = "tunestack:inference-image"
#: Set when an input accepted a gated JumpStart model's EULA (``AcceptEula: true``).
EULA_TAG = "tunestack:eula-accepted"


def resource_tags(sagemaker: Any, arn: str) -> dict[str, str]:
    """A SageMaker resource's tags as a dict."""
    return {t["Key"]: t["Value"] for t in sagemaker.list_tags(ResourceArn=arn)["Tags"]}
