"""Console links a person can click in an execution's output, built once from an ARN (which names
the partition and the region) and a resource's name or S3 URI.

Every pipeline's output carries them under ``LINKS_FIELD``; the ``tunestack`` command prints the
execution's link from the same function.

Where each format comes from (public sources we did not write; the console's routes are not an
API, so the tests pin them):

- Console domain per partition (aws: console.aws.amazon.com, aws-cn: console.amazonaws.cn,
  aws-us-gov: console.amazonaws-us-gov.com): Apache Airflow's Amazon provider,
  ``providers/amazon/src/airflow/providers/amazon/aws/links/base_aws.py``
  (``BaseAwsLink.get_aws_domain``); link2aws/link2aws.github.io, ``link2aws.js`` (``get console()``).
- Step Functions execution, ``https://{region}.{domain}/states/home?region={region}
  #/v2/executions/details/{quote_plus(arn)}``: Airflow, ``links/step_function.py``
  (``StateMachineExecutionsDetailsLink`` passes the ARN through ``quote_plus``); link2aws's
  ``states``/``execution`` entry and its ``testcases/aws.json``.
- SageMaker training job, ``https://{region}.{domain}/sagemaker/home?region={region}#/jobs/{name}``:
  flyteorg/flyteplugins, ``go/tasks/plugins/k8s/sagemaker/utils.go`` (``createTaskInfo``) with
  ``jobTypeInURL = "jobs"`` (``builtin_training.go``, ``custom_training.go``);
  MacHu-GWU/aws_console_url, ``aws_console_url/srv/sagemaker.py`` (``#/jobs``).
- SageMaker tuning job, ``...#/hyper-tuning-jobs/{name}``: flyteplugins,
  ``hyperparameter_tuning.go`` (``jobTypeInURL = "hyper-tuning-jobs"``).
- SageMaker endpoint, ``...#/endpoints/{name}``: aws_console_url, ``srv/sagemaker.py``
  (``#/endpoints``, the list whose detail route this is); Airflow's ``links/sagemaker.py`` has the
  same ``/sagemaker/home?region=...#/<kind>/<name>`` shape (transform jobs).
- S3 object, ``https://{region}.{domain}/s3/object/{bucket}?region={region}&prefix={key}``:
  aws_console_url, ``srv/s3.py`` (``S3.get_console_url``: ``{service_root}/object/{bucket}
  ?region=...&prefix=...``).

ARN layout (``arn:partition:service:region:account:resource``): AWS General Reference, "Amazon
Resource Names (ARNs)".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus

#: The output field that holds an execution's links, in every pipeline.
LINKS_FIELD = "Links"

#: Console domain per partition (see the table above). Partitions not listed (the isolated ones)
#: have no public console: no links are built for them.
CONSOLE_DOMAINS = {
    "aws": "console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}


class NoConsoleLink(ValueError):
    """What was given cannot be turned into a console link (not an ARN or S3 URI, or a partition
    without a public console)."""


@dataclass(frozen=True)
class Place:
    """The partition and region a link points into: the console's domain and its region."""

    partition: str
    region: str

    @classmethod
    def of(cls, arn: str) -> Place:
        """From any regional ARN (``arn:partition:service:region:account:resource``)."""
        parts = str(arn).split(":", 5)
        if len(parts) < 6 or parts[0] != "arn" or not parts[3]:
            raise NoConsoleLink(f"not a regional ARN: {arn!r}")
        place = cls(partition=parts[1], region=parts[3])
        place.domain  # noqa: B018 (refuse a partition without a console here, not at the first link)
        return place

    @property
    def domain(self) -> str:
        try:
            return CONSOLE_DOMAINS[self.partition]
        except KeyError:
            raise NoConsoleLink(f"no public AWS console for the partition {self.partition!r}") from None

    def _home(self, service: str) -> str:
        return f"https://{self.region}.{self.domain}/{service}/home?region={self.region}"

    def execution(self, execution_arn: str) -> str:
        return f"{self._home('states')}#/v2/executions/details/{quote_plus(execution_arn)}"

    def training_job(self, name: str | None) -> str:
        return f"{self._home('sagemaker')}#/jobs/{_name(name)}"

    def tuning_job(self, name: str | None) -> str:
        return f"{self._home('sagemaker')}#/hyper-tuning-jobs/{_name(name)}"

    def endpoint(self, name: str | None) -> str:
        return f"{self._home('sagemaker')}#/endpoints/{_name(name)}"

    def s3_object(self, uri: str | None) -> str:
        """``s3://bucket/key`` -> the object's page (the key's ``/`` kept, anything else quoted)."""
        if not isinstance(uri, str) or not uri.startswith("s3://") or "/" not in uri[5:]:
            raise NoConsoleLink(f"not an S3 object URI: {uri!r}")
        bucket, key = uri[5:].split("/", 1)
        if not bucket or not key:
            raise NoConsoleLink(f"not an S3 object URI: {uri!r}")
        return (
            f"https://{self.region}.{self.domain}/s3/object/{bucket}?region={self.region}&prefix={quote(key, safe='/')}"
        )


def _name(name: str | None) -> str:
    """A SageMaker name (letters, digits, hyphens) as it goes after the console's ``#/<kind>/``."""
    if not isinstance(name, str) or not name:
        raise NoConsoleLink(f"no name to link to: {name!r}")
    return quote(name, safe="")


def execution(execution_arn: str) -> str:
    """The Step Functions console page of one execution."""
    return Place.of(execution_arn).execution(execution_arn)


def resource_name(arn: str) -> str:
    """The name of a SageMaker resource from its ARN (``...:training-job/<name>``)."""
    return str(arn).split(":", 5)[-1].split("/", 1)[-1]


def links(**built: Callable[[], str]) -> dict[str, str]:
    """``{name: url}`` for each builder that can make its link; one that cannot (no ARN, a
    partition without a console) is left out, so a missing link never fails an execution."""
    found = {}
    for name, build in built.items():
        try:
            found[name] = build()
        except (NoConsoleLink, KeyError):
            continue
    return found


def merged(output: Mapping[str, Any], more: Mapping[str, str]) -> dict[str, str]:
    """The links ``output`` already holds, with ``more`` added."""
    return {**dict(output.get(LINKS_FIELD) or {}), **more}
