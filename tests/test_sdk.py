"""The project's AWS SDKs: botocore current enough for the requests the pipelines build, and the
SageMaker Python SDK v2 (a dev dependency) usable without a network.

checkov, which pins boto3 and botocore exactly, runs from an environment of its own so these can
follow current releases; these tests fail if the project's environment is dragged back again.
"""

from __future__ import annotations

import os
import subprocess
import sys

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


# Any attempt to open a connection fails, so the import below is known to need no network.
_IMPORT_OFFLINE = """
import socket
def refuse(*args, **kwargs):
    raise OSError("no network in this test")
socket.socket.connect = refuse
socket.create_connection = refuse
import sagemaker
from sagemaker.jumpstart.estimator import JumpStartEstimator
print(sagemaker.__version__, JumpStartEstimator.__name__)
"""


def test_sagemaker_sdk_v2_with_jumpstart_estimator_imports_offline() -> None:
    # A process of its own: the import is ~2 s and nothing else in the suite needs it yet.
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_OFFLINE],
        env={**os.environ, "SAGEMAKER_SUPPRESS_V2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    # sagemaker.config logs where it looked for SDK defaults before the last line.
    assert result.stdout.splitlines()[-1].split() == ["2.257.7", "JumpStartEstimator"]
