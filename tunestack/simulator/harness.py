"""Deploys a team's synthesized pipelines stack into moto, in-process, and plays scenarios on it."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import boto3

from tunestack.config import TeamConfig
from tunestack.simulator.clock import SimClock, simulated_time
from tunestack.simulator.lambdas import LambdaFaults, in_process_lambdas
from tunestack.simulator.moto_gaps import step_functions_as_documented
from tunestack.simulator.sagemaker import SageMakerFaults, SimulatedSageMaker, simulated_sagemaker
from tunestack.simulator.scenarios import SCENARIOS, Scenario
from tunestack.simulator.template import Resolver, StackTemplate, load_stack

ACCOUNT = "123456789012"
FIXTURES = Path(__file__).parent / "fixtures" / "jumpstart"
STATE_MACHINES = {"fine-tune": "FineTune"}
_REAL_WAIT_SECONDS = 60.0


@dataclass
class SimulationResult:
    status: str
    output: Any
    error: str | None
    cause: str | None
    states: list[str]
    state_transitions: int
    history_events: int
    sagemaker_calls: dict[str, int]
    notifications: list[dict[str, Any]]
    simulated_seconds: float
    scenario: str
    simulated: bool = True

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "output": self.output,
            "error": self.error,
            "cause": self.cause,
            "states": self.states,
            "state_transitions": self.state_transitions,
            "history_events": self.history_events,
            "sagemaker_calls": self.sagemaker_calls,
            "notifications": self.notifications,
            "simulated_seconds": self.simulated_seconds,
            "scenario": self.scenario,
            "simulated": True,
        }


@dataclass
class Deployment:
    """What the simulator created for one team, by logical id."""

    region: str
    bucket: str
    state_machines: dict[str, str] = field(default_factory=dict)  # logical id -> ARN
    functions: dict[str, str] = field(default_factory=dict)  # logical id -> name
    event_targets: dict[str, str] = field(default_factory=dict)  # detail-type -> function name
    token_table: str = ""
    topics: list[str] = field(default_factory=list)


class Simulator:
    def __init__(self, outdir: Path, team: TeamConfig) -> None:
        self.outdir = outdir
        self.team = team
        self.region = team.region or "us-east-1"
        self.stack = load_stack(outdir, f"{team.stack_prefix}-pipelines")

    def run(
        self,
        kind: str,
        payload: Any,
        scenario_name: str = "success",
        data_dir: Path | None = None,
    ) -> SimulationResult:
        (result,) = self.run_many(kind, [payload], scenario_name, data_dir)
        return result

    def run_many(
        self,
        kind: str,
        payloads: list[Any],
        scenario_name: str = "success",
        data_dir: Path | None = None,
    ) -> list[SimulationResult]:
        """Run each input as its own execution, in one simulated account (deployed once)."""
        if kind not in STATE_MACHINES:
            raise ValueError(f"unknown state machine {kind!r} (known: {', '.join(STATE_MACHINES)})")
        scenario = SCENARIOS[scenario_name]
        clock = SimClock()
        rejections = {k: list(v) for k, v in scenario.sagemaker_rejections.items()}
        sagemaker = SimulatedSageMaker(clock, SageMakerFaults(reject=rejections))
        faults = LambdaFaults(after_run=dict(scenario.lambda_failures))
        with self._sandbox(clock, sagemaker, faults):
            deployment = deploy(self.stack, self.team, self.region)
            if data_dir is not None:
                upload_folder(data_dir, deployment.bucket, _prefix_of(payloads[0]))
            results = []
            for number, payload in enumerate(payloads):
                sagemaker.calls.clear()
                results.append(_play(deployment, kind, payload, scenario, clock, sagemaker, number))
            return results

    @contextmanager
    def _sandbox(self, clock: SimClock, sagemaker: SimulatedSageMaker, faults: LambdaFaults) -> Iterator[None]:
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
            stack.enter_context(mock.patch.dict(os.environ, environment))
            stack.enter_context(mock_aws(config={"stepfunctions": {"execute_state_machine": True}}))
            stack.enter_context(simulated_time(clock))
            stack.enter_context(step_functions_as_documented())
            stack.enter_context(in_process_lambdas(faults))
            stack.enter_context(simulated_sagemaker(sagemaker))
            yield


def _prefix_of(payload: Any) -> str:
    data = payload.get("TrainingData") if isinstance(payload, dict) else None
    if not isinstance(data, str):
        raise ValueError("--data needs an input whose TrainingData is a key prefix or s3:// URI")
    if data.startswith("s3://"):
        data = data[len("s3://") :].partition("/")[2]
    return data if not data or data.endswith("/") else data + "/"


def upload_folder(folder: Path, bucket: str, prefix: str) -> int:
    s3 = boto3.client("s3")
    count = 0
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            s3.upload_file(str(path), bucket, prefix + path.relative_to(folder).as_posix())
            count += 1
    return count


def deploy(stack: StackTemplate, team: TeamConfig, region: str) -> Deployment:
    """Create the stack's resources in moto and return where they are."""
    resolver = Resolver(region=region, account=ACCOUNT)
    _platform(team, region, resolver, stack)
    bucket = resolver.ref(_parameter_for(stack, "bucket-name"))
    deployment = Deployment(region=region, bucket=bucket)
    role_arn = boto3.client("iam").create_role(RoleName="simulated-lambda", AssumeRolePolicyDocument="{}")["Role"][
        "Arn"
    ]
    for logical_id, resource in stack.of_type("AWS::DynamoDB::Table").items():
        props = resolver.resolve(resource["Properties"])
        table = boto3.client("dynamodb").create_table(
            TableName=logical_id,
            KeySchema=props["KeySchema"],
            AttributeDefinitions=props["AttributeDefinitions"],
            BillingMode="PAY_PER_REQUEST",
            GlobalSecondaryIndexes=[
                {k: v for k, v in index.items() if k in {"IndexName", "KeySchema", "Projection"}}
                for index in props.get("GlobalSecondaryIndexes", [])
            ],
        )["TableDescription"]
        resolver.refs[logical_id] = logical_id
        resolver.attributes[(logical_id, "Arn")] = table["TableArn"]
        deployment.token_table = logical_id
    for logical_id in stack.of_type("AWS::SNS::Topic"):
        arn = boto3.client("sns").create_topic(Name=logical_id)["TopicArn"]
        resolver.refs[logical_id] = arn
        resolver.attributes[(logical_id, "TopicArn")] = arn
        deployment.topics.append(arn)
    for logical_id in stack.of_type("AWS::SQS::Queue"):
        url = boto3.client("sqs").create_queue(QueueName=logical_id)["QueueUrl"]
        resolver.refs[logical_id] = url
        resolver.attributes[(logical_id, "Arn")] = f"arn:aws:sqs:{region}:{ACCOUNT}:{logical_id}"
    lambda_client = boto3.client("lambda")
    for logical_id, resource in stack.of_type("AWS::Lambda::Function").items():
        props = resource["Properties"]
        created = lambda_client.create_function(
            FunctionName=logical_id[:64],
            Runtime="python3.12",
            Role=role_arn,
            Handler=props["Handler"],
            Code={"ZipFile": stack.asset_zip(props["Code"]["S3Key"])},
            Environment={"Variables": resolver.resolve(props.get("Environment", {}).get("Variables", {}))},
            Timeout=props.get("Timeout", 60),
        )
        resolver.refs[logical_id] = created["FunctionName"]
        resolver.attributes[(logical_id, "Arn")] = created["FunctionArn"]
        deployment.functions[logical_id] = created["FunctionName"]
    sfn = boto3.client("stepfunctions")
    for logical_id, resource in stack.of_type("AWS::StepFunctions::StateMachine").items():
        definition = resolver.resolve(resource["Properties"]["DefinitionString"])
        arn = sfn.create_state_machine(name=logical_id[:80], definition=definition, roleArn=role_arn)["stateMachineArn"]
        resolver.refs[logical_id] = arn
        deployment.state_machines[logical_id] = arn
    for resource in stack.of_type("AWS::Events::Rule").values():
        props = resolver.resolve(resource["Properties"])
        for detail_type in props["EventPattern"].get("detail-type", []):
            target_arn = props["Targets"][0]["Arn"]
            deployment.event_targets[detail_type] = target_arn.rsplit(":", 1)[-1]
    return deployment


