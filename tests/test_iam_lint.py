"""parliament, an IAM linter, over every policy of every template: no finding left unexplained."""

from __future__ import annotations

import json
from typing import Any

from parliament import analyze_policy_string

from tests.conftest import Synthesized
from tests.iam_documents import policy_documents

#: Findings that stand, each with its reason. Anything else fails the test.
EXPLAINED = {
    # CDK's grantTaskResponse and the Step Functions callback documentation scope these actions to
    # the state machine; parliament's action table lists them for activities ("*") only.
    ("RESOURCE_MISMATCH", "states:SendTaskSuccess"),
    ("RESOURCE_MISMATCH", "states:SendTaskFailure"),
    ("RESOURCE_MISMATCH", "states:SendTaskHeartbeat"),
    # CDK's .sync:2 start of the nested deploy grants on "execution:<deploy machine>*", which matches
    # that machine's executions; parliament expects the "<machine>:<execution>" form.
    ("RESOURCE_MISMATCH", "states:DescribeExecution"),
    # ListExecutions is authorized on the state machine or on a Map Run it names (stateMachine* and
    # mapRun* in the Service Authorization Reference); the data scientists list the executions of
    # the team's machines, which have no distributed Map, so only stateMachine ARNs are granted.
    ("RESOURCE_MISMATCH", "states:ListExecutions"),
    # Network interfaces of jobs are created before they have an ARN; the statement is held to the
    # team VPC by the ec2:Vpc condition (AwsSolutions-IAM5 acknowledges the same).
    ("RESOURCE_STAR", "ec2:CreateNetworkInterface"),
    ("RESOURCE_STAR", "ec2:CreateNetworkInterfacePermission"),
    ("RESOURCE_STAR", "ec2:DeleteNetworkInterface"),
    # CreateEndpoint is authorized on the new endpoint and on the config it names (endpoint* and
    # endpoint-config* in the Service Authorization Reference); each has its own statement with its
    # own condition (request tag, resource tag), and parliament wants both types in every statement.
    ("RESOURCE_MISMATCH", "sagemaker:CreateEndpoint"),
}


def findings(document: dict[str, Any]) -> list[tuple[str, str]]:
    """(issue, action) pairs; an issue about a whole statement is paired with each of its actions."""
    found = []
    for finding in analyze_policy_string(json.dumps(document)).findings:
        detail = finding.detail
        if isinstance(detail, list) and detail and isinstance(detail[0], dict):
            found += [(finding.issue, d["action"]) for d in detail]
        elif isinstance(detail, list):
            found += [(finding.issue, str(d)) for d in detail]
        else:
            found.append((finding.issue, str(detail)))
    return found


def test_every_policy_passes_the_linter_or_is_explained(synthesized: Synthesized) -> None:
    linted = 0
    unexplained = []
    for template, logical_id, document in policy_documents(synthesized.outdir):
        linted += 1
        unexplained += [(template, logical_id, f) for f in findings(document) if f not in EXPLAINED]
    assert linted >= 50  # every policy of the four stacks (53 at the time of writing)
    assert unexplained == []


def test_the_linter_would_catch_a_wildcard_sagemaker_grant() -> None:
    bad = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}]}
    assert {issue for issue, _ in findings(bad)} & {"RESOURCE_STAR", "PERMISSIONS_MANAGEMENT_ACTIONS"}
