"""The contract between tunestack's constructs, its Lambda handlers and its simulator, written once.

What the constructs deploy and the handlers read must agree: the kinds of SageMaker resource a
pipeline waits on (their state-change events, status fields, ARN resource types, IAM actions and
handler modules), the tags tunestack sets, the environment variables of every function, the team
policy handed to the Lambdas, and the plan the first state hands to the launch. This module ships
in the Lambda asset, so the handlers read it at run time; the constructs and the simulator import
it from here. It imports nothing of tunestack's but the domain errors.

External facts and their sources:
- Event detail-types: "Amazon SageMaker AI events", Amazon EventBridge Events Reference
  (https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-sagemaker.html), which lists
  "SageMaker Training Job State Change", "SageMaker HyperParameter Tuning Job State Change" and
  "SageMaker Endpoint State Change"; Step Functions' "Step Functions Execution Status Change"
  ("Step Functions events", https://docs.aws.amazon.com/step-functions/latest/dg/cw-events.html).
- Status fields and their values: botocore's SageMaker service model
  (``botocore/data/sagemaker/2017-07-24/service-2.json``: DescribeTrainingJobResponse.TrainingJobStatus,
  DescribeHyperParameterTuningJobResponse.HyperParameterTuningJobStatus,
  DescribeEndpointOutput.EndpointStatus and their enums); tests/test_contract.py checks them.
  Endpoint events spell the status in capitals ("IN_SERVICE"), as the endpoint example of "Events
  that Amazon SageMaker AI sends to Amazon EventBridge" shows
  (https://docs.aws.amazon.com/sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html).
- ARN resource types and actions: "Actions, resources, and condition keys for Amazon SageMaker",
  Service Authorization Reference
  (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html):
  training-job, hyper-parameter-tuning-job, endpoint; the operations are botocore's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tunestack_runtime.errors import PolicyViolation

# ---------------------------------------------------------------------------------------------
# Tags tunestack sets on what it creates. IAM conditions read the team tag, the EventBridge rules
# the team and pipeline tags, adoption the launch tag.

#: The team a SageMaker resource (or the deploying role) belongs to.
TEAM_TAG = "tunestack:team"
#: The execution's ARN, for people (made tag-safe: ``tags.tag_safe``).
EXECUTION_TAG = "tunestack:execution"
#: The execution's launch key (``Execution.launch_key``): what adoption compares.
LAUNCH_TAG = "tunestack:launch"
#: "fine-tune", "tune" or "deploy": which pipeline waits on the resource. A tuning job's tags reach
#: every training job it launches, so this is what tells a fine-tune's job from a trial.
PIPELINE_TAG = "tunestack:pipeline"
#: ``model-id@version`` of a JumpStart model, or the algorithm a job trained.
MODEL_TAG = "tunestack:model"
#: A custom training image's serving image, for a later deploy of the model.
INFERENCE_IMAGE_TAG = "tunestack:inference-image"
#: Set when an input accepted a gated JumpStart model's EULA (``AcceptEula: true``).
EULA_TAG = "tunestack:eula-accepted"
#: Carried (value: the team) by the one role that writes the team's deployed model copies; the
#: data bucket's policy denies every other principal writes under ``deployed/``.
DEPLOYER_TAG = "tunestack:deploys-models"

# ---------------------------------------------------------------------------------------------
# Environment of every pipeline function.

#: The team policy as JSON (``TeamPolicy.to_document``).
POLICY_ENV = "TUNESTACK_TEAM"
#: The DynamoDB table of task tokens.
TOKEN_TABLE_ENV = "TOKEN_TABLE"
#: The deploy state machine an approved model package version starts (the approval function only).
DEPLOY_STATE_MACHINE_ENV = "DEPLOY_STATE_MACHINE_ARN"
#: Powertools' service name variable, and the service name tunestack logs under.
SERVICE_NAME_ENV = "POWERTOOLS_SERVICE_NAME"
SERVICE_NAME = "tunestack"

# ---------------------------------------------------------------------------------------------
# Pipelines and events.

#: A SageMaker resource name: training job, endpoint, model package group (the pattern and
#: the 63-character maximum of ``TrainingJobName``, ``EndpointName`` and ``EntityName`` in
#: botocore's SageMaker service model; ``tests/test_contract.py`` holds them to it).
SAGEMAKER_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")

FINE_TUNE = "fine-tune"
TUNE = "tune"
DEPLOY = "deploy"
PIPELINES = (FINE_TUNE, TUNE, DEPLOY)

SAGEMAKER_EVENT_SOURCE = "aws.sagemaker"
STATES_EVENT_SOURCE = "aws.states"
EXECUTION_STATUS_CHANGE = "Step Functions Execution Status Change"
#: EventBridge's detail-type of a model package version's state change (SageMaker Developer Guide,
#: "Events that Amazon SageMaker AI sends to Amazon EventBridge": model package state change).
MODEL_PACKAGE_STATE_CHANGE = "SageMaker Model Package State Change"
#: The execution statuses that end a run without success: what it launched is stopped.
EXECUTION_ENDED_WITHOUT_SUCCESS = ("FAILED", "ABORTED", "TIMED_OUT")

#: The module of each pipeline's handlers, and the one every pipeline shares.
HANDLERS_PACKAGE = "tunestack_runtime.handlers"
SHARED_HANDLERS = f"{HANDLERS_PACKAGE}.shared"
#: The model registry's handlers (register a version; deploy an approved one).
REGISTRY_HANDLERS = f"{HANDLERS_PACKAGE}.registry"


@dataclass(frozen=True, kw_only=True)
class JobKindSpec:
    """One kind of SageMaker resource a pipeline launches and waits on: its names in the API, in
    events, in ARNs, in IAM and in the plan. The run-time behaviour (create, describe, outcome)
    lives in ``tunestack_runtime.job_lifecycle.JobKind``, which is built on one of these."""

    #: How the token store records it (``JobType``), and how the simulator tells kinds apart.
    job_type: str
    #: As a person says it: "training job".
    noun: str
    #: The pipeline that launches it; also its ``tunestack:pipeline`` tag value.
    pipeline: str
    name_field: str
    arn_field: str
    #: The status field of its Describe response and of its state-change event's detail.
    status_field: str
    #: The detail-type of its EventBridge state change.
    event_detail_type: str
    #: The statuses its state-change rule delivers, as events spell them.
    event_statuses: tuple[str, ...]
    #: Event spelling -> API spelling, where they differ.
    event_spellings: Mapping[str, str] = field(default_factory=dict, hash=False)
    #: The resource type of its ARN (``arn:<partition>:sagemaker:<region>:<account>:<type>/<name>``).
    arn_resource_type: str
    #: SageMaker operations (IAM action names without ``sagemaker:``).
    create_operation: str
    describe_operation: str
    stop_operation: str | None
    #: The module of the handlers (validate, launch, on_state_change, reconcile) of its pipeline.
    handler_module: str
    #: The key of the launch plan holding the request the launch sends.
    request_field: str
    #: The key under which the reconcile step receives the resource's name.
    reconcile_field: str
    #: The key of the launch plan holding a nested deploy's target, if the pipeline deploys.
    deploy_field: str | None
    #: The input field a name conflict is reported on.
    input_field: str

    @property
    def terminal(self) -> frozenset[str]:
        """The statuses (API spelling) that end the wait."""
        return frozenset(self.event_spellings.get(s, s) for s in self.event_statuses)

    def api_status(self, event_status: str) -> str:
        return self.event_spellings.get(event_status, event_status)

    def event_status(self, api_status: str) -> str:
        """How an event spells an API status."""
        spelled = {api: event for event, api in self.event_spellings.items()}
        return spelled.get(api_status, api_status)

    def handler(self, function: str) -> str:
        """The Lambda handler path of one function of this kind's pipeline."""
        return f"{self.handler_module}.{function}"

    @property
    def describe_actions(self) -> tuple[str, ...]:
        """What completion and reconcile call: describe, and list the tags adoption reads."""
        return (f"sagemaker:{self.describe_operation}", "sagemaker:ListTags")

    @property
    def stop_actions(self) -> tuple[str, ...]:
        return (f"sagemaker:{self.stop_operation}",) if self.stop_operation else ()


