"""Team isolation proven with concrete requests against the synthesized policies (issue 14).

Team A is ``vision`` (its stacks concretized in account 123456789012, us-east-1); team B is ``nlp``,
whose resources are placed in the same account, as two teams sharing an account would have them.
For each hole: A's request on B's resource is not allowed, the same request on A's own is.
Every request reads the templates only (identity, bucket, key and VPC endpoint policies, security
group rules), evaluated under the rules of ``tests/iam_evaluation.py``.
"""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Synthesized
from tests.iam_documents import ACCOUNT, REGION, concrete, resource_policy, role, template
from tests.iam_evaluation import Request, evaluate, evaluate_access

A, B = "vision", "nlp"
FOUNDATION, PIPELINES = f"tunestack-{A}-foundation", f"tunestack-{A}-pipelines"
TEAM = "tunestack:team"


def sagemaker(kind: str, name: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:{kind}/{name}"


def out(synthesized: Synthesized) -> Path:
    return synthesized.outdir


def allowed(documents: list[dict[str, Any]], request: Request) -> bool:
    return evaluate(documents, request) == "Allow"


def key_arn(outdir: Path) -> str:
    (logical_id,) = [k for k, r in template(outdir, FOUNDATION)["Resources"].items() if r["Type"] == "AWS::KMS::Key"]
    return str(concrete({"Fn::GetAtt": [logical_id, "Arn"]}, template(outdir, FOUNDATION)))


def guardrail(documents: list[dict[str, Any]], sid: str) -> dict[str, Any]:
    (statement,) = [s for d in documents for s in d["Statement"] if s.get("Sid") == sid]
    return statement["Condition"]  # type: ignore[no-any-return]


# 1. AddTags: a role of A can never tag B's resource as A's.
@pytest.mark.parametrize(
    ("role_id", "kind", "creating"),
    [
        ("DeployLaunchRole", "endpoint", "CreateEndpoint"),
        ("DeployPrepareRole", "endpoint-config", "CreateEndpointConfig"),
        ("FineTuneLaunchRole", "training-job", "CreateTrainingJob"),
        ("TuneLaunchRole", "hyper-parameter-tuning-job", "CreateHyperParameterTuningJob"),
    ],
)
def test_1_add_tags_cannot_take_another_teams_resource(
    synthesized: Synthesized, role_id: str, kind: str, creating: str
) -> None:
    documents = role(out(synthesized), PIPELINES, role_id)
    claim = {f"aws:RequestTag/{TEAM}": A, "aws:TagKeys": [TEAM]}
    theirs = Request("sagemaker:AddTags", sagemaker(kind, f"{B}-churn"), {**claim, f"aws:ResourceTag/{TEAM}": B})
    assert not allowed(documents, theirs)
    ours = Request("sagemaker:AddTags", sagemaker(kind, f"{A}-churn"), {**claim, f"aws:ResourceTag/{TEAM}": A})
    assert allowed(documents, ours)
    # at creation (tag-on-create carries sagemaker:TaggingAction), with the team's tag only
    new = Request("sagemaker:AddTags", sagemaker(kind, f"{A}-new"), {**claim, "sagemaker:TaggingAction": creating})
    assert allowed(documents, new)
    handing_over = {**new.context, f"aws:RequestTag/{TEAM}": B}
    assert not allowed(documents, Request("sagemaker:AddTags", new.resource, handing_over))


def test_1_the_jobs_role_tags_only_what_is_being_created(synthesized: Synthesized) -> None:
    documents = role(out(synthesized), FOUNDATION, "SageMakerRole")
    claim = {f"aws:RequestTag/{TEAM}": A, "aws:TagKeys": [TEAM]}
    theirs = Request("sagemaker:AddTags", sagemaker("training-job", "nlp-job"), {**claim, f"aws:ResourceTag/{TEAM}": B})
    assert not allowed(documents, theirs)
    trial = Request(
        "sagemaker:AddTags",
        sagemaker("training-job", "vision-tune-001-abc"),
        {**claim, "sagemaker:TaggingAction": "CreateHyperParameterTuningJob"},
    )
    assert allowed(documents, trial)


# 2. CreateEndpoint / CreateEndpointConfig / CreateModel: the team's configs, models and key.
def test_2_an_endpoint_is_built_only_from_the_teams_config(synthesized: Synthesized) -> None:
    documents = role(out(synthesized), PIPELINES, "DeployLaunchRole")
    new = {f"aws:RequestTag/{TEAM}": A, "aws:TagKeys": [TEAM]}
    endpoint = Request("sagemaker:CreateEndpoint", sagemaker("endpoint", "churn"), new)
    assert allowed(documents, endpoint)
    theirs = Request(
        "sagemaker:CreateEndpoint",
        sagemaker("endpoint-config", f"{B}-churn-1a2b3c4d"),
        {**new, f"aws:ResourceTag/{TEAM}": B},
    )
    assert not allowed(documents, theirs)
    ours = Request(
        "sagemaker:CreateEndpoint",
        sagemaker("endpoint-config", f"{A}-churn-1a2b3c4d"),
        {**new, f"aws:ResourceTag/{TEAM}": A},
    )
    assert allowed(documents, ours)


def endpoint_config(model: str, key: str | None, instance_type: str = "ml.m5.xlarge") -> Request:
    context: dict[str, Any] = {
        f"aws:RequestTag/{TEAM}": A,
        "aws:TagKeys": [TEAM],
        "sagemaker:InstanceTypes": [instance_type],
        "sagemaker:ModelArn": [sagemaker("model", model)],
    }
    if key is not None:
        context["sagemaker:VolumeKmsKey"] = key
    return Request("sagemaker:CreateEndpointConfig", sagemaker("endpoint-config", f"{A}-churn-1a2b3c4d"), context)


def test_2_an_endpoint_config_serves_only_the_teams_models_with_the_teams_key(synthesized: Synthesized) -> None:
    documents = role(out(synthesized), PIPELINES, "DeployPrepareRole")
    key = key_arn(out(synthesized))
    assert not allowed(documents, endpoint_config(f"{B}-churn-1a2b3c4d", key))
    assert allowed(documents, endpoint_config(f"{A}-churn-1a2b3c4d", key))
    their_key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{B}-key"
    assert not allowed(documents, endpoint_config(f"{A}-churn-1a2b3c4d", their_key))
    assert not allowed(documents, endpoint_config(f"{A}-churn-1a2b3c4d", None))  # EBS volume without the key
    assert allowed(documents, endpoint_config(f"{A}-churn-1a2b3c4d", None, "ml.g5.xlarge"))  # local storage


def test_2_models_carry_the_teams_name(synthesized: Synthesized) -> None:
    documents = role(out(synthesized), PIPELINES, "DeployPrepareRole")
    network = guardrail(documents, "CreateModelWithinGuardrails")["ForAllValues:StringEquals"]
    context = {
        f"aws:RequestTag/{TEAM}": A,
        "sagemaker:VpcSubnets": network["sagemaker:VpcSubnets"],
        "sagemaker:VpcSecurityGroupIds": network["sagemaker:VpcSecurityGroupIds"],
        "sagemaker:NetworkIsolation": "true",
    }
    assert not allowed(documents, Request("sagemaker:CreateModel", sagemaker("model", f"{B}-churn-1a2b3c4d"), context))
    assert allowed(documents, Request("sagemaker:CreateModel", sagemaker("model", f"{A}-churn-1a2b3c4d"), context))


# 3. Network isolation required by IAM (vision requires it; nlp lets each algorithm choose).
def training_job(
    documents: list[dict[str, Any]], isolation: str | None, instance_type: str = "ml.m5.xlarge"
) -> Request:
    condition = guardrail(documents, "CreateTrainingJobWithinGuardrails")
    values = condition["ForAllValues:StringEquals"]
    key = condition["ArnEquals"]["sagemaker:VolumeKmsKey"]
    context: dict[str, Any] = {
        "sagemaker:VpcSubnets": values["sagemaker:VpcSubnets"],
        "sagemaker:VpcSecurityGroupIds": values["sagemaker:VpcSecurityGroupIds"],
        "sagemaker:InstanceTypes": [instance_type],
        "sagemaker:OutputKmsKey": key,
        "sagemaker:VolumeKmsKey": key,
        "sagemaker:InterContainerTrafficEncryption": "true",
        "sagemaker:MaxRuntimeInSeconds": "3600",
        f"aws:RequestTag/{TEAM}": condition["StringEquals"][f"aws:RequestTag/{TEAM}"],
    }
    if isolation is not None:
        context["sagemaker:NetworkIsolation"] = isolation
    return Request("sagemaker:CreateTrainingJob", sagemaker("training-job", "bert"), context)


def test_3_a_job_without_network_isolation_is_denied(synthesized: Synthesized) -> None:
    documents = role(out(synthesized), PIPELINES, "FineTuneLaunchRole")
    assert not allowed(documents, training_job(documents, "false"))
    assert not allowed(documents, training_job(documents, None))
    assert allowed(documents, training_job(documents, "true"))


# 4. Ways out for data: the S3 endpoint, egress, images.
def endpoint_policy(outdir: Path) -> list[dict[str, Any]]:
    (endpoint,) = [
        r for r in template(outdir, FOUNDATION)["Resources"].values() if r["Type"] == "AWS::EC2::VPCEndpoint"
    ]
    # A gateway endpoint without a policy has the default one, which allows everything.
    document = endpoint["Properties"].get(
        "PolicyDocument", {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}
    )
    return [concrete(document, template(outdir, FOUNDATION), outdir)]


def test_4_the_s3_endpoint_reaches_only_the_teams_bucket_and_jumpstart(synthesized: Synthesized) -> None:
    outdir = out(synthesized)
    endpoint = endpoint_policy(outdir)
    jobs = role(outdir, FOUNDATION, "SageMakerRole")
    principal = ("AWS", f"arn:aws:iam::{ACCOUNT}:role/vision-sagemaker")
    context = {"aws:PrincipalAccount": ACCOUNT}
    bucket_arn = next(s for d in jobs for s in d["Statement"] if s.get("Sid") == "ListTeamBucket")["Resource"]
    everything = [{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}]  # whatever the caller's IAM
    theirs = Request("s3:PutObject", "arn:aws:s3:::tunestack-nlp-data/out.csv", context, principal)
    assert evaluate_access(theirs, identity=everything, endpoint=endpoint) != "Allow"
    outside = Request("s3:PutObject", "arn:aws:s3:::somebody-elses-bucket/exfiltrated.csv", context, principal)
    assert evaluate_access(outside, identity=everything, endpoint=endpoint) != "Allow"
    ours = Request("s3:PutObject", f"{bucket_arn}/model/output/model.tar.gz", context, principal)
    assert evaluate_access(ours, identity=jobs, endpoint=endpoint) == "Allow"
    weights = Request("s3:GetObject", f"arn:aws:s3:::jumpstart-cache-prod-{REGION}/models/x.tar.gz", context, principal)
    assert evaluate_access(weights, identity=jobs, endpoint=endpoint) == "Allow"


def egress_allows(outdir: Path, protocol: str, port: int, destination: str) -> bool:
    """Whether the job security group's egress rules let a packet out to ``destination`` (an IPv4
    address, ``pl-...`` prefix list or ``sg-`` group)."""
    t = template(outdir, FOUNDATION)
    rules = []
    for logical_id, resource in t["Resources"].items():
        if resource["Type"] == "AWS::EC2::SecurityGroupEgress":
            rules.append(concrete(resource["Properties"], t, outdir))
        if resource["Type"] == "AWS::EC2::SecurityGroup" and "JobSecurityGroup" in logical_id:
            rules += concrete(resource["Properties"].get("SecurityGroupEgress", []), t, outdir)
    for rule in rules:
        if rule.get("IpProtocol") not in {"-1", protocol}:
            continue
        if rule.get("IpProtocol") != "-1" and not rule.get("FromPort", 0) <= port <= rule.get("ToPort", 65535):
            continue
        is_address = not destination.startswith(("pl-", "sg-"))
        if (
            is_address
            and "CidrIp" in rule
            and ipaddress.ip_address(destination) in ipaddress.ip_network(rule["CidrIp"])
        ):
            return True
        if rule.get("DestinationPrefixListId") == destination:
            return True
    return False


def test_4_jobs_get_out_only_to_s3_through_the_prefix_list(synthesized: Synthesized) -> None:
    outdir = out(synthesized)
    assert not egress_allows(outdir, "tcp", 443, "203.0.113.10")  # anywhere on the internet
    assert egress_allows(outdir, "tcp", 443, "pl-63a5400a")  # S3, through the gateway endpoint


def test_4_images_only_from_the_team_and_the_regions_aws_image_accounts(synthesized: Synthesized) -> None:
    documents = role(out(synthesized), FOUNDATION, "SageMakerRole")

    def pull(account: str) -> Request:
        return Request("ecr:BatchGetImage", f"arn:aws:ecr:{REGION}:{account}:repository/image")

    assert not allowed(documents, pull("999999999999"))  # somebody's registry
    assert allowed(documents, pull(ACCOUNT))  # the team's own images
    assert allowed(documents, pull("683313688378"))  # SageMaker XGBoost, us-east-1
    assert allowed(documents, pull("763104351884"))  # Deep Learning Containers (JumpStart)


# 5. "Auto" warm start reads the team's tuning jobs only (Search on the team tag), not the account's list.
def test_5_auto_searches_the_teams_jobs_instead_of_listing_the_accounts(synthesized: Synthesized) -> None:
    documents = role(out(synthesized), PIPELINES, "TuneValidateRole")
    assert not allowed(documents, Request("sagemaker:ListHyperParameterTuningJobs", "*"))
    visibility = f"sagemaker:SearchVisibilityCondition/Tags.{TEAM}"
    assert not allowed(documents, Request("sagemaker:Search", "*"))  # every team's jobs
    assert not allowed(documents, Request("sagemaker:Search", "*", {visibility: B}))
    assert allowed(documents, Request("sagemaker:Search", "*", {visibility: A}))
    describe = "sagemaker:DescribeHyperParameterTuningJob"
    theirs = Request(describe, sagemaker("hyper-parameter-tuning-job", "t"), {f"aws:ResourceTag/{TEAM}": B})
    ours = Request(describe, sagemaker("hyper-parameter-tuning-job", "t"), {f"aws:ResourceTag/{TEAM}": A})
    assert not allowed(documents, theirs) and allowed(documents, ours)


# 6. Guardrail values are not read from parameters anyone with ssm:PutParameter could rewrite.
def test_6_rewriting_an_ssm_parameter_does_not_move_the_guardrails(synthesized: Synthesized) -> None:
    their_key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{B}-key"
    rewritten = {f"/tunestack/{A}/platform/key-arn": their_key}
    documents = role(out(synthesized), PIPELINES, "FineTuneLaunchRole", ssm=rewritten)
    request = training_job(documents, "true")
    with_their_key = Request(
        request.action,
        request.resource,
        {**request.context, "sagemaker:OutputKmsKey": their_key, "sagemaker:VolumeKmsKey": their_key},
    )
    assert not allowed(documents, with_their_key)
    with_ours = {**request.context, "sagemaker:OutputKmsKey": key_arn(out(synthesized))}
    with_ours["sagemaker:VolumeKmsKey"] = with_ours["sagemaker:OutputKmsKey"]
    assert allowed(documents, Request(request.action, request.resource, with_ours))


# 7. CloudWatch Logs may use the team key for the team's log groups only.
def test_7_the_key_serves_only_the_teams_log_groups(synthesized: Synthesized) -> None:
    outdir = out(synthesized)
    key_policy = resource_policy(outdir, FOUNDATION, "AWS::KMS::Key", "KeyPolicy")
    logs = ("Service", f"logs.{REGION}.amazonaws.com")
    context = "kms:EncryptionContext:aws:logs:arn"

    def generate(log_group: str) -> Request:
        arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{log_group}"
        return Request("kms:GenerateDataKey", key_arn(outdir), {context: arn}, logs)

    assert (
        evaluate_access(generate(f"/tunestack/{B}/pipelines/functions"), resource=key_policy, key_policy=True)
        != "Allow"
    )
    assert evaluate_access(generate("/aws/lambda/anything"), resource=key_policy, key_policy=True) != "Allow"
    encrypted = [
        concrete(r["Properties"]["LogGroupName"], template(outdir, stack), outdir)
        for stack in (FOUNDATION, PIPELINES)
        for r in template(outdir, stack)["Resources"].values()
        if r["Type"] == "AWS::Logs::LogGroup" and "KmsKeyId" in r["Properties"]
    ]
    assert encrypted and all(isinstance(name, str) for name in encrypted), "every encrypted log group is named"
    for name in encrypted:
        assert evaluate_access(generate(name), resource=key_policy, key_policy=True) == "Allow", name


# 8. Only the platform writes the SDK's config.yaml.
def test_8_the_sdk_defaults_are_written_by_the_platform_alone(synthesized: Synthesized) -> None:
    outdir = out(synthesized)
    bucket_policy = resource_policy(outdir, FOUNDATION, "AWS::S3::BucketPolicy", "PolicyDocument")
    jobs = role(outdir, FOUNDATION, "SageMakerRole")
    publisher = role(outdir, FOUNDATION, "SageMakerDefaultsPublisherRole")
    (config,) = [s["Resource"] for d in publisher for s in d["Statement"] if s.get("Action") == "s3:PutObject"]
    jobs_principal = ("AWS", f"arn:aws:iam::{ACCOUNT}:role/{'sagemakerrole'}")
    t = template(outdir, FOUNDATION)
    (publisher_id,) = [
        k
        for k, r in t["Resources"].items()
        if k.startswith("SageMakerDefaultsPublisherRole") and r["Type"] == "AWS::IAM::Role"
    ]
    publisher_principal = ("AWS", str(concrete({"Fn::GetAtt": [publisher_id, "Arn"]}, t)))
    tls = {"aws:SecureTransport": "true"}
    overwrite = Request("s3:PutObject", config, tls, jobs_principal)
    assert evaluate_access(overwrite, identity=jobs, resource=bucket_policy) != "Allow"
    member = [{"Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}]}]
    assert (
        evaluate_access(
            Request("s3:PutObject", config, tls, ("AWS", f"arn:aws:iam::{ACCOUNT}:role/member")),
            identity=member,
            resource=bucket_policy,
        )
        != "Allow"
    )
    publish = Request("s3:PutObject", config, tls, publisher_principal)
    assert evaluate_access(publish, identity=publisher, resource=bucket_policy) == "Allow"
    output = Request(
        "s3:PutObject", re.sub(r"/sagemaker-sdk/.*", "/bert/output/model.tar.gz", config), tls, jobs_principal
    )
    assert evaluate_access(output, identity=jobs, resource=bucket_policy) == "Allow"  # jobs still write outputs


# 9. A team publishes into the namespace its own dashboard reads, never into another team's.
def dashboard_namespace(outdir: Path, team: str) -> str:
    t = template(outdir, f"tunestack-{team}-pipelines")
    (dashboard,) = [r for r in t["Resources"].values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    body = json.dumps(concrete(dashboard["Properties"]["DashboardBody"], t, outdir))
    match = re.search(r"SEARCH\('\{([^,]+),", body)
    assert match, body
    return match.group(1)


def test_9_best_objectives_go_only_into_the_teams_namespace(synthesized: Synthesized) -> None:
    outdir = out(synthesized)
    documents = role(outdir, PIPELINES, "TuneAnalyseRole")

    def put(namespace: str) -> Request:
        return Request("cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": namespace})

    assert not allowed(documents, put(dashboard_namespace(outdir, B)))
    assert allowed(documents, put(dashboard_namespace(outdir, A)))


# 10. Job logs: a job's container cannot reach CloudWatch Logs (isolation, and no way out but S3).
def test_10_a_jobs_container_cannot_reach_cloudwatch_logs(synthesized: Synthesized) -> None:
    outdir = out(synthesized)
    logs_endpoint = "52.46.128.10"  # a public address of CloudWatch Logs in us-east-1
    assert not egress_allows(outdir, "tcp", 443, logs_endpoint)
    documents = role(outdir, PIPELINES, "FineTuneLaunchRole")
    assert not allowed(documents, training_job(documents, "false"))


def test_8_deployed_models_are_written_by_the_deploy_alone_and_never_overwritten(synthesized: Synthesized) -> None:
    outdir = out(synthesized)
    bucket_policy = resource_policy(outdir, FOUNDATION, "AWS::S3::BucketPolicy", "PolicyDocument")
    jobs = role(outdir, FOUNDATION, "SageMakerRole")
    prepare = role(outdir, PIPELINES, "DeployPrepareRole")
    bucket_arn = next(s for d in jobs for s in d["Statement"] if s.get("Sid") == "ListTeamBucket")["Resource"]
    copy = f"{bucket_arn}/deployed/{A}-churn-1a2b3c4d/model.tar.gz"
    tls = {"aws:SecureTransport": "true"}
    jobs_principal = ("AWS", f"arn:aws:iam::{ACCOUNT}:role/sagemakerrole")
    assert evaluate_access(
        Request("s3:PutObject", copy, tls, jobs_principal), identity=jobs, resource=bucket_policy
    ) != ("Allow")
    their_deployer = {**tls, "aws:PrincipalTag/tunestack:deploys-models": B}
    member = [{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}]
    someone = ("AWS", f"arn:aws:iam::{ACCOUNT}:role/{B}-deploy")
    assert evaluate_access(
        Request("s3:PutObject", copy, their_deployer, someone), identity=member, resource=bucket_policy
    ) != ("Allow")
    ours = {**tls, "aws:PrincipalTag/tunestack:deploys-models": A}
    deployer = ("AWS", f"arn:aws:iam::{ACCOUNT}:role/deployprepare")
    assert (
        evaluate_access(Request("s3:PutObject", copy, ours, deployer), identity=prepare, resource=bucket_policy)
        == "Allow"
    )
    # Nobody, the deploy included, deletes what an endpoint may download again.
    assert evaluate_access(
        Request("s3:DeleteObject", copy, ours, deployer), identity=member, resource=bucket_policy
    ) != ("Allow")


def test_4_an_imported_vpc_is_checked_for_a_route_out_at_deployment(synthesized: Synthesized) -> None:
    """The nlp team brings its own VPC: its foundation fails to deploy if a job subnet routes out."""
    t = template(out(synthesized), f"tunestack-{B}-foundation")
    (check,) = [r for r in t["Resources"].values() if r["Type"] == "Custom::TunestackRouteCheck"]
    assert check["Properties"]["SubnetIds"] == ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]
    (function,) = [r for k, r in t["Resources"].items() if r["Type"] == "AWS::Lambda::Function" and "RouteCheck" in k]
    assert function["Properties"]["Handler"] == "tunestack_runtime.handlers.network_check.handler"
    created = template(out(synthesized), FOUNDATION)  # a created VPC has isolated subnets by construction
    assert not [r for r in created["Resources"].values() if r["Type"] == "Custom::TunestackRouteCheck"]
