"""The data scientists' role and policy, proven with concrete requests against the synthesized
templates (``tests/iam_evaluation.py``): a team's own executions, datasets, outputs, logs,
dashboard and notices are allowed; another team's, and anything the pipelines do for them, not.

The two teams' pipelines stacks have the same logical ids, so each team's resources get the
physical names a deployment gives them: the contract's names where tunestack sets one (state
machines, log groups), the stack's name with the logical id otherwise (as CloudFormation names
resources), and the foundation's bucket and key per team.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Template

from tests.conftest import Synthesized
from tests.iam_documents import concrete, resource_policy, template
from tests.iam_evaluation import Request, evaluate, evaluate_access
from tunestack.constructs.data_scientist_access import DataScientistAccess, DataScientistAccessProps

TEAMS = {"nlp": "vision", "vision": "nlp"}


def env(team_template: dict[str, Any]) -> tuple[str, str]:
    account, region = team_template["__env__"]
    return account, region


def bucket(team: str) -> str:
    return f"tunestack-{team}-data"


def deployed(team: str, team_template: dict[str, Any]) -> dict[str, Any]:
    """The pipelines template with each resource the policy names replaced by its physical value."""
    account, region = env(team_template)
    values: dict[str, str] = {}
    for logical_id, resource in team_template["Resources"].items():
        kind, properties = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::StepFunctions::StateMachine":
            values[json.dumps({"Ref": logical_id})] = (
                f"arn:aws:states:{region}:{account}:stateMachine:{properties['StateMachineName']}"
            )
        elif kind == "AWS::SNS::Topic":
            values[json.dumps({"Ref": logical_id})] = f"arn:aws:sns:{region}:{account}:tunestack-{team}-{logical_id}"
        elif kind == "AWS::CloudWatch::Dashboard":
            values[json.dumps({"Ref": logical_id})] = f"tunestack-{team}-{logical_id}"
        elif kind == "AWS::Logs::LogGroup":
            values[json.dumps({"Ref": logical_id})] = properties["LogGroupName"]
            values[json.dumps({"Fn::GetAtt": [logical_id, "Arn"]})] = (
                f"arn:aws:logs:{region}:{account}:log-group:{properties['LogGroupName']}:*"
            )
    values[json.dumps({"Fn::ImportValue": f"tunestack-{team}-platform-bucket-name"})] = bucket(team)
    values[json.dumps({"Fn::ImportValue": f"tunestack-{team}-platform-key-arn"})] = key(team, team_template)

    def replace(node: Any) -> Any:
        if isinstance(node, list):
            return [replace(n) for n in node]
        if isinstance(node, dict):
            text = json.dumps(node)
            if text in values:
                return values[text]
            return {k: replace(v) for k, v in node.items()}
        return node

    return replace(copy.deepcopy(team_template))  # type: ignore[no-any-return]


def key(team: str, team_template: dict[str, Any]) -> str:
    account, region = env(team_template)
    return f"arn:aws:kms:{region}:{account}:key/{team}-key"


class Team:
    """One team's data-scientist policy, concrete, and the ARNs of its resources."""

    def __init__(self, synthesized: Synthesized, team: str) -> None:
        self.name = team
        self.stack = f"tunestack-{team}-pipelines"
        raw = template(synthesized.outdir, self.stack)
        self.account, self.region = env(raw)
        self.template = deployed(team, raw)
        (self.policy_id,) = [
            k
            for k, r in self.template["Resources"].items()
            if r["Type"] == "AWS::IAM::ManagedPolicy" and k.startswith("DataScientists")
        ]
        policy = self.template["Resources"][self.policy_id]["Properties"]
        self.documents = [concrete(policy["PolicyDocument"], self.template, synthesized.outdir)]
        self.key = key(team, raw)

    def machine(self, team: str, pipeline: str) -> str:
        return f"arn:aws:states:{self.region}:{self.account}:stateMachine:tunestack-{team}-{pipeline}"

    def execution(self, team: str, pipeline: str, name: str = "run-1") -> str:
        return f"arn:aws:states:{self.region}:{self.account}:execution:tunestack-{team}-{pipeline}:{name}"

    def log_group(self, team: str, purpose: str = "pipelines/functions") -> str:
        return f"arn:aws:logs:{self.region}:{self.account}:log-group:/tunestack/{team}/{purpose}:*"

    def allows(self, request: Request) -> bool:
        return evaluate(self.documents, request) == "Allow"


