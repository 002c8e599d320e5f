"""Deploys a team's synthesized pipelines stack into moto, in-process, and plays scenarios on it."""

from __future__ import annotations

import json
import logging
import os
import posixpath
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import boto3

from tunestack.simulator.assembly import AssemblyTeam, load_assembly
from tunestack.simulator.clock import SimClock, simulated_time
from tunestack.simulator.deployment import (
    ACCOUNT,
    Deployment,
    check_jumpstart_cache,
    deploy,
    matches,
    upload_folder,
)
from tunestack.simulator.endpoints import finish_endpoint
from tunestack.simulator.lambdas import LambdaFaults, RequestLog, in_process_lambdas
from tunestack.simulator.moto_gaps import forget_closed_executions, step_functions_as_documented
from tunestack.simulator.results import SimulationResult, nested_runs, result_of, summary
from tunestack.simulator.sagemaker import SageMakerFaults, SimulatedSageMaker, simulated_sagemaker
from tunestack.simulator.scenarios import DAY, SCENARIOS, Scenario, changed_for_rerun, from_registry, registering
from tunestack.simulator.template import load_stack
from tunestack_runtime.contract import (
    ENDPOINT,
    EXECUTION_STATUS_CHANGE,
    JOB_KINDS,
    SAGEMAKER_EVENT_SOURCE,
    STATES_EVENT_SOURCE,
    TRAINING_JOB,
    TUNING_JOB,
)

STATE_MACHINES = {"fine-tune": "FineTune", "tune": "Tune", "deploy": "Deploy"}
_REAL_WAIT_SECONDS = 60.0


