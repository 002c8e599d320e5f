"""The model artifact a deployment serves, pinned to the object version its training job wrote.

The team bucket is versioned, and ``<job>/output/model.tar.gz`` can be overwritten later (by a
team member, or by another job's container holding the SageMaker role), while SageMaker's
CreateModel takes an S3 URL without a version and downloads it again whenever it starts an
instance. So a deployment serves a copy: the job's own version (the first one written at that key:
job names are unique in an account, and SageMaker writes the artifact once, when the job ends) is
copied by version to ``deployed/<model>/model.tar.gz``, which only the deploy's prepare step may
write (bucket policy) and nobody may overwrite or delete.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tunestack_runtime.errors import InvalidInput

#: Where deployed copies live in the team bucket; the bucket policy keeps it write-once.
DEPLOYED_PREFIX = "deployed/"


@dataclass(frozen=True)
class PinnedArtifact:
    bucket: str
    key: str
    version_id: str
    copy_key: str

    @property
    def source_uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def serving_uri(self) -> str:
        return f"s3://{self.bucket}/{self.copy_key}"

    def as_plan(self) -> dict[str, str]:
        return {"Bucket": self.bucket, "Key": self.key, "VersionId": self.version_id, "CopyKey": self.copy_key}


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def pin(s3: Any, model_data_url: str, model_name: str, where: str) -> PinnedArtifact | None:
    """The job's own version of ``model_data_url``; None for an uncompressed model (a prefix, which
    SageMaker reads object by object and which is served as it is)."""
    if not model_data_url.endswith(".tar.gz"):
        return None
    bucket, key = _split(model_data_url)
    versions: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=key):
        versions += [v for v in page.get("Versions", []) if v["Key"] == key]
    if not versions:
        raise InvalidInput(f"{where}: its model artifact {model_data_url} is missing")
    # ListObjectVersions lists a key's versions newest first (S3 API Reference): the last is the first written.
    first = versions[-1]
    return PinnedArtifact(
        bucket=bucket,
        key=key,
        version_id=str(first["VersionId"]),
        copy_key=f"{DEPLOYED_PREFIX}{model_name}/model.tar.gz",
    )


def copy_pinned(s3: Any, pinned: dict[str, str]) -> None:
    """Copy the pinned version to the deployed key (a retry copies the same version again)."""
    source = {"Bucket": pinned["Bucket"], "Key": pinned["Key"]}
    if pinned["VersionId"] != "null":  # a bucket without versioning has only the "null" version
        source["VersionId"] = pinned["VersionId"]
    # Managed copy: server-side, in parts above 5 GB.
    s3.copy(source, pinned["Bucket"], pinned["CopyKey"])
