"""The CDK feature flags tunestack's constructs are built and tested with, pinned on their own nodes.

A construct library cannot rely on the flags of the app it lands in: without
``@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy`` an access-log bucket gets an ACL that its
BucketOwnerEnforced ownership refuses, and the other flags below change policies, log groups and
security groups. CDK reads a flag from the nearest node that sets it, so setting them as context on
a tunestack construct's node (before it has children) gives its whole subtree the same resources in
any app. Source: the recommended flags ``cdk init`` writes for aws-cdk-lib 2.275.0 (this
repository's cdk.json), for the services tunestack creates resources in.
"""

from __future__ import annotations

from constructs import Construct

FEATURE_FLAGS: dict[str, bool] = {
    "@aws-cdk/aws-dynamodb:resourcePolicyPerReplica": True,
    "@aws-cdk/aws-dynamodb:retainTableReplica": True,
    "@aws-cdk/aws-ec2:restrictDefaultSecurityGroup": True,
    "@aws-cdk/aws-events:eventsTargetQueueSameAccount": True,
    "@aws-cdk/aws-events:requireEventBusPolicySid": True,
    "@aws-cdk/aws-iam:importedRoleStackSafeDefaultPolicyName": True,
    "@aws-cdk/aws-iam:minimizePolicies": True,
    "@aws-cdk/aws-kms:aliasNameRef": True,
    "@aws-cdk/aws-kms:applyImportedAliasPermissionsToPrincipal": True,
    "@aws-cdk/aws-kms:reduceCrossAccountRegionPolicyScope": True,
    "@aws-cdk/aws-lambda:createNewPoliciesWithAddToRolePolicy": False,
    "@aws-cdk/aws-lambda:recognizeLayerVersion": True,
    "@aws-cdk/aws-lambda:useCdkManagedLogGroup": True,
    "@aws-cdk/aws-s3:createDefaultLoggingPolicy": True,
    "@aws-cdk/aws-s3:keepNotificationInImportedBucket": False,
    "@aws-cdk/aws-s3:publicAccessBlockedByDefault": True,
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
    "@aws-cdk/aws-s3:setUniqueReplicationRoleName": True,
    "@aws-cdk/aws-sns-subscriptions:restrictSqsDescryption": True,
    "@aws-cdk/aws-stepfunctions-tasks:enableEmrServicePolicyV2": True,
    "@aws-cdk/custom-resources:logApiResponseDataPropertyTrueDefault": False,
    "@aws-cdk/customresources:installLatestAwsSdkDefault": False,
    "@aws-cdk/s3-notifications:addS3TrustKeyPolicyForSnsSubscriptions": True,
}


def pin_feature_flags(scope: Construct) -> None:
    """Set every flag on ``scope``'s node; call it first thing in the constructor (no children yet)."""
    for flag, value in FEATURE_FLAGS.items():
        scope.node.set_context(flag, value)