class Simulator:
    def __init__(self, outdir: Path, team: str | AssemblyTeam | Any, jumpstart_cache: Path | None = None) -> None:
        """``team``: a team of the cloud assembly in ``outdir``, by name (or anything with a
        ``name``). ``jumpstart_cache``: a local copy of a JumpStart bucket (``models_manifest.json``
        and the specs at their ``spec_key``) to serve instead of the fixtures; ValueError if it has
        no manifest."""
        self.outdir = outdir
        if not isinstance(team, AssemblyTeam):
            team = load_assembly(outdir).team(team if isinstance(team, str) else team.name)
        self.team = team
        self.region = team.region or "us-east-1"
        self.stack = load_stack(outdir, team.stack_name)
        if jumpstart_cache is not None:
            check_jumpstart_cache(jumpstart_cache)
        self.jumpstart_cache = jumpstart_cache

    def run(
        self,
        kind: str,
        payload: Any,
        scenario_name: str = "success",
        data_dir: Path | None = None,
        *,
        before: Sequence[tuple[str, Any]] = (),
        uploads: Mapping[str, Path] | None = None,
        execution_name: str | None = None,
    ) -> SimulationResult:
        """Run ``payload`` under the scenario, after the executions ``before`` (kind, input) have
        run to success in the same simulated account (e.g. the jobs it warm-starts from or deploys)."""
        runs = [*before, (kind, payload)]
        return self.run_sequence(
            runs, scenario_name, data_dir, uploads=uploads, warm_up=len(before), execution_name=execution_name
        )[-1]

    def run_many(
        self,
        kind: str,
        payloads: list[Any],
        scenario_name: str = "success",
        data_dir: Path | None = None,
        *,
        uploads: Mapping[str, Path] | None = None,
        warm_up: int = 0,
    ) -> list[SimulationResult]:
        """Each input as its own execution of ``kind``, in one simulated account (deployed once)."""
        runs = [(kind, payload) for payload in payloads]
        return self.run_sequence(runs, scenario_name, data_dir, uploads=uploads, warm_up=warm_up)

    def run_sequence(
        self,
        runs: Sequence[tuple[str, Any]],
        scenario_name: str = "success",
        data_dir: Path | None = None,
        *,
        uploads: Mapping[str, Path] | None = None,
        warm_up: int = 0,
        execution_name: str | None = None,
    ) -> list[SimulationResult]:
        """Run (kind, input) pairs in order; the first ``warm_up`` as ``success``, the rest under the
        scenario. ``data_dir`` is uploaded to the last input's TrainingData, ``uploads`` map key
        prefixes to local folders; ``execution_name`` names the last execution. A scenario that
        needs an existing endpoint deploys the last input once first; one that reuses an execution
        name runs it once first too, and returns that run's result before the one under test."""
        for kind, _ in runs:
            if kind not in STATE_MACHINES:
                raise ValueError(f"unknown state machine {kind!r} (known: {', '.join(STATE_MACHINES)})")
        scenario = SCENARIOS[scenario_name]
        runs = list(runs)
        if not runs:
            return []
        # What the scenario needs of the input under test (of every run, when they share a name).
        for number, (kind, payload) in enumerate(runs):
            if number == len(runs) - 1 or scenario.shared_execution_name:
                runs[number] = (kind, scenario.prepare(kind, payload))
            elif scenario.from_registry is not None:
                # The runs before register what the input under test deploys.
                runs[number] = (kind, registering(scenario.from_registry)(kind, payload))
        names = [
            f"simulated-{scenario.name}" if scenario.shared_execution_name else f"simulated-{scenario.name}-{n}"
            for n in range(len(runs))
        ]
        inserted = None
        if scenario.deploy_first or scenario.rerun_after_days is not None:
            # The input runs once first: the endpoint exists, or the name was used before.
            inserted = len(runs) - 1
            runs.insert(inserted, runs[-1])
            names.insert(inserted, names[-1] if scenario.rerun_after_days is not None else f"{names[-1]}-first")
            warm_up = max(warm_up, inserted) + 1
            if scenario.rerun_after_days is not None:
                kind, payload = runs[-1]
                runs[-1] = (kind, changed_for_rerun(kind, payload))
        clock = SimClock()
        sagemaker = SimulatedSageMaker(clock, SageMakerFaults())
        faults = LambdaFaults()
        requests = RequestLog()
        folders = dict(uploads or {})
        if data_dir is not None:
            folders[prefix_of(runs[-1][1])] = data_dir
        with self._sandbox(clock, sagemaker, faults, requests):
            deployment = deploy(self.stack, self.team, self.region, self.jumpstart_cache)
            for prefix, folder in folders.items():
                upload_folder(folder, deployment.bucket, prefix)
            results: list[SimulationResult] = []
            for number, (kind, payload) in enumerate(runs):
                played = SCENARIOS["success"] if number < warm_up else scenario
                if played.rerun_after_days is not None:
                    # Step Functions forgets a closed execution 90 days on; then its name is free again.
                    clock.advance(played.rerun_after_days * DAY)
                    forget_closed_executions(ACCOUNT, self.region)
                sagemaker.calls.clear()
                requests.entries.clear()
                sagemaker.faults.reject = {k: list(v) for k, v in played.sagemaker_rejections.items()}
                sagemaker.faults.quota = played.quota
                sagemaker.trial_seconds = played.job_seconds
                sagemaker.vary_trials = not played.exact_trials
                faults.after_run = dict(played.lambda_failures)
                clock.interrupted = False
                name = execution_name if execution_name is not None and number == len(runs) - 1 else names[number]
                if played.from_registry is not None and kind == "deploy":
                    payload = from_registry(payload, _last_registered(results))
                results.append(_play(deployment, kind, payload, played, clock, sagemaker, requests, name))
            if inserted is not None and scenario.rerun_after_days is None:
                del results[inserted]
            return results

    @contextmanager
    def _sandbox(
        self, clock: SimClock, sagemaker: SimulatedSageMaker, faults: LambdaFaults, requests: RequestLog
    ) -> Iterator[None]:
        from moto import mock_aws

        environment = {
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_ACCESS_KEY_ID": "simulated",
            "AWS_SECRET_ACCESS_KEY": "simulated",
            "AWS_SESSION_TOKEN": "simulated",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": os.environ.get("TUNESTACK_SIMULATOR_LOG_LEVEL", "WARNING"),
        }
        with ExitStack() as stack:
            # moto's interpreter logs a failed IsPresent test (a Choice taking its default) as an
            # error; the execution's own history says what happened.
            interpreter_log = logging.getLogger("moto.stepfunctions.parser")
            stack.callback(interpreter_log.setLevel, interpreter_log.level)
            if os.environ.get("TUNESTACK_SIMULATOR_LOG_LEVEL", "WARNING") != "DEBUG":
                interpreter_log.setLevel(logging.CRITICAL)
            stack.enter_context(mock.patch.dict(os.environ, environment))
            stack.enter_context(mock_aws(config={"stepfunctions": {"execute_state_machine": True}}))
            stack.enter_context(simulated_time(clock))
            stack.enter_context(step_functions_as_documented())
            stack.enter_context(in_process_lambdas(faults, requests))
            stack.enter_context(simulated_sagemaker(sagemaker))
            yield


