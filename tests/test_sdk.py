"""The project's AWS SDK is current enough for the requests the pipelines build.

checkov, which pins boto3 and botocore exactly, runs from an environment of its own so these can
follow current releases; this test fails if the project's environment is dragged back again.
"""

from __future__ import annotations

import botocore.session
import pytest
from botocore.exceptions import ParamValidationError
from botocore.validate import validate_parameters


def _create_training_job_input() -> object:
    model = botocore.session.get_session().get_service_model("sagemaker")
    return model.operation_model("CreateTrainingJob").input_shape


def _request(s3_data_source: dict[str, object]) -> dict[str, object]:
    return {
        "TrainingJobName": "t",
        "AlgorithmSpecification": {"TrainingImage": "i", "TrainingInputMode": "File"},
        "RoleArn": "arn:aws:iam::123456789012:role/r",
        "InputDataConfig": [{"ChannelName": "model", "DataSource": {"S3DataSource": s3_data_source}}],
        "OutputDataConfig": {"S3OutputPath": "s3://b/out"},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    }


def test_botocore_accepts_a_gated_models_eula_on_the_model_channel() -> None:
    # A gated JumpStart model's EULA is accepted with ModelAccessConfig on S3DataSource.
    s3 = {"S3DataType": "S3Prefix", "S3Uri": "s3://b/model/"}
    validate_parameters(_request({**s3, "ModelAccessConfig": {"AcceptEula": True}}), _create_training_job_input())
    with pytest.raises(ParamValidationError, match="Unknown parameter"):
        validate_parameters(_request({**s3, "NoSuchField": True}), _create_training_job_input())
