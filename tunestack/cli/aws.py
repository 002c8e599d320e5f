"""``tunestack start`` and ``tunestack status``: real executions, with the caller's credentials."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from tunestack.cli.common import UsageError, checked_input, print_json, team_of
from tunestack.simulator.assembly import ensure_synthesized, load_assembly


def start(args: argparse.Namespace) -> int:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from tunestack.cli import executions

    if args.team is None and args.state_machine_arn is None:
        raise UsageError("start needs --team NAME (or --state-machine-arn)")
    if args.team is None:
        # The team whose policy validates the input: the one the machine's name says, else the first.
        machine_name = args.state_machine_arn.rsplit(":", 1)[-1]
        args.team = next(
            (
                t.name
                for t in load_assembly(ensure_synthesized(args.cdk_out)).teams
                if machine_name == t.state_machine_name(args.kind)
            ),
            None,
        )
    team = team_of(args)
    payload = checked_input(args, team)
    if payload is None:
        return 1
    if args.name is not None and not executions.EXECUTION_NAME.fullmatch(args.name):
        raise UsageError(f"--name {args.name!r}: 1-80 letters, digits, '-' or '_' (Step Functions and SageMaker tags)")
    name = args.name or executions.execution_name(args.kind, payload)
    try:
        sfn = boto3.client("stepfunctions")
        machine = args.state_machine_arn or executions.state_machine_arn(
            sfn, boto3.client("sts"), team.state_machine_name(args.kind)
        )
        execution = executions.start(sfn, machine, payload, name)
        document: dict[str, Any] = {
            "executionArn": execution,
            "console": executions.console_url(execution),
            "stateMachineArn": machine,
        }
        if not args.json:
            print(f"started {args.kind} for team {team.name}: {execution}")
            print(f"console: {document['console']}")
        if not args.wait:
            if args.json:
                print_json(document)
            return 0
        states: list[str] = []

        def entered(state: str) -> None:
            states.append(state)
            if not args.json:
                print(f"  {len(states):>2}. {state}", flush=True)

        try:
            executions.follow(sfn, execution, entered, interval=args.poll_seconds)
        except KeyboardInterrupt:
            print(f"\nstopped following; the execution goes on: tunestack status {execution}", file=sys.stderr)
            return 130
        status = executions.describe(sfn, execution)
    except (ClientError, BotoCoreError, executions.ExecutionError) as error:
        return _aws_failure(args, error)
    if args.json:
        print_json({**document, **status.as_json(), "states": states})
    else:
        _print_status(status)
    return 0 if status.status == "SUCCEEDED" else 1


def status(args: argparse.Namespace) -> int:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from tunestack.cli import executions

    if not args.execution_arn.startswith("arn:") or ":execution:" not in args.execution_arn:
        raise UsageError(
            f"{args.execution_arn!r} is not an execution ARN (arn:aws:states:REGION:ACCOUNT:execution:...)"
        )
    region = args.execution_arn.split(":")[3]
    try:
        status = executions.describe(boto3.client("stepfunctions", region_name=region), args.execution_arn)
    except (ClientError, BotoCoreError) as error:
        return _aws_failure(args, error)
    if args.json:
        print_json(status.as_json())
    else:
        print(f"execution: {status.execution_arn}")
        print(f"console: {executions.console_url(status.execution_arn)}")
        _print_status(status)
    return 0 if status.status in {"RUNNING", "SUCCEEDED"} else 1


def _print_status(status: Any) -> None:
    print(f"status: {status.status}")
    print(f"started: {status.started.isoformat() if status.started else '-'}")
    print(f"stopped: {status.stopped.isoformat() if status.stopped else '-'}")
    label = "current state" if status.status == "RUNNING" else "last state"
    print(f"{label}: {status.state or '-'}")
    if status.error:
        print(f"error: {status.error}")
        print("cause:")
        for line in status.cause_lines:
            print(f"  {line}")
    if status.output is not None:
        print("output:")
        print(json.dumps(status.output, indent=2))


def _aws_failure(args: argparse.Namespace, error: Exception) -> int:
    """An AWS answer (or no answer) that ends the command: said once, exit 1."""
    if args.json:
        print_json({"error": type(error).__name__, "problems": [str(error)]})
    else:
        print(f"tunestack: {error}", file=sys.stderr)
    return 1