def prefix_of(payload: Any) -> str:
    """The key prefix an input's TrainingData names; for named channels, their common folder."""
    data = payload.get("TrainingData") if isinstance(payload, dict) else None
    if isinstance(data, dict) and data and all(isinstance(v, str) for v in data.values()):
        folders = [_key(v).rstrip("/") for v in data.values()]
        data = posixpath.commonpath(folders) if len(folders) > 1 else posixpath.dirname(folders[0])
    if not isinstance(data, str):
        raise ValueError("uploading data needs an input whose TrainingData is a key prefix, an s3:// URI or channels")
    data = _key(data)
    return data if not data or data.endswith("/") else data + "/"


def _key(data: str) -> str:
    return data[len("s3://") :].partition("/")[2] if data.startswith("s3://") else data


@dataclass(frozen=True)
class _Work:
    """What an execution launched and now waits on, as the simulator drives it."""

    kind: str  # the JobKindSpec.job_type of the contract
    name: str
    execution: str  # the execution whose task waits (a nested deploy's, for an endpoint)
    expires_at: float  # simulated time at which DynamoDB's TTL removes its token


#: How long SageMaker takes to create an endpoint, or to update one (with its bake time).
ENDPOINT_SECONDS = {"Creating": 480.0, "Updating": 1500.0}


def _play(
    deployment: Deployment,
    kind: str,
    payload: Any,
    scenario: Scenario,
    clock: SimClock,
    sagemaker: SimulatedSageMaker,
    requests: RequestLog,
    name: str,
) -> SimulationResult:
    sfn = boto3.client("stepfunctions")
    machine = _machine(deployment, kind)
    nested_before = _executions(sfn, deployment, kind)
    started = clock.now + clock.slept
    handled = len(sagemaker.created)
    execution = sfn.start_execution(stateMachineArn=machine, name=name, input=json.dumps(payload))["executionArn"]
    rivals: list[str] = []
    while (work := _wait_for_work(sfn, execution, sagemaker, handled, deployment, clock)) is not None:
        handled = len(sagemaker.created)
        if scenario.race and not rivals:
            # The same input again, while the first waits on its job.
            rival = sfn.start_execution(stateMachineArn=machine, name=f"{name}-rival", input=json.dumps(payload))
            rivals.append(rival["executionArn"])
            _wait_for_end(sfn, rivals[-1])
            _announce_end(deployment, sfn, rivals[-1])
        _drive(deployment, execution, work, scenario, clock, sagemaker)
        if scenario.abort:
            break
    description = _wait_for_end(sfn, execution)
    nested = [n for n in _executions(sfn, deployment, kind) if n not in nested_before]
    for ended in [*nested, execution]:
        _announce_end(deployment, sfn, ended)
    events = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
    result = result_of(description, events, scenario, clock, sagemaker, deployment, nested_runs(sfn, nested))
    if scenario.approve and result.status == "SUCCEEDED":
        _approve(result.output)
    result.approval_deploys = _deliver_registry_events(deployment, sfn, scenario, clock, sagemaker)
    result.requests = list(requests.entries)  # the log is cleared for the next run
    result.simulated_seconds -= started
    result.rivals = [summary(sfn, rival) for rival in rivals]
    result.jobs_left_running = sagemaker.jobs_left_running(_running_executions(sfn, deployment))
    result.execution_name = name
    return result


def _last_registered(results: Sequence[SimulationResult]) -> str:
    """The version the latest run registered (its output's ``Registered``)."""
    for result in reversed(results):
        registered = (result.output or {}).get("Registered") if isinstance(result.output, dict) else None
        if registered:
            return str(registered["ModelPackageArn"])
    raise ValueError("no earlier run registered a model version (give it a Register input)")


def _approve(output: Any) -> None:
    """A person approves the version the execution registered (SageMaker Studio, or this call)."""
    registered = output.get("Registered") if isinstance(output, dict) else None
    if not registered:
        raise ValueError("the execution registered no model version to approve")
    boto3.client("sagemaker").update_model_package(
        ModelPackageArn=registered["ModelPackageArn"],
        ModelApprovalStatus="Approved",
        ApprovalDescription="approved in the simulator",
    )


