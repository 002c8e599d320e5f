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
    - ``states:startExecution.sync:2`` works: the task's parameters reach the API in its own
      casing (``Input`` -> ``input``) and its results come back as Step Functions shows them
      (``ExecutionArn``, ``Output``; dates in epoch milliseconds). moto leaves both conversions
      as no-ops, so a nested execution never starts.
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

    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_sfn

    sfn_task = state_task_service_sfn.StateTaskServiceSfn
    original_normalise = sfn_task._normalise_parameters

    def normalise_parameters(self: Any, parameters: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        original_normalise(self, parameters, *args, **kwargs)
        for key in [k for k in parameters if k[:1].isupper()]:
            parameters[key[0].lower() + key[1:]] = parameters.pop(key)

    def normalise_response(self: Any, response: Any, *args: Any, **kwargs: Any) -> None:
        if not isinstance(response, dict):
            return
        for key in list(response):
            value = response.pop(key)
            if hasattr(value, "timestamp"):
                value = int(value.timestamp() * 1000)
            response[key[0].upper() + key[1:]] = value

    with ExitStack() as stack:
        stack.enter_context(mock.patch.object(sfn_task, "_normalise_parameters", normalise_parameters))
        stack.enter_context(mock.patch.object(sfn_task, "_normalise_response", normalise_response))
        stack.enter_context(mock.patch.object(StepFunctionResponse, "send_task_failure", send_task_failure))
        stack.enter_context(mock.patch.object(environment.Environment, "set_error", set_error))
        yield


def forget_closed_executions(account: str, region: str) -> int:
    """What Step Functions does 90 days after an execution closed: forget it, so its name may be
    used again (moto keeps every name forever). Returns how many were forgotten."""
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    forgotten = 0
    for machine in stepfunctions_parser_backends[account][region].state_machines:
        kept = [e for e in machine.executions if e.status == "RUNNING"]
        forgotten += len(machine.executions) - len(kept)
        machine.executions[:] = kept
    return forgotten
