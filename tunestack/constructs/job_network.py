"""The network SageMaker jobs of one team run in."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import custom_resources as cr
from constructs import Construct

from tunestack.constructs.compliance import INLINE_POLICY_FOR_ONE_ROLE, acknowledge, skip_checkov
from tunestack.constructs.lambda_code import lambda_code_directory
from tunestack.constructs.team_key import log_group_name


class JobNetwork(Construct):
    """Private isolated subnets and a security group for training jobs and endpoints.

    With ``vpc`` left out a VPC is created: two availability zones of isolated subnets (no
    route to the internet), an S3 gateway endpoint (all the training path needs: SageMaker pulls
    images on the service side) and flow logs to a log group encrypted with ``encryption_key``.
    The endpoint's policy admits only this account's principals to ``data_bucket``, reads of the
    region's JumpStart buckets and of ECR's image-layer bucket: nothing else in S3 is reachable.
    With ``vpc`` given, the VPC and its job subnets are used as they are, without any synth-time
    look-up; their owner provides the S3 gateway endpoint (and its policy) and flow logs, and a
    check at deployment fails the stack if any of the given subnets has a route out of the VPC
    (``tunestack_runtime.routes``). ``vpc_subnets`` picks the job subnets of a given VPC (default:
    its private isolated subnets).

    ``security_group`` given: jobs use it as it is (its rules are its owner's). Otherwise a group
    is created that admits traffic only from itself (distributed training between the
    instances of one job) and lets jobs out only to itself and, once ``restrict_egress_to_s3``
    has run, to HTTPS on the region's S3 prefix list: never to 0.0.0.0/0.
    """

    #: The job subnets of a given VPC unless ``vpc_subnets`` says otherwise.
    DEFAULT_SUBNETS = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        team_name: str,
        encryption_key: kms.IKey,
        data_bucket: s3.IBucket,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_group: ec2.ISecurityGroup | None = None,
        flow_log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, construct_id)
        self.flow_log_group: logs.LogGroup | None = None
        self.route_check: cdk.CustomResource | None = None
        if vpc is None:
            self.flow_log_group = logs.LogGroup(
                self,
                "FlowLogs",
                log_group_name=log_group_name(team_name, "vpc-flow-logs"),
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
            endpoint = self.vpc.node.find_child("S3")
            assert isinstance(endpoint, ec2.GatewayVpcEndpoint)
            self.s3_endpoint: ec2.GatewayVpcEndpoint | None = endpoint
            for statement in s3_endpoint_statements(self, data_bucket):
                endpoint.add_to_policy(statement)
            flow_log_role = self.vpc.node.find_child("All").node.find_child("IAMRole")
            acknowledge(flow_log_role, "NIST.800.53.R5-IAMNoInlinePolicy", INLINE_POLICY_FOR_ONE_ROLE)
            self.subnets = self.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        else:
            self.s3_endpoint = None
            self.vpc = vpc
            self.subnets = vpc.select_subnets(**_as_arguments(vpc_subnets or self.DEFAULT_SUBNETS))
            for subnet in self.subnets.subnets:
                acknowledge(
                    subnet,
                    "Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId",
                    "No route table is read at synth; the deployment-time route check reads them instead.",
                )
            self.route_check = self._check_routes(team_name, encryption_key, flow_log_retention)
        self.owns_security_group = security_group is None
        if security_group is not None:
            self.security_group: ec2.ISecurityGroup = security_group
            return
        created = ec2.SecurityGroup(
            self,
            "JobSecurityGroup",
            vpc=self.vpc,
            description="SageMaker jobs: traffic only within this group, HTTPS to VPC endpoints",
            allow_all_outbound=False,
        )
        self.security_group = created
        created.add_ingress_rule(created, ec2.Port.all_traffic(), "Between instances of one distributed job")
        for child in created.node.children:
            if isinstance(child, ec2.CfnSecurityGroupIngress):
                acknowledge(
                    child,
                    "NIST.800.53.R5-EC2RestrictedCommonPorts",
                    "The only source is this security group itself: instances of one distributed training "
                    "job exchange gradients on ports the framework picks; nothing outside the group gets in.",
                )
        created.add_egress_rule(created, ec2.Port.all_traffic(), "Between instances of one distributed job")

    def _check_routes(
        self, team_name: str, encryption_key: kms.IKey, retention: logs.RetentionDays
    ) -> cdk.CustomResource:
        """A custom resource that fails the deployment when a job subnet has a route out."""
        role = iam.Role(
            self,
            "RouteCheckRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Reads the imported VPC's route tables while CloudFormation deploys",
        )
        # EC2 Describe* actions have no resource-level permissions.
        role.add_to_policy(iam.PolicyStatement(actions=["ec2:DescribeRouteTables"], resources=["*"]))
        log_group = logs.LogGroup(
            self,
            "RouteCheckLogs",
            log_group_name=log_group_name(team_name, "vpc-route-check"),
            encryption_key=encryption_key,
            retention=retention,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        log_group.grant_write(role)
        function = lambda_.Function(
            self,
            "RouteCheck",
            runtime=lambda_.Runtime.PYTHON_3_13,
            code=lambda_.Code.from_asset(str(lambda_code_directory())),
            handler="tunestack_runtime.handlers.network_check.handler",
            role=role,
            timeout=cdk.Duration.minutes(2),
            memory_size=128,
            log_group=log_group,
            description="Fails the deployment when a job subnet has a route out of the VPC",
        )
        why = "Runs only while CloudFormation deploys the stack, invoked by CloudFormation alone"
        acknowledge(
            role, "AwsSolutions-IAM5[Resource::*]", "ec2:DescribeRouteTables has no resource-level permissions."
        )
        acknowledge(role, "NIST.800.53.R5-IAMNoInlinePolicy", INLINE_POLICY_FOR_ONE_ROLE)
        for rule, reason in {
            "AwsSolutions-L1": "Python 3.13, the runtime of every tunestack function (the Powertools layer's newest).",
            "Serverless-LambdaLatestVersion": "Python 3.13, the runtime of every tunestack function.",
            "NIST.800.53.R5-LambdaConcurrency": f"{why}, so concurrency cannot run away.",
            "NIST.800.53.R5-LambdaDLQ": f"{why}, which reports its failures; a DLQ would stay empty.",
            "Serverless-LambdaDLQ": f"{why}, which reports its failures; a DLQ would stay empty.",
            "NIST.800.53.R5-LambdaInsideVPC": f"{why}; it must reach the EC2 API and CloudFormation's S3 URL.",
            "Serverless-LambdaTracing": f"{why}; one DescribeRouteTables call needs no tracing.",
        }.items():
            acknowledge(function, rule, reason)
        for check, comment in {
            "CKV_AWS_115": f"{why}, so concurrency cannot run away.",
            "CKV_AWS_116": f"{why}, which reports its failures; a DLQ would stay empty.",
            "CKV_AWS_117": f"{why}; it must reach the EC2 API and CloudFormation's S3 URL.",
            "CKV_AWS_173": "Its only environment is the runtime's own; it holds no variables to encrypt.",
        }.items():
            skip_checkov(function, check, comment)
        return cdk.CustomResource(
            self,
            "NoRouteOut",
            service_token=function.function_arn,
            resource_type="Custom::TunestackRouteCheck",
            properties={"VpcId": self.vpc.vpc_id, "SubnetIds": self.subnet_ids},
        )

    def restrict_egress_to_s3(self) -> None:
        """Let jobs out on HTTPS to the region's S3 prefix list (through the gateway endpoint), the
        one way out a job needs. The prefix list's id differs by region and has no CloudFormation
        attribute: an SDK call at deployment reads it (DescribeManagedPrefixLists). Call this once
        the stack's other AwsCustomResource exists: CDK runs them all in one provider function.
        A security group that was given is left as it is."""
        if not self.owns_security_group:
            return
        region = cdk.Stack.of(self).region
        lookup = cr.AwsCustomResource(
            self,
            "S3PrefixList",
            on_update=cr.AwsSdkCall(
                service="EC2",
                action="describeManagedPrefixLists",
                parameters={"Filters": [{"Name": "prefix-list-name", "Values": [f"com.amazonaws.{region}.s3"]}]},
                physical_resource_id=cr.PhysicalResourceId.of(f"com.amazonaws.{region}.s3"),
                output_paths=["PrefixLists.0.PrefixListId"],
            ),
            install_latest_aws_sdk=False,
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [
                    # EC2 Describe* actions have no resource-level permissions.
                    iam.PolicyStatement(actions=["ec2:DescribeManagedPrefixLists"], resources=["*"])
                ]
            ),
        )
        self.s3_prefix_list_lookup = lookup
        policy = lookup.node.find_child("CustomResourcePolicy")
        acknowledge(policy, "NIST.800.53.R5-IAMNoInlinePolicy", INLINE_POLICY_FOR_ONE_ROLE)
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "ec2:DescribeManagedPrefixLists has no resource-level permissions; it only reads the S3 prefix list id.",
        )
        self.security_group.add_egress_rule(
            ec2.Peer.prefix_list(lookup.get_response_field("PrefixLists.0.PrefixListId")),
            ec2.Port.tcp(443),
            "HTTPS to S3 only, through the VPC's gateway endpoint",
        )

    @property
    def subnet_ids(self) -> list[str]:
        return list(self.subnets.subnet_ids)

    @property
    def vpc_arn(self) -> str:
        return cdk.Stack.of(self).format_arn(service="ec2", resource="vpc", resource_name=self.vpc.vpc_id)


def _as_arguments(selection: ec2.SubnetSelection) -> dict[str, Any]:
    """A SubnetSelection as the keyword arguments of ``IVpc.select_subnets``."""
    fields = ("availability_zones", "one_per_az", "subnet_filters", "subnet_group_name", "subnet_type", "subnets")
    return {name: getattr(selection, name) for name in fields if getattr(selection, name) is not None}


def s3_endpoint_statements(scope: Construct, data_bucket: s3.IBucket) -> list[iam.PolicyStatement]:
    """What the S3 gateway endpoint admits. Bucket ARNs from ``format_arn``; the JumpStart and ECR
    layer buckets are AWS's, named per region (ECR: "Amazon ECR interface VPC endpoints
    (AWS PrivateLink)", the prod-<region>-starport-layer-bucket an S3 gateway endpoint must allow)."""
    stack = cdk.Stack.of(scope)

    def bucket(name: str) -> str:
        return stack.format_arn(service="s3", region="", account="", resource=name)

    jumpstart = [bucket(f"jumpstart-cache-prod-{stack.region}"), bucket(f"jumpstart-private-cache-prod-{stack.region}")]
    return [
        iam.PolicyStatement(
            sid="TeamBucketForThisAccount",
            principals=[iam.AnyPrincipal()],
            actions=[
                "s3:GetObject",
                "s3:PutObject",
                "s3:AbortMultipartUpload",
                "s3:ListBucket",
                "s3:GetBucketLocation",
            ],
            resources=[data_bucket.bucket_arn, data_bucket.arn_for_objects("*")],
            conditions={"StringEquals": {"aws:PrincipalAccount": stack.account}},
        ),
        iam.PolicyStatement(
            sid="ReadJumpStartBuckets",
            principals=[iam.AnyPrincipal()],
            actions=["s3:GetObject", "s3:ListBucket"],
            resources=[*jumpstart, *(f"{b}/*" for b in jumpstart)],
        ),
        iam.PolicyStatement(
            sid="ReadEcrImageLayers",
            principals=[iam.AnyPrincipal()],
            actions=["s3:GetObject"],
            resources=[f"{bucket(f'prod-{stack.region}-starport-layer-bucket')}/*"],
        ),
    ]
