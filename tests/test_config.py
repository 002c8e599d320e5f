"""Team configuration: every rule stops synth with a message naming the team and the field."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tunestack.app.config import TeamConfigError, allow_destroy, load_teams


def team(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "search",
        "allowedInstanceTypes": {"training": ["ml.g5.xlarge", "ml.m5.xlarge"], "hosting": ["ml.m5.large"]},
        "defaultInstanceTypes": {"training": "ml.g5.xlarge", "hosting": "ml.m5.large"},
        "limits": {
            "maxInstanceCount": 2,
            "maxRuntimeInSeconds": 3600,
            "maxTrainingJobsPerTuningJob": 10,
            "maxParallelTrainingJobs": 2,
        },
    }
    base.update(copy.deepcopy(overrides))
    return base


def problems_of(teams: Any) -> list[str]:
    with pytest.raises(TeamConfigError) as caught:
        load_teams(teams)
    return caught.value.problems


def test_shipped_cdk_json_teams_are_valid(context: dict[str, Any]) -> None:
    teams = load_teams(context["teams"])
    assert [t.name for t in teams] == ["vision", "nlp"]
    vision, nlp = teams
    assert vision.allowed_instance_types.training != nlp.allowed_instance_types.training
    assert vision.limits != nlp.limits
    assert vision.vpc is None and nlp.vpc is not None
    assert nlp.vpc.subnet_ids == ("subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002")
    assert (vision.notify_on_success, nlp.notify_on_success) == (True, False)


@pytest.mark.parametrize(("overrides", "expected"), [({}, False), ({"notifyOnSuccess": True}, True)])
def test_notify_on_success_is_off_unless_asked(overrides: dict[str, Any], expected: bool) -> None:
    (parsed,) = load_teams([team(**overrides)])
    assert parsed.notify_on_success is expected


@pytest.mark.parametrize("value", ["true", 1, None, [True]])
def test_notify_on_success_must_be_a_boolean(value: object) -> None:
    (problem,) = problems_of([team(notifyOnSuccess=value)])
    assert problem == (f"team 'search' (teams[0]): field 'notifyOnSuccess': must be true or false, got {value!r}")


def test_valid_team_parses_into_typed_config() -> None:
    (parsed,) = load_teams([team(account="123456789012", region="eu-central-1")])
    assert parsed.name == "search"
    assert parsed.account == "123456789012" and parsed.region == "eu-central-1"
    assert parsed.default_instance_types.training == "ml.g5.xlarge"
    assert parsed.limits.max_parallel_training_jobs == 2
    assert parsed.stack_prefix == "tunestack-search"


@pytest.mark.parametrize(
    ("teams", "expected"),
    [
        (None, r"'teams': must be a non-empty list"),
        ([], r"'teams': must be a non-empty list"),
        ({"name": "x"}, r"'teams': must be a non-empty list"),
        (["search"], r"teams\[0\]: must be an object"),
    ],
)
def test_teams_must_be_a_non_empty_list_of_objects(teams: Any, expected: str) -> None:
    with pytest.raises(TeamConfigError, match=expected):
        load_teams(teams)


@pytest.mark.parametrize(
    ("overrides", "field", "why"),
    [
        ({"name": "Search"}, "'name'", "lowercase"),
        ({"name": "a"}, "'name'", "2-12"),
        ({"name": "averyveryverylongname"}, "'name'", "2-12"),
        ({"name": "my-team"}, "'name'", "lowercase letters or digits"),
        ({"name": 7}, "'name'", "got 7"),
        ({"colour": "blue"}, "'colour'", "unknown field"),
        ({"account": "12345"}, "'account'", "12-digit"),
        ({"region": "Europe"}, "'region'", "AWS region"),
        ({"allowedInstanceTypes": ["ml.m5.xlarge"]}, "'allowedInstanceTypes'", "must be an object"),
        (
            {"allowedInstanceTypes": {"training": [], "hosting": ["ml.m5.large"]}},
            "'allowedInstanceTypes.training'",
            "non-empty list",
        ),
        (
            {"allowedInstanceTypes": {"training": ["p3.2xlarge"], "hosting": ["ml.m5.large"]}},
            "'allowedInstanceTypes.training'",
            "not SageMaker instance types",
        ),
        (
            {"allowedInstanceTypes": {"training": ["ml.g5.xlarge"], "hosting": ["ml.m5.large", "ml.m5.large"]}},
            "'allowedInstanceTypes.hosting'",
            "twice",
        ),
        (
            {"allowedInstanceTypes": {"training": ["ml.g5.xlarge"], "hosting": ["ml.m5.large"], "gpu": []}},
            "'allowedInstanceTypes.gpu'",
            "unknown field",
        ),
        (
            {"defaultInstanceTypes": {"training": "ml.p4d.24xlarge", "hosting": "ml.m5.large"}},
            "'defaultInstanceTypes.training'",
            "not in allowedInstanceTypes.training",
        ),
        (
            {"defaultInstanceTypes": {"training": "ml.g5.xlarge"}},
            "'defaultInstanceTypes.hosting'",
            "must be an instance type",
        ),
        ({"limits": 5}, "'limits'", "must be an object"),
        (
            {"limits": {**team()["limits"], "maxInstanceCount": 0}},
            "'limits.maxInstanceCount'",
            "positive integer",
        ),
        (
            {"limits": {**team()["limits"], "maxInstanceCount": True}},
            "'limits.maxInstanceCount'",
            "positive integer",
        ),
        (
            {"limits": {**team()["limits"], "maxRuntimeInSeconds": 2419201}},
            "'limits.maxRuntimeInSeconds'",
            "exceeds SageMaker's maximum of 2419200",
        ),
        (
            {"limits": {**team()["limits"], "maxParallelTrainingJobs": 11}},
            "'limits.maxParallelTrainingJobs'",
            "exceeds limits.maxTrainingJobsPerTuningJob",
        ),
        (
            {"limits": {**team()["limits"], "maxGpus": 8}},
            "'limits.maxGpus'",
            "unknown field",
        ),
        (
            {"limits": {k: v for k, v in team()["limits"].items() if k != "maxTrainingJobsPerTuningJob"}},
            "'limits.maxTrainingJobsPerTuningJob'",
            "positive integer",
        ),
        ({"vpc": "vpc-0a1b2c3d"}, "'vpc'", "must be an object"),
        (
            {
                "vpc": {
                    "vpcId": "vpc-xyz",
                    "subnetIds": ["subnet-0a1b2c3d", "subnet-0a1b2c3e"],
                    "availabilityZones": ["eu-west-1a", "eu-west-1b"],
                }
            },
            "'vpc.vpcId'",
            "VPC id",
        ),
        (
            {"vpc": {"vpcId": "vpc-0a1b2c3d", "subnetIds": ["subnet-0a1b2c3d"], "availabilityZones": ["eu-west-1a"]}},
            "'vpc.subnetIds'",
            "at least two subnet ids",
        ),
        (
            {
                "vpc": {
                    "vpcId": "vpc-0a1b2c3d",
                    "subnetIds": ["subnet-0a1b2c3d", "subnet-0a1b2c3e"],
                    "availabilityZones": ["eu-west-1a"],
                }
            },
            "'vpc.availabilityZones'",
            "one zone per subnet",
        ),
        (
            {
                "vpc": {
                    "vpcId": "vpc-0a1b2c3d",
                    "subnetIds": ["subnet-0a1b2c3d", "subnet-0a1b2c3e"],
                    "availabilityZones": ["eu-west-1a", "eu-west-1a"],
                }
            },
            "'vpc.availabilityZones'",
            "at least two zones",
        ),
        (
            {
                "vpc": {
                    "vpcId": "vpc-0a1b2c3d",
                    "subnetIds": ["subnet-0a1b2c3d", "subnet-0a1b2c3e"],
                    "availabilityZones": ["eu-west-1a", "eu-west-1b"],
                    "routeTables": [],
                }
            },
            "'vpc.routeTables'",
            "unknown field",
        ),
    ],
)
def test_each_bad_field_is_named_with_its_team(overrides: dict[str, Any], field: str, why: str) -> None:
    problems = problems_of([team(**overrides)])
    matching = [p for p in problems if f"field {field}" in p]
    assert matching, problems
    assert why in matching[0]
    assert matching[0].startswith("team ")


def test_problem_names_the_team_and_its_position() -> None:
    problems = problems_of([team(), team(name="ads", limits={"maxInstanceCount": -1})])
    assert problems[0].startswith("team 'ads' (teams[1]): field 'limits")


def test_all_problems_are_reported_at_once() -> None:
    problems = problems_of([team(name="X", account="1", limits={})])
    fields = {p.split("field ", 1)[1].split(":", 1)[0] for p in problems}
    assert {"'name'", "'account'", "'limits.maxInstanceCount'", "'limits.maxParallelTrainingJobs'"} <= fields


def test_duplicate_team_names_are_rejected() -> None:
    with pytest.raises(TeamConfigError, match=r"team 'search' \(teams\[1\]\): field 'name': duplicate"):
        load_teams([team(), team()])


def test_error_message_lists_every_problem() -> None:
    with pytest.raises(TeamConfigError) as caught:
        load_teams([team(name="BAD", region="nowhere")])
    assert "invalid tunestack team configuration" in str(caught.value)
    assert str(caught.value).count("\n  - ") == 2


@pytest.mark.parametrize(
    ("value", "expected"), [(True, True), ("true", True), (None, False), ("yes", False), (1, False)]
)
def test_allow_destroy_needs_an_explicit_true(value: Any, expected: bool) -> None:
    assert allow_destroy(value) is expected


def _build(teams: list[dict[str, Any]], **context: Any) -> Any:
    import aws_cdk as cdk

    from tunestack.app.factory import build_app

    app = cdk.App(context={"teams": teams, **context})
    built = build_app(app)
    return app, built


def test_a_team_that_would_need_an_aws_look_up_names_the_field_that_avoids_it() -> None:
    """account + region and no vpc: the created VPC's zones could only be looked up in the account."""
    with pytest.raises(TeamConfigError) as caught:
        _build([team(), team(name="ads", account="111122223333", region="eu-west-1")])
    (problem,) = caught.value.problems
    assert problem.startswith("team 'ads' (teams[1]): field 'availabilityZones': required when 'account' and 'region'")
    assert '["eu-west-1a", "eu-west-1b"]' in problem and "'vpc'" in problem


