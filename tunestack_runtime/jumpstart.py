"""JumpStart model specs, read with boto3 from the region's JumpStart cache bucket.

The bucket (``jumpstart-cache-prod-<region>``) holds ``models_manifest.json`` (one entry per model
id and version, naming its spec file at ``spec_key``) and the spec files. Field names and their
meaning follow the published specs and the SageMaker Python SDK v2 that reads them
(``sagemaker/jumpstart/types.py``: ``JumpStartModelSpecs``, ``JumpStartInstanceTypeVariants``);
``training_plan`` resolves what a training job needs for one instance type the way the SDK's
``JumpStartEstimator`` does (``sagemaker/jumpstart/factory/estimator.py`` and ``artifacts/``), which
the tests check request by request against the SDK itself.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from tunestack_runtime.errors import InvalidInput
from tunestack_runtime.instances import has_local_storage, instance_family

MANIFEST_KEY = "models_manifest.json"
#: The entry point every JumpStart training script tarball runs (the SDK's TRAINING_ENTRY_POINT_SCRIPT_NAME).
TRAINING_ENTRY_POINT = "transfer_learning.py"
#: Where SageMaker mounts an input channel named ``code``: an isolated container cannot download its
#: script from S3, so the script travels as that channel (the SDK's CONTAINER_CODE_CHANNEL_SOURCEDIR_PATH).
CODE_CHANNEL = "code"
CODE_CHANNEL_SCRIPT = "/opt/ml/input/data/code/sourcedir.tar.gz"
#: The channel the pretrained weights travel in, and the content type the SDK declares for it.
MODEL_CHANNEL = "model"
MODEL_CHANNEL_CONTENT_TYPE = "application/x-sagemaker-model"
#: The environment variable that carries a gated model's weights when the spec has no model channel.
GATED_MODEL_ENV_VAR = "SageMakerGatedModelS3Uri"
#: The environment variable older gated training containers read the EULA acceptance from.
ACCEPT_EULA_ENV_VAR = "accept_eula"
#: Hyperparameters the training container reads to set itself up (the SDK's script-mode names);
#: they are the platform's to set, never an input's.
CONTAINER_HYPERPARAMETERS = frozenset(
    {
        "sagemaker_submit_directory",
        "sagemaker_program",
        "sagemaker_container_log_level",
        "sagemaker_job_name",
        "sagemaker_region",
    }
)
#: ``logging.INFO``: the container log level the SDK passes by default.
CONTAINER_LOG_LEVEL = "20"
#: The SDK's default ``volume_size`` (GB) when a spec names none or the instance takes no EBS volume.
DEFAULT_VOLUME_SIZE_GB = 30


def cache_bucket(region: str) -> str:
    """The public JumpStart content bucket of ``region``."""
    return f"jumpstart-cache-prod-{region}"


def gated_bucket(region: str) -> str:
    """The private bucket that holds gated models' weights and scripts in ``region``."""
    return f"jumpstart-private-cache-prod-{region}"


@dataclass(frozen=True)
class HyperParameterSpec:
    name: str
    type: str  # "int" | "float" | "text" | "bool"
    default: str
    min: float | None = None
    max: float | None = None
    options: tuple[str, ...] = ()

    @classmethod
    def from_spec(cls, item: dict[str, Any]) -> HyperParameterSpec:
        return cls(
            name=item["name"],
            type=item["type"],
            default=str(item["default"]),
            min=item.get("min"),
            max=item.get("max"),
            options=tuple(str(o) for o in item.get("options") or ()),
        )


