"""The model registry's IAM statements, proven with concrete requests: team A (``nlp``) registers in,
reads and deploys from its own groups; team B's (``cv``) are denied; a group without the team tag
is never created. Policy documents come from the functions, in a bare stack, concretized and
evaluated under the rules of ``tests/iam_evaluation.py``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam

from tests.iam_documents import ACCOUNT, REGION, concrete
from tests.iam_evaluation import Request, evaluate
from tunestack.constructs import registry_statements

A, B = "nlp", "cv"
TEAM_TAG = "tunestack:team"


def document(make: Callable[..., list[iam.PolicyStatement]], **kwargs: Any) -> dict[str, Any]:
    stack = cdk.Stack(cdk.App(), "Bare", env=cdk.Environment(account=ACCOUNT, region=REGION))
    policy = iam.PolicyDocument(statements=make(stack, A, **kwargs))
    resolved = stack.resolve(policy.to_json())
    return concrete(resolved, {"Resources": {}, "__env__": (ACCOUNT, REGION)})  # type: ignore[no-any-return]


def group(name: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package-group/{name}"


def version(name: str, number: int = 1) -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{name}/{number}"


def allowed(doc: dict[str, Any], request: Request) -> bool:
    return evaluate([doc], request) == "Allow"


@pytest.fixture(scope="module")
def register() -> dict[str, Any]:
    return document(registry_statements.register_statements)


def test_a_team_creates_only_its_own_groups_and_only_with_its_tag(register: dict[str, Any]) -> None:
    tagged = {f"aws:RequestTag/{TEAM_TAG}": A, "aws:TagKeys": [TEAM_TAG]}
    assert allowed(register, Request("sagemaker:CreateModelPackageGroup", group("nlp-churn"), tagged))
    assert not allowed(register, Request("sagemaker:CreateModelPackageGroup", group("cv-churn"), tagged))
    assert not allowed(register, Request("sagemaker:CreateModelPackageGroup", group("nlp-churn")))  # no team tag
    as_b = {f"aws:RequestTag/{TEAM_TAG}": B, "aws:TagKeys": [TEAM_TAG]}
    assert not allowed(register, Request("sagemaker:CreateModelPackageGroup", group("nlp-churn"), as_b))


def test_tags_are_added_only_by_the_create_call(register: dict[str, Any]) -> None:
    on_create = {
        f"aws:RequestTag/{TEAM_TAG}": A,
        "aws:TagKeys": [TEAM_TAG],
        "sagemaker:TaggingAction": "CreateModelPackageGroup",
    }
    assert allowed(register, Request("sagemaker:AddTags", group("nlp-churn"), on_create))
    direct = {k: v for k, v in on_create.items() if k != "sagemaker:TaggingAction"}
    assert not allowed(register, Request("sagemaker:AddTags", group("nlp-churn"), direct))
    assert not allowed(register, Request("sagemaker:AddTags", group("cv-churn"), on_create))
    handing_over = {**on_create, f"aws:RequestTag/{TEAM_TAG}": B}
    assert not allowed(register, Request("sagemaker:AddTags", group("nlp-churn"), handing_over))


@pytest.mark.parametrize("resource", [group("nlp-churn"), version("nlp-churn", 4)])
def test_versions_are_registered_in_the_teams_groups_only(register: dict[str, Any], resource: str) -> None:
    pending = {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}
    assert allowed(register, Request("sagemaker:CreateModelPackage", resource, pending))
    theirs = resource.replace("/nlp-churn", "/cv-churn")
    assert not allowed(register, Request("sagemaker:CreateModelPackage", theirs, pending))
    rejected = {"sagemaker:ModelApprovalStatus": "Rejected"}
    assert not allowed(register, Request("sagemaker:CreateModelPackage", resource, rejected))
    assert not allowed(register, Request("sagemaker:CreateModelPackage", resource))  # the status is always given


def test_a_team_that_may_not_self_approve_registers_pending_only() -> None:
    pending_only = document(registry_statements.register_statements, statuses=["PendingManualApproval"])
    approved = {"sagemaker:ModelApprovalStatus": "Approved"}
    assert not allowed(pending_only, Request("sagemaker:CreateModelPackage", group("nlp-churn"), approved))
    with pytest.raises(ValueError, match=r"statuses: .* got \['Rejected'\]"):
        document(registry_statements.register_statements, statuses=["Rejected"])


def test_the_pipelines_never_approve(register: dict[str, Any]) -> None:
    approve = {"sagemaker:ModelApprovalStatus": "Approved"}
    assert not allowed(register, Request("sagemaker:UpdateModelPackage", version("nlp-churn"), approve))


@pytest.mark.parametrize("make", [registry_statements.register_statements, registry_statements.deploy_statements])
def test_only_the_teams_groups_and_versions_are_read(make: Callable[..., list[iam.PolicyStatement]]) -> None:
    doc = document(make)
    assert allowed(doc, Request("sagemaker:DescribeModelPackage", version("nlp-churn", 7)))
    assert not allowed(doc, Request("sagemaker:DescribeModelPackage", version("cv-churn", 7)))
    assert allowed(doc, Request("sagemaker:DescribeModelPackageGroup", group("nlp-churn")))
    assert not allowed(doc, Request("sagemaker:DescribeModelPackageGroup", group("cv-churn")))
    assert allowed(doc, Request("sagemaker:ListTags", group("nlp-churn")))
    assert not allowed(doc, Request("sagemaker:ListTags", group("cv-churn")))
    # a group of another team whose name only starts like ours: "nlpx-" is not "nlp-"
    assert not allowed(doc, Request("sagemaker:DescribeModelPackage", version("nlpx-churn", 1)))


def test_deploy_creates_nothing_in_the_registry() -> None:
    doc = document(registry_statements.deploy_statements)
    pending = {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}
    assert not allowed(doc, Request("sagemaker:CreateModelPackage", group("nlp-churn"), pending))
    assert not allowed(doc, Request("sagemaker:ListModelPackages", "*"))


def test_reviewers_approve_or_reject_the_teams_versions_only() -> None:
    doc = document(registry_statements.review_statements)
    for status in ("Approved", "Rejected"):
        context = {"sagemaker:ModelApprovalStatus": status}
        assert allowed(doc, Request("sagemaker:UpdateModelPackage", version("nlp-churn", 2), context))
        assert not allowed(doc, Request("sagemaker:UpdateModelPackage", version("cv-churn", 2), context))


def test_the_one_wildcard_is_list_model_packages(register: dict[str, Any]) -> None:
    wildcards = [
        s
        for s in register["Statement"]
        if "*" in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
    ]
    assert [(s["Sid"], s["Action"]) for s in wildcards] == [("ListModelPackages", "sagemaker:ListModelPackages")]
    assert all("sagemaker:*" not in str(s["Action"]) for s in register["Statement"])


# --- the synthesized functions' roles ------------------------------------------------------------


def synthesized_role(synthesized: Any, role_id: str) -> list[dict[str, Any]]:
    """The documents of one role of the vision team's synthesized pipelines stack."""
    from tests.iam_documents import role

    return role(synthesized.outdir, "tunestack-vision-pipelines", role_id)


