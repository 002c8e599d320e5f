"""The simulator's model registry, with boto3 against moto: what it adds to moto 5.2.5 (ClientToken,
no tags on versions, one group per name, metadata kept on update, state-change events), and an
approval delivered the way the harness delivers job events, starting the deploy state machine
through the approval handler."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tunestack.simulator.clock import SimClock
from tunestack.simulator.deployment import matches
from tunestack.simulator.lambdas import FakeContext
from tunestack.simulator.sagemaker import SageMakerFaults, SimulatedSageMaker, simulated_sagemaker
from tunestack_runtime.handlers import registry as handlers
from tunestack_runtime.model_registry import STATE_CHANGE_DETAIL_TYPE, approval_event_pattern
from tunestack_runtime.policy import POLICY_ENVIRONMENT_VARIABLE
from tunestack_runtime.tags import TEAM_TAG

REGION = "eu-west-1"
GROUP = "nlp-churn"
CONTAINER = {"Image": "1.dkr.ecr.eu-west-1.amazonaws.com/t:1", "ModelDataUrl": "s3://nlp-data/m.tar.gz"}


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimulatedSageMaker]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    simulated = SimulatedSageMaker(SimClock(), SageMakerFaults())
    with mock_aws(), simulated_sagemaker(simulated):
        boto3.client("sagemaker").create_model_package_group(
            ModelPackageGroupName=GROUP, Tags=[{"Key": TEAM_TAG, "Value": "nlp"}]
        )
        yield simulated


def version(token: str | None = None, **fields: Any) -> str:
    params: dict[str, Any] = {
        "ModelPackageGroupName": GROUP,
        "InferenceSpecification": {"Containers": [CONTAINER]},
        "ModelApprovalStatus": "PendingManualApproval",
        "CustomerMetadataProperties": {"tunestack:launch": "abc"},
        **fields,
    }
    if token:
        params["ClientToken"] = token
    return str(boto3.client("sagemaker").create_model_package(**params)["ModelPackageArn"])


def test_a_client_token_creates_one_version(sim: SimulatedSageMaker) -> None:
    first = version("launch-key-1")
    assert version("launch-key-1") == first
    second = version("launch-key-2")
    assert second != first and second.endswith("/2")
    summaries = boto3.client("sagemaker").list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"]
    assert len(summaries) == 2 and sim.calls["CreateModelPackage"] == 2


def test_a_version_takes_no_tags_of_its_own(sim: SimulatedSageMaker) -> None:
    with pytest.raises(ClientError, match="Tags cannot be supplied with ModelPackageGroupName"):
        version(Tags=[{"Key": TEAM_TAG, "Value": "nlp"}])


def test_a_group_name_is_created_once(sim: SimulatedSageMaker) -> None:
    client = boto3.client("sagemaker")
    with pytest.raises(ClientError, match="already exists") as raised:
        client.create_model_package_group(ModelPackageGroupName=GROUP, Tags=[{"Key": TEAM_TAG, "Value": "cv"}])
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    arn = client.describe_model_package_group(ModelPackageGroupName=GROUP)["ModelPackageGroupArn"]
    assert client.list_tags(ResourceArn=arn)["Tags"] == [{"Key": TEAM_TAG, "Value": "nlp"}]  # still the team's


def test_an_approval_keeps_the_metadata_and_emits_one_state_change(sim: SimulatedSageMaker) -> None:
    client = boto3.client("sagemaker")
    arn = version("k")
    created = sim.registry_events.pop()
    assert created[0] == STATE_CHANGE_DETAIL_TYPE and created[1]["ModelApprovalStatus"] == "PendingManualApproval"
    client.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription="ok")
    described = client.describe_model_package(ModelPackageName=arn)
    assert described["ModelApprovalStatus"] == "Approved"
    assert described["CustomerMetadataProperties"] == {"tunestack:launch": "abc"}  # moto alone clears them
    ((detail_type, detail),) = sim.registry_events
    assert detail_type == "SageMaker Model Package State Change"
    assert detail["ModelPackageArn"] == arn and detail["ModelPackageGroupName"] == GROUP
    assert detail["ModelApprovalStatus"] == "Approved"
    client.update_model_package(ModelPackageArn=arn, CustomerMetadataProperties={"note": "x"})
    assert len(sim.registry_events) == 1  # no status change, no event
    assert client.describe_model_package(ModelPackageName=arn)["ApprovalDescription"] == "ok"


def duplicate_detail(arn: str) -> dict[str, Any]:
    return {"ModelPackageArn": arn, "ModelPackageGroupName": GROUP}


def deliver(sim: SimulatedSageMaker, pattern: dict[str, Any], environment: dict[str, str]) -> list[dict[str, Any]]:
    """What the harness does with an event: EventBridge matching, then the target function."""
    answers = []
    while sim.registry_events:
        detail_type, detail = sim.registry_events.pop(0)
        event = {"version": "0", "source": "aws.sagemaker", "detail-type": detail_type, "detail": detail}
        if matches(pattern, event):
            with pytest.MonkeyPatch.context() as patch:
                for name, value in environment.items():
                    patch.setenv(name, value)
                answers.append(handlers.on_approval(event, FakeContext(function_name="RegistryOnApproval")))
    return answers


def test_approving_a_version_starts_the_deploy_state_machine_once(sim: SimulatedSageMaker) -> None:
    sfn = boto3.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="tunestack-nlp-deploy",
        definition=json.dumps({"StartAt": "Validate", "States": {"Validate": {"Type": "Pass", "End": True}}}),
        roleArn="arn:aws:iam::123456789012:role/simulated",
    )["stateMachineArn"]
    policy = {
        "team": "nlp",
        "bucket": "nlp-data",
        "region": REGION,
        "trainingInstanceTypes": ["ml.m5.xlarge"],
        "hostingInstanceTypes": ["ml.m5.xlarge"],
        "defaultTrainingInstanceType": "ml.m5.xlarge",
        "defaultHostingInstanceType": "ml.m5.xlarge",
        "maxInstanceCount": 1,
        "maxRuntimeInSeconds": 3600,
        "modelRegistry": {"autoDeploy": [{"modelPackageGroup": GROUP, "endpointName": "churn"}]},
    }
    environment = {POLICY_ENVIRONMENT_VARIABLE: json.dumps(policy), handlers.DEPLOY_STATE_MACHINE_VARIABLE: machine}
    pattern = approval_event_pattern([GROUP])
    arn = version("k")
    assert deliver(sim, pattern, environment) == []  # created pending: the rule does not match
    client = boto3.client("sagemaker")
    client.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    sim.registry_events.append(sim.registry_events[-1])  # SageMaker may send an event twice
    first, duplicate = deliver(sim, pattern, environment)
    # Both name one execution: StartExecution of a running name with the same input returns it, and
    # the handler answers ExecutionAlreadyExists (a closed one) as "already started".
    assert first["Started"] is True and duplicate.get("ExecutionName") == first["ExecutionName"]
    (execution,) = sfn.list_executions(stateMachineArn=machine)["executions"]
    started = json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"])
    assert started == {"ModelPackageArn": arn, "EndpointName": "churn", "InitialInstanceCount": 1}
    sfn.stop_execution(executionArn=execution["executionArn"])
    sim.registry_events.append((STATE_CHANGE_DETAIL_TYPE, {**duplicate_detail(arn), "ModelApprovalStatus": "Approved"}))
    (late,) = deliver(sim, pattern, environment)  # a late duplicate, once that deployment has ended
    assert late == {"Started": False, "Reason": "already started", "ExecutionName": first["ExecutionName"]}
    # rejected, then approved again: a new deployment
    client.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Rejected")
    sim.clock.advance(60)
    client.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    answers = deliver(sim, pattern, environment)
    assert [a["Started"] for a in answers] == [True]
    assert len(sfn.list_executions(stateMachineArn=machine)["executions"]) == 2
