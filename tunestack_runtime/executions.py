"""Which execution launched a SageMaker resource, and which run of it.

Step Functions accepts an execution name again 90 days after the execution of that name closed;
the new execution then has the very same ARN. A retried step of one execution must find what it
created, but an execution that reuses a name must never adopt what the earlier one left behind.
So idempotency keys on the ARN *and* the start time (``$$.Execution.StartTime``), which the state
machines pass to every function that names, tags or adopts a resource.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Step Functions execution names are at most 80 characters.
MAX_EXECUTION_NAME = 80


@dataclass(frozen=True)
class Execution:
    arn: str
    start_time: str  # as $$.Execution.StartTime gives it (ISO 8601)

    @classmethod
    def of(cls, event: Mapping[str, Any]) -> Execution:
        """From a task's payload: ``ExecutionArn`` and ``ExecutionStartTime`` (absent from the
        payloads of executions started before the state machines passed it: their reconcile step
        still runs, and finds no token of theirs under the new keys)."""
        return cls(arn=str(event["ExecutionArn"]), start_time=str(event.get("ExecutionStartTime", "")))

    @property
    def name(self) -> str:
        return self.arn.rsplit(":", 1)[-1]

    @property
    def launch_key(self) -> str:
        """The same for every step and retry of this execution; different for any other run, a
        reused name's included. Tag-safe (hex)."""
        return hashlib.sha256(f"{self.arn}\n{self.start_time}".encode()).hexdigest()[:32]

    def short_id(self, length: int = 8) -> str:
        """A suffix that tells this run's resources apart from those of any other."""
        return self.launch_key[:length]

    def nested_name(self, pipeline: str) -> str:
        """The name of the deploy execution this one starts: its pipeline, its own name and its
        launch key, so a fine-tune and a tune of the same name (or a reused name) never collide,
        while a retried start finds the deployment already running."""
        suffix = f"-{self.short_id(12)}"
        head = f"{pipeline}-{self.name}"[: MAX_EXECUTION_NAME - len(suffix)]
        return head + suffix
