"""tunestack: per-team SageMaker fine-tuning and hyperparameter-tuning platforms on AWS CDK.

``from tunestack import TeamPlatform`` is all a CDK app needs; the constructs load on first use,
so the command line and the simulator start without the CDK library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: What ``from tunestack import ...`` offers, by the module that defines it.
_EXPORTS = {
    "TeamPlatform": "tunestack.constructs.team_platform",
    "TeamFoundation": "tunestack.constructs.team_foundation",
    "TeamPipelines": "tunestack.constructs.team_pipelines",
    "TeamSettings": "tunestack.constructs.team_settings",
    "InstanceTypes": "tunestack.constructs.team_settings",
    "DefaultInstanceTypes": "tunestack.constructs.team_settings",
    "TeamLimits": "tunestack.constructs.team_settings",
    "TeamPropsError": "tunestack.constructs.team_settings",
}
__all__ = [
    "DefaultInstanceTypes",
    "InstanceTypes",
    "TeamFoundation",
    "TeamLimits",
    "TeamPipelines",
    "TeamPlatform",
    "TeamPropsError",
    "TeamSettings",
]

if TYPE_CHECKING:
    from tunestack.constructs.team_foundation import TeamFoundation
    from tunestack.constructs.team_pipelines import TeamPipelines
    from tunestack.constructs.team_platform import TeamPlatform
    from tunestack.constructs.team_settings import (
        DefaultInstanceTypes,
        InstanceTypes,
        TeamLimits,
        TeamPropsError,
        TeamSettings,
    )


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tunestack' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
