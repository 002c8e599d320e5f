"""Concrete SageMaker create requests evaluated against the synthesized launch policies.

The volume key is required on EBS-backed instance types and must be absent on types with local
storage, for which SageMaker refuses one (``tunestack_runtime.instances.LOCAL_STORAGE_FAMILIES``).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Synthesized
from tests.iam_documents import ACCOUNT, REGION, policy_documents
from tests.iam_evaluation import Request, evaluate

ACTIONS = {
    "sagemaker:CreateTrainingJob": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/churn-model",
    "sagemaker:CreateHyperParameterTuningJob": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:hyper-parameter-tuning-job/t",
}


def launch_policy(synthesized: Synthesized, team: str, action: str) -> list[dict[str, Any]]:
    """The identity policy documents of the function that may call ``action`` for ``team``."""
    found = [
        document
        for template, _, document in policy_documents(synthesized.outdir)
        if template.split(".")[0] == f"tunestack-{team}-pipelines"
        and any(action in str(s.get("Action")) for s in document["Statement"])
    ]
    assert len(found) == 1, f"one launch policy holds {action} for {team}"
    return found


def team_values(documents: list[dict[str, Any]], action: str) -> dict[str, Any]:
    """The team's own guardrail values as its EBS statement lists them."""
    (statement,) = [s for s in documents[0]["Statement"] if s.get("Sid") == f"{action.split(':')[1]}WithinGuardrails"]
    condition = statement["Condition"]
    return {
        "subnets": condition["ForAllValues:StringEquals"]["sagemaker:VpcSubnets"],
        "groups": condition["ForAllValues:StringEquals"]["sagemaker:VpcSecurityGroupIds"],
        "key": condition["ArnEquals"]["sagemaker:VolumeKmsKey"],
        "team": condition["StringEquals"]["aws:RequestTag/tunestack:team"],
    }


def create(action: str, values: dict[str, Any], instance_types: list[str], volume_key: str | None) -> Request:
    context: dict[str, Any] = {
        "sagemaker:VpcSubnets": values["subnets"],
        "sagemaker:VpcSecurityGroupIds": values["groups"],
        "sagemaker:InstanceTypes": instance_types,
        "sagemaker:OutputKmsKey": values["key"],
        "sagemaker:InterContainerTrafficEncryption": "true",
        "sagemaker:NetworkIsolation": "true",
        "sagemaker:MaxRuntimeInSeconds": "3600",
        "aws:RequestTag/tunestack:team": values["team"],
    }
    if volume_key is not None:
        context["sagemaker:VolumeKmsKey"] = volume_key
    return Request(action, ACTIONS[action], context)


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize(
    ("instance_types", "with_key", "decision"),
    [
        (["ml.m5.xlarge"], True, "Allow"),  # EBS volume encrypted with the team key
        (["ml.m5.xlarge"], False, "ImplicitDeny"),  # an EBS volume without the team key
        (["ml.g5.2xlarge"], False, "Allow"),  # local storage: SageMaker refuses a volume key
        (["ml.m5.xlarge", "ml.g5.2xlarge"], False, "ImplicitDeny"),  # one EBS type in the request needs the key
        (["ml.g4dn.xlarge"], False, "ImplicitDeny"),  # local storage, but not one of the vision team's types
    ],
)
def test_volume_key_on_ebs_types_and_none_on_local_storage(
    synthesized: Synthesized, action: str, instance_types: list[str], with_key: bool, decision: str
) -> None:
    documents = launch_policy(synthesized, "vision", action)
    values = team_values(documents, action)
    request = create(action, values, instance_types, values["key"] if with_key else None)
    assert evaluate(documents, request) == decision


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_another_key_is_denied_on_every_instance_type(synthesized: Synthesized, action: str) -> None:
    documents = launch_policy(synthesized, "vision", action)
    values = team_values(documents, action)
    other = values["key"].replace("key/", "key/other-")
    for instance_types in (["ml.m5.xlarge"], ["ml.g5.2xlarge"]):
        assert evaluate(documents, create(action, values, instance_types, other)) == "ImplicitDeny"
        other_output = {**values, "key": other}
        assert evaluate(documents, create(action, other_output, instance_types, None)) == "ImplicitDeny"


def test_a_team_without_local_storage_types_gets_no_keyless_statement(synthesized: Synthesized) -> None:
    for team in ("vision", "nlp"):
        documents = launch_policy(synthesized, team, "sagemaker:CreateTrainingJob")
        sids = {s.get("Sid") for s in documents[0]["Statement"]}
        assert "CreateTrainingJobOnLocalStorageWithinGuardrails" in sids  # both teams allow g5 / g4dn
