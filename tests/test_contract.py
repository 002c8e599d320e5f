"""The contract between constructs, handlers and simulator: written once, checked against botocore."""

from __future__ import annotations

import json
import re
from pathlib import Path

import botocore.session
import pytest

from tunestack_runtime import contract

# Imported once, with the module: the simulator reloads tunestack_runtime from a function's asset,
# after which a later import would give other classes than TeamPolicy's.
from tunestack_runtime.contract import (
    ENDPOINT,
    JOB_KINDS,
    TRAINING_JOB,
    TUNING_JOB,
    AutoDeploy,
    JobKindSpec,
    LaunchPlan,
    RegistrySettings,
    TeamPolicy,
)
from tunestack_runtime.job_kinds import BY_PIPELINE, KINDS

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = ROOT / "tunestack_runtime" / "contract.py"
SAGEMAKER = botocore.session.get_session().get_service_model("sagemaker")


def contract_literals() -> list[str]:
    """Every literal that must be written only in contract.py: event detail-types, tag keys and
    environment variable names."""
    tags = [value for name, value in vars(contract).items() if name.endswith("_TAG")]
    environment = [value for name, value in vars(contract).items() if name.endswith("_ENV")]
    events = [kind.event_detail_type for kind in JOB_KINDS.values()] + [contract.EXECUTION_STATUS_CHANGE]
    return [*tags, *environment, *events]


def test_the_literal_list_is_the_contract() -> None:
    literals = contract_literals()
    assert {"tunestack:team", "tunestack:launch", "tunestack:deploys-models"} <= set(literals)
    assert {"TUNESTACK_TEAM", "TOKEN_TABLE", "POWERTOOLS_SERVICE_NAME"} <= set(literals)
    assert "SageMaker HyperParameter Tuning Job State Change" in literals
    assert len(literals) == 8 + 4 + 4  # tags, environment variables, event detail-types


def test_no_contract_literal_outside_the_contract() -> None:
    """Given every Python source of tunestack/ and tunestack_runtime/ but contract.py, when searched
    for the contract's literals (as whole words), then none is found."""
    patterns = {
        literal: re.compile(rf"(?<![A-Za-z0-9_:\-]){re.escape(literal)}(?![A-Za-z0-9_\-])")
        for literal in contract_literals()
    }
    sources = [
        path
        for package in ("tunestack", "tunestack_runtime")
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != CONTRACT
    ]
    assert len(sources) > 50
    found = [
        f"{path.relative_to(ROOT)}:{number}: {literal!r}"
        for path in sources
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        for literal, pattern in patterns.items()
        if pattern.search(line)
    ]
    assert found == [], "write these through tunestack_runtime.contract:\n" + "\n".join(found)


def test_the_search_sees_a_literal_where_one_is(tmp_path: Path) -> None:
    """The pattern the search uses finds a quoted literal and leaves longer names alone."""
    pattern = re.compile(r"(?<![A-Za-z0-9_:\-])TOKEN_TABLE(?![A-Za-z0-9_\-])")
    assert pattern.search('os.environ["TOKEN_TABLE"]')
    assert not pattern.search("os.environ[TOKEN_TABLE_ENV]")


@pytest.mark.parametrize("kind", list(JOB_KINDS.values()), ids=list(JOB_KINDS))
def test_status_fields_and_statuses_are_botocores(kind: JobKindSpec) -> None:
    """The describe call's output holds the name, ARN and status fields; every terminal status is
    one of the status enum's (botocore's SageMaker service model)."""
    output = SAGEMAKER.operation_model(kind.describe_operation).output_shape
    assert {kind.name_field, kind.arn_field, kind.status_field} <= set(output.members)
    statuses = output.members[kind.status_field].enum
    assert kind.terminal <= set(statuses), kind.terminal - set(statuses)
    for operation in (kind.create_operation, kind.describe_operation, kind.stop_operation):
        if operation is not None:
            assert operation in SAGEMAKER.operation_names
    create_input = SAGEMAKER.operation_model(kind.create_operation).input_shape
    assert kind.name_field in create_input.members


def test_the_endpoint_is_waited_on_in_both_spellings() -> None:
    assert ENDPOINT.terminal == {"InService", "Failed"}
    assert ENDPOINT.api_status("IN_SERVICE") == "InService"
    assert ENDPOINT.event_status("Failed") == "FAILED"
    assert TRAINING_JOB.api_status("Stopped") == "Stopped"
    assert ENDPOINT.stop_actions == ()
    assert TUNING_JOB.stop_actions == ("sagemaker:StopHyperParameterTuningJob",)


def test_runtime_kinds_are_built_on_the_contract() -> None:
    assert {kind.spec for kind in KINDS.values()} == set(JOB_KINDS.values())
    assert {pipeline: kind.spec.pipeline for pipeline, kind in BY_PIPELINE.items()} == {
        p: p for p in contract.PIPELINES
    }
    for kind in JOB_KINDS.values():
        module, _, function = kind.handler("launch").rpartition(".")
        handlers = __import__(module, fromlist=[function])
        assert callable(getattr(handlers, function)), kind.handler("launch")
        for name in ("validate", "on_state_change", "reconcile"):
            assert callable(getattr(handlers, name))


POLICY = TeamPolicy(
    team="nlp",
    bucket="tunestack-nlp-data",
    region="eu-west-1",
    training_instance_types=("ml.g5.2xlarge", "ml.m5.xlarge"),
    hosting_instance_types=("ml.g5.xlarge",),
    default_training_instance_type="ml.g5.2xlarge",
    default_hosting_instance_type="ml.g5.xlarge",
    max_instance_count=2,
    max_runtime_in_seconds=86400,
    max_training_jobs_per_tuning_job=20,
    max_parallel_training_jobs=4,
    role_arn="arn:aws:iam::111122223333:role/tunestack-nlp-sagemaker",
    subnet_ids=("subnet-1", "subnet-2"),
    security_group_ids=("sg-1",),
    key_arn="arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    network_isolation="algorithm",
)


