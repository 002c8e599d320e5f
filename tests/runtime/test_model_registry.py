"""The model registry: the Register and ModelPackageArn inputs, the CreateModelPackage request
(checked against botocore's service model), registering on moto with the simulator's SageMaker,
idempotency, group ownership, deploying only an approved version, and approval -> deploy input."""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any

import botocore.session
import pytest
import regex
from botocore.validate import ParamValidator

from tests.runtime.test_deploy import POLICY, training_job
from tests.runtime.test_deploy import aws as deploy_aws  # noqa: F401  (fixture)
from tests.runtime.test_fine_tune_input import POLICY as FINE_TUNE_POLICY
from tests.runtime.test_fine_tune_input import VALID
from tests.runtime.test_tune_input import SEED_INPUT
from tests.runtime.test_tune_plan import aws as tune_aws  # noqa: F401  (the fixture deploy_aws extends)
from tests.runtime.test_tune_plan import tuned
from tunestack_runtime import model_registry
from tunestack_runtime.deploy_input import validate_deploy_input
from tunestack_runtime.errors import InvalidInput, PolicyViolation
from tunestack_runtime.executions import Execution
from tunestack_runtime.fine_tune_input import validate_fine_tune_input
from tunestack_runtime.hosting import serving_container
from tunestack_runtime.input_fields import Problems
from tunestack_runtime.model_registry import (
    ModelPackageNotApproved,
    RegisterRequest,
    RegistrySettings,
    approved_version,
    register,
    register_plan,
)
from tunestack_runtime.policy import POLICY_ENVIRONMENT_VARIABLE
from tunestack_runtime.tags import LAUNCH_TAG, MODEL_TAG, TEAM_TAG
from tunestack_runtime.tune_input import validate_tune_input

SERVICE = botocore.session.get_session().get_service_model("sagemaker")
RUN = Execution("arn:aws:states:eu-west-1:111122223333:execution:fine-tune:run-1", "2026-01-05T09:00:00.000Z")
RETRY_OF_ANOTHER_RUN = Execution(RUN.arn, "2026-04-05T09:00:00.000Z")  # the same name, reused later
GROUP = "nlp-churn"