def test_named_zones_synthesize_without_any_look_up() -> None:
    zones = ["eu-west-1b", "eu-west-1c"]
    app, (stacks,) = _build([team(account="111122223333", region="eu-west-1", availabilityZones=zones)])
    assembly = app.synth()
    manifest = json.loads((Path(assembly.directory) / "manifest.json").read_text())
    assert "missing" not in manifest  # nothing for the CLI to look up
    template = assembly.get_stack_artifact(stacks.foundation.artifact_id).template
    subnets = [r for r in template["Resources"].values() if r["Type"] == "AWS::EC2::Subnet"]
    assert sorted(s["Properties"]["AvailabilityZone"] for s in subnets) == zones


def test_a_cached_look_up_needs_no_zones() -> None:
    cached = {"availability-zones:account=111122223333:region=eu-west-1": ["eu-west-1a", "eu-west-1b"]}
    _, (stacks,) = _build([team(account="111122223333", region="eu-west-1")], **cached)
    assert stacks.foundation.network.vpc.availability_zones == ["eu-west-1a", "eu-west-1b"]


@pytest.mark.parametrize(
    ("overrides", "why"),
    [
        ({"availabilityZones": ["eu-west-1a"]}, "at least two availability zones"),
        ({"availabilityZones": ["eu-west-1a", "eu-west-1a"]}, "lists a zone twice"),
        ({"region": "eu-west-1", "availabilityZones": ["us-east-1a", "us-east-1b"]}, "must be in region 'eu-west-1'"),
        (
            {
                "availabilityZones": ["eu-west-1a", "eu-west-1b"],
                "vpc": {
                    "vpcId": "vpc-0a1b2c3d",
                    "subnetIds": ["subnet-0a1b2c3d", "subnet-0a1b2c3e"],
                    "availabilityZones": ["eu-west-1a", "eu-west-1b"],
                },
            },
            "only for a created VPC",
        ),
    ],
)
def test_bad_zones_are_named(overrides: dict[str, Any], why: str) -> None:
    problems = problems_of([team(**overrides)])
    assert any("field 'availabilityZones'" in p and why in p for p in problems), problems