def _parameter_for(stack: StackTemplate, field_name: str) -> str:
    for name, parameter in stack.template.get("Parameters", {}).items():
        if str(parameter.get("Default", "")).endswith(f"/platform/{field_name}"):
            return name
    raise KeyError(f"{stack.name} reads no platform parameter {field_name}")


def _platform(team: TeamConfig, region: str, resolver: Resolver, stack: StackTemplate) -> None:
    """What the foundation stack would have published: a bucket, a key, the role, the network."""
    bucket = f"tunestack-{team.name}-data-simulated"
    s3 = boto3.client("s3")
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=bucket, **location)
    _jumpstart_bucket(s3, region, location)
    key_arn = boto3.client("kms").create_key(Description=f"tunestack {team.name} (simulated)")["KeyMetadata"]["Arn"]
    values = {
        "bucket-name": bucket,
        "key-arn": key_arn,
        "role-arn": f"arn:aws:iam::{ACCOUNT}:role/tunestack-{team.name}-sagemaker-simulated",
        "subnet-ids": ",".join(team.vpc.subnet_ids) if team.vpc else "subnet-0a00000000000001,subnet-0a00000000000002",
        "security-group-ids": "sg-0a000000000000001",
    }
    ssm = boto3.client("ssm")
    for name, parameter in stack.template.get("Parameters", {}).items():
        default = str(parameter.get("Default", ""))
        field_name = default.rsplit("/", 1)[-1]
        if parameter["Type"].startswith("AWS::SSM::Parameter::Value") and field_name in values:
            ssm.put_parameter(Name=default, Value=values[field_name], Type="String")
            resolver.refs[name] = ssm.get_parameter(Name=default)["Parameter"]["Value"]


