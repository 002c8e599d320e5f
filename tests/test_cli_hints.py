"""What the command says about a first day's mistakes: misspelt fields, a pasted SageMaker request,
a dataset the simulated bucket lacks, and every error as one JSON document with --json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from tests.conftest import ROOT, Synthesized
from tunestack.cli import hints
from tunestack.cli import main as cli_main
from tunestack_runtime.deploy_input import validate_deploy_input
from tunestack_runtime.errors import InvalidInput
from tunestack_runtime.fine_tune_input import validate_fine_tune_input
from tunestack_runtime.input_fields import SAGEMAKER_NAMES, closest_field
from tunestack_runtime.policy import TeamPolicy
from tunestack_runtime.tune_input import validate_tune_input

POLICY = TeamPolicy(
    team="vision",
    bucket="",
    region="us-east-1",
    training_instance_types=("ml.m5.xlarge",),
    hosting_instance_types=("ml.m5.xlarge",),
    default_training_instance_type="ml.m5.xlarge",
    default_hosting_instance_type="ml.m5.xlarge",
    max_instance_count=2,
    max_runtime_in_seconds=86400,
    max_training_jobs_per_tuning_job=20,
    max_parallel_training_jobs=3,
)
EXAMPLES = ROOT / "examples"
SAGEMAKER = botocore.session.get_session().get_service_model("sagemaker")


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / f"{name}.json").read_text())  # type: ignore[no-any-return]


def problems(validate: Any, payload: Any) -> list[str]:
    with pytest.raises(InvalidInput) as raised:
        validate(payload, POLICY)
    return str(raised.value).splitlines()


@pytest.mark.parametrize(
    ("given", "meant"),
    [
        ("trainingData", "TrainingData"),
        ("modelname", "ModelName"),
        ("HyperParameter", "HyperParameters"),
        ("TrainingJobName", "ModelName"),
    ],
)
def test_a_misspelt_fine_tune_field_names_the_one_it_meant(given: str, meant: str) -> None:
    payload = example("fine-tune-text")
    payload[given] = payload.pop(meant, "x")
    (line,) = [p for p in problems(validate_fine_tune_input, payload) if p.startswith(f"$.{given}:")]
    assert line.startswith(f"$.{given}: unknown field, did you mean '{meant}'? (allowed: ")


def test_a_jumpstart_model_id_in_capitals_is_recognised() -> None:
    payload = {**example("fine-tune-text"), "Algorithm": {"JumpStartModelID": "huggingface-tc-bert-base-cased"}}
    (line,) = [p for p in problems(validate_fine_tune_input, payload) if p.startswith("$.Algorithm")]
    assert "did you mean 'JumpStartModelID' -> 'JumpStartModelId'?" in line
    beside = {"JumpStartModelId": "huggingface-tc-bert-base-cased", "jumpStartModelVersion": "*"}
    lines = problems(validate_fine_tune_input, {**example("fine-tune-text"), "Algorithm": beside})
    (line,) = [p for p in lines if p.startswith("$.Algorithm")]
    assert line.startswith("$.Algorithm.jumpStartModelVersion: unknown field with JumpStartModelId, did you mean ")


def test_tune_and_deploy_suggest_too_and_say_nothing_when_nothing_is_close() -> None:
    tune = {**example("tune-xgboost"), "HyperParameterTuningJobName": "x", "Colour": "blue"}
    lines = problems(validate_tune_input, tune)
    assert "$.HyperParameterTuningJobName: unknown field, did you mean 'TuningJobName'? (allowed: " in "\n".join(lines)
    assert next(p for p in lines if p.startswith("$.Colour:")).startswith("$.Colour: unknown field (allowed: ")
    deploy = {**example("deploy"), "endpointName": "e"}
    deploy.pop("EndpointName")
    assert any(
        p.startswith("$.endpointName: unknown field, did you mean 'EndpointName'?")
        for p in problems(validate_deploy_input, deploy)
    )


def test_sagemaker_names_and_closest_fields() -> None:
    assert closest_field("ModelID", ["ModelId", "ModelName"]) == "ModelId"
    assert closest_field("Colour", ["ModelName", "TrainingData"]) is None
    for member, field in SAGEMAKER_NAMES.items():
        requests = [
            SAGEMAKER.operation_model(op).input_shape.members
            for op in ("CreateTrainingJob", "CreateHyperParameterTuningJob")
        ]
        assert (
            any(member in r for r in requests)
            or member in SAGEMAKER.shape_for("HyperParameterTrainingJobDefinition").members
        )
        assert closest_field(member, [field]) == field


def test_every_request_part_the_hint_maps_is_a_real_request_member() -> None:
    tuning = set(SAGEMAKER.operation_model("CreateHyperParameterTuningJob").input_shape.members)
    definition = set(SAGEMAKER.shape_for("HyperParameterTrainingJobDefinition").members)
    training = set(SAGEMAKER.operation_model("CreateTrainingJob").input_shape.members)
    assert set(hints._TUNING_REQUEST) <= tuning
    assert set(hints._TUNING_DEFINITION_ONLY) <= definition
    assert set(hints._TRAINING_PARTS) <= definition & training
    assert set(hints._TRAINING_REQUEST) <= training


def pasted_tuning_request() -> dict[str, Any]:
    """tune-xgboost as a CreateHyperParameterTuningJob request (the shapes of botocore's model)."""
    tune = example("tune-xgboost")
    return {
        "HyperParameterTuningJobName": tune["TuningJobName"],
        "HyperParameterTuningJobConfig": tune["HyperParameterTuningJobConfig"],
        "TrainingJobDefinition": {
            "AlgorithmSpecification": {
                "TrainingImage": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
                "TrainingInputMode": "File",
            },
            "RoleArn": "arn:aws:iam::111122223333:role/SageMakerRole",
            "StaticHyperParameters": tune["StaticHyperParameters"],
            "InputDataConfig": [
                {
                    "ChannelName": channel,
                    "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://my-bucket/{prefix}"}},
                }
                for channel, prefix in tune["TrainingData"].items()
            ],
            "OutputDataConfig": {"S3OutputPath": "s3://my-bucket/output/"},
            "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        },
    }


