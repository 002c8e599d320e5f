"""No role of one team can reach another team's bucket, key, state machines or jobs: every
statement of a team's stacks names only its own resources (by reference, never by a literal name
another team could own), and SageMaker access is held to the team's tag."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Template

from tests.test_foundation_stack import as_list, policy_statements

TEAMS = {"vision": "nlp", "nlp": "vision"}
#: SageMaker calls granted on "*": Search ("Auto" warm start) filters on the team tag itself, and
#: only the team's tuning jobs can then be described; ListModelPackages (the register step finding
#: a retried run's version) returns summaries, and only the team's versions can then be described.
UNSCOPED_SAGEMAKER = {"sagemaker:Search", "sagemaker:ListModelPackages"}
#: AWS's JumpStart buckets of the region (public, and private for gated models): shared by design.
SHARED_BUCKETS = ("arn:aws:s3:::jumpstart-cache-prod-", "arn:aws:s3:::jumpstart-private-cache-prod-")


def team_statements(foundation: Template, pipelines: Template) -> list[dict[str, Any]]:
    return [s for t in (foundation, pipelines) for s in policy_statements(t) if s.get("Effect", "Allow") == "Allow"]


def is_reference(resource: Any) -> bool:
    """A Ref / GetAtt / Join built from them: resolved within the team's own stacks."""
    return isinstance(resource, dict)


@pytest.mark.parametrize(("team", "other"), TEAMS.items())
def test_no_statement_names_another_team(
    foundation_templates: dict[str, Template], pipelines_templates: dict[str, Template], team: str, other: str
) -> None:
    for template in (foundation_templates[team], pipelines_templates[team]):
        text = json.dumps(template.to_json())
        assert f"tunestack-{other}" not in text and f"/tunestack/{other}/" not in text
        assert f'"aws:ResourceTag/tunestack:team": "{other}"' not in text


@pytest.mark.parametrize(("team", "other"), TEAMS.items())
def test_data_key_and_state_machines_are_only_the_teams_own(
    foundation_templates: dict[str, Template], pipelines_templates: dict[str, Template], team: str, other: str
) -> None:
    for statement in team_statements(foundation_templates[team], pipelines_templates[team]):
        actions = as_list(statement["Action"])
        resources = as_list(statement["Resource"])
        services = {a.split(":")[0] for a in actions}
        if services & {"s3", "kms", "states", "dynamodb", "sns", "sqs"}:
            for resource in resources:
                assert resource != "*", statement
                assert is_reference(resource) or json.dumps(resource).strip('"').startswith(SHARED_BUCKETS), statement


@pytest.mark.parametrize(("team", "other"), TEAMS.items())
def test_sagemaker_access_is_held_to_the_teams_tag(
    foundation_templates: dict[str, Template], pipelines_templates: dict[str, Template], team: str, other: str
) -> None:
    for statement in team_statements(foundation_templates[team], pipelines_templates[team]):
        actions = {a for a in as_list(statement["Action"]) if a.startswith("sagemaker:")}
        if not actions or actions <= UNSCOPED_SAGEMAKER:
            continue
        tags = {
            value
            for operator in statement.get("Condition", {}).values()
            for key, value in operator.items()
            if key in {"aws:ResourceTag/tunestack:team", "aws:RequestTag/tunestack:team"}
        }
        if statement.get("Effect") == "Deny":
            continue
        if _only_the_teams_model_packages(statement, team):
            continue
        assert tags == {team}, statement


def _only_the_teams_model_packages(statement: dict[str, Any], team: str) -> bool:
    """Model package versions cannot carry tags (CreateModelPackage refuses them in a group), so
    the registry's statements are held to the team by name: its groups are ``<team>-*``, created
    only with the team's tag (tests/test_registry_requests.py)."""
    names = (f"model-package-group/{team}-*", f"model-package/{team}-*/*")
    resources = [json.dumps(r) for r in as_list(statement["Resource"])]
    return all(
        (a.startswith("sagemaker:") and "ModelPackage" in a) or a == "sagemaker:ListTags"
        for a in as_list(statement["Action"])
    ) and all(any(name in r for name in names) for r in resources)


@pytest.mark.parametrize("team", TEAMS)
def test_the_team_key_trusts_only_its_account_and_services_of_it(
    foundation_templates: dict[str, Template], team: str
) -> None:
    (key,) = foundation_templates[team].find_resources("AWS::KMS::Key").values()
    for statement in key["Properties"]["KeyPolicy"]["Statement"]:
        principal = json.dumps(statement["Principal"])
        assert "AWS::AccountId" in principal or "111122223333" in principal or "Service" in statement["Principal"]
        if "Service" in statement["Principal"]:
            assert "Condition" in statement, statement  # services act for this account only