def _sagemaker_resource(resource: str, *, stops: bool, **facts: Any) -> JobKindSpec:
    """A kind whose API names follow SageMaker's pattern for ``resource``: ``<resource>Name``,
    ``<resource>Arn``, ``<resource>Status``, ``Create<resource>``, ``Describe<resource>``,
    ``Stop<resource>`` (tests/test_contract.py holds each to botocore's model)."""
    return JobKindSpec(
        job_type=resource,
        name_field=f"{resource}Name",
        arn_field=f"{resource}Arn",
        status_field=f"{resource}Status",
        create_operation=f"Create{resource}",
        describe_operation=f"Describe{resource}",
        stop_operation=f"Stop{resource}" if stops else None,
        **facts,
    )


_TERMINAL_JOB = ("Completed", "Failed", "Stopped")

TRAINING_JOB = _sagemaker_resource(
    "TrainingJob",
    stops=True,
    noun="training job",
    pipeline=FINE_TUNE,
    event_detail_type="SageMaker Training Job State Change",
    event_statuses=_TERMINAL_JOB,
    arn_resource_type="training-job",
    handler_module=f"{HANDLERS_PACKAGE}.fine_tune",
    request_field="CreateTrainingJob",
    reconcile_field="TrainingJobName",
    deploy_field="Deploy",
    input_field="$.ModelName",
)

