"""S3 buckets with the platform's secure defaults in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from tunestack.constructs.compliance import acknowledge, skip_checkov


@dataclass(frozen=True, kw_only=True)
class BucketRetention:
    """How long versions and unfinished uploads are kept.

    ``noncurrent_version_days``: days an overwritten or deleted object version is kept (default 90).
    ``incomplete_upload_days``: days before an unfinished multipart upload is aborted (default 7).
    """

    noncurrent_version_days: int = 90
    incomplete_upload_days: int = 7


def _hardened(retention: BucketRetention, removal_policy: cdk.RemovalPolicy) -> dict[str, Any]:
    """Settings every tunestack bucket has, whatever its encryption."""
    return {
        "enforce_ssl": True,
        "minimum_tls_version": 1.2,
        "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
        "object_ownership": s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        "versioned": True,
        "lifecycle_rules": [
            s3.LifecycleRule(
                id="ExpireOldVersionsAndUploads",
                abort_incomplete_multipart_upload_after=cdk.Duration.days(retention.incomplete_upload_days),
                noncurrent_version_expiration=cdk.Duration.days(retention.noncurrent_version_days),
            )
        ],
        "removal_policy": removal_policy,
    }


class AccessLogBucket(s3.Bucket):
    """Destination of S3 server access logs.

    S3 delivers server access logs only to buckets encrypted with SSE-S3, so this bucket alone
    uses S3-managed keys; everything else about it is hardened like the data bucket.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        retention: BucketRetention = BucketRetention(),
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            encryption=s3.BucketEncryption.S3_MANAGED,
            **_hardened(retention, removal_policy),
        )
        # cdk-nag recognizes a log destination by its logging bucket policy and raises no S1.
        skip_checkov(
            self,
            "CKV_AWS_18",
            "This bucket is the server access log destination; logging it to itself would loop.",
        )
        skip_checkov(
            self,
            "CKV_AWS_145",
            "S3 server access logging only delivers to SSE-S3 encrypted buckets, not SSE-KMS.",
        )
        acknowledge(
            self,
            "NIST.800.53.R5-S3DefaultEncryptionKMS",
            "S3 server access logging only delivers to SSE-S3 encrypted buckets, not SSE-KMS.",
        )
        acknowledge(self, "NIST.800.53.R5-S3BucketReplicationEnabled", _NO_REPLICATION)


#: Why tunestack's buckets do not replicate (NIST 800-53 rev 5 asks for it).
_NO_REPLICATION = (
    "Team data stays in the team's region (datasets must be in the jobs' region); versioning and "
    "RETAIN protect it, and cross-region replication is the account owner's disaster-recovery choice."
)


class SecureBucket(s3.Bucket):
    """A bucket encrypted with a customer-managed key, SSL only, private, versioned, logged.

    A subclass of :class:`aws_cdk.aws_s3.Bucket`, so ``grant_*`` and every other Bucket API keep
    working. RETAIN is the default removal policy: data outlives the stack unless the caller
    explicitly passes DESTROY.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        encryption_key: kms.IKey,
        access_logs_bucket: s3.IBucket,
        access_logs_prefix: str,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        retention: BucketRetention = BucketRetention(),
        event_bridge_enabled: bool = False,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=encryption_key,
            bucket_key_enabled=True,
            server_access_logs_bucket=access_logs_bucket,
            server_access_logs_prefix=access_logs_prefix,
            event_bridge_enabled=event_bridge_enabled,
            **_hardened(retention, removal_policy),
        )
        acknowledge(self, "NIST.800.53.R5-S3BucketReplicationEnabled", _NO_REPLICATION)
