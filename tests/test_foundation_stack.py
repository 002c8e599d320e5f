"""Fine-grained assertions on each team's synthesized foundation stack."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from aws_cdk.assertions import Match, Template

from tests.conftest import Synthesized
from tunestack.constructs.sagemaker_defaults import sdk_defaults_document

TEAMS = ["vision", "nlp"]


def only(template: Template, resource_type: str, props: dict[str, Any] | None = None) -> tuple[str, dict]:
    found = template.find_resources(resource_type, {"Properties": props} if props else None)
    assert len(found) == 1, f"expected one {resource_type}, found {list(found)}"
    return next(iter(found.items()))


def data_bucket(template: Template) -> tuple[str, dict]:
    return only(
        template,
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    Match.object_like(
                        {
                            "ServerSideEncryptionByDefault": {
                                "SSEAlgorithm": "aws:kms",
                                "KMSMasterKeyID": Match.any_value(),
                            }
                        }
                    )
                ]
            }
        },
    )


def policy_statements(template: Template) -> list[dict]:
    statements = []
    for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for resource in template.find_resources(kind).values():
            statements += resource["Properties"]["PolicyDocument"]["Statement"]
    for role in template.find_resources("AWS::IAM::Role").values():
        for policy in role["Properties"].get("Policies", []):
            statements += policy["PolicyDocument"]["Statement"]
    return statements


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("team", TEAMS)
def test_team_key_rotates_and_has_team_alias(foundation_templates: dict[str, Template], team: str) -> None:
    template = foundation_templates[team]
    key_id, key = only(template, "AWS::KMS::Key")
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"
    template.has_resource_properties(
        "AWS::KMS::Alias", {"AliasName": f"alias/tunestack/{team}", "TargetKeyId": {"Fn::GetAtt": [key_id, "Arn"]}}
    )


@pytest.mark.parametrize("team", TEAMS)
def test_data_bucket_is_encrypted_with_the_team_key(foundation_templates: dict[str, Template], team: str) -> None:
    template = foundation_templates[team]
    key_id, _ = only(template, "AWS::KMS::Key")
    _, bucket = data_bucket(template)
    (rule,) = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert rule["BucketKeyEnabled"] is True


@pytest.mark.parametrize("team", TEAMS)
def test_buckets_block_public_access_keep_versions_and_expire_old_ones(
    foundation_templates: dict[str, Template], team: str
) -> None:
    buckets = foundation_templates[team].find_resources("AWS::S3::Bucket")
    assert len(buckets) == 2
    for bucket in buckets.values():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
        (rule,) = props["LifecycleConfiguration"]["Rules"]
        assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
        assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 90}
        assert bucket["DeletionPolicy"] == "Retain"


@pytest.mark.parametrize("team", TEAMS)
def test_every_bucket_denies_requests_without_tls(foundation_templates: dict[str, Template], team: str) -> None:
    template = foundation_templates[team]
    policies = template.find_resources("AWS::S3::BucketPolicy")
    buckets = set(template.find_resources("AWS::S3::Bucket"))
    covered = set()
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        deny = [
            s
            for s in statements
            if s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        ]
        assert deny and deny[0]["Action"] == "s3:*" and deny[0]["Principal"] == {"AWS": "*"}
        covered.add(policy["Properties"]["Bucket"]["Ref"])
    assert covered == buckets


@pytest.mark.parametrize("team", TEAMS)
def test_data_bucket_logs_to_the_access_log_bucket(foundation_templates: dict[str, Template], team: str) -> None:
    template = foundation_templates[team]
    _, bucket = data_bucket(template)
    (log_bucket_id,) = set(template.find_resources("AWS::S3::Bucket")) - {data_bucket(template)[0]}
    assert bucket["Properties"]["LoggingConfiguration"] == {
        "DestinationBucketName": {"Ref": log_bucket_id},
        "LogFilePrefix": "data-bucket/",
    }


def test_created_vpc_has_isolated_subnets_in_two_zones_and_an_s3_endpoint(
    foundation_templates: dict[str, Template],
) -> None:
    template = foundation_templates["vision"]
    template.resource_count_is("AWS::EC2::VPC", 1)
    template.resource_count_is("AWS::EC2::Subnet", 2)
    template.resource_count_is("AWS::EC2::InternetGateway", 0)
    template.resource_count_is("AWS::EC2::NatGateway", 0)
    for subnet in template.find_resources("AWS::EC2::Subnet").values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False
    zones = {str(s["Properties"]["AvailabilityZone"]) for s in template.find_resources("AWS::EC2::Subnet").values()}
    assert len(zones) == 2
    template.has_resource_properties(
        "AWS::EC2::VPCEndpoint",
        {"VpcEndpointType": "Gateway", "ServiceName": Match.object_like({"Fn::Join": Match.any_value()})},
    )
    (endpoint,) = template.find_resources("AWS::EC2::VPCEndpoint").values()
    assert ".s3" in str(endpoint["Properties"]["ServiceName"])


def test_created_vpc_sends_all_flow_logs_to_a_key_encrypted_group(foundation_templates: dict[str, Template]) -> None:
    template = foundation_templates["vision"]
    key_id, _ = only(template, "AWS::KMS::Key")
    vpc_id, _ = only(template, "AWS::EC2::VPC")
    _, flow_log = only(template, "AWS::EC2::FlowLog")
    assert flow_log["Properties"]["ResourceId"] == {"Ref": vpc_id}
    assert flow_log["Properties"]["ResourceType"] == "VPC"
    assert flow_log["Properties"]["TrafficType"] == "ALL"
    assert flow_log["Properties"]["LogDestinationType"] == "cloud-watch-logs"
    group = template.find_resources("AWS::Logs::LogGroup")[flow_log["Properties"]["LogGroupName"]["Ref"]]
    assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert group["Properties"]["RetentionInDays"] == 365


def test_imported_vpc_is_used_by_id_without_creating_one(foundation_templates: dict[str, Template]) -> None:
    template = foundation_templates["nlp"]
    template.resource_count_is("AWS::EC2::VPC", 0)
    template.resource_count_is("AWS::EC2::Subnet", 0)
    template.has_resource_properties("AWS::EC2::SecurityGroup", {"VpcId": "vpc-0a1b2c3d4e5f60718"})


@pytest.mark.parametrize("team", TEAMS)
def test_job_security_group_admits_only_itself(foundation_templates: dict[str, Template], team: str) -> None:
    template = foundation_templates[team]
    sg_id, sg = only(template, "AWS::EC2::SecurityGroup")
    assert "SecurityGroupIngress" not in sg["Properties"]
    ingress = template.find_resources("AWS::EC2::SecurityGroupIngress")
    assert len(ingress) == 1
    (rule,) = ingress.values()
    assert rule["Properties"]["SourceSecurityGroupId"] == {"Fn::GetAtt": [sg_id, "GroupId"]}
    assert rule["Properties"]["GroupId"] == {"Fn::GetAtt": [sg_id, "GroupId"]}
    # Out only to itself and, on HTTPS, to the S3 prefix list the deployment looks up: no CIDR at all.
    assert "SecurityGroupEgress" not in sg["Properties"]
    egress = [e["Properties"] for e in template.find_resources("AWS::EC2::SecurityGroupEgress").values()]
    assert not [e for e in egress if "CidrIp" in e or "CidrIpv6" in e]
    (s3,) = [e for e in egress if "DestinationPrefixListId" in e]
    assert (s3["IpProtocol"], s3["FromPort"], s3["ToPort"]) == ("tcp", 443, 443)
    (lookup_id,) = s3["DestinationPrefixListId"]["Fn::GetAtt"][:1]
    lookup = template.to_json()["Resources"][lookup_id]
    assert f"com.amazonaws.{'eu-west-1' if team == 'nlp' else ''}" in json.dumps(lookup["Properties"])


@pytest.mark.parametrize("team", TEAMS)
def test_sagemaker_role_is_assumed_only_by_sagemaker(foundation_templates: dict[str, Template], team: str) -> None:
    template = foundation_templates[team]
    roles = template.find_resources(
        "AWS::IAM::Role",
        {
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Statement": [Match.object_like({"Principal": {"Service": "sagemaker.amazonaws.com"}})]
                }
            }
        },
    )
    assert len(roles) == 1
    (role,) = roles.values()
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Action"] == "sts:AssumeRole" and trust["Effect"] == "Allow"
    assert "ManagedPolicyArns" not in role["Properties"]


@pytest.mark.parametrize("team", TEAMS)
def test_sagemaker_role_may_tag_only_with_its_team_tag(foundation_templates: dict[str, Template], team: str) -> None:
    tagging = [s for s in policy_statements(foundation_templates[team]) if "sagemaker:AddTags" in as_list(s["Action"])]
    (statement,) = tagging  # only at creation: no statement for resources that already exist
    assert statement["Sid"] == "TagOnCreateWithTeamTag"
    assert statement["Condition"] == {
        "StringEquals": {
            "sagemaker:TaggingAction": ["CreateHyperParameterTuningJob", "CreateTrainingJob"],
            "aws:RequestTag/tunestack:team": team,
        }
    }
    assert "training-job/*" in json.dumps(statement["Resource"])


@pytest.mark.parametrize("team", TEAMS)
def test_sagemaker_role_network_interfaces_stay_in_team_vpc(
    foundation_templates: dict[str, Template], team: str
) -> None:
    (statement,) = [
        s for s in policy_statements(foundation_templates[team]) if s.get("Sid") == "JobNetworkInterfacesInTeamVpc"
    ]
    condition = statement["Condition"]["ArnEquals"]["ec2:Vpc"]
    assert "vpc/" in str(condition)


@pytest.mark.parametrize("team", TEAMS)
def test_no_policy_grants_wildcard_sagemaker_or_any_passrole(
    foundation_templates: dict[str, Template], team: str
) -> None:
    actions = [a for s in policy_statements(foundation_templates[team]) for a in as_list(s["Action"])]
    assert any(a.startswith("sagemaker:") for a in actions)
    assert not [a for a in actions if a.startswith("sagemaker:") and "*" in a]
    assert "*" not in actions
    assert "iam:PassRole" not in actions


@pytest.mark.parametrize("team", TEAMS)
def test_star_resources_only_where_aws_has_no_resource_level_permissions(
    foundation_templates: dict[str, Template], team: str
) -> None:
    star_actions = {
        a
        for s in policy_statements(foundation_templates[team])
        if s["Effect"] == "Allow" and "*" in as_list(s.get("Resource", []))
        for a in as_list(s["Action"])
    }
    assert star_actions == {
        "ecr:GetAuthorizationToken",
        "cloudwatch:PutMetricData",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeVpcs",
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeDhcpOptions",
        "ec2:CreateNetworkInterface",
        "ec2:CreateNetworkInterfacePermission",
        "ec2:DeleteNetworkInterface",
        "ec2:DeleteNetworkInterfacePermission",
        "ec2:DescribeManagedPrefixLists",
        # nlp imports its VPC: the deployment-time route check reads its route tables.
        *(["ec2:DescribeRouteTables"] if team == "nlp" else []),
    }


@pytest.mark.parametrize("team", TEAMS)
def test_sdk_defaults_are_published_to_ssm(foundation_templates: dict[str, Template], team: str) -> None:
    template = foundation_templates[team]
    _, parameter = only(template, "AWS::SSM::Parameter", {"Name": f"/tunestack/{team}/sagemaker-config"})
    text = str(parameter["Properties"]["Value"])
    for key in ("RoleArn", "VpcConfig", "VolumeKmsKeyId", "EnableNetworkIsolation: true"):
        assert key in text


@pytest.mark.parametrize("team", TEAMS)
def test_sdk_defaults_are_written_to_the_bucket_with_the_team_key(
    foundation_templates: dict[str, Template], team: str
) -> None:
    template = foundation_templates[team]
    bucket_id, _ = data_bucket(template)
    (resource,) = [r for r in template.find_resources("Custom::AWS").values() if "putObject" in str(r["Properties"])]
    create = str(resource["Properties"]["Create"])
    assert '\\"action\\":\\"putObject\\"' in create or '"action":"putObject"' in create
    assert "sagemaker-sdk/config.yaml" in create and bucket_id in create and "aws:kms" in create


def test_sdk_defaults_document_round_trips_as_sdk_yaml() -> None:
    from tunestack.constructs.sagemaker_defaults import render_yaml

    doc = sdk_defaults_document(
        team_name="vision",
        bucket_name="team-bucket",
        role_arn="arn:aws:iam::111122223333:role/jobs",
        subnet_ids=["subnet-1", "subnet-2"],
        security_group_ids=["sg-1"],
        key_arn="arn:aws:kms:eu-west-1:111122223333:key/abc",
    )
    loaded = yaml.safe_load(render_yaml(doc))
    assert loaded["SchemaVersion"] == "1.0"
    training = loaded["SageMaker"]["TrainingJob"]
    assert training["RoleArn"] == "arn:aws:iam::111122223333:role/jobs"
    assert training["VpcConfig"] == {"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1", "subnet-2"]}
    assert training["OutputDataConfig"]["KmsKeyId"] == training["ResourceConfig"]["VolumeKmsKeyId"]
    assert training["EnableNetworkIsolation"] is True
    assert loaded["SageMaker"]["EndpointConfig"]["KmsKeyId"].startswith("arn:aws:kms:")
    assert loaded["SageMaker"]["PythonSDK"]["Modules"]["Session"]["DefaultS3Bucket"] == "team-bucket"
    assert {"Key": "tunestack:team", "Value": "vision"} in loaded["SageMaker"]["Model"]["Tags"]


def test_imported_subnets_reach_the_sdk_defaults(foundation_templates: dict[str, Template]) -> None:
    _, parameter = only(foundation_templates["nlp"], "AWS::SSM::Parameter", {"Name": "/tunestack/nlp/sagemaker-config"})
    text = str(parameter["Properties"]["Value"])
    assert "subnet-0a1b2c3d4e5f60001" in text and "subnet-0a1b2c3d4e5f60002" in text


@pytest.mark.parametrize("team", TEAMS)
def test_stack_outputs_name_what_users_need(foundation_templates: dict[str, Template], team: str) -> None:
    outputs = foundation_templates[team].find_outputs("*")
    assert {
        "DataBucketName",
        "KeyArn",
        "SageMakerRoleArn",
        "SubnetIds",
        "SecurityGroupId",
        "SageMakerConfigS3Uri",
        "SageMakerConfigParameter",
    } <= set(outputs)


def test_termination_protection_and_environments(synthesized: Synthesized) -> None:
    vision = synthesized.teams["vision"].foundation
    nlp = synthesized.teams["nlp"].foundation
    assert vision.termination_protection and nlp.termination_protection
    assert vision.environment == "aws://unknown-account/unknown-region"
    assert nlp.environment == "aws://111122223333/eu-west-1"


def test_stacks_are_tagged_with_their_team(foundation_templates: dict[str, Template]) -> None:
    _, bucket = data_bucket(foundation_templates["nlp"])
    assert {"Key": "tunestack:team", "Value": "nlp"} in bucket["Properties"]["Tags"]


@pytest.mark.parametrize("team", TEAMS)
def test_platform_values_are_exported_for_the_pipelines(foundation_templates: dict[str, Template], team: str) -> None:
    exports = {
        o["Export"]["Name"]: o["Value"] for o in foundation_templates[team].find_outputs("*").values() if "Export" in o
    }
    for field in ("bucket-name", "key-arn", "role-arn", "subnet-ids", "security-group-ids"):
        assert f"tunestack-{team}-platform-{field}" in exports
    key_id, _ = only(foundation_templates[team], "AWS::KMS::Key")
    assert exports[f"tunestack-{team}-platform-key-arn"] == {"Fn::GetAtt": [key_id, "Arn"]}
    # Nothing a plain ssm:PutParameter could rewrite carries a guardrail value any more.
    names = [
        p["Properties"].get("Name", "")
        for p in foundation_templates[team].find_resources("AWS::SSM::Parameter").values()
    ]
    assert not [n for n in names if "/platform/" in str(n)]
