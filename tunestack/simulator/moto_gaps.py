"""Where moto's Step Functions differs from the service in ways the pipelines rely on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest import mock


@contextmanager
def step_functions_as_documented() -> Iterator[None]:
    """- SendTaskFailure keeps its ``cause`` (moto drops it).
    - An aborted execution stays ABORTED when the task it was waiting on then errors (moto lets
      the task's error turn it into FAILED).
    """
    from moto.core.responses import EmptyResult
    from moto.stepfunctions.parser.asl.eval import environment
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped
    from moto.stepfunctions.responses import StepFunctionResponse

    def send_task_failure(self: Any) -> Any:
        self.stepfunction_backend.send_task_failure(
            self._get_param("taskToken"), error=self._get_param("error"), cause=self._get_param("cause")
        )
        return EmptyResult()

    original_set_error = environment.Environment.set_error

    def set_error(self: Any, error: Any) -> None:
        if isinstance(self._program_state, ProgramStopped):
            return
        original_set_error(self, error)

    with ExitStack() as stack:
        stack.enter_context(mock.patch.object(StepFunctionResponse, "send_task_failure", send_task_failure))
        stack.enter_context(mock.patch.object(environment.Environment, "set_error", set_error))
        yield