def _deliver_registry_events(
    deployment: Deployment, sfn: Any, scenario: Scenario, clock: SimClock, sagemaker: SimulatedSageMaker
) -> list[dict[str, Any]]:
    """Deliver the model registry's state-change events queued since the last delivery, as
    EventBridge would; drive the deployments they start to their end and return them."""
    listed = _machine(deployment, "deploy")
    before = {e["executionArn"] for e in sfn.list_executions(stateMachineArn=listed)["executions"]}
    handled = len(sagemaker.created)
    while sagemaker.registry_events:
        detail_type, detail = sagemaker.registry_events.pop(0)
        _deliver(deployment, SAGEMAKER_EVENT_SOURCE, detail_type, detail)
    after = [e["executionArn"] for e in sfn.list_executions(stateMachineArn=listed)["executions"]]
    started = [e for e in after if e not in before]
    for execution in started:
        while (work := _wait_for_work(sfn, execution, sagemaker, handled, deployment, clock)) is not None:
            handled = len(sagemaker.created)
            _drive(deployment, execution, work, scenario, clock, sagemaker)
        _wait_for_end(sfn, execution)
        _announce_end(deployment, sfn, execution)
    found = nested_runs(sfn, started)
    for run, execution in zip(found, started, strict=True):
        description = sfn.describe_execution(executionArn=execution)
        run["input"] = json.loads(description["input"])
        run["output"] = json.loads(description["output"]) if description.get("output") else None
    return found


def _announce_end(deployment: Deployment, sfn: Any, execution: str) -> None:
    """EventBridge's execution status change for an execution that ended."""
    description = sfn.describe_execution(executionArn=execution)
    _deliver(
        deployment,
        STATES_EVENT_SOURCE,
        EXECUTION_STATUS_CHANGE,
        {
            "executionArn": execution,
            "name": description["name"],
            "status": description["status"],
            "stateMachineArn": description["stateMachineArn"],
        },
    )


def _running_executions(sfn: Any, deployment: Deployment) -> set[str]:
    return {
        e["executionArn"]
        for machine in deployment.state_machines.values()
        for e in sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING")["executions"]
    }


def _machine(deployment: Deployment, kind: str) -> str:
    prefix = f"{STATE_MACHINES[kind]}StateMachine"
    return next(arn for lid, arn in deployment.state_machines.items() if lid.startswith(prefix))


def _executions(sfn: Any, deployment: Deployment, kind: str) -> list[str]:
    """Executions of the deploy state machine (which fine-tune and tune start nested)."""
    if kind == "deploy":
        return []
    listed = sfn.list_executions(stateMachineArn=_machine(deployment, "deploy"))["executions"]
    return [e["executionArn"] for e in listed]


def _wait_for_work(
    sfn: Any, execution: str, sagemaker: SimulatedSageMaker, handled: int, deployment: Deployment, clock: SimClock
) -> _Work | None:
    """Until a task waits on the token of something newly created, or the execution ended."""
    table = boto3.resource("dynamodb").Table(deployment.token_table)
    deadline = time.monotonic() + _REAL_WAIT_SECONDS
    while time.monotonic() < deadline:
        if len(sagemaker.created) > handled:
            kind, name = sagemaker.created[-1]
            waiting = table.get_item(Key={"JobName": f"{kind}/{name}"}).get("Item")
            if waiting and _submitted(sfn, waiting["ExecutionArn"]):
                # The function wrote ExpiresAt on the real clock; the simulated one runs ahead of it.
                expires_at = clock.now + float(waiting["ExpiresAt"]) - time.time()
                return _Work(kind, name, waiting["ExecutionArn"], expires_at)
        if sfn.describe_execution(executionArn=execution)["status"] != "RUNNING":
            return None
        time.sleep(0.005)
    raise TimeoutError("the simulated execution never reached its wait")


def _submitted(sfn: Any, execution: str) -> bool:
    """The execution's current task has handed over its token and waits."""
    events = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
    task_events = [e["type"] for e in events if e["type"] in {"TaskScheduled", "TaskStarted", "TaskSubmitted"}]
    return bool(task_events) and task_events[-1] == "TaskSubmitted"