# --- the model registry ------------------------------------------------------------------------


def test_the_shipped_nlp_team_registers_and_deploys_on_approval(context: dict[str, Any]) -> None:
    vision, nlp = load_teams(context["teams"])
    assert vision.model_registry.default_group is None and vision.model_registry.auto_deploy == ()
    assert nlp.model_registry.default_group == "nlp-models"
    assert nlp.model_registry.default_approval_status == "PendingManualApproval"
    (rule,) = nlp.model_registry.auto_deploy
    assert (rule.group, rule.endpoint_name, rule.instance_type) == ("nlp-production", "nlp-production", "ml.m5.xlarge")


def test_model_registry_settings_parse() -> None:
    (parsed,) = load_teams(
        [
            team(
                modelRegistry={
                    "defaultModelPackageGroup": "search-rankers",
                    "defaultApprovalStatus": "Approved",
                    "autoDeploy": [{"modelPackageGroup": "search-live", "endpointName": "ranker"}],
                }
            )
        ]
    )
    registry = parsed.model_registry
    assert registry.default_group == "search-rankers" and registry.default_approval_status == "Approved"
    (rule,) = registry.auto_deploy
    assert (rule.group, rule.endpoint_name, rule.instance_type, rule.initial_instance_count) == (
        "search-live",
        "ranker",
        None,
        1,
    )
    (plain,) = load_teams([team()])
    assert plain.model_registry.default_group is None and plain.model_registry.auto_deploy == ()


