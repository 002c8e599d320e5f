"""What an invalid input probably meant, for mistakes a first day brings: a SageMaker
``CreateHyperParameterTuningJob`` or ``CreateTrainingJob`` request pasted as it is, or a dataset the
simulated bucket does not hold. (A misspelt field's "did you mean" is in the validators' own
problem lines, so the Lambda's errors carry it too.)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

#: Parts of a SageMaker request and where each goes in a tunestack input. The request members are
#: botocore's sagemaker service model (``CreateHyperParameterTuningJobRequest``,
#: ``HyperParameterTrainingJobDefinition``, ``CreateTrainingJobRequest``; botocore 1.44); a test
#: checks every key here against that model.
_TUNING_REQUEST = {
    "HyperParameterTuningJobName": "TuningJobName",
    "TrainingJobDefinition": "its parts below, at the top level of the input",
    "TrainingJobDefinitions": "one TrainingJobDefinition's parts (a tunestack tune has one algorithm)",
    "Autotune": "WarmStartConfig {'WarmStartType': 'Auto'} lets the platform choose the parents instead",
    "Tags": "(the platform's: team and execution tags)",
}
_TRAINING_PARTS = {
    "AlgorithmSpecification": "Algorithm: {'TrainingImage', 'MetricDefinitions'}, or {'BuiltInAlgorithm', 'Version'} "
    "for a built-in, or {'JumpStartModelId'}",
    "InputDataConfig": "TrainingData: a key prefix in the team bucket, or {'<channel>': '<prefix>'} for channels",
    "ResourceConfig": "InstanceType and InstanceCount (the volume size and key are the platform's)",
    "StoppingCondition": "MaxRuntimeInSeconds",
    "EnableManagedSpotTraining": "UseSpotInstances",
    "CheckpointConfig": "(the platform's: s3://<team bucket>/<ModelName>/checkpoints/ with UseSpotInstances)",
    "RoleArn": "(the platform's: the team's SageMaker role)",
    "OutputDataConfig": "(the platform's: the team bucket, encrypted with the team key)",
    "VpcConfig": "(the platform's: the team's subnets and security group)",
    "EnableNetworkIsolation": "(the platform's, as the team's networkIsolation setting says)",
    "EnableInterContainerTrafficEncryption": "(the platform's)",
}
_TUNING_DEFINITION_ONLY = {
    "StaticHyperParameters": "StaticHyperParameters",
    "HyperParameterRanges": "HyperParameterTuningJobConfig.ParameterRanges",
    "TuningObjective": "HyperParameterTuningJobConfig.HyperParameterTuningJobObjective",
    "DefinitionName": "(not needed: one definition)",
}
_TRAINING_REQUEST = {
    "TrainingJobName": "ModelName (the training job's name and its output folder)",
    "HyperParameters": "HyperParameters",
    "Tags": "(the platform's: team and execution tags)",
    **_TRAINING_PARTS,
}
#: Keys that only a pasted request has (none is a tunestack field).
_REQUEST_MARKERS = {
    "HyperParameterTuningJobName",
    "TrainingJobDefinition",
    "TrainingJobDefinitions",
    "TrainingJobName",
    *_TRAINING_PARTS,
}


def pasted_request_hint(kind: str, payload: Any) -> str | None:
    """One hint mapping each part of a pasted SageMaker request to this input's fields, or None."""
    if not isinstance(payload, Mapping) or not _REQUEST_MARKERS & set(payload):
        return None
    definition = payload.get("TrainingJobDefinition")
    tuning = "HyperParameterTuningJobName" in payload or "TrainingJobDefinition" in payload
    api = "CreateHyperParameterTuningJob" if tuning else "CreateTrainingJob"
    lines = [f"this looks like a SageMaker {api} request; a tunestack {kind} input takes its parts as:"]
    table = {**_TUNING_REQUEST, **_TUNING_DEFINITION_ONLY, **_TRAINING_PARTS} if tuning else _TRAINING_REQUEST
    if kind == "tune" and not tuning:
        table = {**table, "TrainingJobName": "TuningJobName (the tuning job's name)"}
    if kind == "fine-tune" and tuning:
        table = {**table, "HyperParameterTuningJobName": "ModelName (a fine-tune runs one training job)"}
    for key in payload:
        if key in table:
            lines.append(f"  {key} -> {table[key]}{_as_given(key, payload[key])}")
    if isinstance(definition, Mapping):
        for key in definition:
            if key in table:
                lines.append(f"  TrainingJobDefinition.{key} -> {table[key]}{_as_given(key, definition[key])}")
    if tuning and kind == "tune":
        lines.append("  HyperParameterTuningJobConfig and WarmStartConfig stay as they are")
    if tuning and kind != "tune":
        lines.append(f"  (a tuning request is a `tunestack ... tune` input, not {kind})")
    return "\n".join(lines)


def _as_given(key: str, value: Any) -> str:
    """This request's own values, written as the input's fields."""
    if key == "InputDataConfig" and isinstance(value, list):
        channels = {
            str(c.get("ChannelName")): c.get("DataSource", {}).get("S3DataSource", {}).get("S3Uri")
            for c in value
            if isinstance(c, Mapping)
        }
        return f'; here: "TrainingData": {json.dumps(channels)} (in the team bucket)'
    if key == "ResourceConfig" and isinstance(value, Mapping):
        given = {k: value[k] for k in ("InstanceType", "InstanceCount") if k in value}
        return f"; here: {json.dumps(given)[1:-1]}" if given else ""
    if key == "StoppingCondition" and isinstance(value, Mapping) and "MaxRuntimeInSeconds" in value:
        return f'; here: "MaxRuntimeInSeconds": {json.dumps(value["MaxRuntimeInSeconds"])}'
    if key in {"HyperParameterTuningJobName", "TrainingJobName", "EnableManagedSpotTraining"}:
        return f"; here: {json.dumps(value)}"
    return ""


def hints_for(kind: str, payload: Any, problems: list[str]) -> list[str]:
    """Hints for an input the validators refused with ``problems``."""
    hints = []
    if (pasted := pasted_request_hint(kind, payload)) is not None:
        hints.append(pasted)
    return hints


def missing_data_hint(error: str | None, prefix: str | None, uploaded: list[str]) -> str | None:
    """The simulated team bucket starts empty: when the first state refused the dataset and nothing
    was uploaded under the input's TrainingData prefix, say how to give it data."""
    if error != "InvalidDataset" or prefix is None:
        return None
    if any(prefix.startswith(done) or done.startswith(prefix) for done in uploaded):
        return None
    return (
        f"the simulated team bucket starts empty and nothing was uploaded to {prefix!r} (no example data "
        "beside the input either): pass --data DIR to upload a local folder to the input's TrainingData"
    )
