"""Acknowledging a compliance finding, one finding on one resource at a time.

cdk-nag v3 runs as a CDK validation plugin; a finding is acknowledged on the construct it was
raised on, by its full id (``AwsSolutions-IAM5[Resource::...]`` rather than a bare rule), with a
reason a reviewer can check. checkov reads skips from the resource's CloudFormation metadata.
"""

from __future__ import annotations

import json
from typing import Any, cast

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks, ServerlessChecks
from constructs import Construct, IConstruct

#: The cdk-nag packs every tunestack construct passes with no unacknowledged finding; an app adds
#: them with ``cdk.Validations.of(app).add_plugins(*(pack(app) for pack in NAG_PACKS))``.
NAG_PACKS = (AwsSolutionsChecks, NIST80053R5Checks, ServerlessChecks)

_MIN_REASON = 25
#: NIST 800-53 rev 5 (IAMNoInlinePolicy) prefers managed policies; tunestack writes one policy for
#: each role it creates and for no other.
INLINE_POLICY_FOR_ONE_ROLE = (
    "The policy belongs to exactly one role and is written for it; kept inline it cannot be attached "
    "elsewhere and is deleted with the role. A customer managed policy would add nothing but reuse."
)


def acknowledge(scope: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge one finding on ``scope`` (and the constructs under it).

    ``finding`` is what the validation report prints: a cdk-nag id with its per-finding part,
    e.g. ``AwsSolutions-IAM5[Action::s3:List*]`` (the pack prefix is added), or a CDK annotation
    as ``Annotation::<id>``.
    """
    if len(reason.strip()) < _MIN_REASON:
        raise ValueError(f"acknowledgment of {finding!r} on {scope.node.path}: give a specific reason")
    if "::" not in finding.split("[", 1)[0]:
        finding = f"{finding.split('-', 1)[0]}::{finding}"
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=finding, reason=reason))


def skip_checkov(resource: IConstruct, check_id: str, comment: str) -> None:
    """Record a checkov skip on one CloudFormation resource, with why."""
    cfn = resource if isinstance(resource, cdk.CfnResource) else resource.node.default_child
    if not isinstance(cfn, cdk.CfnResource):
        raise TypeError(f"{resource.node.path} has no CloudFormation resource to annotate")
    if len(comment.strip()) < _MIN_REASON:
        raise ValueError(f"checkov skip {check_id} on {cfn.node.path}: give a specific comment")
    metadata: dict[str, Any] = cfn.get_metadata("checkov") or {"skip": []}
    metadata["skip"].append({"id": check_id, "comment": comment})
    cfn.add_metadata("checkov", metadata)


def nag_resource(scope: IConstruct, value: str) -> str:
    """How cdk-nag prints a (possibly tokenized) IAM resource: ``Resource::<Bucket.Arn>/*``.

    Acknowledging by this rendering keeps each acknowledgment tied to one concrete resource
    pattern, whether the stack is environment-agnostic or names its account and region.
    """
    return f"Resource::{_render(cdk.Stack.of(scope).resolve(value))}"


def _render(resolved: Any) -> str:
    if isinstance(resolved, str):
        return resolved
    if isinstance(resolved, dict) and len(resolved) == 1:
        ((fn, arg),) = resolved.items()
        if fn == "Fn::Join":
            separator, parts = arg
            return separator.join(_render(p) for p in parts)
        if fn == "Ref":
            return f"<{arg}>"
        if fn == "Fn::GetAtt":
            return f"<{arg[0]}.{arg[1]}>"
        if fn == "Fn::ImportValue" and isinstance(arg, str):
            # cdk-nag prints an imported value as the export's name.
            return arg
    # Other intrinsics (e.g. a cross-stack Fn::GetStackOutput) are printed as compact JSON.
    return json.dumps(resolved, separators=(",", ":"))


#: Lambda functions CDK itself adds to run custom resources during deployment, by construct id.
CDK_PROVIDER_FUNCTION_IDS = {
    "Custom::VpcRestrictDefaultSGCustomResourceProvider": "removes the default security group's rules",
    "AWS679f53fac002430cb0da5b7982bd2287": "runs AwsCustomResource SDK calls",
}


#: A marker child: this provider function's reasons are recorded.
_ANNOTATED = "TunestackAnnotated"


def annotate_cdk_provider_functions(stack: cdk.Stack) -> None:
    """Record why CDK's own custom-resource functions skip checkov's Lambda runtime checks.

    They run only while CloudFormation deploys the stack, are invoked by CloudFormation alone, and
    report failures through the CloudFormation response, so reserved concurrency, a dead-letter
    queue or a VPC (where their S3 response URL may be unreachable) would add nothing. Each
    construct that may create one calls this at its end; a function is annotated once.
    """
    for child in stack.node.children:
        purpose = CDK_PROVIDER_FUNCTION_IDS.get(child.node.id)
        if purpose is None or child.node.try_find_child(_ANNOTATED) is not None:
            continue
        Construct(cast(Construct, child), _ANNOTATED)
        function = next(
            c
            for c in child.node.find_all()
            if isinstance(c, cdk.CfnResource) and c.cfn_resource_type == "AWS::Lambda::Function"
        )
        why = f"CDK deployment-time function that {purpose}; invoked only by CloudFormation"
        skip_checkov(function, "CKV_AWS_115", f"{why}, so concurrency cannot run away.")
        skip_checkov(function, "CKV_AWS_116", f"{why}, which reports its failures; a DLQ would stay empty.")
        skip_checkov(function, "CKV_AWS_117", f"{why}; it must reach CloudFormation's S3 response URL.")
        # cdk-nag's Lambda rules read lambda.CfnFunction; CDK's CustomResourceProvider functions
        # are plain CfnResources it does not look at.
        if child.node.id.endswith("CustomResourceProvider"):
            continue
        once = f"{why}, which reports its failures; a DLQ stays empty."
        acknowledge(function, "NIST.800.53.R5-LambdaConcurrency", f"{why}, so concurrency cannot run away.")
        acknowledge(function, "NIST.800.53.R5-LambdaDLQ", once)
        acknowledge(function, "Serverless-LambdaDLQ", once)
        acknowledge(function, "NIST.800.53.R5-LambdaInsideVPC", f"{why}; it must reach CloudFormation's S3 URL.")
        acknowledge(function, "Serverless-LambdaTracing", f"{why}; CDK sets no tracing on its provider function.")
        acknowledge(function, "Serverless-LambdaDefaultMemorySize", f"{why}; CDK sizes it itself.")