@pytest.fixture(scope="module")
def teams(synthesized: Synthesized) -> dict[str, Team]:
    return {name: Team(synthesized, name) for name in TEAMS}


def obj(team: str, key_name: str) -> str:
    return f"arn:aws:s3:::{bucket(team)}/{key_name}"


@pytest.mark.parametrize(("team", "other"), TEAMS.items())
def test_a_data_scientist_starts_stops_and_watches_the_teams_executions_only(
    teams: dict[str, Team], team: str, other: str
) -> None:
    t = teams[team]
    for pipeline in ("fine-tune", "tune", "deploy"):
        assert t.allows(Request("states:StartExecution", t.machine(team, pipeline))), pipeline
        assert t.allows(Request("states:ListExecutions", t.machine(team, pipeline))), pipeline
        for action in ("StopExecution", "DescribeExecution", "GetExecutionHistory"):
            assert t.allows(Request(f"states:{action}", t.execution(team, pipeline))), (pipeline, action)
            assert not t.allows(Request(f"states:{action}", t.execution(other, pipeline))), (pipeline, action)
        assert not t.allows(Request("states:StartExecution", t.machine(other, pipeline))), pipeline
        assert not t.allows(Request("states:ListExecutions", t.machine(other, pipeline))), pipeline
    # A machine whose name merely starts like the team's own is another machine.
    assert not t.allows(Request("states:StopExecution", t.execution(team, "fine-tune-copy")))
    # Listing every machine of the account would show other teams' pipelines.
    assert not t.allows(Request("states:ListStateMachines", "*"))
    # The pipelines' own calls: answering task tokens, changing the machines.
    assert not t.allows(Request("states:SendTaskSuccess", t.machine(team, "fine-tune")))
    assert not t.allows(Request("states:UpdateStateMachine", t.machine(team, "fine-tune")))


@pytest.mark.parametrize(("team", "other"), TEAMS.items())
def test_datasets_are_read_and_written_and_outputs_read_in_the_teams_bucket_only(
    teams: dict[str, Team], team: str, other: str
) -> None:
    t = teams[team]
    assert t.allows(Request("s3:PutObject", obj(team, "datasets/x.csv")))
    assert t.allows(Request("s3:GetObject", obj(team, "datasets/news/train.csv")))
    assert t.allows(Request("s3:GetObject", obj(team, "news-bert/output/model.tar.gz")))
    assert t.allows(Request("s3:GetObject", obj(team, "tuning/churn-tune/leaderboard.csv")))
    assert t.allows(Request("s3:ListBucket", f"arn:aws:s3:::{bucket(team)}", {"s3:prefix": "datasets/"}))
    # Writing outside datasets/: a job's output, the top level, the deployed copies.
    for written in ("x.csv", "news-bert/output/model.tar.gz", "deployed/m/model.tar.gz", "tuning/t/x.json"):
        assert not t.allows(Request("s3:PutObject", obj(team, written))), written
    assert not t.allows(Request("s3:GetObject", obj(team, "sagemaker-sdk/config.yaml")))
    assert not t.allows(Request("s3:DeleteObject", obj(team, "datasets/x.csv")))
    assert not t.allows(Request("s3:ListBucket", f"arn:aws:s3:::{bucket(team)}"))  # no prefix: every key
    # Another team's bucket, whatever the prefix.
    assert not t.allows(Request("s3:GetObject", obj(other, "datasets/x.csv")))
    assert not t.allows(Request("s3:PutObject", obj(other, "datasets/x.csv")))
    assert not t.allows(Request("s3:GetObject", obj(other, "news-bert/output/model.tar.gz")))
    assert not t.allows(Request("s3:ListBucket", f"arn:aws:s3:::{bucket(other)}", {"s3:prefix": "datasets/"}))


