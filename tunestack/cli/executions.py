"""Real executions: find a team's state machine, start it with the caller's credentials, follow it,
and say how it ended. Clients are passed in (boto3's default chain makes them; ``AWS_ENDPOINT_URL``
points them elsewhere, e.g. at a local moto server).
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tunestack_runtime import console_links

#: Execution statuses that end an execution (Step Functions API, ``ExecutionStatus``; botocore's
#: stepfunctions service model). ``PENDING_REDRIVE`` is a failed execution being redriven.
ENDED = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}
#: StartExecution's ``name``: 1-80 characters; we keep to letters, digits and hyphens, which
#: CloudWatch Logs and SageMaker tag values both accept.
_NAME_PART = re.compile(r"[^A-Za-z0-9-]+")
#: A name given with --name: the characters CloudWatch Logs accepts in execution names (StartExecution's
#: ``name`` documentation), all of which SageMaker's tag-value pattern accepts too.
EXECUTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")


class ExecutionError(Exception):
    """Something AWS answered that ends the command: no such state machine, no such execution."""


def console_url(execution_arn: str) -> str:
    """The execution's page in the AWS console (``tunestack_runtime.console_links``, the module
    that builds the links of every execution's output); the ARN itself where no console has it."""
    try:
        return console_links.execution(execution_arn)
    except console_links.NoConsoleLink:
        return execution_arn


def state_machine_arn(sfn: Any, sts: Any, name: str) -> str:
    """The ARN of the state machine called ``name``: listed (ListStateMachines), or built from the
    caller's account (STS GetCallerIdentity) and the client's region when listing is not allowed."""
    from botocore.exceptions import ClientError

    try:
        for page in sfn.get_paginator("list_state_machines").paginate():
            for machine in page["stateMachines"]:
                if machine["name"] == name:
                    return str(machine["stateMachineArn"])
    except ClientError as error:
        if error.response["Error"]["Code"] not in {"AccessDeniedException", "AccessDenied"}:
            raise
        caller = sts.get_caller_identity()
        partition = caller["Arn"].split(":")[1]
        return f"arn:{partition}:states:{sfn.meta.region_name}:{caller['Account']}:stateMachine:{name}"
    raise ExecutionError(
        f"no state machine {name!r} in {sfn.meta.region_name}: is the team deployed in this account and region "
        "(AWS_PROFILE, AWS_REGION)? Or pass --state-machine-arn"
    )


def execution_name(kind: str, payload: Any, now: datetime | None = None) -> str:
    """A readable, unique name: what the input names (model, tuning job or endpoint) and the time."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    key = {"fine-tune": "ModelName", "tune": "TuningJobName", "deploy": "EndpointName"}.get(kind, "")
    named = payload.get(key) if isinstance(payload, dict) else None
    named = named if isinstance(named, str) else ""
    stem = _NAME_PART.sub("-", named).strip("-")[:50] or kind
    return f"{stem}-{stamp}"


def start(sfn: Any, machine_arn: str, payload: Any, name: str) -> str:
    return str(sfn.start_execution(stateMachineArn=machine_arn, name=name, input=json.dumps(payload))["executionArn"])


def _history(sfn: Any, execution_arn: str) -> Iterator[dict[str, Any]]:
    token = None
    while True:
        request: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
        if token:
            request["nextToken"] = token
        page = sfn.get_execution_history(**request)
        yield from page["events"]
        token = page.get("nextToken")
        if not token:
            return


def entered_states(sfn: Any, execution_arn: str) -> list[str]:
    """Each state the execution entered, in order (events whose type ends in ``StateEntered``)."""
    return [
        event["stateEnteredEventDetails"]["name"]
        for event in _history(sfn, execution_arn)
        if event["type"].endswith("StateEntered")
    ]


def follow(
    sfn: Any,
    execution_arn: str,
    on_state: Callable[[str], None],
    interval: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Report each state as it is entered until the execution ends; return its status."""
    seen = 0
    while True:
        status = sfn.describe_execution(executionArn=execution_arn)["status"]
        states = entered_states(sfn, execution_arn)
        for state in states[seen:]:
            on_state(state)
        seen = len(states)
        if status in ENDED:
            return str(status)
        sleep(interval)


@dataclass
class ExecutionStatus:
    execution_arn: str
    status: str
    started: datetime | None
    stopped: datetime | None
    state: str | None  # the current state, or the last one entered
    output: Any
    error: str | None
    cause: str | None

    @property
    def cause_lines(self) -> list[str]:
        return cause_lines(self.cause)

    def as_json(self) -> dict[str, Any]:
        return {
            "executionArn": self.execution_arn,
            "status": self.status,
            "startDate": self.started.isoformat() if self.started else None,
            "stopDate": self.stopped.isoformat() if self.stopped else None,
            "state": self.state,
            "output": self.output,
            "error": self.error,
            "cause": self.cause,
            "causeLines": self.cause_lines,
            "console": console_url(self.execution_arn),
        }


def describe(sfn: Any, execution_arn: str) -> ExecutionStatus:
    description = sfn.describe_execution(executionArn=execution_arn)
    # The last state entered (moto's history ignores reverseOrder, so read it forwards).
    states = entered_states(sfn, execution_arn)
    last = states[-1] if states else None
    output = description.get("output")
    with contextlib.suppress(ValueError):
        output = json.loads(output) if output is not None else None
    return ExecutionStatus(
        execution_arn=execution_arn,
        status=description["status"],
        started=description.get("startDate"),
        stopped=description.get("stopDate"),
        state=last,
        output=output,
        error=description.get("error"),
        cause=description.get("cause"),
    )


def cause_lines(cause: str | None) -> list[str]:
    """A cause as one line per problem. A Lambda's error envelope (``{"errorType", "errorMessage",
    "stackTrace"}``, the payload Lambda returns for an unhandled error) shows its type and message
    only: the validators put one problem on each line of the message."""
    if not cause:
        return []
    try:
        envelope = json.loads(cause)
    except ValueError:
        return cause.splitlines()
    if isinstance(envelope, dict) and "errorMessage" in envelope:
        kind = envelope.get("errorType")
        return ([str(kind)] if kind else []) + str(envelope["errorMessage"]).splitlines()
    return cause.splitlines()