@dataclass(frozen=True)
class Variants:
    """A spec's ``training_instance_type_variants`` or ``hosting_instance_type_variants``: properties
    per instance type or family, image URIs through per-region aliases (``"$gpu_ecr_uri_1"``)."""

    raw: dict[str, Any]

    def _entries(self, instance_type: str) -> list[dict[str, Any]]:
        """The entry for the exact instance type first, then the one for its family."""
        variants = self.raw.get("variants") or {}
        return [variants[key] for key in (instance_type, instance_family(instance_type)) if key in variants]

    def property(self, instance_type: str, name: str) -> Any:
        for entry in self._entries(instance_type):
            value = (entry.get("properties") or {}).get(name)
            if value:
                return value
        return None

    def merged(self, instance_type: str, name: str) -> list[Any]:
        """A list property (``metrics``, ``hyperparameters``) of the family, overridden by name by the type's."""
        by_name: dict[str, Any] = {}
        for entry in reversed(self._entries(instance_type)):
            for item in (entry.get("properties") or {}).get(name) or []:
                by_name[item.get("name", item.get("Name"))] = item
        return list(by_name.values())

    def environment(self, instance_type: str) -> dict[str, str]:
        found: dict[str, str] = {}
        for entry in reversed(self._entries(instance_type)):
            found.update((entry.get("properties") or {}).get("environment_variables") or {})
        return found

    def image(self, instance_type: str, region: str) -> str | None:
        aliases = (self.raw.get("regional_aliases") or {}).get(region) or {}
        for entry in self._entries(instance_type):
            alias = (entry.get("regional_properties") or {}).get("image_uri")
            if alias:
                return aliases.get(alias[1:]) if alias.startswith("$") else None
        return None