@pytest.mark.parametrize(("team", "other"), TEAMS.items())
def test_the_team_key_serves_only_s3_requests(
    synthesized: Synthesized, teams: dict[str, Team], team: str, other: str
) -> None:
    t = teams[team]
    via_s3 = {"kms:ViaService": f"s3.{t.region}.amazonaws.com"}
    assert t.allows(Request("kms:GenerateDataKey", t.key, via_s3))
    assert t.allows(Request("kms:Decrypt", t.key, via_s3))
    # The key policy delegates to the account's IAM policies (the key's "Enable IAM User Permissions").
    key_policy = resource_policy(synthesized.outdir, f"tunestack-{team}-foundation", "AWS::KMS::Key", "KeyPolicy")
    principal = ("AWS", f"arn:aws:iam::{t.account}:role/{team}-data-scientist")
    upload = Request("kms:GenerateDataKey", t.key, via_s3, principal)
    assert evaluate_access(upload, identity=t.documents, resource=key_policy, key_policy=True) == "Allow"
    assert not t.allows(Request("kms:Decrypt", t.key))  # directly, outside S3
    assert not t.allows(Request("kms:Decrypt", t.key, {"kms:ViaService": f"sns.{t.region}.amazonaws.com"}))
    their_key = t.key.replace(f"/{team}-key", f"/{other}-key")
    assert not t.allows(Request("kms:Decrypt", their_key, via_s3))


