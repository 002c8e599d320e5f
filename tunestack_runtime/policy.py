"""What one team may do, as the pipelines stack hands it to the Lambdas: the contract's
``TeamPolicy``, under the names the input modules import."""

from __future__ import annotations

from tunestack_runtime.contract import POLICY_ENV as POLICY_ENVIRONMENT_VARIABLE
from tunestack_runtime.contract import TeamPolicy

__all__ = ["POLICY_ENVIRONMENT_VARIABLE", "TeamPolicy"]
