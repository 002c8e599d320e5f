"""Every IAM policy document of the synthesized templates, with intrinsics made concrete so that
an IAM linter or the request evaluator can read ARNs: ``Ref``/``GetAtt`` become ARNs of the right
service and shape in a placeholder account and region, imports the exporting stack's value,
mappings their row for the region, and SSM platform parameters (templates before the exports)
the values ``ssm`` gives (by default the same placeholders for every team)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from functools import cache
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


def _pseudo(template: dict[str, Any]) -> dict[str, str]:
    account, region = template.get("__env__", (ACCOUNT, REGION))
    return {
        "AWS::Partition": "aws",
        "AWS::Region": region,
        "AWS::AccountId": account,
        "AWS::URLSuffix": "amazonaws.com",
    }


@cache
def _templates(outdir: Path) -> dict[str, dict[str, Any]]:
    """Templates by stack name, each with the account and region its stack names (or the placeholders)."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    templates = {}
    for path in sorted(outdir.glob("tunestack-*.template.json")):
        template = json.loads(path.read_text())
        environment = manifest["artifacts"].get(path.name.removesuffix(".template.json"), {}).get("environment", "")
        account, region = environment.removeprefix("aws://").split("/") if environment else ("", "")
        template["__env__"] = (
            account if account.isdigit() else ACCOUNT,
            region if region and region != "unknown-region" else REGION,
        )
        templates[path.name.removesuffix(".template.json")] = template
    return templates


def template(outdir: Path, stack: str) -> dict[str, Any]:
    return _templates(outdir)[stack]


def _exports(outdir: Path) -> dict[str, tuple[Any, dict[str, Any]]]:
    return {
        output["Export"]["Name"]: (output["Value"], t)
        for t in _templates(outdir).values()
        for output in t.get("Outputs", {}).values()
        if isinstance(output.get("Export", {}).get("Name"), str)
    }


def concrete(
    value: Any, template: dict[str, Any], outdir: Path | None = None, ssm: Mapping[str, str] | None = None
) -> Any:
    resources, parameters = template["Resources"], template.get("Parameters", {})
    pseudo = _pseudo(template)
    region, account = pseudo["AWS::Region"], pseudo["AWS::AccountId"]
    again = lambda v: concrete(v, template, outdir, ssm)  # noqa: E731
    if isinstance(value, list):
        return [again(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) != 1 or not next(iter(value)).startswith(("Ref", "Fn::")):
        return {k: again(v) for k, v in value.items()}
    ((function, argument),) = value.items()
    if function == "Ref":
        if argument in pseudo:
            return pseudo[argument]
        if argument in parameters:
            name = parameters[argument].get("Default", "")
            values = {**_PARAMETERS, **(ssm or {})}
            return values.get(name, values.get(name.rsplit("/", 1)[-1], f"param-{argument}"))
        kind = resources[argument]["Type"]
        arn_named = {"AWS::StepFunctions::StateMachine", "AWS::SNS::Topic"}
        return _ARN[kind].format(r=region, a=account, n=argument) if kind in arn_named else argument.lower()
    if function == "Fn::GetAtt":
        name, attribute = argument
        kind = resources[name]["Type"]
        if kind in _ARN and attribute in {"Arn", "TopicArn"}:
            return _ARN[kind].format(r=region, a=account, n=name.lower())
        if attribute.startswith("PrefixLists."):
            return "pl-63a5400a"  # the S3 prefix list of us-east-1
        return f"{name.lower()}-{attribute.lower()}"
    if function == "Fn::Join":
        separator, parts = argument
        return separator.join(str(again(p)) for p in parts)
    if function == "Fn::Select":
        index, items = argument
        return again(items)[int(index)]
    if function == "Fn::Split":
        separator, text = argument
        return str(again(text)).split(separator)
    if function == "Fn::FindInMap":
        mapping, key, field = (again(a) for a in argument)
        return template["Mappings"][mapping][key][field]
    if function == "Fn::ImportValue":
        assert outdir is not None, "an import needs the assembly"
        exported, source = _exports(outdir)[again(argument)]
        return concrete(exported, source, outdir, ssm)
    raise ValueError(f"no concrete form for {function}")


def _flatten(document: dict[str, Any]) -> dict[str, Any]:
    """A statement's Resource may be a FindInMap list inside the resource list."""
    for statement in document.get("Statement", []):
        resources = statement.get("Resource")
        if isinstance(resources, list):
            statement["Resource"] = [r for item in resources for r in (item if isinstance(item, list) else [item])]
    return document


def role_policies(outdir: Path, stack: str, ssm: Mapping[str, str] | None = None) -> dict[str, list[dict[str, Any]]]:
    """The concrete identity policy documents of each role of ``stack``, by the role's logical id."""
    t = template(outdir, stack)
    roles: dict[str, list[dict[str, Any]]] = {}
    for logical_id, resource in t["Resources"].items():
        properties = resource["Properties"]
        if resource["Type"] == "AWS::IAM::Role":
            for inline in properties.get("Policies", []):
                roles.setdefault(logical_id, []).append(_flatten(concrete(inline["PolicyDocument"], t, outdir, ssm)))
        if resource["Type"] in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}:
            for role in properties.get("Roles", []):
                document = _flatten(concrete(properties["PolicyDocument"], t, outdir, ssm))
                roles.setdefault(role["Ref"], []).append(document)
    return roles


def role(outdir: Path, stack: str, id_prefix: str, ssm: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """The documents of the one role of ``stack`` whose logical id starts with ``id_prefix``."""
    found = [docs for logical_id, docs in role_policies(outdir, stack, ssm).items() if logical_id.startswith(id_prefix)]
    assert len(found) == 1, f"{stack}: {len(found)} roles named {id_prefix}*"
    return found[0]


def resource_policy(outdir: Path, stack: str, resource_type: str, property_name: str) -> list[dict[str, Any]]:
    """The concrete resource policies of every ``resource_type`` of ``stack`` (e.g. bucket policies);
    a resource without one contributes nothing."""
    t = template(outdir, stack)
    return [
        concrete(resource["Properties"][property_name], t, outdir)
        for resource in t["Resources"].values()
        if resource["Type"] == resource_type and property_name in resource["Properties"]
    ]


def policy_documents(outdir: Path) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(template, logical id, concrete policy document) for every identity policy."""
    for stack, t in _templates(outdir).items():
        for logical_id, resource in t["Resources"].items():
            documents = []
            if resource["Type"] in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}:
                documents.append(resource["Properties"]["PolicyDocument"])
            if resource["Type"] == "AWS::IAM::Role":
                documents += [p["PolicyDocument"] for p in resource["Properties"].get("Policies", [])]
            for document in documents:
                yield stack, logical_id, _flatten(concrete(document, t, outdir))
