"""Creates a team's synthesized pipelines stack in moto, in-process: what the foundation would have
published (bucket, key, role, network, its exports), the token table, topic, queue, functions
with their asset code, state machines and EventBridge rules.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from tunestack.simulator.assembly import AssemblyTeam
from tunestack.simulator.template import Resolver, StackTemplate

ACCOUNT = "123456789012"
FIXTURES = Path(__file__).parent / "fixtures" / "jumpstart"
MANIFEST = "models_manifest.json"


@dataclass
class Deployment:
    """What the simulator created for one team, by logical id."""

    region: str
    bucket: str
    state_machines: dict[str, str] = field(default_factory=dict)  # logical id -> ARN
    functions: dict[str, str] = field(default_factory=dict)  # logical id -> name
    rules: list[tuple[dict[str, Any], str]] = field(default_factory=list)  # (event pattern, function name)
    token_table: str = ""
    topics: list[str] = field(default_factory=list)


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """EventBridge matching, for the patterns tunestack writes: every field's value is listed."""
    for key, wanted in pattern.items():
        value = event.get(key)
        if isinstance(wanted, dict):
            if not isinstance(value, dict) or not matches(wanted, value):
                return False
        elif value not in wanted:
            return False
    return True


def _refers_to(value: Any, logical_ids: dict[str, str]) -> bool:
    """Whether a template value is a ``Ref`` to one of ``logical_ids``."""
    return isinstance(value, dict) and value.get("Ref") in logical_ids


def upload_folder(folder: Path, bucket: str, prefix: str) -> int:
    s3 = boto3.client("s3")
    count = 0
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            s3.upload_file(str(path), bucket, prefix + path.relative_to(folder).as_posix())
            count += 1
    return count


def check_jumpstart_cache(folder: Path) -> list[str]:
    """Check a local copy of a JumpStart bucket (``models_manifest.json`` and each spec at its
    ``spec_key``). Raise ValueError when it cannot serve as one; return a warning for each manifest
    entry whose spec file is missing."""
    if not folder.is_dir():
        raise ValueError("not a folder")
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise ValueError(f"no {MANIFEST} in it (a copy of a JumpStart bucket has one at its top)")
    try:
        manifest = json.loads(manifest_path.read_text())
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"{MANIFEST} is not valid JSON ({error})") from None
    if not isinstance(manifest, list) or not all(isinstance(e, dict) for e in manifest):
        raise ValueError(f"{MANIFEST} is not a list of models")
    warnings = []
    for entry in manifest:
        spec = folder / str(entry.get("spec_key", ""))
        if not entry.get("spec_key") or not spec.is_file():
            model = f"{entry.get('model_id')} version {entry.get('version')}"
            warnings.append(f"{model}: no spec file at {spec if entry.get('spec_key') else '(no spec_key)'}")
    return warnings