def test_the_policy_reads_what_it_writes() -> None:
    environ = {contract.POLICY_ENV: json.dumps(POLICY.to_document())}
    assert TeamPolicy.from_environment(environ) == POLICY


def test_a_comma_joined_deploy_time_list_is_one_element() -> None:
    """The stack passes an imported list as one comma-joined token; the document holds it as is."""
    written = TeamPolicy(**{**vars(POLICY), "subnet_ids": ("subnet-1,subnet-2",)}).to_document()
    assert written["subnetIds"] == "subnet-1,subnet-2"
    assert TeamPolicy.from_document(written).subnet_ids == ("subnet-1", "subnet-2")


def test_the_stack_writes_the_policy_the_handlers_read(context: dict[str, object]) -> None:
    """cdk.json's team, written as the pipelines stack writes it, read back as the Lambdas read it."""
    from tunestack.app.config import load_teams
    from tunestack.constructs.team_policy import team_policy

    team = load_teams(context["teams"])[0]
    policy = team_policy(team, bucket="b", region="eu-west-1", subnet_ids="s-1,s-2", key_arn="k")
    read = TeamPolicy.from_environment({contract.POLICY_ENV: json.dumps(policy.to_document())})
    assert read.subnet_ids == ("s-1", "s-2")
    assert read.training_instance_types == tuple(team.allowed_instance_types.training)
    assert read.network_isolation == team.network_isolation
    assert read.max_parallel_training_jobs == team.limits.max_parallel_training_jobs


@pytest.mark.parametrize("kind", list(JOB_KINDS.values()), ids=list(JOB_KINDS))
def test_the_launch_plan_round_trips(kind: JobKindSpec) -> None:
    plan = LaunchPlan(
        kind=kind,
        request={kind.name_field: "job-1"},
        task_timeout_seconds=3600,
        output_extras={"ParentModel": "m"},
        dataset={"Checked": True} if kind is not ENDPOINT else None,
        deploy={"EndpointName": "e", "ExecutionName": "x"} if kind.deploy_field else None,
        preparation={"CreateModel": {"ModelName": "m"}} if kind is ENDPOINT else {},
    )
    written = plan.to_dict()
    assert written[kind.request_field] == {kind.name_field: "job-1"}
    assert written["TaskTimeoutSeconds"] == 3600
    assert LaunchPlan.from_dict(kind, json.loads(json.dumps(written))) == plan


def test_a_launch_plan_refuses_what_its_kind_cannot_hold() -> None:
    with pytest.raises(ValueError, match="deploy: the deploy pipeline has no nested deploy"):
        LaunchPlan(kind=ENDPOINT, request={}, task_timeout_seconds=1, output_extras={}, deploy={"EndpointName": "e"})
    with pytest.raises(ValueError, match=r"preparation: holds the plan's own fields \['TaskTimeoutSeconds'\]"):
        LaunchPlan(
            kind=ENDPOINT, request={}, task_timeout_seconds=1, output_extras={}, preparation={"TaskTimeoutSeconds": 2}
        )


def test_the_policy_carries_the_model_registry_settings() -> None:
    registry = RegistrySettings(
        default_group="nlp-models",
        default_approval_status="Approved",
        auto_deploy=(AutoDeploy(group="nlp-live", endpoint_name="live", instance_type="ml.g5.xlarge"),),
    )
    policy = TeamPolicy(**{**vars(POLICY), "model_registry": registry})
    document = policy.to_document()
    assert document["modelRegistry"]["defaultModelPackageGroup"] == "nlp-models"
    read = TeamPolicy.from_environment({contract.POLICY_ENV: json.dumps(document)})
    assert read == policy and RegistrySettings.from_environment({contract.POLICY_ENV: json.dumps(document)}) == registry
    # A document written before the registry settings reads as no registry settings.
    older = {k: v for k, v in POLICY.to_document().items() if k != "modelRegistry"}
    assert TeamPolicy.from_document(older).model_registry == RegistrySettings()


def test_a_launch_plan_carries_a_registration_only_where_a_model_is_made() -> None:
    register = {"ModelPackageGroupName": "nlp-models", "ApprovalStatus": "PendingManualApproval"}
    plan = LaunchPlan(kind=TRAINING_JOB, request={}, task_timeout_seconds=1, output_extras={}, register=register)
    assert plan.to_dict()["Register"] == register
    assert LaunchPlan.from_dict(TRAINING_JOB, plan.to_dict()) == plan
    with pytest.raises(ValueError, match="register: the deploy pipeline registers no model"):
        LaunchPlan(kind=ENDPOINT, request={}, task_timeout_seconds=1, output_extras={}, register=register)


@pytest.mark.parametrize("shape", ["TrainingJobName", "EndpointName", "EntityName"])
def test_the_resource_name_rule_is_botocores(shape: str) -> None:
    """One pattern checks every SageMaker name an input or a team setting gives."""
    model = botocore.session.get_session().get_service_model("sagemaker").shape_for(shape)
    assert contract.SAGEMAKER_NAME.pattern == f"^{model.metadata['pattern']}$"
    assert contract.SAGEMAKER_NAME.fullmatch("a" * model.metadata["max"])
    assert not contract.SAGEMAKER_NAME.fullmatch("a" * (model.metadata["max"] + 1))
