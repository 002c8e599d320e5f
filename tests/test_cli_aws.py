"""`tunestack start` and `tunestack status` against a real moto server: the command runs in its own
process with the caller's credentials pointed at the server by AWS_ENDPOINT_URL, as a user's
would be at AWS. The state machines are small Pass / Fail machines named as the team's are."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.conftest import ROOT, Synthesized

MOTO_SERVER = Path(sys.executable).parent / "moto_server"
REGION = "us-east-1"
EXAMPLE = ROOT / "examples" / "fine-tune-text.json"
#: What Lambda returns for an unhandled error (errorType, errorMessage, stackTrace), as a task's
#: failure cause carries it: the validator's problems, one per line.
LAMBDA_ENVELOPE = json.dumps(
    {
        "errorType": "InvalidInput",
        "errorMessage": "$.Colour: unknown field (allowed: ...)\n$.ModelName: required",
        "stackTrace": ['  File "/var/task/tunestack_runtime/handlers/validate.py", line 20, in handler\n'],
    }
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    port = _free_port()
    server = subprocess.Popen(
        [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.2)
        # Executions really run (moto's Step Functions interpreter), as they do at AWS.
        request = urllib.request.Request(
            f"{url}/moto-api/config",
            data=json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode(),
            method="POST",
        )
        urllib.request.urlopen(request, timeout=5)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def _env(endpoint: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }


@pytest.fixture(scope="module")
def sfn(endpoint: str) -> Any:
    return boto3.client(
        "stepfunctions",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _machine(sfn: Any, name: str, states: dict[str, Any], start_at: str) -> str:
    definition = json.dumps({"StartAt": start_at, "States": states})
    role = "arn:aws:iam::123456789012:role/simulated"
    return str(sfn.create_state_machine(name=name, definition=definition, roleArn=role)["stateMachineArn"])


@pytest.fixture(scope="module")
def machines(sfn: Any) -> dict[str, str]:
    return {
        "fine-tune": _machine(
            sfn,
            "tunestack-vision-fine-tune",
            {
                "Validate input": {"Type": "Pass", "Next": "Launch training job"},
                "Launch training job": {"Type": "Pass", "Result": {"ModelName": "news-sentiment-bert"}, "End": True},
            },
            "Validate input",
        ),
        "deploy": _machine(
            sfn,
            "tunestack-vision-deploy",
            {
                "Validate input": {"Type": "Pass", "Next": "Input refused"},
                "Input refused": {"Type": "Fail", "Error": "InvalidInput", "Cause": LAMBDA_ENVELOPE},
            },
            "Validate input",
        ),
    }


def tunestack(endpoint: str, *argv: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tunestack.cli", *argv],
        cwd=cwd,
        env=_env(endpoint),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_start_finds_the_teams_machine_starts_it_and_waits_state_by_state(
    endpoint: str, sfn: Any, machines: dict[str, str], synthesized: Synthesized
) -> None:
    result = tunestack(
        endpoint,
        "start",
        "fine-tune",
        str(EXAMPLE),
        "--team",
        "vision",
        "--wait",
        "--poll-seconds",
        "0.1",
        "--cdk-out",
        str(synthesized.outdir),
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    execution = lines[0].split(": ", 1)[1]
    assert execution.startswith(f"arn:aws:states:{REGION}:123456789012:execution:tunestack-vision-fine-tune:")
    assert lines[1] == (
        f"console: https://{REGION}.console.aws.amazon.com/states/home?region={REGION}"
        f"#/v2/executions/details/{execution.replace(':', '%3A')}"
    )
    assert lines[2:4] == ["   1. Validate input", "   2. Launch training job"]
    assert "status: SUCCEEDED" in lines and '  "ModelName": "news-sentiment-bert"' in lines
    # The input was passed as it is; the execution is named after the model it trains.
    described = sfn.describe_execution(executionArn=execution)
    assert json.loads(described["input"]) == json.loads(EXAMPLE.read_text())
    assert described["name"].startswith(json.loads(EXAMPLE.read_text())["ModelName"] + "-")


def test_an_invalid_input_is_refused_before_anything_starts(
    endpoint: str, sfn: Any, machines: dict[str, str], synthesized: Synthesized, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**json.loads(EXAMPLE.read_text()), "trainingData": "datasets/news/"}))
    before = sfn.list_executions(stateMachineArn=machines["fine-tune"])["executions"]
    result = tunestack(
        endpoint, "start", "fine-tune", str(bad), "--team", "vision", "--json", "--cdk-out", str(synthesized.outdir)
    )
    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert document["valid"] is False and document["error"] == "InvalidInput"
    assert document["problems"][0].startswith("$.trainingData: unknown field, did you mean 'TrainingData'?")
    assert sfn.list_executions(stateMachineArn=machines["fine-tune"])["executions"] == before


def test_a_failed_execution_exits_1_and_status_shows_the_lambda_error_by_line(
    endpoint: str, sfn: Any, machines: dict[str, str], synthesized: Synthesized
) -> None:
    deploy = ROOT / "examples" / "deploy.json"
    result = tunestack(
        endpoint,
        "start",
        "deploy",
        str(deploy),
        "--team",
        "vision",
        "--wait",
        "--poll-seconds",
        "0.1",
        "--json",
        "--cdk-out",
        str(synthesized.outdir),
    )
    assert result.returncode == 1, result.stderr
    started = json.loads(result.stdout)
    assert started["status"] == "FAILED" and started["states"] == ["Validate input", "Input refused"]

    status = tunestack(endpoint, "status", started["executionArn"])
    assert status.returncode == 1
    lines = status.stdout.splitlines()
    assert "status: FAILED" in lines and "last state: Input refused" in lines and "error: InvalidInput" in lines
    cause = lines[lines.index("cause:") + 1 :]
    assert cause == ["  InvalidInput", "  $.Colour: unknown field (allowed: ...)", "  $.ModelName: required"]
    assert "stackTrace" not in status.stdout and "validate.py" not in status.stdout

    as_json = json.loads(tunestack(endpoint, "status", started["executionArn"], "--json").stdout)
    assert as_json["status"] == "FAILED" and as_json["cause"] == LAMBDA_ENVELOPE
    assert as_json["startDate"] and as_json["stopDate"]


def test_status_of_a_succeeded_execution_shows_its_output(endpoint: str, sfn: Any, machines: dict[str, str]) -> None:
    execution = sfn.start_execution(stateMachineArn=machines["fine-tune"], name="by-hand", input="{}")["executionArn"]
    deadline = time.monotonic() + 20
    while sfn.describe_execution(executionArn=execution)["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.1)
    result = tunestack(endpoint, "status", execution, "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["status"] == "SUCCEEDED" and document["state"] == "Launch training job"
    assert document["output"] == {"ModelName": "news-sentiment-bert"} and document["error"] is None


def test_a_team_without_its_machine_in_the_account_is_named(
    endpoint: str, machines: dict[str, str], synthesized: Synthesized
) -> None:
    result = tunestack(
        endpoint,
        "start",
        "fine-tune",
        str(EXAMPLE),
        "--team",
        "vision",
        "--cdk-out",
        str(synthesized.outdir),
        "--state-machine-arn",
        f"arn:aws:states:{REGION}:123456789012:stateMachine:nobody",
    )
    assert result.returncode == 1 and "nobody" in result.stderr
    tuned = tunestack(
        endpoint,
        "start",
        "tune",
        str(ROOT / "examples" / "tune-xgboost.json"),
        "--team",
        "vision",
        "--cdk-out",
        str(synthesized.outdir),
    )
    assert tuned.returncode == 1
    assert "no state machine 'tunestack-vision-tune' in us-east-1" in tuned.stderr


def test_start_needs_a_team(endpoint: str, synthesized: Synthesized) -> None:
    result = tunestack(endpoint, "start", "fine-tune", str(EXAMPLE), "--cdk-out", str(synthesized.outdir), "--json")
    assert result.returncode == 2
    assert json.loads(result.stdout) == {
        "error": "usage",
        "problems": ["start needs --team NAME (or --state-machine-arn)"],
    }


def test_status_refuses_what_is_not_an_execution_arn(endpoint: str) -> None:
    result = tunestack(endpoint, "status", "news-sentiment-bert")
    assert result.returncode == 2 and "is not an execution ARN" in result.stderr


def test_a_machine_given_by_arn_validates_with_the_team_its_name_says(endpoint: str, synthesized: Synthesized) -> None:
    """No --team: the machine's name, tunestack-nlp-fine-tune, says whose limits apply."""
    arn = f"arn:aws:states:{REGION}:123456789012:stateMachine:tunestack-nlp-fine-tune"
    result = tunestack(
        endpoint, "start", "fine-tune", str(EXAMPLE), "--state-machine-arn", arn, "--cdk-out", str(synthesized.outdir)
    )
    assert result.returncode == 1
    assert "INVALID for team nlp" in result.stderr and "$.InstanceType: 'ml.p3.8xlarge' is not allowed" in result.stdout