@pytest.fixture
def aws(deploy_aws: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    return deploy_aws


def version_arn(group: str = GROUP, version: int = 1, region: str = "eu-west-1") -> str:
    return f"arn:aws:sagemaker:{region}:123456789012:model-package/{group}/{version}"


# --- inputs ------------------------------------------------------------------------------------


def test_register_is_parsed_in_fine_tune_and_tune_inputs() -> None:
    fine_tune = validate_fine_tune_input({**VALID, "Register": {"ModelPackageGroupName": "nlp-news"}}, FINE_TUNE_POLICY)
    assert fine_tune.register == RegisterRequest(group="nlp-news", approval_status=None)
    tune = validate_tune_input({**SEED_INPUT, "Register": {"ApprovalStatus": "Approved"}}, POLICY)
    assert tune.register == RegisterRequest(group=None, approval_status="Approved")
    assert validate_fine_tune_input(VALID, FINE_TUNE_POLICY).register is None


@pytest.mark.parametrize(
    ("register", "error", "message"),
    [
        (
            {"ModelPackageGroupName": "vision-news"},
            PolicyViolation,
            r"\$\.Register\.ModelPackageGroupName: 'vision-news' is not one of team nlp's groups",
        ),
        ({"ModelPackageGroupName": "nlp_news"}, InvalidInput, r"\$\.Register\.ModelPackageGroupName: 1-63 letters"),
        (
            {"ApprovalStatus": "Rejected"},
            InvalidInput,
            r"\$\.Register\.ApprovalStatus: one of PendingManualApproval, Approved, got 'Rejected'",
        ),
        ({"Group": "nlp-news"}, InvalidInput, r"\$\.Register\.Group: unknown field"),
        (True, InvalidInput, r"\$\.Register: must be an object"),
    ],
)
def test_invalid_register_fields_are_named(register: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        validate_fine_tune_input({**VALID, "Register": register}, FINE_TUNE_POLICY)


def test_the_teams_defaults_fill_in_the_plan_and_a_missing_default_is_named() -> None:
    settings = RegistrySettings.from_mapping({"defaultModelPackageGroup": "nlp-models"})
    assert register_plan(RegisterRequest(), settings, "nlp") == {
        "ModelPackageGroupName": "nlp-models",
        "ApprovalStatus": "PendingManualApproval",
    }
    given = RegisterRequest(group="nlp-news", approval_status="Approved")
    assert register_plan(given, settings, "nlp") == {"ModelPackageGroupName": "nlp-news", "ApprovalStatus": "Approved"}
    with pytest.raises(InvalidInput, match=r"\$\.Register\.ModelPackageGroupName: required, team nlp has no default"):
        register_plan(RegisterRequest(), RegistrySettings(), "nlp")
    with pytest.raises(PolicyViolation, match="not one of team nlp's groups"):
        register_plan(RegisterRequest(), RegistrySettings(default_group="cv-models"), "nlp")


def test_settings_are_read_from_the_team_policy_document() -> None:
    document = {
        "team": "nlp",
        "modelRegistry": {
            "defaultModelPackageGroup": "nlp-models",
            "defaultApprovalStatus": "Approved",
            "autoDeploy": [
                {"modelPackageGroup": "nlp-models", "endpointName": "churn", "instanceType": "ml.m5.xlarge"}
            ],
        },
    }
    settings = RegistrySettings.from_environment({POLICY_ENVIRONMENT_VARIABLE: json.dumps(document)})
    assert settings.default_group == "nlp-models" and settings.default_approval_status == "Approved"
    assert settings.auto_deploy[0].endpoint_name == "churn" and settings.auto_deploy[0].initial_instance_count == 1
    assert RegistrySettings.from_environment({POLICY_ENVIRONMENT_VARIABLE: '{"team": "nlp"}'}) == RegistrySettings()


def test_deploy_accepts_a_version_arn_of_the_teams_groups() -> None:
    request = validate_deploy_input({"ModelPackageArn": version_arn(), "EndpointName": "churn"}, POLICY)
    assert request.model_package_arn == version_arn()
    assert request.training_job_name is None and request.tuning_job_name is None


@pytest.mark.parametrize(
    ("payload", "error", "message"),
    [
        ({"ModelPackageArn": version_arn(), "TrainingJobName": "j"}, InvalidInput, r"\$: give exactly one of"),
        (
            {"ModelPackageArn": version_arn("cv-churn")},
            PolicyViolation,
            r"\$\.ModelPackageArn: 'cv-churn' is not one of",
        ),
        (
            {"ModelPackageArn": version_arn(region="us-east-1")},
            PolicyViolation,
            r"\$\.ModelPackageArn: the version is in us-east-1",
        ),
        (
            {"ModelPackageArn": f"arn:aws:sagemaker:eu-west-1:123456789012:model-package/{GROUP}"},
            InvalidInput,
            r"\$\.ModelPackageArn: the ARN of a model package version",
        ),
        ({"ModelPackageArn": 7}, InvalidInput, r"\$\.ModelPackageArn: the ARN"),
    ],
)
def test_invalid_version_arns_are_named(payload: dict[str, Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        validate_deploy_input({**payload, "EndpointName": "churn"}, POLICY)


# --- the request, against botocore's service model ---------------------------------------------


def pattern_problems(params: Any, shape: Any, path: str = "") -> list[str]:
    """What botocore's validator leaves out: each string's ``pattern`` (``regex``, as the service
    model writes them with \\p{...} classes), map keys included."""
    found: list[str] = []
    if shape.type_name == "structure":
        for name, value in params.items():
            found += pattern_problems(value, shape.members[name], f"{path}.{name}")
    elif shape.type_name == "list":
        for i, value in enumerate(params):
            found += pattern_problems(value, shape.member, f"{path}[{i}]")
    elif shape.type_name == "map":
        for key, value in params.items():
            found += pattern_problems(key, shape.key, f"{path} key {key!r}")
            found += pattern_problems(value, shape.value, f"{path}.{key}")
    elif (
        shape.type_name == "string"
        and "pattern" in shape.metadata
        and not regex.fullmatch(shape.metadata["pattern"], params)
    ):
        found.append(f"{path}: {params!r} does not match {shape.metadata['pattern']}")
    return found


def captured_create(aws: dict[str, Any]) -> list[dict[str, Any]]:
    requests: list[dict[str, Any]] = []
    aws["sagemaker"].meta.events.register(
        "provide-client-params.sagemaker.CreateModelPackage", lambda params, **_: requests.append(copy.deepcopy(params))
    )
    return requests


def registered(aws: dict[str, Any], *, execution: Execution = RUN, **plan: Any) -> dict[str, Any]:
    full = {"ModelPackageGroupName": GROUP, "ApprovalStatus": "PendingManualApproval", **plan}
    return register(
        sagemaker=aws["sagemaker"], s3=aws["s3"], policy=POLICY, plan=full, execution=execution, pipeline="fine-tune"
    )


def test_the_request_satisfies_the_service_model(aws: dict[str, Any]) -> None:
    training_job(aws, "churn-xgb", {TEAM_TAG: "nlp", MODEL_TAG: "xgboost:1.7-1"})
    requests = captured_create(aws)
    registered(aws, TrainingJobName="churn-xgb", Dataset=f"s3://{POLICY.bucket}/datasets/churn/")
    (request,) = requests
    shape = SERVICE.operation_model("CreateModelPackage").input_shape
    report = ParamValidator().validate(request, shape)
    assert not report.has_errors(), report.generate_report()
    assert pattern_problems(request, shape) == []
    assert "Tags" not in request  # a version of a group takes its group's tags
    assert len(request["CustomerMetadataProperties"]) <= 50


def test_a_fine_tuned_model_becomes_version_1_with_what_deploy_would_serve(aws: dict[str, Any]) -> None:
    training_job(aws, "churn-xgb", {TEAM_TAG: "nlp", MODEL_TAG: "xgboost:1.7-1"})
    dataset = f"s3://{POLICY.bucket}/datasets/churn/"
    output = registered(aws, TrainingJobName="churn-xgb", Dataset=dataset)
    assert output["ModelPackageVersion"] == 1 and output["Adopted"] is False
    assert output["ModelApprovalStatus"] == "PendingManualApproval"
    version = aws["sagemaker"].describe_model_package(ModelPackageName=output["ModelPackageArn"])
    training = aws["sagemaker"].describe_training_job(TrainingJobName="churn-xgb")
    (container,) = version["InferenceSpecification"]["Containers"]
    assert container["Image"] == training["AlgorithmSpecification"]["TrainingImage"]  # a built-in serves itself
    assert container["ModelDataUrl"] == training["ModelArtifacts"]["S3ModelArtifacts"]
    assert version["InferenceSpecification"]["SupportedRealtimeInferenceInstanceTypes"] == list(
        POLICY.hosting_instance_types
    )
    metadata = version["CustomerMetadataProperties"]
    assert metadata[TEAM_TAG] == "nlp" and metadata[LAUNCH_TAG] == RUN.launch_key
    assert metadata["tunestack:training-job"] == "churn-xgb" and metadata["tunestack:dataset"] == dataset
    assert "tunestack:tuning-job" not in metadata
    statistics = version["ModelMetrics"]["ModelQuality"]["Statistics"]
    assert statistics["ContentType"] == "application/json"
    bucket, _, key = statistics["S3Uri"].removeprefix("s3://").partition("/")
    stored = aws["s3"].get_object(Bucket=bucket, Key=key)
    assert bucket == POLICY.bucket and stored["ContentType"] == "application/json"
    document = json.loads(stored["Body"].read())
    assert document["training_job"] == "churn-xgb" and document["dataset"] == dataset
    assert document["metrics"] == {
        m["MetricName"]: {"value": m["Value"]} for m in training.get("FinalMetricDataList", [])
    }
    group = aws["sagemaker"].describe_model_package_group(ModelPackageGroupName=GROUP)
    tags = aws["sagemaker"].list_tags(ResourceArn=group["ModelPackageGroupArn"])["Tags"]
    assert {"Key": TEAM_TAG, "Value": "nlp"} in tags


def test_a_retried_step_adds_no_second_version_and_another_run_does(aws: dict[str, Any]) -> None:
    training_job(aws, "churn-xgb", {TEAM_TAG: "nlp", MODEL_TAG: "xgboost:1.7-1"})
    first = registered(aws, TrainingJobName="churn-xgb")
    again = registered(aws, TrainingJobName="churn-xgb")
    assert again["ModelPackageArn"] == first["ModelPackageArn"] and again["Adopted"] is True
    later = registered(aws, TrainingJobName="churn-xgb", execution=RETRY_OF_ANOTHER_RUN)
    assert later["ModelPackageVersion"] == 2 and later["Adopted"] is False
    listed = aws["sagemaker"].list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"]
    assert len(listed) == 2


def test_the_lookup_finds_a_version_created_before_the_step_failed(aws: dict[str, Any]) -> None:
    """The step created the version, then died before answering: the retry finds it by the launch
    key in its metadata, with no help from ClientToken (the version here was created without one)."""
    training_job(aws, "churn-xgb", {TEAM_TAG: "nlp", MODEL_TAG: "xgboost:1.7-1"})
    requests = captured_create(aws)
    register(
        sagemaker=aws["sagemaker"],
        s3=aws["s3"],
        policy=POLICY,
        plan={"ModelPackageGroupName": "nlp-probe", "ApprovalStatus": "Approved", "TrainingJobName": "churn-xgb"},
        execution=RUN,
        pipeline="fine-tune",
    )
    aws["sagemaker"].create_model_package_group(ModelPackageGroupName=GROUP, Tags=[{"Key": TEAM_TAG, "Value": "nlp"}])
    died = {**{k: v for k, v in requests[0].items() if k != "ClientToken"}, "ModelPackageGroupName": GROUP}
    orphan = aws["sagemaker"].create_model_package(**died)["ModelPackageArn"]
    retried = registered(aws, TrainingJobName="churn-xgb")
    assert retried["ModelPackageArn"] == orphan and retried["Adopted"] is True
    assert len(aws["sagemaker"].list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"]) == 1
    assert model_registry.find_version(aws["sagemaker"], GROUP, RETRY_OF_ANOTHER_RUN.launch_key) is None


def test_a_group_of_that_name_tagged_for_another_team_is_refused(aws: dict[str, Any]) -> None:
    training_job(aws, "churn-xgb", {TEAM_TAG: "nlp", MODEL_TAG: "xgboost:1.7-1"})
    aws["sagemaker"].create_model_package_group(ModelPackageGroupName=GROUP, Tags=[{"Key": TEAM_TAG, "Value": "cv"}])
    with pytest.raises(PolicyViolation, match=r"\$\.Register\.ModelPackageGroupName \(nlp-churn\): belongs to cv"):
        registered(aws, TrainingJobName="churn-xgb")
    assert aws["sagemaker"].list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"] == []


def test_another_teams_training_job_is_not_registered(aws: dict[str, Any]) -> None:
    training_job(aws, "cv-job", {TEAM_TAG: "cv", MODEL_TAG: "xgboost:1.7-1"})
    with pytest.raises(PolicyViolation, match="belongs to cv, not to nlp"):
        registered(aws, TrainingJobName="cv-job")


def test_a_tuning_jobs_best_training_job_is_registered_with_its_objective(aws: dict[str, Any]) -> None:
    tuning = tuned(aws, SEED_INPUT)
    output = registered(aws, TuningJobName=tuning)
    version = aws["sagemaker"].describe_model_package(ModelPackageName=output["ModelPackageArn"])
    description = aws["sagemaker"].describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=tuning)
    best = description["BestTrainingJob"]
    metadata = version["CustomerMetadataProperties"]
    assert metadata["tunestack:tuning-job"] == tuning
    assert metadata["tunestack:training-job"] == best["TrainingJobName"]
    uri = version["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
    document = json.loads(aws["s3"].get_object(Bucket=POLICY.bucket, Key=uri.split("/", 3)[3])["Body"].read())
    objective = description["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]
    assert document["objective"] == {
        "metric": objective["MetricName"],
        "type": objective["Type"],
        "value": best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"],
    }
    assert document["hyperparameters"] == version_hyperparameters(aws, best["TrainingJobName"])


def version_hyperparameters(aws: dict[str, Any], training_job_name: str) -> dict[str, str]:
    return dict(aws["sagemaker"].describe_training_job(TrainingJobName=training_job_name).get("HyperParameters") or {})


def test_a_jumpstart_version_lists_only_instance_types_its_image_serves(aws: dict[str, Any]) -> None:
    training_job(aws, "news-bert", {TEAM_TAG: "nlp", MODEL_TAG: "huggingface-tc-bert-base-cased@3.0.6"})
    output = registered(aws, TrainingJobName="news-bert", InstanceType="ml.g4dn.xlarge")
    version = aws["sagemaker"].describe_model_package(ModelPackageName=output["ModelPackageArn"])
    image = version["InferenceSpecification"]["Containers"][0]["Image"]
    assert image.endswith("-gpu-py36-cu110-ubuntu18.04")
    listed = version["InferenceSpecification"]["SupportedRealtimeInferenceInstanceTypes"]
    assert "ml.g4dn.xlarge" in listed and "ml.m5.xlarge" not in listed
    source = model_registry.model_source(aws["sagemaker"], POLICY, training_job="news-bert", tuning_job=None)
    for instance_type in listed:
        assert serving_container(source, instance_type, POLICY, aws["s3"], "$").image == image


# --- deploying a version -------------------------------------------------------------------------


def test_only_an_approved_version_deploys(aws: dict[str, Any]) -> None:
    training_job(aws, "churn-xgb", {TEAM_TAG: "nlp", MODEL_TAG: "xgboost:1.7-1"})
    arn = registered(aws, TrainingJobName="churn-xgb")["ModelPackageArn"]
    with pytest.raises(
        ModelPackageNotApproved, match=r"\$\.ModelPackageArn \(.+\): version 1 of nlp-churn is PendingManualApproval"
    ):
        approved_version(aws["sagemaker"], POLICY, arn)
    aws["sagemaker"].update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Rejected")
    with pytest.raises(ModelPackageNotApproved, match="is Rejected"):
        approved_version(aws["sagemaker"], POLICY, arn)
    aws["sagemaker"].update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    model = approved_version(aws["sagemaker"], POLICY, arn)
    training = aws["sagemaker"].describe_training_job(TrainingJobName="churn-xgb")
    assert model.version == 1 and model.group == GROUP
    assert model.container.image == training["AlgorithmSpecification"]["TrainingImage"]
    assert model.container.network_isolation is True
    assert model.source.model_data_url == training["ModelArtifacts"]["S3ModelArtifacts"]
    assert model.source.training_job_name == "churn-xgb" and model.source.parent_model == "xgboost:1.7-1"
    model_registry.check_serves(model, "ml.m5.xlarge")
    with pytest.raises(
        InvalidInput, match=r"\$\.InstanceType: version 1 of nlp-churn serves on .+, not ml\.p3\.2xlarge"
    ):
        model_registry.check_serves(model, "ml.p3.2xlarge")


def test_deploy_serves_a_version_as_registered_and_a_job_as_before(aws: dict[str, Any]) -> None:
    training_job(aws, "churn-xgb", {TEAM_TAG: "nlp", MODEL_TAG: "xgboost:1.7-1"})
    arn = registered(aws, TrainingJobName="churn-xgb", ApprovalStatus="Approved")["ModelPackageArn"]
    common = {"training_job": None, "tuning_job": None, "instance_type": "ml.m5.xlarge"}
    source, container = model_registry.deploy_source(
        aws["sagemaker"], POLICY, aws["s3"], model_package_arn=arn, **common
    )
    from_job = model_registry.deploy_source(
        aws["sagemaker"], POLICY, aws["s3"], model_package_arn=None, **{**common, "training_job": "churn-xgb"}
    )
    assert (source.model_data_url, container) == (from_job[0].model_data_url, from_job[1])
    assert source.training_job_name == "churn-xgb"


def test_a_version_of_a_group_that_is_not_the_teams_is_refused(aws: dict[str, Any]) -> None:
    aws["sagemaker"].create_model_package_group(
        ModelPackageGroupName="nlp-stolen", Tags=[{"Key": TEAM_TAG, "Value": "cv"}]
    )
    aws["sagemaker"].create_model_package_group(
        ModelPackageGroupName="cv-models", Tags=[{"Key": TEAM_TAG, "Value": "cv"}]
    )
    container = {"Image": "1.dkr.ecr.eu-west-1.amazonaws.com/t:1", "ModelDataUrl": "s3://b/m.tar.gz"}
    arns = [
        aws["sagemaker"].create_model_package(
            ModelPackageGroupName=group,
            InferenceSpecification={"Containers": [container]},
            ModelApprovalStatus="Approved",
        )["ModelPackageArn"]
        for group in ("nlp-stolen", "cv-models")
    ]
    with pytest.raises(PolicyViolation, match=r"\$\.ModelPackageArn \(nlp-stolen\): belongs to cv, not to nlp"):
        approved_version(aws["sagemaker"], POLICY, arns[0])
    with pytest.raises(PolicyViolation, match="'cv-models' is not one of team nlp's groups"):
        approved_version(aws["sagemaker"], POLICY, arns[1])
    with pytest.raises(InvalidInput, match="no model package version this team can read"):
        approved_version(aws["sagemaker"], POLICY, version_arn(version=9))


# --- approval -> deploy input --------------------------------------------------------------------

SETTINGS = RegistrySettings.from_mapping(
    {"autoDeploy": [{"modelPackageGroup": GROUP, "endpointName": "churn", "instanceType": "ml.m5.xlarge"}]}
)


def described(status: str = "Approved", modified: str = "2026-01-06T10:00:00Z", group: str = GROUP) -> dict[str, Any]:
    return {
        "ModelPackageArn": version_arn(group, 3),
        "ModelPackageGroupName": group,
        "ModelPackageVersion": 3,
        "ModelApprovalStatus": status,
        "LastModifiedTime": modified,
    }


def test_an_approval_becomes_a_deploy_input_and_a_name_that_repeats_for_duplicates() -> None:
    event = {
        "detail-type": model_registry.STATE_CHANGE_DETAIL_TYPE,
        "detail": {"ModelPackageArn": version_arn(GROUP, 3)},
    }
    planned = model_registry.deploy_for_approval(event, described(), SETTINGS)
    assert planned is not None
    name, payload = planned
    assert payload == {
        "ModelPackageArn": version_arn(GROUP, 3),
        "EndpointName": "churn",
        "InstanceType": "ml.m5.xlarge",
        "InitialInstanceCount": 1,
    }
    validate_deploy_input(payload, POLICY)  # what the deploy state machine's first state accepts
    assert name.startswith("approved-nlp-churn-v3-") and len(name) <= 80
    assert model_registry.deploy_for_approval(event, described(), SETTINGS) == planned
    reapproved = model_registry.deploy_for_approval(event, described(modified="2026-02-01T08:00:00Z"), SETTINGS)
    assert reapproved is not None and reapproved[0] != name
    assert model_registry.deploy_for_approval(event, described("Rejected"), SETTINGS) is None
    assert model_registry.deploy_for_approval(event, described(group="nlp-other"), SETTINGS) is None


def test_the_rule_matches_approvals_of_the_auto_deploy_groups_only() -> None:
    from tunestack.simulator.deployment import matches

    pattern = model_registry.approval_event_pattern([GROUP])
    event = {
        "source": "aws.sagemaker",
        "detail-type": "SageMaker Model Package State Change",
        "detail": {"ModelPackageGroupName": GROUP, "ModelApprovalStatus": "Approved"},
    }
    assert matches(pattern, event)
    assert not matches(
        pattern, {**event, "detail": {**event["detail"], "ModelApprovalStatus": "PendingManualApproval"}}
    )
    assert not matches(pattern, {**event, "detail": {**event["detail"], "ModelPackageGroupName": "cv-models"}})


def test_metadata_keeps_within_the_service_limits() -> None:
    source = model_registry.ModelSource("job", None, "img", "s3://b/m", {MODEL_TAG: "xgboost:1.7-1"})

    def metadata(hyperparameters: dict[str, str]) -> dict[str, str]:
        return model_registry.customer_metadata(
            team="nlp",
            execution=dataclasses.replace(RUN, arn=RUN.arn + "(1)"),
            pipeline="tune",
            source=source,
            dataset=None,
            statistics_uri="s3://b/k.json",
            network_isolation=False,
            hyperparameters=hyperparameters,
        )

    few = metadata({"epochs": "3", "note": "a(b)", "empty": ""})
    assert few["hp:epochs"] == "3" and "hp:note" not in few and "hp:empty" not in few
    assert few["tunestack:network-isolation"] == "false" and few["tunestack:execution"].endswith("_1_")
    assert "tunestack:tuning-job" not in few and "tunestack:dataset" not in few  # values have 1 character at least
    many = metadata({f"h{i:03d}": str(i) for i in range(100)})
    assert len(many) == 50
    key, value = (SERVICE.shape_for("CustomerMetadataMap").key, SERVICE.shape_for("CustomerMetadataMap").value)
    for name, text in many.items():
        assert regex.fullmatch(key.metadata["pattern"], name) and regex.fullmatch(value.metadata["pattern"], text)
        assert len(name) <= key.metadata["max"] and 1 <= len(text) <= value.metadata["max"]
    problems = Problems()
    model_registry.parse_register({}, "nlp", problems)
    assert problems.shape == [] and problems.policy == []
