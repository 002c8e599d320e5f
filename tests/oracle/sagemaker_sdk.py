"""The SageMaker Python SDK (v2) as an oracle: the CreateTrainingJob request it would send.

``sdk_training_request`` builds a ``JumpStartEstimator`` for a model of a local JumpStart metadata
folder (``models_manifest.json`` plus the spec files at their ``spec_key`` paths, the layout of the
``jumpstart-cache-prod-<region>`` bucket), calls ``fit`` and returns the parameters of the
CreateTrainingJob call, captured in-process before botocore serializes them. Nothing leaves the
process:

* the SDK reads the manifest and specs from the folder (its local-metadata override variables);
* STS and S3 (the SDK's default bucket) are answered by moto;
* CreateTrainingJob itself is answered by a ``before-call`` hook, so not even moto sees it;
* the SDK's telemetry is switched off through its own configuration (``TelemetryOptOut``);
* any socket connection attempted during the call raises ``NetworkAttempted``.

Needs ``sagemaker`` 2.x (``JumpStartEstimator`` is gone from 3.x) and ``moto``. Environment
variables are set only for the duration of the call and restored afterwards.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import socket
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/SageMakerJumpStartOracle"

#: The SDK's configuration for the call: telemetry off, nothing else.
SDK_CONFIG: dict[str, Any] = {
    "SchemaVersion": "1.0",
    "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}},
}


class NetworkAttempted(RuntimeError):
    """Something in the SDK tried to open a network connection."""


class NoTrainingRequest(RuntimeError):
    """``fit`` returned without calling CreateTrainingJob."""


@contextlib.contextmanager
def _environment(values: Mapping[str, str | None]) -> Iterator[None]:
    """Set (or, for ``None``, unset) variables for the block and restore the previous values."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _no_network() -> Iterator[None]:
    """Make every socket connection attempted in the block fail loudly."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise NetworkAttempted(f"network connection attempted during an offline SDK call: {args!r}")

    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    original_create_connection = socket.create_connection
    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.socket.connect_ex = refuse  # type: ignore[method-assign]
    socket.create_connection = refuse
    try:
        yield
    finally:
        socket.socket.connect = original_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = original_connect_ex  # type: ignore[method-assign]
        socket.create_connection = original_create_connection


@contextlib.contextmanager
def _config_checked_once() -> Iterator[None]:
    """Check the SDK configuration against its schema with one compiled validator.

    The SDK calls ``jsonschema.validate`` on every configuration look-up, which checks the (fixed)
    schema itself each time: about 0.3 s a look-up and some 25 look-ups a ``fit``. The configuration
    is still validated on each look-up, against the same schema.
    """
    import jsonschema
    import sagemaker.session
    import sagemaker.utils
    from sagemaker.config.config_schema import SAGEMAKER_PYTHON_SDK_CONFIG_SCHEMA

    validator = jsonschema.validators.validator_for(SAGEMAKER_PYTHON_SDK_CONFIG_SCHEMA)(
        SAGEMAKER_PYTHON_SDK_CONFIG_SCHEMA
    )

    def validate(sagemaker_config: dict[str, Any] | None = None) -> None:
        validator.validate(sagemaker_config)

    modules = (sagemaker.utils, sagemaker.session)
    saved = [module.validate_sagemaker_config for module in modules]
    for module in modules:
        module.validate_sagemaker_config = validate  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for module, original in zip(modules, saved, strict=True):
            module.validate_sagemaker_config = original  # type: ignore[attr-defined]


def _reset_jumpstart_cache() -> None:
    """Forget the SDK's process-wide JumpStart metadata cache (it keeps the last folder's specs)."""
    from sagemaker.jumpstart.accessors import JumpStartModelsAccessor

    JumpStartModelsAccessor.reset_cache()


def sdk_training_request(
    fixtures_dir: str | os.PathLike[str],
    model_id: str,
    version: str,
    region: str,
    instance_type: str,
    hyperparameters: Mapping[str, Any] | None = None,
    inputs: str | Mapping[str, str] | None = None,
    environment: Mapping[str, str] | None = None,
    *,
    job_name: str | None = None,
    accept_eula: bool | None = None,
    decode_hyperparameters: bool = False,
    **estimator_kwargs: Any,
) -> dict[str, Any]:
    """The CreateTrainingJob parameters that ``JumpStartEstimator(...).fit(inputs)`` would send.

    ``fixtures_dir`` holds ``models_manifest.json`` and the spec files; ``version`` may be ``"*"``.
    ``estimator_kwargs`` go to ``JumpStartEstimator`` as they are (``role`` defaults to a placeholder
    role, ``instance_count`` to the SDK's default). ``accept_eula`` is ``fit``'s own argument (the
    SDK refuses it together with an ``accept_eula`` environment variable). Hyperparameter values are
    returned as the SDK sends them; ``decode_hyperparameters=True`` replaces them with
    ``decoded_hyperparameters(...)``.
    """
    folder = str(Path(fixtures_dir).resolve())
    if not (Path(folder) / "models_manifest.json").is_file():
        raise FileNotFoundError(f"{folder} has no models_manifest.json")
    captured: list[dict[str, Any]] = []

    def capture(params: dict[str, Any], **_: Any) -> None:
        captured.append(copy.deepcopy(params))

    def answer(**_: Any) -> tuple[Any, dict[str, Any]]:
        from botocore.awsrequest import AWSResponse

        name = captured[-1].get("TrainingJobName", "job") if captured else "job"
        arn = f"arn:aws:sagemaker:{region}:{ACCOUNT}:training-job/{name}"
        return AWSResponse(url="", status_code=200, headers={}, raw=None), {"TrainingJobArn": arn}

    env: dict[str, str | None] = {
        "AWS_JUMPSTART_MANIFEST_LOCAL_ROOT_DIR_OVERRIDE": folder,
        "AWS_JUMPSTART_SPECS_LOCAL_ROOT_DIR_OVERRIDE": folder,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": None,
        "AWS_PROFILE": None,
        "AWS_ENDPOINT_URL": None,
        "AWS_JUMPSTART_CONTENT_BUCKET_OVERRIDE": None,
        "AWS_JUMPSTART_GATED_CONTENT_BUCKET_OVERRIDE": None,
        "AWS_JUMPSTART_MODEL_BUCKET_OVERRIDE": None,
        "AWS_JUMPSTART_SCRIPT_BUCKET_OVERRIDE": None,
        # v2 is used on purpose (v3 has no JumpStartEstimator): no deprecation warning per call.
        "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
    }
    with _environment(env):
        import boto3
        import sagemaker
        from moto import mock_aws
        from sagemaker.jumpstart.estimator import JumpStartEstimator

        with mock_aws(), _no_network(), _config_checked_once():
            _reset_jumpstart_cache()
            try:
                session = sagemaker.Session(
                    boto_session=boto3.Session(region_name=region), sagemaker_config=copy.deepcopy(SDK_CONFIG)
                )
                events = session.sagemaker_client.meta.events
                events.register("provide-client-params.sagemaker.CreateTrainingJob", capture)
                events.register("before-call.sagemaker.CreateTrainingJob", answer)
                estimator = JumpStartEstimator(
                    model_id=model_id,
                    model_version=version,
                    region=region,
                    instance_type=instance_type,
                    hyperparameters=dict(hyperparameters) if hyperparameters is not None else None,
                    environment=dict(environment) if environment is not None else None,
                    sagemaker_session=session,
                    **{"role": ROLE_ARN, **estimator_kwargs},
                )
                estimator.fit(
                    inputs=dict(inputs) if isinstance(inputs, Mapping) else inputs,
                    wait=False,
                    logs=False,
                    job_name=job_name,
                    accept_eula=accept_eula,
                )
            finally:
                _reset_jumpstart_cache()
    if not captured:
        raise NoTrainingRequest(f"fit() for {model_id}@{version} sent no CreateTrainingJob request")
    request = captured[-1]
    if decode_hyperparameters and "HyperParameters" in request:
        request["HyperParameters"] = decoded_hyperparameters(request)
    return request


def decoded_hyperparameters(request: Mapping[str, Any]) -> dict[str, Any]:
    """The request's hyperparameters with the SDK's JSON encoding of each value undone.

    The SDK sends some values JSON-encoded (``'"transfer_learning.py"'``, ``'5'``); a value that is
    not valid JSON is kept as the string it is.
    """
    decoded: dict[str, Any] = {}
    for name, value in (request.get("HyperParameters") or {}).items():
        try:
            decoded[name] = json.loads(value)
        except (TypeError, ValueError):
            decoded[name] = value
    return decoded
