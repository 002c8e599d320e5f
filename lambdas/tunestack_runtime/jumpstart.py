"""JumpStart model specs, read with boto3 from the region's JumpStart cache bucket.

The bucket holds ``models_manifest.json`` (one entry per model id and version, naming its spec
file) and the spec files themselves (training support, images per instance family through regional
aliases, the pretrained artifact, the training script, hyperparameters with types and bounds,
metrics, default dataset, supported instance types). Only what fine-tuning needs is read here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tunestack_runtime.errors import InvalidInput

MANIFEST_KEY = "models_manifest.json"


def cache_bucket(region: str) -> str:
    return f"jumpstart-cache-prod-{region}"


@dataclass(frozen=True)
class HyperParameterSpec:
    name: str
    type: str  # "int" | "float" | "text" | "bool"
    default: str
    min: float | None = None
    max: float | None = None
    options: tuple[str, ...] = ()


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
    def task(self) -> str:
        """The task segment of the model id: ``tc`` (text classification), ``ic`` (images), ..."""
        parts = self.model_id.split("-")
        return parts[1] if len(parts) > 2 else ""

    def training_image(self, instance_type: str) -> str:
        return self._image("training_instance_type_variants", instance_type, "$.InstanceType", "training")

    def hosting_image(self, instance_type: str, where: str = "$.InstanceType") -> str:
        return self._image("hosting_instance_type_variants", instance_type, where, "inference")

    def _image(self, field: str, instance_type: str, where: str, purpose: str) -> str:
        variants = self.spec.get(field) or {}
        family = instance_type.split(".")[1]
        variant = (variants.get("variants") or {}).get(family)
        if variant is None:
            raise InvalidInput(f"{where}: {self.model_id} has no {purpose} image for {instance_type}")
        image = variant["regional_properties"]["image_uri"]
        if image.startswith("$"):
            aliases = (variants.get("regional_aliases") or {}).get(self.region, {})
            if image[1:] not in aliases:
                raise InvalidInput(f"$.Algorithm: {self.model_id} has no {purpose} image in region {self.region}")
            image = aliases[image[1:]]
        return str(image)

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

    @property
    def artifact_uri(self) -> str:
        return f"s3://{self.bucket}/{self.spec['training_artifact_key']}"

    @property
    def script_uri(self) -> str:
        return f"s3://{self.bucket}/{self.spec['training_script_key']}"

    @property
    def default_dataset_uri(self) -> str | None:
        key = self.spec.get("default_training_dataset_key")
        return f"s3://{self.bucket}/{key}" if key else None

    @property
    def supported_instance_types(self) -> tuple[str, ...]:
        return tuple(self.spec.get("supported_training_instance_types") or ())

    @property
    def network_isolation(self) -> bool:
        return bool(self.spec.get("training_enable_network_isolation", False))

    @property
    def metric_definitions(self) -> list[dict[str, str]]:
        return [{"Name": m["Name"], "Regex": m["Regex"]} for m in self.spec.get("training_metrics") or []]

    @property
    def hyperparameters(self) -> dict[str, HyperParameterSpec]:
        found = {}
        for item in self.spec.get("hyperparameters") or []:
            if item.get("scope", "algorithm") != "algorithm":
                continue
            found[item["name"]] = HyperParameterSpec(
                name=item["name"],
                type=item["type"],
                default=str(item["default"]),
                min=item.get("min"),
                max=item.get("max"),
                options=tuple(str(o) for o in item.get("options") or ()),
            )
        return found


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else -1 for p in version.split("."))


def load_model(s3: Any, region: str, model_id: str, version: str) -> JumpStartModel:
    """Find ``model_id`` at ``version`` (``*`` = the newest) in the region's manifest and load its spec."""
    bucket = cache_bucket(region)
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=MANIFEST_KEY)["Body"].read())
    entries = [e for e in manifest if e["model_id"] == model_id]
    if not entries:
        raise InvalidInput(f"$.Algorithm.JumpStartModelId: no JumpStart model {model_id!r} in {region}")
    if version != "*":
        entries = [e for e in entries if e["version"] == version]
        if not entries:
            raise InvalidInput(f"$.Algorithm.JumpStartModelVersion: {model_id} has no version {version!r}")
    entry = max(entries, key=lambda e: _version_key(e["version"]))
    spec = json.loads(s3.get_object(Bucket=bucket, Key=entry["spec_key"])["Body"].read())
    if not spec.get("training_supported") or not spec.get("fine_tuning_supported", True):
        raise InvalidInput(f"$.Algorithm.JumpStartModelId: {model_id} cannot be fine-tuned")
    return JumpStartModel(model_id=model_id, version=entry["version"], region=region, spec=spec)


def check_hyperparameters(model: JumpStartModel, given: dict[str, str]) -> dict[str, str]:
    """Merge ``given`` over the spec's defaults, checking each against its declared type and bounds."""
    declared = model.hyperparameters
    problems = []
    for name, value in given.items():
        spec = declared.get(name)
        where = f"$.HyperParameters.{name}"
        if spec is None:
            problems.append(f"{where}: not a hyperparameter of {model.model_id} (known: {', '.join(sorted(declared))})")
            continue
        problem = _check_value(spec, value)
        if problem:
            problems.append(f"{where}: {problem}")
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
