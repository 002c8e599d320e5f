"""Images of SageMaker's built-in algorithms, by region.

Each built-in algorithm's image lives in an AWS-owned registry account that differs by region
(the SageMaker developer guide lists them per region).
"""

from __future__ import annotations

from tunestack_runtime.errors import InvalidInput

_XGBOOST_ACCOUNTS = {
    "us-east-1": "683313688378",
    "us-east-2": "257758044811",
    "us-west-2": "246618743249",
    "eu-west-1": "141502667606",
    "eu-central-1": "492215442770",
    "ap-northeast-1": "354813040037",
}
_IMAGE_CLASSIFICATION_ACCOUNTS = {
    "us-east-1": "811284229777",
    "us-east-2": "825641698319",
    "us-west-2": "433757028032",
    "eu-west-1": "685385470294",
    "eu-central-1": "813361260812",
    "ap-northeast-1": "501404015308",
}
#: Registry accounts of each built-in algorithm's images (the SageMaker Python SDK's
#: image_uri_config/xgboost.json and image-classification.json list the same).
IMAGE_ACCOUNTS = {"xgboost": _XGBOOST_ACCOUNTS, "image-classification": _IMAGE_CLASSIFICATION_ACCOUNTS}

#: The metrics each built-in algorithm computes, which tuning objectives may name, as the SageMaker
#: developer guide lists them: "Tune an XGBoost Model" (xgboost-tuning.html, "Evaluation Metrics
#: Computed by the XGBoost Algorithm") and "Tune an Image Classification Model" (IC-tuning.html,
#: "Metrics Computed by the Image Classification Algorithm").
METRICS = {
    "xgboost": (
        "validation:accuracy",
        "validation:auc",
        "validation:error",
        "validation:f1",
        "validation:logloss",
        "validation:mae",
        "validation:map",
        "validation:merror",
        "validation:mlogloss",
        "validation:mse",
        "validation:ndcg",
        "validation:rmse",
    ),
    "image-classification": ("validation:accuracy",),
}


def image_uri(algorithm: str, version: str | None, region: str) -> str:
    if algorithm == "xgboost":
        account = _XGBOOST_ACCOUNTS.get(region)
        repository, tag = "sagemaker-xgboost", version or "1.7-1"
    elif algorithm == "image-classification":
        account = _IMAGE_CLASSIFICATION_ACCOUNTS.get(region)
        repository, tag = "image-classification", version or "1"
    else:
        raise InvalidInput(f"$.Algorithm.BuiltInAlgorithm: unknown built-in algorithm {algorithm!r}")
    if account is None:
        raise InvalidInput(f"$.Algorithm.BuiltInAlgorithm: {algorithm} images are not known for region {region}")
    return f"{account}.dkr.ecr.{region}.amazonaws.com/{repository}:{tag}"
