"""The function every failure path of a team runs: it turns the error a Catch left into readable
lines (``tunestack_runtime.failure_causes``) and publishes the team's failure notice."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

from tunestack.constructs.pipeline_runtime import PipelineRuntime, grant_key_use
from tunestack_runtime.failure_causes import TOPIC_VARIABLE

CONSTRUCT_ID = "DescribeFailure"
HANDLER = "tunestack_runtime.handlers.failure.describe"


def describing_function(runtime: PipelineRuntime) -> lambda_.IFunction:
    """One per team, on the runtime beside the topic it publishes to; the three pipelines share it."""
    existing = runtime.node.try_find_child(CONSTRUCT_ID)
    if isinstance(existing, lambda_.Function):
        return existing
    function = runtime.function(
        runtime,
        CONSTRUCT_ID,
        handler=HANDLER,
        description="Describes a failed execution's cause in readable lines and notifies the team",
    )
    function.add_environment(TOPIC_VARIABLE, runtime.failures.topic_arn)
    # Exact actions: Topic.grant_publish would add kms:GenerateDataKey* for the encrypted topic.
    function.add_to_role_policy(iam.PolicyStatement(actions=["sns:Publish"], resources=[runtime.failures.topic_arn]))
    # Publishing to a topic encrypted with a customer managed key (Amazon SNS Developer Guide,
    # "Encryption at rest": publishers need kms:GenerateDataKey and kms:Decrypt on the key).
    grant_key_use(function, runtime.resources.key, ["kms:GenerateDataKey", "kms:Decrypt"])
    return function
