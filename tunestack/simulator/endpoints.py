"""Simulated endpoints: Creating -> InService or Failed, and UpdateEndpoint (which moto lacks):
Updating -> InService on the new config, or rolled back to the old one, in simulated time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from tunestack.simulator.sagemaker_state import SimulatedSageMaker, check_tags
from tunestack_runtime.contract import ENDPOINT


@dataclass
class SimulatedEndpoint:
    name: str
    arn: str
    serving: str  # the endpoint config in service (or being created)
    status: str = "Creating"
    pending: str | None = None  # the config an update is deploying
    failure_reason: str | None = None
    tags: dict[str, str] = field(default_factory=dict)  # as created; an update keeps them


def finish_endpoint(sim: SimulatedSageMaker, name: str, outcome: str, reason: str | None = None) -> SimulatedEndpoint:
    """``outcome``: "InService", "Failed" or "RolledBack" (an update that did not become healthy)."""
    endpoint: SimulatedEndpoint = sim.endpoints[name]
    if endpoint.pending is not None and outcome == "InService":
        endpoint.serving, endpoint.failure_reason = endpoint.pending, None
    elif outcome == "RolledBack":
        endpoint.failure_reason = reason or "the new deployment did not become healthy; rolled back"
        outcome = "InService"
    elif outcome == "Failed":
        endpoint.failure_reason = reason or "the endpoint failed"
    endpoint.status, endpoint.pending = outcome, None
    return endpoint


@contextmanager
def simulated_endpoints(sim: SimulatedSageMaker) -> Iterator[None]:
    from moto.sagemaker import models, responses
    from moto.sagemaker.exceptions import ValidationError

    backend_cls = models.SageMakerModelBackend
    original_create = backend_cls.create_endpoint
    original_describe = backend_cls.describe_endpoint

    def counted(api: str, original: Any) -> Any:
        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            sim.reject(api)
            check_tags(kwargs.get("tags"))
            result = original(self, *args, **kwargs)
            sim.calls[api] += 1
            return result

        return call

    def create(self: Any, endpoint_name: str, endpoint_config_name: str, tags: list[dict[str, str]]) -> Any:
        config = self.describe_endpoint_config(endpoint_config_name)
        variant = config["ProductionVariants"][0]
        sim.reject("CreateEndpoint", (variant["InstanceType"], variant["InitialInstanceCount"], "endpoint usage"))
        check_tags(tags)
        if endpoint_name in sim.endpoints:
            raise ValidationError(f"Cannot create already existing endpoint {endpoint_name}")
        created = original_create(self, endpoint_name, endpoint_config_name, tags)
        sim.endpoints[endpoint_name] = SimulatedEndpoint(
            endpoint_name, created.arn, endpoint_config_name, tags={t["Key"]: t["Value"] for t in tags or []}
        )
        sim.created.append((ENDPOINT.job_type, endpoint_name))
        sim.calls["CreateEndpoint"] += 1
        return created

    def describe(self: Any, endpoint_name: str) -> dict[str, Any]:
        sim.reject("DescribeEndpoint")
        response = dict(original_describe(self, endpoint_name))
        endpoint = sim.endpoints.get(endpoint_name)
        if endpoint is not None:
            response.update(EndpointStatus=endpoint.status, EndpointConfigName=endpoint.serving)
            response.pop("FailureReason", None)
            if endpoint.failure_reason:
                response["FailureReason"] = endpoint.failure_reason
            if endpoint.pending:
                response["PendingDeploymentSummary"] = {"EndpointConfigName": endpoint.pending}
        sim.calls["DescribeEndpoint"] += 1
        return response

    def update(self: Any, endpoint_name: str, endpoint_config_name: str) -> str:
        sim.reject("UpdateEndpoint")
        endpoint = sim.endpoints.get(endpoint_name)
        if endpoint is None:
            raise ValidationError(f"Could not find endpoint {endpoint_name}")
        if endpoint.status != "InService":
            raise ValidationError(f"Cannot update in-progress endpoint {endpoint_name} ({endpoint.status})")
        self.describe_endpoint_config(endpoint_config_name)  # must exist
        endpoint.status, endpoint.pending, endpoint.failure_reason = "Updating", endpoint_config_name, None
        sim.created.append((ENDPOINT.job_type, endpoint_name))
        sim.calls["UpdateEndpoint"] += 1
        return endpoint.arn

    def update_response(self: Any) -> Any:
        arn = self.sagemaker_backend.update_endpoint(
            self._get_param("EndpointName"), self._get_param("EndpointConfigName")
        )
        return responses.ActionResult({"EndpointArn": arn})

    with (
        mock.patch.object(backend_cls, "create_model", counted("CreateModel", backend_cls.create_model)),
        mock.patch.object(
            backend_cls, "create_endpoint_config", counted("CreateEndpointConfig", backend_cls.create_endpoint_config)
        ),
        mock.patch.object(backend_cls, "create_endpoint", create),
        mock.patch.object(backend_cls, "describe_endpoint", describe),
        mock.patch.object(backend_cls, "update_endpoint", update, create=True),
        mock.patch.object(responses.SageMakerResponse, "update_endpoint", update_response, create=True),
    ):
        yield