TUNING_JOB = _sagemaker_resource(
    "HyperParameterTuningJob",
    stops=True,
    noun="tuning job",
    pipeline=TUNE,
    event_detail_type="SageMaker HyperParameter Tuning Job State Change",
    event_statuses=_TERMINAL_JOB,
    arn_resource_type="hyper-parameter-tuning-job",
    handler_module=f"{HANDLERS_PACKAGE}.tune",
    request_field="CreateHyperParameterTuningJob",
    reconcile_field="TuningJobName",
    deploy_field="DeployBest",
    input_field="$.TuningJobName",
)

ENDPOINT = _sagemaker_resource(
    "Endpoint",
    # A deployment cannot be stopped half-way; SageMaker finishes or rolls back.
    stops=False,
    noun="endpoint",
    pipeline=DEPLOY,
    event_detail_type="SageMaker Endpoint State Change",
    # Events spell endpoint states in capitals; both spellings are matched, and the handler
    # describes the endpoint either way.
    event_statuses=("IN_SERVICE", "FAILED", "InService", "Failed"),
    event_spellings={"IN_SERVICE": "InService", "FAILED": "Failed"},
    arn_resource_type="endpoint",
    handler_module=f"{HANDLERS_PACKAGE}.deploy",
    request_field="Endpoint",
    reconcile_field="EndpointName",
    deploy_field=None,
    input_field="$.EndpointName",
)

JOB_KINDS = {kind.job_type: kind for kind in (TRAINING_JOB, TUNING_JOB, ENDPOINT)}


# ---------------------------------------------------------------------------------------------
# The team's model registry settings (part of the team policy).

#: What a new version may start as. ``Rejected`` is a reviewer's verdict, not a start
#: (ModelApprovalStatus, botocore's SageMaker service model).
REGISTER_APPROVAL_STATUSES = ("PendingManualApproval", "Approved")
DEFAULT_APPROVAL_STATUS = "PendingManualApproval"


@dataclass(frozen=True, kw_only=True)
class AutoDeploy:
    """Approving a version of ``group`` deploys it onto ``endpoint_name`` (a deploy execution:
    created, or updated in place blue/green). ``instance_type`` left out: the team's default
    hosting type."""

    group: str
    endpoint_name: str
    instance_type: str | None = None
    initial_instance_count: int = 1

    def to_document(self) -> dict[str, Any]:
        return {
            "modelPackageGroup": self.group,
            "endpointName": self.endpoint_name,
            **({"instanceType": self.instance_type} if self.instance_type else {}),
            "initialInstanceCount": self.initial_instance_count,
        }


@dataclass(frozen=True, kw_only=True)
class RegistrySettings:
    """The team's model registry settings, the ``modelRegistry`` object of the policy document.

    ``default_group`` left out: a ``Register`` input must name its ModelPackageGroupName.
    ``default_approval_status`` left out: PendingManualApproval (a person approves each version).
    ``auto_deploy`` left out: approving a version deploys nothing."""

    default_group: str | None = None
    default_approval_status: str = DEFAULT_APPROVAL_STATUS
    auto_deploy: tuple[AutoDeploy, ...] = field(default_factory=tuple)

    def to_document(self) -> dict[str, Any]:
        return {
            **({"defaultModelPackageGroup": self.default_group} if self.default_group else {}),
            "defaultApprovalStatus": self.default_approval_status,
            "autoDeploy": [rule.to_document() for rule in self.auto_deploy],
        }

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any] | None) -> RegistrySettings:
        raw = raw or {}
        return cls(
            default_group=raw.get("defaultModelPackageGroup"),
            default_approval_status=raw.get("defaultApprovalStatus", DEFAULT_APPROVAL_STATUS),
            auto_deploy=tuple(
                AutoDeploy(
                    group=rule["modelPackageGroup"],
                    endpoint_name=rule["endpointName"],
                    instance_type=rule.get("instanceType"),
                    initial_instance_count=int(rule.get("initialInstanceCount", 1)),
                )
                for rule in raw.get("autoDeploy", ())
            ),
        )

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> RegistrySettings:
        """Read per call, like ``TeamPolicy``: the ``modelRegistry`` object of the team's policy."""
        return cls.from_mapping(json.loads(environ[POLICY_ENV]).get("modelRegistry"))