def _jumpstart_bucket(s3: Any, region: str, location: dict[str, Any]) -> None:
    bucket = f"jumpstart-cache-prod-{region}"
    s3.create_bucket(Bucket=bucket, **location)
    for path in sorted(FIXTURES.rglob("*.json")):
        s3.upload_file(str(path), bucket, path.relative_to(FIXTURES).as_posix())


def _play(
    deployment: Deployment,
    kind: str,
    payload: Any,
    scenario: Scenario,
    clock: SimClock,
    sagemaker: SimulatedSageMaker,
    number: int = 0,
) -> SimulationResult:
    sfn = boto3.client("stepfunctions")
    machine = next(arn for lid, arn in deployment.state_machines.items() if lid.startswith(STATE_MACHINES[kind]))
    execution = sfn.start_execution(
        stateMachineArn=machine, name=f"simulated-{scenario.name}-{number}", input=json.dumps(payload)
    )["executionArn"]
    job = _wait_for_job(sfn, execution, sagemaker)
    if job is not None:
        _drive(deployment, execution, job, scenario, clock, sagemaker)
    description = _wait_for_end(sfn, execution)
    events = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
    return _result(description, events, scenario, clock, sagemaker, deployment)


def _wait_for_job(sfn: Any, execution: str, sagemaker: SimulatedSageMaker) -> str | None:
    """Until the launch task waits on its token (job created, token stored), or the run ended."""
    deadline = time.monotonic() + _REAL_WAIT_SECONDS
    while time.monotonic() < deadline:
        events = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
        if any(e["type"] == "TaskSubmitted" for e in events) and sagemaker.jobs:
            return next(reversed(sagemaker.jobs))
        if sfn.describe_execution(executionArn=execution)["status"] != "RUNNING":
            return None
        time.sleep(0.005)
    raise TimeoutError("the simulated execution never reached its wait")


