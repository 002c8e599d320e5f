"""The request evaluator's rules, each checked on an example of AWS's IAM documentation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.iam_evaluation import Request, evaluate


def policy(*statements: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"Version": "2012-10-17", "Statement": list(statements)}]


ALLOW_S3 = {"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::bucket/*"}


def test_an_allow_is_needed_and_an_explicit_deny_wins() -> None:
    get = Request("s3:GetObject", "arn:aws:s3:::bucket/key")
    assert evaluate(policy(ALLOW_S3), get) == "Allow"
    assert evaluate(policy(ALLOW_S3), Request("s3:PutObject", "arn:aws:s3:::bucket/key")) == "ImplicitDeny"
    deny = {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}
    assert evaluate(policy(ALLOW_S3, deny), get) == "ExplicitDeny"


def test_actions_ignore_case_and_resources_do_not() -> None:
    assert evaluate(policy(ALLOW_S3), Request("S3:getobject", "arn:aws:s3:::bucket/key")) == "Allow"
    assert evaluate(policy(ALLOW_S3), Request("s3:GetObject", "arn:aws:s3:::BUCKET/key")) == "ImplicitDeny"


def test_not_action_matches_everything_else() -> None:
    statement = {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}
    assert evaluate(policy(statement), Request("s3:ListBucket", "arn:aws:s3:::b")) == "Allow"
    assert evaluate(policy(statement), Request("iam:PassRole", "arn:aws:iam::1:role/r")) == "ImplicitDeny"


def test_absent_key_makes_a_condition_false_unless_negated_or_if_exists() -> None:
    """The guide: a missing key does not match, except that a negated operator is then true."""
    equals = {**ALLOW_S3, "Condition": {"StringEquals": {"aws:PrincipalTag/team": "a"}}}
    not_equals = {**ALLOW_S3, "Condition": {"StringNotEquals": {"aws:PrincipalTag/team": "a"}}}
    if_exists = {**ALLOW_S3, "Condition": {"StringEqualsIfExists": {"aws:PrincipalTag/team": "a"}}}
    bare = Request("s3:GetObject", "arn:aws:s3:::bucket/key")
    assert evaluate(policy(equals), bare) == "ImplicitDeny"
    assert evaluate(policy(not_equals), bare) == "Allow"
    assert evaluate(policy(if_exists), bare) == "Allow"
    tagged_b = Request("s3:GetObject", "arn:aws:s3:::bucket/key", {"aws:principaltag/team": "b"})
    assert evaluate(policy(if_exists), tagged_b) == "ImplicitDeny"
    assert evaluate(policy(not_equals), tagged_b) == "Allow"


def test_for_all_values_is_true_on_an_absent_key_and_null_guards_it() -> None:
    """The guide's warning: ForAllValues with a missing key returns true; pair it with Null."""
    types = {"ForAllValues:StringEquals": {"sagemaker:InstanceTypes": ["ml.m5.xlarge"]}}
    guarded = {**types, "Null": {"sagemaker:InstanceTypes": "false"}}
    create = "arn:aws:sagemaker:us-east-1:1:training-job/j"
    bare = Request("sagemaker:CreateTrainingJob", create)
    assert (
        evaluate(policy({"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*", "Condition": types}), bare)
        == "Allow"
    )
    assert (
        evaluate(policy({"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*", "Condition": guarded}), bare)
        == "ImplicitDeny"
    )
    two = Request(
        "sagemaker:CreateTrainingJob", create, {"sagemaker:InstanceTypes": ["ml.m5.xlarge", "ml.p5.48xlarge"]}
    )
    assert evaluate(
        policy({"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*", "Condition": guarded}), two
    ) == ("ImplicitDeny")


def test_for_any_value_is_false_on_an_absent_key() -> None:
    statement = {**ALLOW_S3, "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}}}
    assert evaluate(policy(statement), Request("s3:GetObject", "arn:aws:s3:::bucket/k")) == "ImplicitDeny"
    tagged = Request("s3:GetObject", "arn:aws:s3:::bucket/k", {"aws:TagKeys": ["owner", "team"]})
    assert evaluate(policy(statement), tagged) == "Allow"


def test_values_of_one_key_are_or_and_keys_are_and() -> None:
    statement = {
        **ALLOW_S3,
        "Condition": {"StringEquals": {"aws:RequestTag/team": ["a", "b"], "aws:RequestTag/env": "prod"}},
    }
    assert (
        evaluate(
            policy(statement),
            Request(
                "s3:GetObject", "arn:aws:s3:::bucket/k", {"aws:RequestTag/team": "b", "aws:RequestTag/env": "prod"}
            ),
        )
        == "Allow"
    )
    assert (
        evaluate(
            policy(statement),
            Request("s3:GetObject", "arn:aws:s3:::bucket/k", {"aws:RequestTag/team": "b", "aws:RequestTag/env": "dev"}),
        )
        == "ImplicitDeny"
    )


@pytest.mark.parametrize(
    ("operator", "given", "expected"),
    [
        ("ArnEquals", "arn:aws:kms:us-east-1:1:key/k", "Allow"),
        ("ArnEquals", "arn:aws:kms:us-east-1:2:key/k", "ImplicitDeny"),
        ("NumericLessThanEquals", "86400", "Allow"),
        ("NumericLessThanEquals", "86401", "ImplicitDeny"),
        ("Bool", "TRUE", "Allow"),
    ],
)
def test_arn_numeric_and_bool_operators(operator: str, given: str, expected: str) -> None:
    wanted = {
        "ArnEquals": ("kms:key", "arn:aws:kms:us-east-1:1:key/*"),
        "NumericLessThanEquals": ("sagemaker:MaxRuntimeInSeconds", "86400"),
        "Bool": ("sagemaker:InterContainerTrafficEncryption", "true"),
    }[operator]
    statement = {**ALLOW_S3, "Condition": {operator: {wanted[0]: wanted[1]}}}
    assert evaluate(policy(statement), Request("s3:GetObject", "arn:aws:s3:::bucket/k", {wanted[0]: given})) == expected
