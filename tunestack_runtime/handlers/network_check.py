"""CloudFormation custom resource: fail the deployment when a job subnet of an imported VPC has a
route out of the VPC (``tunestack_runtime.routes``). Runs only while CloudFormation deploys."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import boto3

from tunestack_runtime.routes import routes_out


def handler(event: dict[str, Any], context: Any) -> None:
    status, reason = "SUCCESS", "no route out of the VPC"
    try:
        if event["RequestType"] != "Delete":
            properties = event["ResourceProperties"]
            pages = (
                boto3.client("ec2")
                .get_paginator("describe_route_tables")
                .paginate(Filters=[{"Name": "vpc-id", "Values": [properties["VpcId"]]}])
            )
            tables = [t for page in pages for t in page["RouteTables"]]
            found = routes_out(tables, properties["SubnetIds"])
            if found:
                status = "FAILED"
                reason = "job subnets must have no route out of the VPC: " + "; ".join(found)
    except Exception as error:  # report any failure to CloudFormation rather than hang it
        status, reason = "FAILED", f"{type(error).__name__}: {error}"
    _respond(event, context, status, reason[:1000])


def _respond(event: dict[str, Any], context: Any, status: str, reason: str) -> None:
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason,
            "PhysicalResourceId": event.get("PhysicalResourceId") or f"route-check-{event['LogicalResourceId']}",
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
        }
    ).encode()
    request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": ""})
    with urllib.request.urlopen(request, timeout=30):
        pass
