"""Every IAM policy document of the synthesized templates, with intrinsics made concrete so that
an IAM linter can read ARNs: ``Ref``/``GetAtt`` become ARNs of the right service and shape in a
placeholder account and region, SSM platform parameters the foundation's values."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ACCOUNT, REGION = "123456789012", "us-east-1"
_ARN = {
    "AWS::DynamoDB::Table": "arn:aws:dynamodb:{r}:{a}:table/{n}",
    "AWS::Lambda::Function": "arn:aws:lambda:{r}:{a}:function:{n}",
    "AWS::Logs::LogGroup": "arn:aws:logs:{r}:{a}:log-group:{n}:*",
    "AWS::S3::Bucket": "arn:aws:s3:::{n}",
    "AWS::KMS::Key": "arn:aws:kms:{r}:{a}:key/{n}",
    "AWS::SQS::Queue": "arn:aws:sqs:{r}:{a}:{n}",
    "AWS::IAM::Role": "arn:aws:iam::{a}:role/{n}",
    "AWS::StepFunctions::StateMachine": "arn:aws:states:{r}:{a}:stateMachine:{n}",
    "AWS::SNS::Topic": "arn:aws:sns:{r}:{a}:{n}",
}
_PARAMETERS = {
    "role-arn": f"arn:aws:iam::{ACCOUNT}:role/team-sagemaker",
    "key-arn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "bucket-name": "team-data",
}
_PSEUDO = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::URLSuffix": "amazonaws.com"}


def concrete(value: Any, template: dict[str, Any]) -> Any:
    resources, parameters = template["Resources"], template.get("Parameters", {})
    if isinstance(value, list):
        return [concrete(v, template) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) != 1 or not next(iter(value)).startswith(("Ref", "Fn::")):
        return {k: concrete(v, template) for k, v in value.items()}
    ((function, argument),) = value.items()
    if function == "Ref":
        if argument in _PSEUDO:
            return _PSEUDO[argument]
        if argument in parameters:
            return _PARAMETERS.get(parameters[argument].get("Default", "").rsplit("/", 1)[-1], f"param-{argument}")
        kind = resources[argument]["Type"]
        arn_named = {"AWS::StepFunctions::StateMachine", "AWS::SNS::Topic"}
        return _ARN[kind].format(r=REGION, a=ACCOUNT, n=argument) if kind in arn_named else argument.lower()
    if function == "Fn::GetAtt":
        name, attribute = argument
        kind = resources[name]["Type"]
        if kind in _ARN and attribute in {"Arn", "TopicArn"}:
            return _ARN[kind].format(r=REGION, a=ACCOUNT, n=name.lower())
        return f"{name.lower()}-{attribute.lower()}"
    if function == "Fn::Join":
        separator, parts = argument
        return separator.join(str(concrete(p, template)) for p in parts)
    if function == "Fn::Select":
        index, items = argument
        return concrete(items, template)[int(index)]
    if function == "Fn::Split":
        separator, text = argument
        return str(concrete(text, template)).split(separator)
    raise ValueError(f"no concrete form for {function}")


def policy_documents(outdir: Path) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(template, logical id, concrete policy document) for every identity policy."""
    for path in sorted(outdir.glob("tunestack-*.template.json")):
        template = json.loads(path.read_text())
        for logical_id, resource in template["Resources"].items():
            documents = []
            if resource["Type"] in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}:
                documents.append(resource["Properties"]["PolicyDocument"])
            if resource["Type"] == "AWS::IAM::Role":
                documents += [p["PolicyDocument"] for p in resource["Properties"].get("Policies", [])]
            for document in documents:
                yield path.stem, logical_id, concrete(document, template)