def _drive(
    deployment: Deployment,
    execution: str,
    work: _Work,
    scenario: Scenario,
    clock: SimClock,
    sagemaker: SimulatedSageMaker,
) -> None:
    if scenario.abort:
        clock.advance(600)
        boto3.client("stepfunctions").stop_execution(executionArn=execution, cause="stopped from the console")
        clock.interrupted = True  # moto's interpreter would otherwise sit in the task until its timeout
        return
    detail_type, status_field, seconds, stuck, finish = _progress(work, scenario, clock, sagemaker)
    name_field = JOB_KINDS[work.kind].name_field
    clock.advance(seconds)
    if clock.now >= work.expires_at:
        # DynamoDB's TTL has removed the token: nothing the event handler can complete.
        table = boto3.resource("dynamodb").Table(deployment.token_table)
        table.delete_item(Key={"JobName": f"{work.kind}/{work.name}"})
    if not stuck:
        status = finish()
        detail = {name_field: work.name, "Tags": sagemaker.tags_of(work.kind, work.name)}
        if scenario.events > 1:
            # SageMaker also reports intermediate states; the rules must not deliver them.
            _deliver(deployment, SAGEMAKER_EVENT_SOURCE, detail_type, {**detail, status_field: "InProgress"})
        for _ in range(scenario.events):
            _deliver(deployment, SAGEMAKER_EVENT_SOURCE, detail_type, {**detail, status_field: status})
    if stuck or scenario.events == 0:
        # Nothing will complete the token: move time past the task's timeout.
        clock.advance(_task_timeout(work.execution) + 60)


def _progress(
    work: _Work, scenario: Scenario, clock: SimClock, sagemaker: SimulatedSageMaker
) -> tuple[str, str, float, bool, Callable[[], str]]:
    """For the kind of work: its event's detail-type and status field, how long it runs, whether
    the scenario leaves it stuck, and what ends it (returning the status its event reports)."""
    if work.kind == TRAINING_JOB.job_type:
        limit = sagemaker.jobs[work.name].max_runtime
        seconds = scenario.job_seconds if scenario.job_seconds is not None else limit - 60
        return (
            TRAINING_JOB.event_detail_type,
            TRAINING_JOB.status_field,
            seconds,
            scenario.outcome == "Stuck",
            lambda: sagemaker.finish(work.name, scenario.outcome, scenario.failure_reason).status,
        )
    if work.kind == TUNING_JOB.job_type:
        job = sagemaker.tuning_jobs[work.name]
        if scenario.stop_tuning_at is not None:
            # A person stops it from the console part-way: SageMaker stops the running trials.
            share = scenario.stop_tuning_at
            return (
                TUNING_JOB.event_detail_type,
                TUNING_JOB.status_field,
                share * (job.planned_end - job.created_at) - (clock.now - job.created_at),
                False,
                lambda: sagemaker.finish_tuning(work.name, "Stopped").status,
            )
        reason = scenario.tuning_failure_reason if scenario.outcome == "Failed" else None
        return (
            TUNING_JOB.event_detail_type,
            TUNING_JOB.status_field,
            job.planned_end - clock.now,
            scenario.outcome == "Stuck",
            lambda: sagemaker.finish_tuning(work.name, scenario.outcome, reason).status,
        )

    def finish_this_endpoint() -> str:
        ended = finish_endpoint(sagemaker, work.name, scenario.endpoint_outcome, scenario.endpoint_failure_reason)
        return ENDPOINT.event_status(ended.status)

    return (
        ENDPOINT.event_detail_type,
        ENDPOINT.status_field,
        ENDPOINT_SECONDS[sagemaker.endpoints[work.name].status],
        scenario.endpoint_outcome == "Stuck",
        finish_this_endpoint,
    )


def _task_timeout(execution: str) -> float:
    """The waiting task's TimeoutSeconds, as the first state computed it for this execution."""
    events = boto3.client("stepfunctions").get_execution_history(executionArn=execution, maxResults=1000)["events"]
    entered = [e["stateEnteredEventDetails"] for e in events if e["type"] == "TaskStateEntered"]
    return float(json.loads(entered[-1]["input"])["Launch"]["TaskTimeoutSeconds"])


def _deliver(deployment: Deployment, source: str, detail_type: str, detail: dict[str, Any]) -> int:
    """Deliver an event to every function whose rule matches it, as EventBridge would."""
    event = {
        "version": "0",
        "id": "simulated",
        "detail-type": detail_type,
        "source": source,
        "account": ACCOUNT,
        "region": deployment.region,
        "detail": detail,
    }
    lambda_client = boto3.client("lambda")
    targets = [function for pattern, function in deployment.rules if matches(pattern, event)]
    for function in targets:
        lambda_client.invoke(FunctionName=function, Payload=json.dumps(event))
    return len(targets)


def _wait_for_end(sfn: Any, execution: str) -> dict[str, Any]:
    deadline = time.monotonic() + _REAL_WAIT_SECONDS
    while time.monotonic() < deadline:
        description = sfn.describe_execution(executionArn=execution)
        if description["status"] != "RUNNING":
            return description  # type: ignore[no-any-return]
        time.sleep(0.005)
    raise TimeoutError("the simulated execution did not end")
