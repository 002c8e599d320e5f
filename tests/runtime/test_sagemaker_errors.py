"""What SageMaker's errors become, the names executions and their resources carry, and the size
an input may have."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tunestack_runtime.errors import InvalidInput
from tunestack_runtime.executions import Execution
from tunestack_runtime.input_fields import MAX_INPUT_BYTES, check_input_size
from tunestack_runtime.sagemaker_errors import (
    ResourceLimitExceeded,
    SageMakerQuotaInUse,
    SageMakerThrottled,
    translate,
)
from tunestack_runtime.tags import execution_tags, tag_safe


def error(code: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "CreateTrainingJob")


#: SageMaker's messages, as users have reported them (aws/amazon-sagemaker-examples#307 and #1543,
#: aws/sagemaker-python-sdk#35).
ZERO = (
    "The account-level service limit 'ml.p3.2xlarge for training job usage' is 0 Instances, with current "
    "utilization of 0 Instances and a request delta of 1 Instances. Please contact AWS support to request an "
    "increase for this limit."
)
IN_USE = (
    "The account-level service limit 'ml.p3.8xlarge for training job usage' is 2 Instances, with current "
    "utilization of 2 Instances and a request delta of 1 Instances. Please contact AWS support to request an "
    "increase for this limit."
)
OLD_FORM = (
    "The account-level service limit for training-job/ml.p2.xlarge is 0 Instances, with current utilization of "
    "0 Instances and a request delta of 2 Instances. Please contact AWS support to request an increase for this limit."
)
TOO_BIG = (
    "The account-level service limit 'Number of instances across all training jobs' is 4 Instances, with current "
    "utilization of 0 Instances and a request delta of 11 Instances. Please contact AWS support."
)


@pytest.mark.parametrize("message", [ZERO, OLD_FORM, TOO_BIG])
def test_a_quota_that_can_never_fit_fails_at_once_naming_it(message: str) -> None:
    translated = translate(error("ResourceLimitExceeded", message))
    assert isinstance(translated, ResourceLimitExceeded)
    assert "can never run until the quota is raised" in str(translated) and "Service Quotas" in str(translated)


def test_a_quota_in_use_is_retried() -> None:
    translated = translate(error("ResourceLimitExceeded", IN_USE))
    assert isinstance(translated, SageMakerQuotaInUse)
    assert "'ml.p3.8xlarge for training job usage' is 2 Instances, 2 in use" in str(translated)


def test_an_unfamiliar_quota_message_is_retried_as_in_use() -> None:
    assert isinstance(translate(error("ResourceLimitExceeded", "something new")), SageMakerQuotaInUse)


def test_throttling_is_retried_and_other_errors_stay_as_they_are() -> None:
    assert isinstance(translate(error("ThrottlingException", "Rate exceeded")), SageMakerThrottled)
    original = error("ValidationException", "bad")
    assert translate(original) is original


def test_execution_tags_are_tag_safe_whatever_the_execution_name() -> None:
    execution = Execution("arn:aws:states:eu-west-1:1:execution:fine-tune:retrain(v2)!_ünïcode'", "t")
    tags = {t["Key"]: t["Value"] for t in execution_tags(execution, "fine-tune")}
    assert tags["tunestack:execution"] == "arn:aws:states:eu-west-1:1:execution:fine-tune:retrain_v2___ünïcode_"
    assert tags["tunestack:launch"] == execution.launch_key and tags["tunestack:pipeline"] == "fine-tune"
    assert tag_safe("a" * 300) == "a" * 256


def test_a_run_is_known_by_its_arn_and_start_time() -> None:
    first = Execution("arn:aws:states:eu-west-1:1:execution:tune:nightly", "2026-01-05T09:00:00.000Z")
    again = Execution(first.arn, "2026-04-06T09:00:00.000Z")  # the name used again after 90 days
    assert first.launch_key == Execution(first.arn, first.start_time).launch_key != again.launch_key


def test_nested_deploy_names_tell_pipelines_and_runs_apart() -> None:
    fine_tune = Execution("arn:aws:states:eu-west-1:1:execution:tunestack-vision-fine-tune:nightly", "t")
    tune = Execution("arn:aws:states:eu-west-1:1:execution:tunestack-vision-tune:nightly", "t")
    assert fine_tune.nested_name("fine-tune").startswith("fine-tune-nightly-")
    assert len({fine_tune.nested_name("fine-tune"), tune.nested_name("tune")}) == 2
    longest = Execution("arn:aws:states:eu-west-1:1:execution:m:" + "n" * 80, "t").nested_name("fine-tune")
    assert len(longest) == 80 and longest.startswith("fine-tune-nnn")


def test_an_input_over_the_documented_size_is_refused_naming_the_size() -> None:
    check_input_size({"x": "y" * (MAX_INPUT_BYTES - 20)})
    with pytest.raises(InvalidInput, match=r"^\$: the input is 131,\d{3} bytes of JSON, over the 65,536 bytes"):
        check_input_size({"HyperParameters": {"notes": "y" * 128 * 1024}})