@dataclass(frozen=True)
class JumpStartModel:
    model_id: str
    version: str
    region: str
    spec: dict[str, Any]

    @property
    def bucket(self) -> str:
        return cache_bucket(self.region)

    @property
    def reference(self) -> str:
        """``model-id@version``: how a job's ``MODEL_TAG`` (contract) names the model."""
        return f"{self.model_id}@{self.version}"

    @property
    def task(self) -> str:
        """The task segment of the model id: ``tc`` (text classification), ``ic`` (images), ..."""
        parts = self.model_id.split("-")
        return parts[1] if len(parts) > 2 else ""

    # -- training -------------------------------------------------------------------------------

    @property
    def training_variants(self) -> Variants:
        return Variants(self.spec.get("training_instance_type_variants") or {})

    @property
    def supported_instance_types(self) -> tuple[str, ...]:
        return tuple(self.spec.get("supported_training_instance_types") or ())

    @property
    def network_isolation(self) -> bool:
        return bool(self.spec.get("training_enable_network_isolation", False))

    @property
    def is_gated(self) -> bool:
        """A EULA to accept or weights in the private bucket (the SDK's ``is_gated_model``)."""
        return bool(self.spec.get("gated_bucket")) or self.spec.get("hosting_eula_key") is not None

    @property
    def eula_uri(self) -> str | None:
        key = self.spec.get("hosting_eula_key")
        return f"s3://{self.bucket}/{key}" if key else None

    @property
    def default_dataset_uri(self) -> str | None:
        key = self.spec.get("default_training_dataset_key")
        return f"s3://{self.bucket}/{key}" if key else None

    def training_image(self, instance_type: str) -> str:
        image = self.training_variants.image(instance_type, self.region)
        if image is None:
            raise InvalidInput(
                f"$.InstanceType: {self.model_id} has no training image for {instance_type} in {self.region}"
            )
        return image

    def declared_hyperparameters(self, instance_type: str) -> dict[str, HyperParameterSpec]:
        """Algorithm-scope hyperparameters, with the instance type's own defaults over the spec's."""
        found = {
            item["name"]: HyperParameterSpec.from_spec(item)
            for item in self.spec.get("hyperparameters") or []
            if item.get("scope", "algorithm") == "algorithm"
        }
        for item in self.training_variants.merged(instance_type, "hyperparameters"):
            found[item["name"]] = HyperParameterSpec.from_spec(item)
        return found

    def metric_definitions(self, instance_type: str) -> list[dict[str, str]]:
        """The spec's ``metrics``, each replaced by the instance type's definition of the same name."""
        specific = self.training_variants.merged(instance_type, "metrics")
        names = {m["Name"] for m in specific}
        general = [m for m in self.spec.get("metrics") or [] if m["Name"] not in names]
        return [{"Name": m["Name"], "Regex": m["Regex"]} for m in general + specific]

    def volume_size_gb(self, instance_type: str) -> int:
        """The spec's ``training_volume_size`` where the instance takes an EBS volume; elsewhere
        SageMaker uses the instance store and the SDK's default stands."""
        size = self.spec.get("training_volume_size")
        return int(size) if size is not None and not has_local_storage(instance_type) else DEFAULT_VOLUME_SIZE_GB

    @property
    def compresses_output(self) -> bool:
        """Specs of large models ask for uncompressed artifacts (``estimator_kwargs``'s
        ``disable_output_compression``), which SageMaker then writes under ``output/model/``."""
        return not (self.spec.get("estimator_kwargs") or {}).get("disable_output_compression", False)

    def script_uri(self) -> str:
        key = self.spec.get("training_prepacked_script_key") or self.spec["training_script_key"]
        return f"s3://{self.bucket}/{key}"

    def _gated_weights(self, instance_type: str) -> str | None:
        """Weights passed in an environment variable (older gated specs), for ``instance_type``."""
        variants = self.training_variants
        key = variants.property(instance_type, "gated_model_key_env_var_value")
        if key is None and self.is_gated:
            # One artifact for every supported type can serve any type (as the SDK decides).
            keys = {variants.property(t, "gated_model_key_env_var_value") for t in self.supported_instance_types}
            key = keys.pop() if len(keys) == 1 else None
        if key:
            return f"s3://{gated_bucket(self.region)}/{key}"
        packages = self.spec.get("training_model_package_artifact_uris") or {}
        if packages:
            if self.region not in packages:
                raise InvalidInput(
                    f"$.Algorithm: {self.model_id} has no model package artifact in {self.region} "
                    f"(regions: {', '.join(sorted(packages))})"
                )
            return str(packages[self.region])
        return None

    def _uses_model_channel(self) -> bool:
        """Older gated specs pass weights by environment variable and have no model channel."""
        variants = self.training_variants
        if any(variants.property(t, "gated_model_key_env_var_value") for t in self.supported_instance_types):
            return False
        if self.spec.get("training_model_package_artifact_uris"):
            return False
        return self.spec.get("training_artifact_key") is not None

    def model_uri(self, instance_type: str) -> str | None:
        if not self._uses_model_channel():
            return None
        variants = self.training_variants
        key = (
            variants.property(instance_type, "training_artifact_uri")
            or variants.property(instance_type, "training_artifact_key")
            or self.spec["training_artifact_key"]
        )
        if str(key).startswith("s3://"):
            return str(key)
        bucket = gated_bucket(self.region) if self.spec.get("gated_bucket") else self.bucket
        return f"s3://{bucket}/{key}"

    def training_environment(self, instance_type: str) -> dict[str, str]:
        environment = self.training_variants.environment(instance_type)
        weights = self._gated_weights(instance_type)
        if weights is not None:
            environment[GATED_MODEL_ENV_VAR] = weights
        return environment

    # -- hosting --------------------------------------------------------------------------------

    def hosting_image(self, instance_type: str, where: str = "$.InstanceType") -> str:
        image = Variants(self.spec.get("hosting_instance_type_variants") or {}).image(instance_type, self.region)
        if image is None:
            raise InvalidInput(f"{where}: {self.model_id} has no inference image for {instance_type} in {self.region}")
        return image

    @property
    def hosting_script_uri(self) -> str:
        return f"s3://{self.bucket}/{self.spec['hosting_script_key']}"

    @property
    def inference_environment(self) -> dict[str, str]:
        """The container's environment for inference, as the spec declares it."""
        declared = {
            v["name"]: str(v["default"])
            for v in self.spec.get("inference_environment_variables") or []
            if v.get("scope", "container") == "container"
        }
        return {**declared, "SAGEMAKER_SUBMIT_DIRECTORY": self.hosting_script_uri, "SAGEMAKER_REGION": self.region}

    @property
    def supported_inference_instance_types(self) -> tuple[str, ...]:
        return tuple(self.spec.get("supported_inference_instance_types") or ())

    @property
    def inference_network_isolation(self) -> bool:
        return bool(self.spec.get("inference_enable_network_isolation", False))


_VERSION_PART = re.compile(r"\d+")


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) if _VERSION_PART.fullmatch(p) else -1 for p in version.split("."))


def _matches(version: str, wanted: str) -> bool:
    """``*`` matches every version, ``2.*`` every 2.x, anything else only itself."""
    if wanted == "*":
        return True
    if wanted.endswith(".*"):
        return version.startswith(wanted[:-1])
    return version == wanted


