"""GPUs per SageMaker instance type, and the batch size that follows from them."""

from __future__ import annotations

import re

from tunestack_runtime.errors import InvalidInput

#: g5, g6 and g6e share their sizes' GPU counts (Amazon EC2 accelerated computing instance specifications).
_G_SIZES = {
    "xlarge": 1,
    "2xlarge": 1,
    "4xlarge": 1,
    "8xlarge": 1,
    "16xlarge": 1,
    "12xlarge": 4,
    "24xlarge": 4,
    "48xlarge": 8,
}

# GPUs per instance, from the published specifications of each family (Amazon EC2 User Guide,
# "Accelerated computing instance specifications").
_GPUS: dict[str, dict[str, int]] = {
    "p2": {"xlarge": 1, "8xlarge": 8, "16xlarge": 16},
    "p3": {"2xlarge": 1, "8xlarge": 4, "16xlarge": 8},
    "p3dn": {"24xlarge": 8},
    "p4d": {"24xlarge": 8},
    "p4de": {"24xlarge": 8},
    "p5": {"48xlarge": 8},
    "g4dn": {"xlarge": 1, "2xlarge": 1, "4xlarge": 1, "8xlarge": 1, "16xlarge": 1, "12xlarge": 4},
    "g5": _G_SIZES,
    "g6": _G_SIZES,
    "g6e": _G_SIZES,
    "p5e": {"48xlarge": 8},
    "p5en": {"48xlarge": 8},
}

#: Families without GPUs: a batch size scaled "per GPU" counts the instance as one device.
CPU_FAMILIES = frozenset({"m4", "m5", "m5d", "m6i", "m7i", "c4", "c5", "c5n", "c6i", "c7i", "r5", "r6i", "t3"})

_INSTANCE = re.compile(r"^ml\.(?P<family>[a-z0-9]+)\.(?P<size>[a-z0-9]+)$")


def gpu_count(instance_type: str) -> int:
    """GPUs of one instance of ``instance_type``; 0 for CPU instances.

    Raises InvalidInput for an instance type tunestack does not know, rather than guessing.
    """
    match = _INSTANCE.match(instance_type)
    if not match:
        raise InvalidInput(f"$.InstanceType: {instance_type!r} is not a SageMaker instance type (ml.<family>.<size>)")
    family, size = match["family"], match["size"]
    if family in CPU_FAMILIES:
        return 0
    sizes = _GPUS.get(family)
    if sizes is None or size not in sizes:
        raise InvalidInput(f"$.InstanceType: unknown instance type {instance_type!r}")
    return sizes[size]


def scaled_batch_size(per_gpu: int, instance_type: str) -> int:
    """The global batch size: ``per_gpu`` x the GPUs of the instance (x 1 on CPU instances)."""
    if per_gpu < 1:
        raise InvalidInput(f"$.BatchSizePerGpu: must be at least 1, got {per_gpu}")
    return per_gpu * max(1, gpu_count(instance_type))


#: Families whose instances come with local (instance-store) NVMe storage, encrypted by a hardware
#: module on the instance. SageMaker attaches no EBS volume to them and refuses a KMS key for one:
#: "You can't request a VolumeKmsKeyId when using an instance type with local storage"
#: (SageMaker API Reference, ResourceConfig.VolumeKmsKeyId and HyperParameterTuningResourceConfig;
#: CreateEndpointConfig.KmsKeyId says the same for hosting). Which families have instance store is
#: AWS's table in the Amazon EC2 User Guide, "Instance store volume limits for EC2 instances"
#: (the families below are the SageMaker ML instance families it lists). Training, tuning and
#: hosting requests and the IAM guardrail all read this one table.
LOCAL_STORAGE_FAMILIES = frozenset(
    {
        # General purpose and compute optimized, "d" variants
        "m5d",
        "m6id",
        "c5d",
        "c6id",
        "r5d",
        "r6id",
        # Accelerated computing
        "g4dn",
        "g5",
        "g6",
        "g6e",
        "gr6",
        "p3dn",
        "p4d",
        "p4de",
        "p5",
        "p5e",
        "p5en",
        "trn1",
        "trn1n",
        "trn2",
    }
)


def instance_family(instance_type: str) -> str:
    """``ml.g5.2xlarge`` -> ``g5``; the part of the name that decides storage and images."""
    parts = instance_type.split(".")
    return parts[1] if len(parts) == 3 else ""


def has_local_storage(instance_type: str) -> bool:
    """True when SageMaker gives ``instance_type`` instance-store volumes and no EBS volume."""
    return instance_family(instance_type) in LOCAL_STORAGE_FAMILIES


def takes_volume_key(instance_type: str) -> bool:
    """Whether a request may name a KMS key for the instance's storage volume."""
    return not has_local_storage(instance_type)
