"""The request evaluator's rules, each checked on an example of AWS's IAM documentation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.iam_evaluation import Request, evaluate, evaluate_access


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


# Resource-based policies: bucket, key and VPC endpoint policies, where the principal matters.
ROLE = "arn:aws:iam::111122223333:role/analyst"
OBJECT = "arn:aws:s3:::amzn-s3-demo-bucket/report.csv"


def test_a_bucket_policy_naming_the_role_allows_without_an_identity_policy() -> None:
    """Same account: an allow in either the identity policy or the resource policy suffices."""
    bucket = policy({"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "s3:GetObject", "Resource": OBJECT})
    get = Request("s3:GetObject", OBJECT, principal=("AWS", ROLE))
    assert evaluate_access(get, resource=bucket) == "Allow"
    other = Request("s3:GetObject", OBJECT, principal=("AWS", "arn:aws:iam::111122223333:role/other"))
    assert evaluate_access(other, resource=bucket) == "ImplicitDeny"


def test_a_deny_in_the_bucket_policy_wins_over_an_identity_allow() -> None:
    """The S3 User Guide's example: deny requests that do not use TLS (aws:SecureTransport false)."""
    bucket = policy(
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": OBJECT,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )
    identity = policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": OBJECT})
    plain = Request("s3:GetObject", OBJECT, {"aws:SecureTransport": "false"}, principal=("AWS", ROLE))
    tls = Request("s3:GetObject", OBJECT, {"aws:SecureTransport": "true"}, principal=("AWS", ROLE))
    assert evaluate_access(plain, identity=identity, resource=bucket) == "ExplicitDeny"
    assert evaluate_access(tls, identity=identity, resource=bucket) == "Allow"


def test_a_key_policy_naming_the_account_delegates_to_identity_policies() -> None:
    """AWS KMS's default key policy ("Allows access to the AWS account and enables IAM policies"):
    the account's principals need an identity policy too; without the key policy nothing is allowed."""
    key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    root = policy(
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}
    )
    identity = policy({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key})
    decrypt = Request("kms:Decrypt", key, principal=("AWS", ROLE))
    assert evaluate_access(decrypt, identity=identity, resource=root, key_policy=True) == "Allow"
    assert evaluate_access(decrypt, resource=root, key_policy=True) == "ImplicitDeny"
    assert evaluate_access(decrypt, identity=identity, resource=policy(), key_policy=True) == "ImplicitDeny"


def test_a_service_principal_is_held_to_the_key_policys_encryption_context() -> None:
    """The CloudWatch Logs User Guide's key policy: logs.<region>.amazonaws.com may use the key for
    a log group whose ARN matches kms:EncryptionContext:aws:logs:arn."""
    key = "arn:aws:kms:us-west-2:111122223333:key/k"
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "logs.us-west-2.amazonaws.com"},
        "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        "Resource": "*",
        "Condition": {
            "ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-west-2:111122223333:log-group:my-group"}
        },
    }
    logs = ("Service", "logs.us-west-2.amazonaws.com")
    context = "kms:EncryptionContext:aws:logs:arn"
    ours = Request(
        "kms:GenerateDataKey", key, {context: "arn:aws:logs:us-west-2:111122223333:log-group:my-group"}, principal=logs
    )
    theirs = Request(
        "kms:GenerateDataKey", key, {context: "arn:aws:logs:us-west-2:111122223333:log-group:x"}, principal=logs
    )
    assert evaluate_access(ours, resource=policy(statement), key_policy=True) == "Allow"
    assert evaluate_access(theirs, resource=policy(statement), key_policy=True) == "ImplicitDeny"
    assert evaluate_access(ours, resource=policy(statement), key_policy=True) == "Allow"
    someone = Request("kms:GenerateDataKey", key, ours.context, principal=("AWS", ROLE))
    assert evaluate_access(someone, resource=policy(statement), key_policy=True) == "ImplicitDeny"


def test_a_vpc_endpoint_policy_is_one_more_gate() -> None:
    """Amazon S3 gateway endpoints' example policy: allow access only to a specific bucket; an
    identity allow for another bucket does not get through the endpoint."""
    endpoint = policy(
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*",
        }
    )
    identity = policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    other = Request("s3:GetObject", "arn:aws:s3:::another-bucket/k", principal=("AWS", ROLE))
    assert evaluate_access(other, identity=identity, endpoint=endpoint) == "ImplicitDeny"
    assert evaluate_access(
        Request("s3:GetObject", OBJECT, principal=("AWS", ROLE)), identity=identity, endpoint=endpoint
    ) == ("Allow")
