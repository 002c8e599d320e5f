"""Console links: exact URLs per partition, ARNs quoted whole, and outputs that carry them."""

from __future__ import annotations

import pytest

from tunestack_runtime import console_links
from tunestack_runtime.console_links import LINKS_FIELD, NoConsoleLink, Place
from tunestack_runtime.endpoint_lifecycle import endpoint_outcome
from tunestack_runtime.job_kinds import training_outcome, tuning_outcome

EXECUTION = "arn:aws:states:eu-west-1:111122223333:execution:tunestack-nlp-fine-tune:run-1"
EXECUTION_QUOTED = "arn%3Aaws%3Astates%3Aeu-west-1%3A111122223333%3Aexecution%3Atunestack-nlp-fine-tune%3Arun-1"
TRAINING_ARN = "arn:aws:sagemaker:eu-west-1:111122223333:training-job/churn-model"
SAGEMAKER = "https://eu-west-1.console.aws.amazon.com/sagemaker/home?region=eu-west-1"


@pytest.mark.parametrize(
    ("partition", "region", "domain"),
    [
        ("aws", "eu-west-1", "console.aws.amazon.com"),
        ("aws-cn", "cn-north-1", "console.amazonaws.cn"),
        ("aws-us-gov", "us-gov-west-1", "console.amazonaws-us-gov.com"),
    ],
)
def test_the_execution_link_is_in_the_arns_partition_and_region(partition: str, region: str, domain: str) -> None:
    arn = f"arn:{partition}:states:{region}:111122223333:execution:tunestack-nlp-tune:run-1"
    quoted = arn.replace(":", "%3A")
    assert console_links.execution(arn) == (
        f"https://{region}.{domain}/states/home?region={region}#/v2/executions/details/{quoted}"
    )


def test_the_execution_arn_is_quoted_whole() -> None:
    assert console_links.execution(EXECUTION) == (
        "https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1"
        f"#/v2/executions/details/{EXECUTION_QUOTED}"
    )
    # A name with characters a URL fragment would split on (Step Functions allows them in names).
    odd = "arn:aws:states:eu-west-1:111122223333:execution:m:a/b c+d"
    assert console_links.execution(odd).endswith(
        "details/arn%3Aaws%3Astates%3Aeu-west-1%3A111122223333%3Aexecution%3Am%3Aa%2Fb+c%2Bd"
    )


def test_sagemaker_links() -> None:
    place = Place.of(TRAINING_ARN)
    assert place.training_job("churn-model") == f"{SAGEMAKER}#/jobs/churn-model"
    assert place.tuning_job("churn-hpo") == f"{SAGEMAKER}#/hyper-tuning-jobs/churn-hpo"
    assert place.endpoint("churn") == f"{SAGEMAKER}#/endpoints/churn"
    gov = Place.of("arn:aws-us-gov:sagemaker:us-gov-west-1:111122223333:endpoint/churn")
    assert gov.endpoint("churn") == (
        "https://us-gov-west-1.console.amazonaws-us-gov.com/sagemaker/home?region=us-gov-west-1#/endpoints/churn"
    )


def test_s3_object_links_keep_the_keys_slashes_and_quote_the_rest() -> None:
    place = Place.of("arn:aws-cn:sagemaker:cn-north-1:111122223333:training-job/churn-model")
    assert place.s3_object("s3://team-bucket/churn-model/output/model.tar.gz") == (
        "https://cn-north-1.console.amazonaws.cn/s3/object/team-bucket?region=cn-north-1"
        "&prefix=churn-model/output/model.tar.gz"
    )
    assert place.s3_object("s3://b/a b&c#d.csv").endswith("&prefix=a%20b%26c%23d.csv")


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Place.of("churn-model"), "not a regional ARN"),
        (lambda: Place.of("arn:aws:s3:::bucket"), "not a regional ARN"),
        (lambda: Place.of("arn:aws-iso:sagemaker:us-iso-east-1:1:training-job/x"), "partition 'aws-iso'"),
        (lambda: Place.of(TRAINING_ARN).s3_object("s3://bucket-only"), "not an S3 object URI"),
        (lambda: Place.of(TRAINING_ARN).s3_object("https://bucket/key"), "not an S3 object URI"),
        (lambda: Place.of(TRAINING_ARN).training_job(None), "no name"),
    ],
)
def test_what_cannot_be_linked_is_named(build: object, message: str) -> None:
    with pytest.raises(NoConsoleLink, match=message):
        build()  # type: ignore[operator]


def test_a_link_that_cannot_be_built_is_left_out() -> None:
    assert console_links.links(
        Execution=lambda: console_links.execution(EXECUTION),
        Isolated=lambda: console_links.execution("arn:aws-iso:states:us-iso-east-1:1:execution:m:n"),
    ) == {"Execution": console_links.execution(EXECUTION)}


def test_the_cli_prints_the_same_link() -> None:
    from tunestack.cli.executions import console_url

    assert console_url(EXECUTION) == console_links.execution(EXECUTION)
    assert console_url("not-an-arn") == "not-an-arn"


def test_a_training_outcome_adds_the_job_and_artifact_links_to_the_executions() -> None:
    extras = {LINKS_FIELD: {"Execution": console_links.execution(EXECUTION)}, "ParentModel": "m"}
    description = {
        "TrainingJobStatus": "Completed",
        "TrainingJobName": "churn-model",
        "TrainingJobArn": TRAINING_ARN,
        "ModelArtifacts": {"S3ModelArtifacts": "s3://team-bucket/churn-model/output/model.tar.gz"},
    }
    result, output = training_outcome(description, extras)
    assert result == "success"
    assert output[LINKS_FIELD] == {
        "Execution": console_links.execution(EXECUTION),
        "TrainingJob": f"{SAGEMAKER}#/jobs/churn-model",
        "ModelArtifacts": "https://eu-west-1.console.aws.amazon.com/s3/object/team-bucket?region=eu-west-1"
        "&prefix=churn-model/output/model.tar.gz",
    }


def test_a_tuning_outcome_links_the_tuning_job() -> None:
    description = {
        "HyperParameterTuningJobStatus": "Stopped",
        "HyperParameterTuningJobName": "churn-hpo",
        "HyperParameterTuningJobArn": "arn:aws:sagemaker:eu-west-1:111122223333:hyper-parameter-tuning-job/churn-hpo",
    }
    _, output = tuning_outcome(description, {})
    assert output[LINKS_FIELD] == {"TuningJob": f"{SAGEMAKER}#/hyper-tuning-jobs/churn-hpo"}


def test_a_deployment_links_the_endpoint_by_its_given_name_and_what_it_serves() -> None:
    # SageMaker lowercases the name in an endpoint's ARN; the console's route takes the name.
    arn = "arn:aws:sagemaker:eu-west-1:111122223333:endpoint/churn-live"
    extras = {
        "EndpointName": "Churn-Live",
        "EndpointConfigName": "cfg",
        "ModelDataUrl": "s3://team-bucket/churn-model/output/model.tar.gz",
        "TrainingJobName": "churn-model",
        "TuningJobName": None,
    }
    description = {"EndpointStatus": "InService", "EndpointConfigName": "cfg", "EndpointArn": arn}
    _, output = endpoint_outcome(description, extras)
    assert output[LINKS_FIELD] == {
        "Endpoint": f"{SAGEMAKER}#/endpoints/Churn-Live",
        "ModelArtifacts": "https://eu-west-1.console.aws.amazon.com/s3/object/team-bucket?region=eu-west-1"
        "&prefix=churn-model/output/model.tar.gz",
        "TrainingJob": f"{SAGEMAKER}#/jobs/churn-model",
    }