@pytest.mark.parametrize(
    ("registry", "field", "why"),
    [
        ([], "'modelRegistry'", "must be an object"),
        ({"groups": []}, "'modelRegistry.groups'", "unknown field"),
        ({"defaultModelPackageGroup": "ads-models"}, "'modelRegistry.defaultModelPackageGroup'", "prefix 'search-'"),
        ({"defaultModelPackageGroup": "search_models"}, "'modelRegistry.defaultModelPackageGroup'", "1-63 letters"),
        ({"defaultApprovalStatus": "Rejected"}, "'modelRegistry.defaultApprovalStatus'", "got 'Rejected'"),
        ({"autoDeploy": {}}, "'modelRegistry.autoDeploy'", "must be a list"),
        (
            {"autoDeploy": [{"modelPackageGroup": "search-live", "endpointName": "e", "region": "x"}]},
            "'modelRegistry.autoDeploy[0].region'",
            "unknown field",
        ),
        (
            {"autoDeploy": [{"modelPackageGroup": "search-live", "endpointName": "a_b"}]},
            "'modelRegistry.autoDeploy[0].endpointName'",
            "endpoint name",
        ),
        (
            {"autoDeploy": [{"modelPackageGroup": "search-live", "endpointName": "e", "instanceType": "ml.g5.xlarge"}]},
            "'modelRegistry.autoDeploy[0].instanceType'",
            "not in allowedInstanceTypes.hosting",
        ),
        (
            {"autoDeploy": [{"modelPackageGroup": "search-live", "endpointName": "e", "initialInstanceCount": 3}]},
            "'modelRegistry.autoDeploy[0].initialInstanceCount'",
            "exceeds limits.maxInstanceCount (2)",
        ),
        (
            {
                "autoDeploy": [
                    {"modelPackageGroup": "search-live", "endpointName": "a"},
                    {"modelPackageGroup": "search-live", "endpointName": "b"},
                ]
            },
            "'modelRegistry.autoDeploy[1].modelPackageGroup'",
            "listed twice",
        ),
    ],
)
def test_each_bad_model_registry_field_is_named_with_its_team(registry: Any, field: str, why: str) -> None:
    problems = problems_of([team(modelRegistry=registry)])
    matching = [p for p in problems if f"field {field}" in p]
    assert matching, problems
    assert why in matching[0] and matching[0].startswith("team 'search' (teams[0])")
