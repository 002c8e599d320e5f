"""Routes out of a VPC, from route tables shaped as EC2 DescribeRouteTables returns them."""

from __future__ import annotations

from typing import Any

from tunestack_runtime.routes import routes_out

LOCAL = {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "Origin": "CreateRouteTable", "State": "active"}
S3_ENDPOINT = {
    "DestinationPrefixListId": "pl-6ca54005",
    "GatewayId": "vpce-0a1b2c3d",
    "Origin": "CreateRoute",
    "State": "active",
}


def table(
    table_id: str, routes: list[dict[str, Any]], subnets: tuple[str, ...] = (), main: bool = False
) -> dict[str, Any]:
    associations: list[dict[str, Any]] = [{"Main": False, "SubnetId": s, "RouteTableId": table_id} for s in subnets]
    if main:
        associations.append({"Main": True, "RouteTableId": table_id})
    return {"RouteTableId": table_id, "Associations": associations, "Routes": routes}


def test_local_and_gateway_endpoint_routes_stay_inside() -> None:
    tables = [table("rtb-1", [LOCAL, S3_ENDPOINT], ("subnet-1", "subnet-2"))]
    assert routes_out(tables, ["subnet-1", "subnet-2"]) == []


def test_a_nat_or_internet_gateway_route_is_named_with_its_subnet() -> None:
    nat = {"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-0abc", "State": "active"}
    igw = {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-0def", "State": "active"}
    tables = [table("rtb-1", [LOCAL, nat], ("subnet-1",)), table("rtb-2", [LOCAL, igw], ("subnet-2",))]
    assert routes_out(tables, ["subnet-1", "subnet-2"]) == [
        "subnet-1: 0.0.0.0/0 -> nat-0abc (rtb-1)",
        "subnet-2: 0.0.0.0/0 -> igw-0def (rtb-2)",
    ]


def test_a_subnet_without_its_own_table_uses_the_main_one() -> None:
    peering = {"DestinationCidrBlock": "172.31.0.0/16", "VpcPeeringConnectionId": "pcx-1", "State": "active"}
    tables = [table("rtb-main", [LOCAL, peering], main=True), table("rtb-1", [LOCAL], ("subnet-1",))]
    assert routes_out(tables, ["subnet-1", "subnet-2"]) == ["subnet-2: 172.31.0.0/16 -> pcx-1 (rtb-main)"]


def test_a_blackhole_route_leads_nowhere() -> None:
    gone = {"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-0gone", "State": "blackhole"}
    assert routes_out([table("rtb-1", [LOCAL, gone], ("subnet-1",))], ["subnet-1"]) == []


def test_the_deployment_check_fails_cloudformation_on_a_route_out(monkeypatch: Any) -> None:
    import json
    from contextlib import nullcontext

    import boto3
    from moto import mock_aws

    from tunestack_runtime.handlers import network_check

    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(
        network_check.urllib.request,
        "urlopen",
        lambda request, timeout: sent.append(json.loads(request.data)) or nullcontext(),
    )
    with mock_aws():
        ec2 = boto3.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
        event = {
            "RequestType": "Create",
            "ResourceProperties": {"VpcId": vpc, "SubnetIds": [subnet]},
            "ResponseURL": "https://example.invalid/response",
            "StackId": "stack",
            "RequestId": "request",
            "LogicalResourceId": "NoRouteOut",
        }
        network_check.handler(event, None)
        gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
        table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
        ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
        network_check.handler(event, None)
    assert [s["Status"] for s in sent] == ["SUCCESS", "FAILED"]
    assert f"{subnet}: 0.0.0.0/0 -> {gateway}" in sent[1]["Reason"]
