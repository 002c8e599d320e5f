"""The model registry through the real synthesized state machines of the nlp team (cdk.json gives it
the default group nlp-models and deploys approved versions of nlp-production): fine-tune and tune
each register one version, deploy serves only an approved one, and an approval deploys."""

from __future__ import annotations

import re

import pytest

from tests.simulator.test_deploy_scenarios import DEPLOY, HAPPY_STATES
from tests.simulator.test_tune_scenarios import CHURN, XGBOOST
from tunestack.constructs.waiting_pipeline import SUCCESS_NOTICE
from tunestack.simulator.harness import SimulationResult, Simulator
from tunestack.simulator.scenarios import APPROVAL_DEPLOYED_GROUP, REGISTRY, SCENARIOS, scenarios_for

#: The registry's runs are nlp's, a team that is told of failures only (no success notice).
DEPLOY_STATES = [state for state in HAPPY_STATES if state != SUCCESS_NOTICE]

#: A built-in XGBoost fine-tune on the churn data: its image serves on the nlp team's hosting types
#: (a JumpStart CatBoost model serves on none of them, and registering it fails naming them).
CHURN_XGBOOST = {
    "ModelName": "churn-xgb",
    "Algorithm": XGBOOST["Algorithm"],
    "TrainingData": "datasets/churn/",
    "HyperParameters": XGBOOST["StaticHyperParameters"],
    "InstanceType": "ml.m5.xlarge",
    "MaxRuntimeInSeconds": 3600,
}
VERSION_ARN = re.compile(r"^arn:aws:sagemaker:eu-west-1:\d{12}:model-package/(?P<group>[a-z0-9-]+)/(?P<version>\d+)$")


@pytest.fixture(scope="module")
def played(nlp: Simulator) -> dict[tuple[str, str], SimulationResult]:
    return {
        ("fine-tune", "register"): nlp.run("fine-tune", CHURN_XGBOOST, "register", uploads=CHURN),
        ("tune", "register"): nlp.run("tune", XGBOOST, "register", uploads=CHURN),
        ("deploy", "deploy-approved"): nlp.run(
            "deploy", DEPLOY, "deploy-approved", before=[("tune", XGBOOST)], uploads=CHURN
        ),
        ("deploy", "deploy-pending"): nlp.run(
            "deploy", DEPLOY, "deploy-pending", before=[("tune", XGBOOST)], uploads=CHURN
        ),
        ("tune", "approve-deploys"): nlp.run("tune", XGBOOST, "approve-deploys", uploads=CHURN),
    }


def creates(result: SimulationResult, operation: str) -> list[dict[str, object]]:
    return [r for r in result.requests if r["operation"] == operation and "error" not in r]


def test_every_registry_scenario_is_played_and_listed() -> None:
    played = {
        (kind, name) for name in REGISTRY for kind in ("fine-tune", "tune", "deploy") if name in scenarios_for(kind)
    }
    assert played == {
        ("fine-tune", "register"),
        ("tune", "register"),
        ("deploy", "deploy-approved"),
        ("deploy", "deploy-pending"),
        ("fine-tune", "approve-deploys"),
        ("tune", "approve-deploys"),
    }
    assert set(REGISTRY) <= set(SCENARIOS)