@pytest.mark.parametrize(("team", "other"), TEAMS.items())
def test_logs_dashboard_and_notices_are_the_teams_own(teams: dict[str, Team], team: str, other: str) -> None:
    t = teams[team]
    for purpose in ("pipelines/functions", "pipelines/finetune-executions", "pipelines/deploy-executions"):
        assert t.allows(Request("logs:FilterLogEvents", t.log_group(team, purpose).removesuffix(":*"))), purpose
        assert not t.allows(Request("logs:FilterLogEvents", t.log_group(other, purpose).removesuffix(":*")))
    stream = t.log_group(team).removesuffix("*") + "log-stream:2026/11/30/[$LATEST]abc"
    assert t.allows(Request("logs:GetLogEvents", stream))
    assert not t.allows(Request("logs:FilterLogEvents", f"arn:aws:logs:{t.region}:{t.account}:log-group:/aws/lambda/x"))
    assert not t.allows(Request("logs:PutLogEvents", stream))
    (dashboard,) = [k for k, r in t.template["Resources"].items() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    ours = f"arn:aws:cloudwatch::{t.account}:dashboard/tunestack-{team}-{dashboard}"
    assert t.allows(Request("cloudwatch:GetDashboard", ours))
    assert not t.allows(Request("cloudwatch:GetDashboard", ours.replace(f"tunestack-{team}-", f"tunestack-{other}-")))
    assert not t.allows(Request("cloudwatch:PutDashboard", ours))
    (topic,) = [k for k, r in t.template["Resources"].items() if r["Type"] == "AWS::SNS::Topic"]
    ours_topic = f"arn:aws:sns:{t.region}:{t.account}:tunestack-{team}-{topic}"
    assert t.allows(Request("sns:Subscribe", ours_topic))
    assert not t.allows(Request("sns:Subscribe", ours_topic.replace(f"tunestack-{team}-", f"tunestack-{other}-")))
    assert not t.allows(Request("sns:Publish", ours_topic))


@pytest.mark.parametrize("team", TEAMS)
def test_jobs_are_created_by_the_pipelines_alone(teams: dict[str, Team], team: str) -> None:
    t = teams[team]
    sagemaker_role = f"arn:aws:iam::{t.account}:role/tunestack-{team}-sagemaker"
    assert not t.allows(Request("iam:PassRole", sagemaker_role, {"iam:PassedToService": "sagemaker.amazonaws.com"}))
    training_job = f"arn:aws:sagemaker:{t.region}:{t.account}:training-job/news-bert"
    assert not t.allows(Request("sagemaker:CreateTrainingJob", training_job, {"aws:RequestTag/tunestack:team": team}))
    assert not t.allows(Request("sagemaker:StopTrainingJob", training_job))
    statements = [s for d in t.documents for s in d["Statement"]]
    actions = {a for s in statements for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    assert not [a for a in actions if "*" in a or a.startswith(("iam:", "sagemaker:"))]
    assert all(s["Effect"] == "Allow" and s["Resource"] != "*" for s in statements)


@pytest.mark.parametrize("team", TEAMS)
def test_the_role_carries_the_policy_and_the_account_may_assume_it(
    pipelines_templates: dict[str, Template], teams: dict[str, Team], team: str
) -> None:
    template_ = pipelines_templates[team]
    template_.has_resource_properties(
        "AWS::IAM::ManagedPolicy", {"ManagedPolicyName": f"tunestack-{team}-data-scientist"}
    )
    (role,) = [r for k, r in template_.find_resources("AWS::IAM::Role").items() if k.startswith("DataScientistsRole")]
    (role_id,) = [k for k in template_.find_resources("AWS::IAM::Role") if k.startswith("DataScientistsRole")]
    policy = template_.find_resources("AWS::IAM::ManagedPolicy")[teams[team].policy_id]
    assert policy["Properties"]["Roles"] == [{"Ref": role_id}]
    # Nothing beside the policy a permission set attaches.
    assert "Policies" not in role["Properties"] and "ManagedPolicyArns" not in role["Properties"]
    assert not [
        p for p in template_.find_resources("AWS::IAM::Policy").values() if {"Ref": role_id} in p["Properties"]["Roles"]
    ]
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Action"] == "sts:AssumeRole"
    assert json.dumps(statement["Principal"]).count(":root") == 1  # the account, no other principal
    outputs = template_.find_outputs("*")
    assert {"DataScientistRoleArn", "DataScientistPolicyArn"} <= set(outputs)
    assert teams[team].documents  # the policy the role carries is the one the requests above evaluated


def small_stack() -> tuple[cdk.Stack, dict[str, Any]]:
    stack = cdk.Stack(cdk.App(), "S", env=cdk.Environment(account="123456789012", region="us-east-1"))
    machine = sfn.StateMachine.from_state_machine_name(stack, "M", "tunestack-t-fine-tune")
    props: dict[str, Any] = {
        "team_name": "t",
        "state_machines": [machine],
        "bucket": s3.Bucket.from_bucket_name(stack, "B", "tunestack-t-data"),
        "key": kms.Key.from_key_arn(stack, "K", "arn:aws:kms:us-east-1:123456789012:key/t-key"),
        "topic": sns.Topic.from_topic_arn(stack, "T", "arn:aws:sns:us-east-1:123456789012:t-failures"),
        "log_groups": [logs.LogGroup.from_log_group_name(stack, "L", "/tunestack/t/pipelines/functions")],
        "dashboard_name": "t-dashboard",
    }
    return stack, props


def test_who_may_assume_the_role_is_a_prop() -> None:
    stack, props = small_stack()
    sso = iam.ArnPrincipal("arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Team_1")
    access = DataScientistAccess(stack, "A", props=DataScientistAccessProps(**props, assumed_by=sso))
    (role,) = Template.from_stack(stack).find_resources("AWS::IAM::Role").values()
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"AWS": sso.arn}
    assert access.policy.managed_policy_name and access.role.role_arn


def test_missing_resources_are_named_at_once() -> None:
    stack, props = small_stack()
    with pytest.raises(ValueError, match=r"state_machines: give the team's state machines.*log_groups: give"):
        DataScientistAccess(
            stack, "A", props=DataScientistAccessProps(**{**props, "state_machines": [], "log_groups": []})
        )