def test_the_pasted_request_is_shaped_as_botocore_would_send_it() -> None:
    from botocore.validate import ParamValidator

    shape = SAGEMAKER.operation_model("CreateHyperParameterTuningJob").input_shape
    report = ParamValidator().validate(pasted_tuning_request(), shape)
    assert not report.has_errors(), report.generate_report()


def test_a_pasted_tuning_request_gets_one_hint_mapping_each_part(
    synthesized: Synthesized, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pasted = tmp_path / "pasted.json"
    pasted.write_text(json.dumps(pasted_tuning_request()))
    assert cli_main(["validate", "tune", str(pasted), "--cdk-out", str(synthesized.outdir)]) == 1
    out = capsys.readouterr().out
    (hint,) = [block for block in out.split("hint: ")[1:]]
    lines = hint.splitlines()
    assert lines[0] == (
        "this looks like a SageMaker CreateHyperParameterTuningJob request; a tunestack tune input takes its parts as:"
    )
    mapped = {line.split(" -> ")[0].strip(): line.split(" -> ")[1] for line in lines[1:] if " -> " in line}
    assert mapped["HyperParameterTuningJobName"] == 'TuningJobName; here: "xgb-churn-tune-1"'
    assert mapped["TrainingJobDefinition.StoppingCondition"] == 'MaxRuntimeInSeconds; here: "MaxRuntimeInSeconds": 3600'
    assert mapped["TrainingJobDefinition.InputDataConfig"].endswith(
        'here: "TrainingData": {"train": "s3://my-bucket/datasets/churn/train/", '
        '"validation": "s3://my-bucket/datasets/churn/validation/"} (in the team bucket)'
    )
    assert '"InstanceType": "ml.m5.xlarge", "InstanceCount": 1' in mapped["TrainingJobDefinition.ResourceConfig"]
    assert set(mapped) == {"HyperParameterTuningJobName", "TrainingJobDefinition"} | {
        f"TrainingJobDefinition.{k}" for k in pasted_tuning_request()["TrainingJobDefinition"]
    }


def test_a_pasted_training_request_maps_its_name_to_the_model_name() -> None:
    request = {
        "TrainingJobName": "news",
        "HyperParameters": {"epochs": "3"},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge"},
    }
    hint = hints.pasted_request_hint("fine-tune", request)
    assert hint is not None and hint.startswith("this looks like a SageMaker CreateTrainingJob request")
    assert (
        '  TrainingJobName -> ModelName (the training job\'s name and its output folder); here: "news"'
        in hint.splitlines()
    )
    assert hints.pasted_request_hint("fine-tune", example("fine-tune-text")) is None


@pytest.mark.parametrize(
    ("argv", "code", "error"),
    [
        (["validate", "fine-tune", "missing.json"], 2, "usage"),
        (["validate", "fine-tuning", "examples/fine-tune-text.json"], 2, "usage"),
        (["validate", "fine-tune", "examples/fine-tune-text.json", "--team", "nobody"], 2, "usage"),
        (["simulate", "fine-tune", "examples/fine-tune-text.json", "--scenario", "meteor-strike"], 2, "usage"),
        (["start", "fine-tune", "examples/fine-tune-text.json"], 2, "usage"),
        (["status", "not-an-arn"], 2, "usage"),
        (["start", "fine-tune", "examples/fine-tune-text.json", "--team", "vision", "--name", "a b(c)"], 2, "usage"),
        (["validate", "fine-tune", "{broken}"], 1, "InvalidJSON"),
        (["simulate", "fine-tune", "{broken}"], 1, "InvalidJSON"),
        (["validate", "fine-tune", "{bad}"], 1, "InvalidInput"),
    ],
)
def test_every_error_is_one_json_document_with_json(
    argv: list[str], code: int, error: str, synthesized: Synthesized, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "broken.json").write_text('{"ModelName": ')
    (tmp_path / "bad.json").write_text(json.dumps({"ModelName": "x_y", "Colour": 1}))
    argv = [
        a.replace("{broken}", str(tmp_path / "broken.json")).replace("{bad}", str(tmp_path / "bad.json")) for a in argv
    ]
    assert (
        cli_main([*argv, "--json", "--cdk-out", str(synthesized.outdir)] if argv[0] != "status" else [*argv, "--json"])
        == code
    )
    document = json.loads(capsys.readouterr().out)
    assert document["error"] == error and document["problems"] and all(isinstance(p, str) for p in document["problems"])


def test_simulate_names_data_when_the_bucket_lacks_the_inputs_dataset(
    synthesized: Synthesized, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "my-reviews.json"
    mine.write_text(json.dumps({**example("fine-tune-text"), "TrainingData": "datasets/my-reviews/"}))
    argv = ["simulate", "fine-tune", str(mine), "--cdk-out", str(synthesized.outdir)]
    assert cli_main([*argv, "--json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["error"] == "InvalidDataset"
    (hint,) = document["hints"]
    assert "nothing was uploaded to 'datasets/my-reviews/'" in hint and "pass --data DIR" in hint
    # Given the data, the same input runs and no hint is printed.
    assert cli_main([*argv, "--data", str(EXAMPLES / "data" / "fine-tune-text")]) == 0
    assert "hint:" not in capsys.readouterr().out


def test_an_input_runs_alone_unless_it_names_a_job_an_input_beside_it_creates(
    synthesized: Synthesized, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """tune-xgboost sits beside inputs that create tuning jobs, but names none of them."""
    assert (
        cli_main(["simulate", "tune", str(EXAMPLES / "tune-xgboost.json"), "--cdk-out", str(synthesized.outdir)]) == 0
    )
    out = capsys.readouterr().out
    assert "simulated first" not in out and out.startswith("SIMULATED tune of ")
