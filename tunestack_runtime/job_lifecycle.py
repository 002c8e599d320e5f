"""Launching a SageMaker job, completing the waiting execution, reconciling, stopping.

Waiting costs the execution a constant number of state transitions: the launch task runs with
``.waitForTaskToken`` and this module completes the token when SageMaker reports a terminal
state, or when the reconcile step describes the job once after the task's timeout. The same code
serves every kind of job (see ``job_kinds``); a kind says how to create, describe and stop it and
what its outcome looks like.

Ownership: a job carries its execution's launch key (``tags.LAUNCH_TAG``). A retried launch of
the same run adopts the job it created; anything else of that name is a conflict, whether another
execution holds it now or an earlier execution of the same name created it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from tunestack_runtime import token_store
from tunestack_runtime.contract import JobKindSpec
from tunestack_runtime.errors import JobConflict, TransientError, TunestackError
from tunestack_runtime.executions import Execution
from tunestack_runtime.sagemaker_errors import already_exists, not_visible, translate
from tunestack_runtime.tags import EXECUTION_TAG, LAUNCH_TAG, owner, resource_tags, tag_safe

LOG = logging.getLogger(__name__)
#: The launch task may wait this much longer than the job's own limit (queueing, start-up, upload
#: of the model, an endpoint's bake time) before the reconcile step describes it.
TIMEOUT_MARGIN_SECONDS = 1800


@dataclass(frozen=True)
class JobKind:
    """How one kind of SageMaker job is created, described, stopped and reported; its names (fields,
    statuses, events) are the contract's ``spec``.

    ``outcome`` turns a terminal description (and the extras stored at launch) into
    ``("success", output)`` or ``(error name, cause)``; ``timed_out`` is raised by reconcile when
    the job was still running.
    """

    spec: JobKindSpec
    create: Callable[[Any, dict[str, Any]], str] | None  # None: launched by a module of its own
    describe: Callable[[Any, str], dict[str, Any]]
    stop: Callable[[Any, str], None] | None
    outcome: Callable[[dict[str, Any], dict[str, Any]], tuple[str, Any]]
    errors: Mapping[str, type[TunestackError]]
    timed_out: type[TunestackError]

    @property
    def job_type(self) -> str:
        return self.spec.job_type

    @property
    def noun(self) -> str:
        return self.spec.noun

    @property
    def name_field(self) -> str:
        return self.spec.name_field

    @property
    def arn_field(self) -> str:
        return self.spec.arn_field

    @property
    def status_field(self) -> str:
        return self.spec.status_field

    @property
    def terminal(self) -> frozenset[str]:
        return self.spec.terminal

    @property
    def input_field(self) -> str:
        return self.spec.input_field


def launch(
    kind: JobKind,
    *,
    sagemaker: Any,
    sfn: Any,
    table: Any,
    params: dict[str, Any],
    task_token: str,
    execution: Execution,
    wait_seconds: int,
    output_extras: dict[str, Any],
) -> dict[str, Any]:
    """Create the job, or adopt the one this run already created (a retried launch)."""
    name = params[kind.name_field]
    stored = token_store.put(
        table,
        job_type=kind.job_type,
        job_name=name,
        task_token=task_token,
        execution=execution,
        wait_seconds=wait_seconds,
        extras=output_extras,
    )
    if not stored:
        raise JobConflict(
            f"{kind.input_field}: another execution is running a {kind.noun} named {name!r}; "
            "choose another name, or start again once it has ended"
        )
    try:
        assert kind.create is not None, f"{kind.job_type} launches through its own module"
        arn = kind.create(sagemaker, params)
        return {kind.name_field: name, kind.arn_field: arn, "Adopted": False}
    except (ClientError, TunestackError, TransientError) as error:
        if not (isinstance(error, ClientError) and already_exists(error)):
            # SageMaker refused: nothing was created, so nothing is waited on (a retry stores again).
            token_store.take(table, kind.job_type, name, launch_key=execution.launch_key)
            raise (translate(error) if isinstance(error, ClientError) else error) from None
    description = describe_own(kind, sagemaker=sagemaker, table=table, name=name, execution=execution)
    if description[kind.status_field] in kind.terminal:
        # It ended before this retry stored its token: no event will come again, complete now.
        complete(kind, sagemaker=sagemaker, sfn=sfn, table=table, job_name=name)
    return {kind.name_field: name, kind.arn_field: description[kind.arn_field], "Adopted": True}


def describe_own(kind: JobKind, *, sagemaker: Any, table: Any, name: str, execution: Execution) -> dict[str, Any]:
    """The job of that name, if this run created it; otherwise release the token and raise JobConflict."""
    try:
        description = kind.describe(sagemaker, name)
        tags = resource_tags(sagemaker, description[kind.arn_field])
    except ClientError as error:
        if not not_visible(error):
            raise
        description, tags = {}, {}
    if tags.get(LAUNCH_TAG) == execution.launch_key:
        return description
    token_store.take(table, kind.job_type, name, launch_key=execution.launch_key)
    if not description:
        whose = "another team"
    elif tags.get(EXECUTION_TAG) == tag_safe(execution.arn):
        whose = "an earlier execution of the same name (Step Functions reuses a name after 90 days)"
    else:
        whose = owner(tags)
    raise JobConflict(
        f"{kind.input_field}: a {kind.noun} named {name!r} already exists and belongs to {whose}; "
        "SageMaker never reuses a name, choose another"
    )


def complete(kind: JobKind, *, sagemaker: Any, sfn: Any, table: Any, job_name: str) -> bool:
    """Complete the execution waiting on ``job_name`` if the job is terminal; False if nothing to do."""
    description = kind.describe(sagemaker, job_name)
    if description[kind.status_field] not in kind.terminal:
        return False
    waiting = token_store.take(table, kind.job_type, job_name)
    if waiting is None:
        LOG.info("no execution waits on %s (duplicate event, or already reconciled)", job_name)
        return False
    result, payload = kind.outcome(description, waiting.extras)
    try:
        if result == "success":
            sfn.send_task_success(taskToken=waiting.task_token, output=json.dumps(payload, default=str))
        else:
            sfn.send_task_failure(taskToken=waiting.task_token, error=result, cause=str(payload)[:32768])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"}:
            LOG.info("execution of %s no longer waits: %s", job_name, error)
            return False
        raise
    return True


def reconcile(kind: JobKind, *, sagemaker: Any, table: Any, job_name: str, execution: Execution) -> dict[str, Any]:
    """After the launch task timed out: describe once, and end the wait one way or the other."""
    description = kind.describe(sagemaker, job_name)
    # An execution started before the state machines passed the start time has no launch key; its
    # token, if any, is the one stored under the job's name.
    own = execution.launch_key if execution.start_time else None
    waiting = token_store.take(table, kind.job_type, job_name, launch_key=own)
    extras = waiting.extras if waiting else {}
    status = description[kind.status_field]
    if status not in kind.terminal:
        if kind.stop is not None:
            kind.stop(sagemaker, job_name)
        raise kind.timed_out(
            f"no completion for {job_name} within its limit; it was {status}"
            + (" and has been stopped" if kind.stop is not None else "")
        )
    result, payload = kind.outcome(description, extras)
    if result == "success":
        return dict(payload)
    raise kind.errors[result](payload)


def stop_jobs_of_execution(
    kinds: Mapping[str, JobKind], *, sagemaker: Any, table: Any, execution_arn: str
) -> list[str]:
    """Stop what an execution that ended without completing its wait launched (it failed, was
    aborted or timed out); returns the jobs asked to stop."""
    stopped = []
    for job in token_store.jobs_of_execution(table, execution_arn):
        kind = kinds.get(job["JobType"])
        token_store.take(table, job["JobType"], job["JobName"])  # nothing waits any more, so nothing is blocked
        if kind is None or kind.stop is None:
            continue
        try:
            kind.stop(sagemaker, job["JobName"])
            stopped.append(job["JobName"])
        except ClientError as error:
            # Already ended, or never created (the launch failed before its create call).
            if not not_visible(error):
                raise translate(error) from None
            LOG.info("%s was not running: %s", job["JobName"], error)
    return stopped
