"""Whether the subnets jobs run in have a way out of the VPC, from EC2 DescribeRouteTables.

A subnet uses the route table explicitly associated with it, or else the VPC's main route table
(Amazon VPC User Guide, "Configure route tables"). Its ``local`` route and routes to gateway
endpoints (a prefix list to a ``vpce-`` target) stay inside AWS's network as the VPC's owner
configured it; every other target (internet, NAT, egress-only, virtual private or carrier
gateway, transit gateway, peering connection, instance, network interface, Cloud WAN) leads out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

_TARGETS_OUT = (
    "NatGatewayId",
    "TransitGatewayId",
    "VpcPeeringConnectionId",
    "EgressOnlyInternetGatewayId",
    "InstanceId",
    "NetworkInterfaceId",
    "CarrierGatewayId",
    "LocalGatewayId",
    "CoreNetworkArn",
)


def _route_out(route: Mapping[str, Any]) -> str | None:
    if route.get("State", "active") != "active":
        return None
    gateway = str(route.get("GatewayId", ""))
    if gateway.startswith(("igw-", "vgw-")):
        return gateway
    for field in _TARGETS_OUT:
        if route.get(field):
            return str(route[field])
    return None


def routes_out(route_tables: Iterable[Mapping[str, Any]], subnet_ids: Sequence[str]) -> list[str]:
    """One line per subnet route that leaves the VPC, e.g.
    ``subnet-1: 0.0.0.0/0 -> nat-0abc (rtb-1)``; empty when every subnet is isolated."""
    tables = list(route_tables)
    explicit = {a["SubnetId"]: t for t in tables for a in t.get("Associations", []) if a.get("SubnetId")}
    main = next((t for t in tables for a in t.get("Associations", []) if a.get("Main")), None)
    found = []
    for subnet in subnet_ids:
        table = explicit.get(subnet, main)
        if table is None:
            continue
        for route in table.get("Routes", []):
            target = _route_out(route)
            if target is not None:
                destination = (
                    route.get("DestinationCidrBlock")
                    or route.get("DestinationIpv6CidrBlock")
                    or route.get("DestinationPrefixListId")
                )
                found.append(f"{subnet}: {destination} -> {target} ({table['RouteTableId']})")
    return found
