"""The AWS accounts whose ECR repositories hold the images tunestack's jobs and models run, by region.

Sources: the SageMaker Python SDK's image tables (aws/sagemaker-python-sdk, branch master-v2,
``src/sagemaker/image_uri_config/xgboost.json`` and ``image-classification.json`` for the built-in
algorithms, the same accounts as ``builtin_algorithms``; ``huggingface.json`` and ``pytorch.json``
for the Deep Learning Containers account, 763104351884 in each region below, which JumpStart
specs' ``regional_aliases`` point into) and the SageMaker developer guide's "Docker Registry Paths
and Example Code" pages. A region missing here has no images tunestack knows: a stack there fails.
"""

from __future__ import annotations

from tunestack_runtime.builtin_algorithms import IMAGE_ACCOUNTS

#: AWS Deep Learning Containers (JumpStart training and hosting images, framework images).
DLC_ACCOUNTS = {
    "us-east-1": "763104351884",
    "us-east-2": "763104351884",
    "us-west-2": "763104351884",
    "eu-west-1": "763104351884",
    "eu-central-1": "763104351884",
    "ap-northeast-1": "763104351884",
}


def image_accounts(region: str) -> tuple[str, ...]:
    """Every AWS account publishing images tunestack may pull in ``region``; KeyError if unknown."""
    accounts = [DLC_ACCOUNTS[region], *(table[region] for table in IMAGE_ACCOUNTS.values())]
    return tuple(sorted(set(accounts)))


def regions() -> tuple[str, ...]:
    return tuple(sorted(DLC_ACCOUNTS))
