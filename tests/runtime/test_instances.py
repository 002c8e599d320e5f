"""Batch size = per-GPU batch x the GPUs of the instance type."""

from __future__ import annotations

import pytest

from tunestack_runtime.errors import InvalidInput
from tunestack_runtime.instances import gpu_count, scaled_batch_size


@pytest.mark.parametrize(
    ("instance_type", "gpus"),
    [
        # The GPU counts the fine-tuning documentation lists.
        ("ml.p3.2xlarge", 1),
        ("ml.p3.8xlarge", 4),
        ("ml.p3.16xlarge", 8),
        ("ml.p3dn.24xlarge", 8),
        ("ml.p2.xlarge", 1),
        ("ml.p2.16xlarge", 16),
        ("ml.g4dn.12xlarge", 4),
        ("ml.g5.48xlarge", 8),
        ("ml.p4d.24xlarge", 8),
        ("ml.p5.48xlarge", 8),
        ("ml.m5.xlarge", 0),
        ("ml.c5.2xlarge", 0),
    ],
)
def test_gpu_count(instance_type: str, gpus: int) -> None:
    assert gpu_count(instance_type) == gpus


@pytest.mark.parametrize(
    ("per_gpu", "instance_type", "batch"),
    [(32, "ml.p3.2xlarge", 32), (32, "ml.p3.8xlarge", 128), (16, "ml.p3dn.24xlarge", 128), (8, "ml.m5.xlarge", 8)],
)
def test_batch_size_scales_with_gpus(per_gpu: int, instance_type: str, batch: int) -> None:
    assert scaled_batch_size(per_gpu, instance_type) == batch


@pytest.mark.parametrize("instance_type", ["ml.p3.4xlarge", "ml.z9.large", "p3.2xlarge", "ml.p3"])
def test_unknown_instance_types_are_refused_not_guessed(instance_type: str) -> None:
    with pytest.raises(InvalidInput, match=r"\$\.InstanceType"):
        gpu_count(instance_type)


def test_per_gpu_batch_must_be_positive() -> None:
    with pytest.raises(InvalidInput, match=r"\$\.BatchSizePerGpu: must be at least 1"):
        scaled_batch_size(0, "ml.p3.2xlarge")