def deploy(stack: StackTemplate, team: AssemblyTeam, region: str, jumpstart_cache: Path | None = None) -> Deployment:
    """Create the stack's resources in moto and return where they are. The JumpStart bucket holds
    ``jumpstart_cache`` (a local copy of one), or the fixtures when it is None."""
    resolver = Resolver(region=region, account=ACCOUNT)
    _platform(team, region, resolver, stack, jumpstart_cache)
    bucket = resolver.exports[f"tunestack-{team.name}-platform-bucket-name"]
    deployment = Deployment(region=region, bucket=bucket)
    role_arn = boto3.client("iam").create_role(RoleName="simulated-lambda", AssumeRolePolicyDocument="{}")["Role"][
        "Arn"
    ]
    for logical_id, resource in stack.of_type("AWS::DynamoDB::Table").items():
        props = resolver.resolve(resource["Properties"])
        table = boto3.client("dynamodb").create_table(
            TableName=logical_id,
            KeySchema=props["KeySchema"],
            AttributeDefinitions=props["AttributeDefinitions"],
            BillingMode="PAY_PER_REQUEST",
            GlobalSecondaryIndexes=[
                {k: v for k, v in index.items() if k in {"IndexName", "KeySchema", "Projection"}}
                for index in props.get("GlobalSecondaryIndexes", [])
            ],
        )["TableDescription"]
        resolver.refs[logical_id] = logical_id
        resolver.attributes[(logical_id, "Arn")] = table["TableArn"]
        deployment.token_table = logical_id
    for logical_id in stack.of_type("AWS::SNS::Topic"):
        arn = boto3.client("sns").create_topic(Name=logical_id)["TopicArn"]
        resolver.refs[logical_id] = arn
        resolver.attributes[(logical_id, "TopicArn")] = arn
        deployment.topics.append(arn)
    for logical_id in stack.of_type("AWS::SQS::Queue"):
        url = boto3.client("sqs").create_queue(QueueName=logical_id)["QueueUrl"]
        resolver.refs[logical_id] = url
        resolver.attributes[(logical_id, "Arn")] = f"arn:aws:sqs:{region}:{ACCOUNT}:{logical_id}"
    lambda_client = boto3.client("lambda")
    for logical_id, resource in stack.of_type("AWS::Lambda::Function").items():
        props = resource["Properties"]
        created = lambda_client.create_function(
            FunctionName=logical_id[:64],
            Runtime="python3.12",
            Role=role_arn,
            Handler=props["Handler"],
            Code={"ZipFile": stack.asset_zip(props["Code"]["S3Key"])},
            Environment={"Variables": resolver.resolve(props.get("Environment", {}).get("Variables", {}))},
            Timeout=props.get("Timeout", 60),
        )
        resolver.refs[logical_id] = created["FunctionName"]
        resolver.attributes[(logical_id, "Arn")] = created["FunctionArn"]
        deployment.functions[logical_id] = created["FunctionName"]
    sfn = boto3.client("stepfunctions")
    for logical_id, resource in stack.of_type("AWS::StepFunctions::StateMachine").items():
        definition = resolver.resolve(resource["Properties"]["DefinitionString"])
        arn = sfn.create_state_machine(name=logical_id[:80], definition=definition, roleArn=role_arn)["stateMachineArn"]
        resolver.refs[logical_id] = arn
        deployment.state_machines[logical_id] = arn
    # A function that starts a state machine (the model registry's approval deploys) names it in its
    # environment; the machines exist only now, after the functions their definitions invoke.
    for logical_id, resource in stack.of_type("AWS::Lambda::Function").items():
        variables = resource["Properties"].get("Environment", {}).get("Variables", {})
        if any(_refers_to(value, deployment.state_machines) for value in variables.values()):
            lambda_client.update_function_configuration(
                FunctionName=deployment.functions[logical_id], Environment={"Variables": resolver.resolve(variables)}
            )
    for resource in stack.of_type("AWS::Events::Rule").values():
        props = resolver.resolve(resource["Properties"])
        deployment.rules.append((props["EventPattern"], props["Targets"][0]["Arn"].rsplit(":", 1)[-1]))
    return deployment


def _platform(
    team: AssemblyTeam, region: str, resolver: Resolver, stack: StackTemplate, jumpstart_cache: Path | None
) -> None:
    """What the foundation stack would have published: a bucket, a key, the role, the network.
    Exports the assembly gives literally (an imported VPC's subnet ids) keep their value."""
    bucket = f"tunestack-{team.name}-data-simulated"
    s3 = boto3.client("s3")
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=bucket, **location)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})  # as the foundation's
    jumpstart_bucket(s3, region, location, jumpstart_cache)
    key_arn = boto3.client("kms").create_key(Description=f"tunestack {team.name} (simulated)")["KeyMetadata"]["Arn"]
    values = {
        "bucket-name": bucket,
        "key-arn": key_arn,
        "role-arn": f"arn:aws:iam::{ACCOUNT}:role/tunestack-{team.name}-sagemaker-simulated",
        "subnet-ids": "subnet-0a00000000000001,subnet-0a00000000000002",
        "security-group-ids": "sg-0a000000000000001",
    }
    for field_name, value in values.items():
        export = f"tunestack-{team.name}-platform-{field_name}"
        resolver.exports[export] = team.exports.get(export, value) if field_name == "subnet-ids" else value


def jumpstart_bucket(s3: Any, region: str, location: dict[str, Any], catalog: Path | None) -> None:
    """The region's JumpStart bucket: every file of ``catalog`` at its own key, or the fixtures' specs."""
    bucket = f"jumpstart-cache-prod-{region}"
    s3.create_bucket(Bucket=bucket, **location)
    root = catalog or FIXTURES
    for path in sorted(catalog.rglob("*") if catalog else FIXTURES.rglob("*.json")):
        if path.is_file():
            s3.upload_file(str(path), bucket, path.relative_to(root).as_posix())