# ---------------------------------------------------------------------------------------------
# The team policy.


@dataclass(frozen=True, kw_only=True)
class TeamPolicy:
    """The team's limits, and the platform settings every job it launches must use.

    Written by the pipelines stack (``to_document``, through ``Stack.to_json_string`` so deploy-time
    values such as the key ARN may be CDK tokens) and read per call by the handlers
    (``from_environment``). A list known only at deploy time (an imported, comma-joined list of
    subnets) may be given as one comma-joined element: the document holds lists comma-joined.
    """

    team: str
    bucket: str
    region: str
    training_instance_types: tuple[str, ...]
    hosting_instance_types: tuple[str, ...]
    default_training_instance_type: str
    default_hosting_instance_type: str
    max_instance_count: int
    max_runtime_in_seconds: int
    max_training_jobs_per_tuning_job: int = 1
    max_parallel_training_jobs: int = 1
    role_arn: str = ""
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    key_arn: str = ""
    #: "required": every job and model runs network-isolated (IAM refuses the rest too);
    #: "algorithm": as each algorithm allows.
    network_isolation: str = "required"
    #: The team's model registry settings (``modelRegistry`` in the document).
    model_registry: RegistrySettings = field(default_factory=RegistrySettings)

    def require_isolation(self, isolated: bool, field: str, what: str) -> None:
        """Refuse a job or model that would run without network isolation where the team requires it."""
        if not isolated and self.network_isolation == "required":
            raise PolicyViolation(
                f"{field}: {what} runs without network isolation, which team {self.team} requires "
                "(cdk.json networkIsolation: required)"
            )

    def to_document(self) -> dict[str, Any]:
        """The JSON document of ``POLICY_ENV``."""
        return {
            "team": self.team,
            "bucket": self.bucket,
            "region": self.region,
            "trainingInstanceTypes": list(self.training_instance_types),
            "hostingInstanceTypes": list(self.hosting_instance_types),
            "defaultTrainingInstanceType": self.default_training_instance_type,
            "defaultHostingInstanceType": self.default_hosting_instance_type,
            "maxInstanceCount": self.max_instance_count,
            "maxRuntimeInSeconds": self.max_runtime_in_seconds,
            "maxTrainingJobsPerTuningJob": self.max_training_jobs_per_tuning_job,
            "maxParallelTrainingJobs": self.max_parallel_training_jobs,
            "roleArn": self.role_arn,
            "subnetIds": ",".join(self.subnet_ids),
            "securityGroupIds": ",".join(self.security_group_ids),
            "keyArn": self.key_arn,
            "networkIsolation": self.network_isolation,
            "modelRegistry": self.model_registry.to_document(),
        }

    @classmethod
    def from_document(cls, raw: Mapping[str, Any]) -> TeamPolicy:
        return cls(
            team=raw["team"],
            bucket=raw["bucket"],
            region=raw["region"],
            training_instance_types=tuple(raw["trainingInstanceTypes"]),
            hosting_instance_types=tuple(raw["hostingInstanceTypes"]),
            default_training_instance_type=raw["defaultTrainingInstanceType"],
            default_hosting_instance_type=raw["defaultHostingInstanceType"],
            max_instance_count=int(raw["maxInstanceCount"]),
            max_runtime_in_seconds=int(raw["maxRuntimeInSeconds"]),
            max_training_jobs_per_tuning_job=int(raw.get("maxTrainingJobsPerTuningJob", 1)),
            max_parallel_training_jobs=int(raw.get("maxParallelTrainingJobs", 1)),
            role_arn=raw.get("roleArn", ""),
            subnet_ids=_as_tuple(raw.get("subnetIds", ())),
            security_group_ids=_as_tuple(raw.get("securityGroupIds", ())),
            key_arn=raw.get("keyArn", ""),
            network_isolation=raw.get("networkIsolation", "required"),
            model_registry=RegistrySettings.from_mapping(raw.get("modelRegistry")),
        )

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> TeamPolicy:
        """Read per call (never at import), so a test or a redeploy changes it without a reload."""
        return cls.from_document(json.loads(environ[POLICY_ENV]))