@pytest.mark.parametrize("kind", ["fine-tune", "tune"])
def test_a_run_registers_one_version_in_the_teams_default_group(
    played: dict[tuple[str, str], SimulationResult], kind: str
) -> None:
    result = played[(kind, "register")]
    assert result.status == "SUCCEEDED", result.cause
    assert "Register model version" in result.states
    (request,) = creates(result, "CreateModelPackage")
    params = request["parameters"]
    assert isinstance(params, dict)
    assert params["ModelPackageGroupName"] == "nlp-models" and params["ModelApprovalStatus"] == "PendingManualApproval"
    assert "Tags" not in params and params["ClientToken"]
    statistics = params["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
    assert statistics.startswith("s3://") and "/registry/nlp-models/" in statistics
    metadata = params["CustomerMetadataProperties"]
    assert metadata["tunestack:team"] == "nlp" and metadata["tunestack:pipeline"] == kind
    registered = result.output["Registered"]
    found = VERSION_ARN.match(registered["ModelPackageArn"])
    assert found and found["group"] == "nlp-models" and registered["ModelPackageVersion"] == int(found["version"])
    assert registered["ModelApprovalStatus"] == "PendingManualApproval" and registered["Adopted"] is False
    if kind == "tune":
        # The best training job's model, with the tuning job named.
        assert metadata["tunestack:tuning-job"] == result.output["TuningJobName"]
        assert metadata["tunestack:training-job"] == result.output["BestTrainingJob"]["TrainingJobName"]
    # A pending version deploys nothing on its own.
    assert result.approval_deploys == []


def test_an_approved_version_deploys(played: dict[tuple[str, str], SimulationResult]) -> None:
    result = played[("deploy", "deploy-approved")]
    assert result.status == "SUCCEEDED", result.cause
    assert result.states == DEPLOY_STATES
    assert VERSION_ARN.match(result.output["ModelPackageArn"])
    assert result.output["Action"] == "Created" and result.sagemaker_calls.get("CreateEndpoint") == 1
    # The model serves the container the version was registered with.
    (model,) = creates(result, "CreateModel")
    described = [r for r in result.requests if r["operation"] == "DescribeModelPackage"]
    assert described and model["parameters"]["PrimaryContainer"]["ModelDataUrl"].endswith(".tar.gz")  # type: ignore[index]


def test_a_pending_version_is_refused_in_the_first_state(played: dict[tuple[str, str], SimulationResult]) -> None:
    result = played[("deploy", "deploy-pending")]
    assert (result.status, result.error) == ("FAILED", "ModelPackageNotApproved")
    assert result.states == ["Validate input and model", "Notify the team", "Deploy failed"]
    assert "$.ModelPackageArn" in (result.cause or "") and "PendingManualApproval" in (result.cause or "")
    # Read only (the version, its group's team tag): nothing created.
    assert not [call for call in result.sagemaker_calls if call.startswith(("Create", "Update"))]
    assert not [r for r in result.requests if r["operation"].startswith(("Create", "Update", "Put"))]


def test_approving_a_version_deploys_it_to_the_groups_endpoint(
    played: dict[tuple[str, str], SimulationResult],
) -> None:
    result = played[("tune", "approve-deploys")]
    assert result.status == "SUCCEEDED", result.cause
    (request,) = creates(result, "CreateModelPackage")
    assert request["parameters"]["ModelPackageGroupName"] == APPROVAL_DEPLOYED_GROUP  # type: ignore[index]
    assert result.output["Registered"]["ModelApprovalStatus"] == "PendingManualApproval"
    (deployment,) = result.approval_deploys
    assert deployment["status"] == "SUCCEEDED" and deployment["states"] == DEPLOY_STATES
    assert deployment["input"]["ModelPackageArn"] == result.output["Registered"]["ModelPackageArn"]
    assert deployment["input"]["EndpointName"] == "nlp-production"
    assert deployment["output"]["EndpointName"] == "nlp-production" and deployment["output"]["Action"] == "Created"


def test_registering_without_a_group_fails_in_the_first_state_for_a_team_without_a_default(vision: Simulator) -> None:
    """cdk.json gives the vision team no default group: ``Register: {}`` names the missing field
    before any job is created."""
    from tests.simulator.conftest import example

    payload, data = example("fine-tune-text")
    result = vision.run("fine-tune", {**payload, "Register": {}}, "success", data_dir=data)
    assert (result.status, result.error) == ("FAILED", "InvalidInput")
    assert "$.Register.ModelPackageGroupName: required, team vision has no default model package group" in (
        result.cause or ""
    )
    assert result.states == ["Validate input and dataset", "Notify the team", "Fine-tune failed"]
    assert result.sagemaker_calls == {}