def load_model(
    s3: Any, region: str, model_id: str, version: str, *, for_training: bool = True, bucket: str | None = None
) -> JumpStartModel:
    """Find ``model_id`` at ``version`` (``*`` or ``2.*``: the newest that matches) in the region's
    manifest and load its spec. ``for_training`` refuses what the SDK refuses to train: a spec
    without ``training_supported``, a deprecated version, one whose training script is vulnerable."""
    bucket = bucket or cache_bucket(region)
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=MANIFEST_KEY)["Body"].read())
    entries = [e for e in manifest if e["model_id"] == model_id]
    if not entries:
        raise InvalidInput(f"$.Algorithm.JumpStartModelId: no JumpStart model {model_id!r} in {region}")
    matching = [e for e in entries if _matches(e["version"], version)]
    if not matching:
        known = ", ".join(sorted({e["version"] for e in entries}, key=_version_key))
        raise InvalidInput(f"$.Algorithm.JumpStartModelVersion: {model_id} has no version {version!r} (known: {known})")
    entry = max(matching, key=lambda e: _version_key(e["version"]))
    try:
        spec = json.loads(s3.get_object(Bucket=bucket, Key=entry["spec_key"])["Body"].read())
    except s3.exceptions.NoSuchKey:
        raise InvalidInput(
            f"$.Algorithm.JumpStartModelId: {model_id}@{entry['version']} is in the manifest of {region}, "
            f"but its spec s3://{bucket}/{entry['spec_key']} is not"
        ) from None
    model = JumpStartModel(model_id=model_id, version=entry["version"], region=region, spec=spec)
    if for_training:
        _check_trainable(model)
    return model


def _check_trainable(model: JumpStartModel) -> None:
    where = "$.Algorithm.JumpStartModelId"
    spec = model.spec
    if not spec.get("training_supported"):
        raise InvalidInput(f"{where}: {model.reference} cannot be trained (its spec has training_supported false)")
    if spec.get("deprecated"):
        reason = spec.get("deprecated_message") or "its spec marks it deprecated"
        raise InvalidInput(f"{where}: {model.reference} is deprecated: {reason}")
    if spec.get("training_vulnerable"):
        found = ", ".join(spec.get("training_vulnerabilities") or []) or "listed in its spec"
        raise InvalidInput(f"{where}: {model.reference} trains with a vulnerable script ({found})")


def check_hyperparameters(
    model: JumpStartModel, given: dict[str, str], instance_type: str, where: str = "$.HyperParameters"
) -> dict[str, str]:
    """Merge ``given`` over the spec's defaults, checking each against its declared type and bounds."""
    declared = model.declared_hyperparameters(instance_type)
    problems = []
    for name, value in given.items():
        spec = declared.get(name)
        path = f"{where}.{name}"
        if spec is None:
            problems.append(f"{path}: not a hyperparameter of {model.model_id} (known: {', '.join(sorted(declared))})")
            continue
        problem = _check_value(spec, value)
        if problem:
            problems.append(f"{path}: {problem}")
    if problems:
        raise InvalidInput("\n".join(problems))
    return {**{n: s.default for n, s in declared.items()}, **given}


def _check_value(spec: HyperParameterSpec, value: str) -> str | None:
    if spec.options and value not in spec.options:
        return f"one of {list(spec.options)}, got {value!r}"
    if spec.type in {"int", "float"}:
        try:
            number = int(value) if spec.type == "int" else float(value)
        except ValueError:
            return f"must be {'an integer' if spec.type == 'int' else 'a number'}, got {value!r}"
        if spec.min is not None and number < spec.min:
            return f"must be at least {spec.min}, got {value}"
        if spec.max is not None and number > spec.max:
            return f"must be at most {spec.max}, got {value}"
    if spec.type == "bool" and value not in {"True", "False", "true", "false"}:
        return f"must be True or False, got {value!r}"
    return None


#: Names real specs give the batch size, and whether the value counts per device (GPU) or for the
#: whole instance. Seen in published specs: ``batch_size`` in the PyTorch / TensorFlow / Hugging Face
#: classifiers (the batch of the whole instance), ``per_device_train_batch_size`` in the
#: text-generation LLMs, ``batch-size`` in some Hugging Face text models, ``train_batch_size``.
BATCH_SIZE_HYPERPARAMETERS = (
    ("per_device_train_batch_size", True),
    ("batch_size", False),
    ("batch-size", False),
    ("train_batch_size", False),
)


def batch_size_hyperparameter(model: JumpStartModel, instance_type: str) -> tuple[str, bool] | None:
    """The hyperparameter ``model`` reads its batch size from, and whether it counts per device."""
    declared = model.declared_hyperparameters(instance_type)
    return next(((name, per_device) for name, per_device in BATCH_SIZE_HYPERPARAMETERS if name in declared), None)