def _as_tuple(value: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Lists arrive comma-joined (SSM parameters, imported values)."""
    if isinstance(value, str):
        return tuple(v for v in value.split(",") if v)
    return tuple(value)


# ---------------------------------------------------------------------------------------------
# The launch plan: what the first state returns and the state machine keeps at ``$.Launch``.

#: Where the state machine keeps the plan: the first state's result replaces the state as ``{"Launch": plan}``.
PLAN_STATE_FIELD = "Launch"
PLAN_TIMEOUT_FIELD = "TaskTimeoutSeconds"
PLAN_EXTRAS_FIELD = "OutputExtras"
PLAN_DATASET_FIELD = "Dataset"
#: The registration after the job (group, approval status, what to register), when the input asks.
PLAN_REGISTER_FIELD = "Register"


@dataclass(frozen=True, kw_only=True)
class LaunchPlan:
    """What the validate state hands to the launch: the request (under ``kind.request_field``),
    how long the launch task waits, what the output adds to the job's own description, and, per
    pipeline, the dataset found, a nested deploy's target (under ``kind.deploy_field``) and the
    steps before the wait (deploy: model, endpoint config, alarms, the pinned artifact)."""

    kind: JobKindSpec
    request: Mapping[str, Any]
    task_timeout_seconds: int
    output_extras: Mapping[str, Any]
    dataset: Any = None
    deploy: Mapping[str, Any] | None = None
    preparation: Mapping[str, Any] = field(default_factory=dict)
    #: ``model_registry.register_plan`` and what to register; None: the input registers nothing.
    register: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.deploy is not None and self.kind.deploy_field is None:
            raise ValueError(f"deploy: the {self.kind.pipeline} pipeline has no nested deploy")
        if self.register is not None and self.kind.deploy_field is None:
            raise ValueError(f"register: the {self.kind.pipeline} pipeline registers no model")
        reserved = {
            self.kind.request_field,
            PLAN_TIMEOUT_FIELD,
            PLAN_EXTRAS_FIELD,
            PLAN_DATASET_FIELD,
            PLAN_REGISTER_FIELD,
        }
        clash = sorted(reserved & set(self.preparation))
        if clash:
            raise ValueError(f"preparation: holds the plan's own fields {clash}")

    def to_dict(self) -> dict[str, Any]:
        plan: dict[str, Any] = {
            **self.preparation,
            self.kind.request_field: dict(self.request),
            PLAN_TIMEOUT_FIELD: self.task_timeout_seconds,
            PLAN_EXTRAS_FIELD: dict(self.output_extras),
        }
        if self.dataset is not None:
            plan[PLAN_DATASET_FIELD] = self.dataset
        if self.deploy is not None and self.kind.deploy_field is not None:
            plan[self.kind.deploy_field] = dict(self.deploy)
        if self.register is not None:
            plan[PLAN_REGISTER_FIELD] = dict(self.register)
        return plan

    @classmethod
    def from_dict(cls, kind: JobKindSpec, plan: Mapping[str, Any]) -> LaunchPlan:
        own = {
            kind.request_field,
            PLAN_TIMEOUT_FIELD,
            PLAN_EXTRAS_FIELD,
            PLAN_DATASET_FIELD,
            PLAN_REGISTER_FIELD,
            kind.deploy_field,
        }
        return cls(
            kind=kind,
            request=plan[kind.request_field],
            task_timeout_seconds=int(plan[PLAN_TIMEOUT_FIELD]),
            output_extras=plan[PLAN_EXTRAS_FIELD],
            dataset=plan.get(PLAN_DATASET_FIELD),
            deploy=plan.get(kind.deploy_field) if kind.deploy_field else None,
            register=plan.get(PLAN_REGISTER_FIELD),
            preparation={k: v for k, v in plan.items() if k not in own},
        )


def plan_path(*keys: str) -> str:
    """The JSONPath of a plan field in the state (the plan lives at ``$.Launch``)."""
    return ".".join(("$", PLAN_STATE_FIELD, *keys))


def approval_event_pattern(groups: Sequence[str]) -> dict[str, Any]:
    """The EventBridge pattern of an approval of a version of one of ``groups`` (AWS's own samples
    filter ``detail.ModelPackageGroupName`` and ``detail.ModelApprovalStatus`` the same way)."""
    return {
        "source": [SAGEMAKER_EVENT_SOURCE],
        "detail-type": [MODEL_PACKAGE_STATE_CHANGE],
        "detail": {"ModelApprovalStatus": ["Approved"], "ModelPackageGroupName": sorted(groups)},
    }