def _drive(
    deployment: Deployment,
    execution: str,
    job: str,
    scenario: Scenario,
    clock: SimClock,
    sagemaker: SimulatedSageMaker,
) -> None:
    lambda_client = boto3.client("lambda")
    limit = sagemaker.jobs[job].max_runtime
    if scenario.abort:
        clock.advance(600)
        boto3.client("stepfunctions").stop_execution(executionArn=execution, cause="stopped from the console")
        clock.interrupted = True  # moto's interpreter would otherwise sit in the task until its timeout
        _deliver(
            lambda_client,
            deployment,
            "Step Functions Execution Status Change",
            {"executionArn": execution, "status": "ABORTED"},
        )
        return
    seconds = scenario.job_seconds if scenario.job_seconds is not None else limit - 60
    if scenario.events > 1:
        # SageMaker also reports intermediate states; they must complete nothing.
        _deliver(
            lambda_client,
            deployment,
            "SageMaker Training Job State Change",
            {"TrainingJobName": job, "TrainingJobStatus": "InProgress"},
        )
    clock.advance(seconds)
    finished = sagemaker.finish(job, scenario.outcome, scenario.failure_reason)
    detail = {"TrainingJobName": job, "TrainingJobArn": finished.arn, "TrainingJobStatus": finished.status}
    for _ in range(scenario.events):
        _deliver(lambda_client, deployment, "SageMaker Training Job State Change", detail)
    if scenario.events == 0:
        # Nothing will complete the token: move time past the task's timeout.
        clock.advance(limit + 3600)


def _deliver(lambda_client: Any, deployment: Deployment, detail_type: str, detail: dict[str, Any]) -> None:
    """Deliver an EventBridge event to the function the stack's rule targets, as EventBridge would."""
    source = "aws.states" if detail_type.startswith("Step Functions") else "aws.sagemaker"
    event = {
        "version": "0",
        "id": "simulated",
        "detail-type": detail_type,
        "source": source,
        "account": ACCOUNT,
        "region": deployment.region,
        "detail": detail,
    }
    lambda_client.invoke(FunctionName=deployment.event_targets[detail_type], Payload=json.dumps(event))


def _wait_for_end(sfn: Any, execution: str) -> dict[str, Any]:
    deadline = time.monotonic() + _REAL_WAIT_SECONDS
    while time.monotonic() < deadline:
        description = sfn.describe_execution(executionArn=execution)
        if description["status"] != "RUNNING":
            return description  # type: ignore[no-any-return]
        time.sleep(0.005)
    raise TimeoutError("the simulated execution did not end")


def _result(
    description: dict[str, Any],
    events: list[dict[str, Any]],
    scenario: Scenario,
    clock: SimClock,
    sagemaker: SimulatedSageMaker,
    deployment: Deployment,
) -> SimulationResult:
    states = [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]
    failed = next((e for e in events if e["type"] == "ExecutionFailed"), None)
    details = failed.get("executionFailedEventDetails", {}) if failed else {}
    output = json.loads(description["output"]) if description.get("output") else None
    return SimulationResult(
        status=description["status"],
        output=output,
        error=details.get("error") or (description.get("error")),
        cause=details.get("cause") or (description.get("cause")),
        states=states,
        state_transitions=len(states),
        history_events=len(events),
        sagemaker_calls=dict(sorted(sagemaker.calls.items())),
        notifications=_notifications(deployment),
        simulated_seconds=clock.now + clock.slept,
        scenario=scenario.name,
    )


def _notifications(deployment: Deployment) -> list[dict[str, Any]]:
    from moto.sns.models import sns_backends

    backend = sns_backends[ACCOUNT][deployment.region]
    sent = []
    for arn in deployment.topics:
        for _, message, subject, *_ in backend.topics[arn].sent_notifications:
            sent.append({"subject": subject, "message": json.loads(message)})
    return sent