def vision(kind: str, name: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:{kind}/{name}"


@pytest.mark.parametrize("pipeline", ["FineTune", "Tune"])
def test_the_register_functions_role_creates_versions_only_in_the_teams_groups(synthesized: Any, pipeline: str) -> None:
    documents = synthesized_role(synthesized, f"{pipeline}RegistryRegisterRole")
    status = {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}
    create = "sagemaker:CreateModelPackage"
    assert evaluate(documents, Request(create, vision("model-package", "vision-models/1"), status)) == "Allow"
    assert evaluate(documents, Request(create, vision("model-package-group", "vision-models"), status)) == "Allow"
    assert evaluate(documents, Request(create, vision("model-package", "nlp-models/1"), status)) != "Allow"
    rejected = {"sagemaker:ModelApprovalStatus": "Rejected"}
    assert evaluate(documents, Request(create, vision("model-package", "vision-models/1"), rejected)) != "Allow"
    # It never approves or rejects: that is a reviewer's.
    update = Request("sagemaker:UpdateModelPackage", vision("model-package", "vision-models/1"), {})
    assert evaluate(documents, update) != "Allow"
    describe = "sagemaker:DescribeModelPackageGroup"
    assert evaluate(documents, Request(describe, vision("model-package-group", "vision-models"))) == "Allow"
    assert evaluate(documents, Request(describe, vision("model-package-group", "nlp-models"))) != "Allow"


def test_deploys_first_state_reads_only_the_teams_versions(synthesized: Any) -> None:
    documents = synthesized_role(synthesized, "DeployValidateRole")
    read = "sagemaker:DescribeModelPackage"
    assert evaluate(documents, Request(read, vision("model-package", "vision-models/3"))) == "Allow"
    assert evaluate(documents, Request(read, vision("model-package", "nlp-models/3"))) != "Allow"
    for action in ("sagemaker:CreateModelPackage", "sagemaker:UpdateModelPackage"):
        assert evaluate(documents, Request(action, vision("model-package", "vision-models/3"), {})) != "Allow"


def _managed_policy(synthesized: Any, stack: str, name: str) -> list[dict[str, Any]]:
    from tests.iam_documents import concrete, template

    t = template(synthesized.outdir, stack)
    (policy,) = [
        r["Properties"]
        for r in t["Resources"].values()
        if r["Type"] == "AWS::IAM::ManagedPolicy" and r["Properties"].get("ManagedPolicyName") == name
    ]
    return [concrete(policy["PolicyDocument"], t, synthesized.outdir)]


def test_the_teams_reviewers_approve_its_versions_and_no_others(synthesized: Any) -> None:
    """The synthesized tunestack-vision-model-reviewer policy: approve or reject vision's versions
    only; the data scientists' policy cannot approve at all (who trains does not approve)."""
    reviewer = _managed_policy(synthesized, "tunestack-vision-pipelines", "tunestack-vision-model-reviewer")
    update = "sagemaker:UpdateModelPackage"
    for status in ("Approved", "Rejected"):
        context = {"sagemaker:ModelApprovalStatus": status}
        assert evaluate(reviewer, Request(update, vision("model-package", "vision-models/1"), context)) == "Allow"
        assert evaluate(reviewer, Request(update, vision("model-package", "nlp-models/1"), context)) != "Allow"
    read = Request("sagemaker:DescribeModelPackage", vision("model-package", "vision-models/1"))
    assert evaluate(reviewer, read) == "Allow"
    create = Request("sagemaker:CreateModelPackage", vision("model-package-group", "vision-models"), {})
    assert evaluate(reviewer, create) != "Allow"
    scientists = _managed_policy(synthesized, "tunestack-vision-pipelines", "tunestack-vision-data-scientist")
    approve = {"sagemaker:ModelApprovalStatus": "Approved"}
    assert evaluate(scientists, Request(update, vision("model-package", "vision-models/1"), approve)) != "Allow"
