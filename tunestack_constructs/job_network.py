"""The network SageMaker jobs of one team run in."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from tunestack.config import ImportedVpc
from tunestack_constructs.compliance import INLINE_POLICY_FOR_ONE_ROLE, acknowledge


class JobNetwork(Construct):
    """Private isolated subnets and a security group for training jobs and endpoints.

    With ``imported`` left out a VPC is created: two availability zones of isolated subnets (no
    route to the internet), an S3 gateway endpoint (all the training path needs: SageMaker pulls
    images on the service side) and flow logs to a log group encrypted with ``encryption_key``.
    With ``imported`` the given VPC and subnets are used as they are, without any synth-time
    look-up; their owner provides the S3 gateway endpoint and flow logs.

    The security group admits traffic only from itself (distributed training between the
    instances of one job) and lets jobs out only to itself and to HTTPS, which in isolated
    subnets reaches nothing but the VPC's endpoints.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        encryption_key: kms.IKey,
        imported: ImportedVpc | None = None,
        flow_log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, construct_id)
        self.flow_log_group: logs.LogGroup | None = None
        if imported is None:
            self.flow_log_group = logs.LogGroup(
                self,
                "FlowLogs",
                encryption_key=encryption_key,
                retention=flow_log_retention,
                removal_policy=removal_policy,
            )
            self.vpc: ec2.IVpc = ec2.Vpc(
                self,
                "Vpc",
                ip_addresses=ec2.IpAddresses.cidr("10.40.0.0/16"),
                max_azs=2,
                nat_gateways=0,
                create_internet_gateway=False,
                subnet_configuration=[
                    ec2.SubnetConfiguration(name="Jobs", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=20)
                ],
                gateway_endpoints={"S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)},
                flow_logs={
                    "All": ec2.FlowLogOptions(
                        destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_log_group),
                        traffic_type=ec2.FlowLogTrafficType.ALL,
                    )
                },
            )
            flow_log_role = self.vpc.node.find_child("All").node.find_child("IAMRole")
            acknowledge(flow_log_role, "NIST.800.53.R5-IAMNoInlinePolicy", INLINE_POLICY_FOR_ONE_ROLE)
        else:
            self.vpc = ec2.Vpc.from_vpc_attributes(
                self,
                "Vpc",
                vpc_id=imported.vpc_id,
                availability_zones=list(imported.availability_zones),
                isolated_subnet_ids=list(imported.subnet_ids),
            )
            for subnet in self.vpc.isolated_subnets:
                acknowledge(
                    subnet,
                    "Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId",
                    "No route table of an imported subnet is read: the VPC's owner manages its routes.",
                )
        self.subnets = self.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        self.security_group = ec2.SecurityGroup(
            self,
            "JobSecurityGroup",
            vpc=self.vpc,
            description="SageMaker jobs: traffic only within this group, HTTPS to VPC endpoints",
            allow_all_outbound=False,
        )
        self.security_group.add_ingress_rule(
            self.security_group, ec2.Port.all_traffic(), "Between instances of one distributed job"
        )
        for child in self.security_group.node.children:
            if isinstance(child, ec2.CfnSecurityGroupIngress):
                acknowledge(
                    child,
                    "NIST.800.53.R5-EC2RestrictedCommonPorts",
                    "The only source is this security group itself: instances of one distributed training "
                    "job exchange gradients on ports the framework picks; nothing outside the group gets in.",
                )
        self.security_group.add_egress_rule(
            self.security_group, ec2.Port.all_traffic(), "Between instances of one distributed job"
        )
        self.security_group.add_egress_rule(
            ec2.Peer.any_ipv4(),
            ec2.Port.tcp(443),
            "HTTPS; isolated subnets only reach the VPC's endpoints",
        )

    @property
    def subnet_ids(self) -> list[str]:
        return list(self.subnets.subnet_ids)

    @property
    def vpc_arn(self) -> str:
        return cdk.Stack.of(self).format_arn(service="ec2", resource="vpc", resource_name=self.vpc.vpc_id)
