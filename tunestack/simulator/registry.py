"""The model registry as SageMaker keeps it, on top of moto 5.2.5, which stores model package groups
and versions but:

- ignores ``ClientToken`` (SageMaker: "A unique token that guarantees that the call to this API is
  idempotent"): a retried CreateModelPackage would add a second version;
- accepts ``Tags`` on a version of a group (SageMaker: "If you supply ModelPackageGroupName ... you
  cannot supply a tag argument");
- overwrites a group on a second CreateModelPackageGroup of the same name, its versions' group included;
- clears a version's ``CustomerMetadataProperties`` and ``ApprovalDescription`` on an
  UpdateModelPackage that does not repeat them (UpdateModelPackage adds or changes properties;
  ``CustomerMetadataPropertiesToRemove`` removes them);
- sends no "SageMaker Model Package State Change" event when a version is created or its approval
  status changes.

The events are queued on ``SimulatedSageMaker.registry_events`` as (detail-type, detail) for the
harness to deliver as it delivers job state changes. The detail carries the version's
ModelPackageArn, ModelPackageName, ModelPackageDescription and CertifyForMarketplace (EventBridge's
schema aws.sagemaker@SageMakerModelPackageStateChange, as aws-cdk-lib's mixins-preview events
package names it), ModelPackageGroupName and ModelApprovalStatus (the fields AWS's own samples filter
on), and ModelPackageVersion and ModelPackageStatus as DescribeModelPackage names them (not checked
against a real event); tunestack reads only the ARN and describes the version again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from tunestack.simulator.sagemaker_state import SimulatedSageMaker, check_tags
from tunestack_runtime.contract import MODEL_PACKAGE_STATE_CHANGE as STATE_CHANGE_DETAIL_TYPE


def state_change_detail(package: Any) -> dict[str, Any]:
    """A version (moto's ModelPackage) as its state-change event describes it."""
    return {
        "ModelPackageArn": package.arn,
        "ModelPackageName": package.model_package_name,
        "ModelPackageGroupName": package.model_package_group_name,
        "ModelPackageVersion": package.model_package_version,
        "ModelPackageDescription": package.model_package_description or "",
        "ModelPackageStatus": package.model_package_status,
        "ModelApprovalStatus": package.model_approval_status,
        "CertifyForMarketplace": bool(package.certify_for_marketplace),
    }


@contextmanager
def simulated_registry(sim: SimulatedSageMaker) -> Iterator[SimulatedSageMaker]:
    from moto.sagemaker import models
    from moto.sagemaker.exceptions import ValidationError

    backend_cls = models.SageMakerModelBackend
    original_create_group = backend_cls.create_model_package_group
    original_create = backend_cls.create_model_package
    original_update = backend_cls.update_model_package
    tokens: dict[str, str] = {}  # ClientToken -> the version it created

    def emit(self: Any, arn: str) -> None:
        sim.registry_events.append((STATE_CHANGE_DETAIL_TYPE, state_change_detail(self.model_packages[arn])))

    def create_group(self: Any, model_package_group_name: str, *args: Any, **kwargs: Any) -> str:
        sim.reject("CreateModelPackageGroup")
        check_tags(kwargs.get("tags"))
        if model_package_group_name in self.model_package_groups:
            existing = self.model_package_groups[model_package_group_name].arn
            raise ValidationError(f"Model Package Group {existing} already exists.")
        arn = original_create_group(self, model_package_group_name, *args, **kwargs)
        sim.calls["CreateModelPackageGroup"] += 1
        return str(arn)

    def create(self: Any, *args: Any, **kwargs: Any) -> str:
        sim.reject("CreateModelPackage")
        token = kwargs.get("client_token")
        if token and token in tokens:
            return tokens[token]
        if kwargs.get("model_package_group_name") and kwargs.get("tags"):
            raise ValidationError(
                "Tags cannot be supplied with ModelPackageGroupName: a version uses the tags of its group"
            )
        arn = str(original_create(self, *args, **kwargs))
        if token:
            tokens[token] = arn
        sim.calls["CreateModelPackage"] += 1
        emit(self, arn)
        return arn

    def update(
        self: Any,
        model_package_arn: str,
        model_approval_status: str | None,
        approval_description: str | None,
        customer_metadata_properties: dict[str, str] | None,
        customer_metadata_properties_to_remove: list[str],
        additional_inference_specifications_to_add: list[Any] | None,
    ) -> str:
        sim.reject("UpdateModelPackage")
        package = self.model_packages.get(self.model_package_name_mapping.get(model_package_arn, model_package_arn))
        if package is None:
            raise ValidationError(f"Model package {model_package_arn} not found")
        before = package.model_approval_status
        metadata = {**(package.customer_metadata_properties or {}), **(customer_metadata_properties or {})}
        description = approval_description if approval_description is not None else package.approval_description
        arn = str(
            original_update(
                self,
                model_package_arn,
                model_approval_status if model_approval_status is not None else before,
                description,
                metadata or None,
                customer_metadata_properties_to_remove,
                additional_inference_specifications_to_add,
            )
        )
        sim.calls["UpdateModelPackage"] += 1
        if package.model_approval_status != before:
            emit(self, package.arn)
        return arn

    with (
        mock.patch.object(backend_cls, "create_model_package_group", create_group),
        mock.patch.object(backend_cls, "create_model_package", create),
        mock.patch.object(backend_cls, "update_model_package", update),
    ):
        yield sim
