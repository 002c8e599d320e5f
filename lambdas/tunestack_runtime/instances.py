"""GPUs per SageMaker instance type, and the batch size that follows from them."""

from __future__ import annotations

import re

from tunestack_runtime.errors import InvalidInput

# GPUs per instance, from the published specifications of each family.
_GPUS: dict[str, dict[str, int]] = {
    "p2": {"xlarge": 1, "8xlarge": 8, "16xlarge": 16},
    "p3": {"2xlarge": 1, "8xlarge": 4, "16xlarge": 8},
    "p3dn": {"24xlarge": 8},
    "p4d": {"24xlarge": 8},
    "p4de": {"24xlarge": 8},
    "p5": {"48xlarge": 8},
    "g4dn": {"xlarge": 1, "2xlarge": 1, "4xlarge": 1, "8xlarge": 1, "16xlarge": 1, "12xlarge": 4},
    "g5": {
        "xlarge": 1,
        "2xlarge": 1,
        "4xlarge": 1,
        "8xlarge": 1,
        "16xlarge": 1,
        "12xlarge": 4,
        "24xlarge": 4,
        "48xlarge": 8,
    },
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


#: Families whose storage is local NVMe instance store, encrypted by the hardware: SageMaker refuses
#: a KMS key for their volumes (CreateEndpointConfig's KmsKeyId).
INSTANCE_STORE_FAMILIES = frozenset({"g4dn", "g5", "g6", "p3dn", "p4d", "p4de", "p5", "m5d", "c5d", "r5d"})


def takes_volume_key(instance_type: str) -> bool:
    return instance_type.split(".")[1] not in INSTANCE_STORE_FAMILIES
