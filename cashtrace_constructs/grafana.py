"""`GrafanaService`: Grafana OSS on Fargate in the environment's region, behind an internal ALB.

Amazon Managed Grafana is not offered in af-south-1. State (users, preferences) lives on an
encrypted EFS access point; data sources and dashboards are provisioned from
`monitoring/grafana/` in this repository by a short-lived init container (no image build).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import CfnResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_efs as efs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from cashtrace_constructs.config import MonitoringConfig
from cashtrace_constructs.domain import TLS_POLICY, ListenerTls
from cashtrace_constructs.log_retention import retention
from cashtrace_constructs.prometheus import PrometheusWorkspace
from cashtrace_constructs.secrets import EnvironmentSecrets
from cashtrace_constructs.timing import ZERO_DOWNTIME_EXEMPTION

GRAFANA_IMAGE = "grafana/grafana-oss"
PROVISIONING_DIR = Path(__file__).resolve().parent.parent / "monitoring" / "grafana"
# The uid the grafana-oss image runs as; the EFS access point maps every client to it.
GRAFANA_UID = "472"
GRAFANA_PORT = 3000
# Both containers run read-only as GRAFANA_UID; everything they write lives on the EFS access
# point (which maps every client to that uid): state, plugins, provisioning, logs, temp files.
STATE_MOUNT = "/var/lib/grafana"
PROVISIONING_MOUNT = f"{STATE_MOUNT}/provisioning"
WRITABLE_PATHS = {"GF_PATHS_LOGS": f"{STATE_MOUNT}/log", "TMPDIR": f"{STATE_MOUNT}/scratch"}
# The init container needs only sh and printf.
INIT_MEMORY_MIB = 64
# Grafana's CloudWatch data source: metric, alarm, query-control and discovery reads take no
# resource (AWS offers no resource-level permission for them); all are read-only.
CLOUDWATCH_READ_ACTIONS = (
    "cloudwatch:DescribeAlarms",
    "cloudwatch:DescribeAlarmsForMetric",
    "cloudwatch:DescribeAlarmHistory",
    "cloudwatch:GetMetricData",
    "cloudwatch:GetInsightRuleReport",
    "cloudwatch:ListMetrics",
    "logs:DescribeLogGroups",
    "logs:StopQuery",
    "logs:GetQueryResults",
    "tag:GetResources",
    "ec2:DescribeRegions",
)
# Reading log events and querying them is scoped to the log groups Grafana is given.
LOG_GROUP_READ_ACTIONS = ("logs:GetLogGroupFields", "logs:StartQuery", "logs:GetLogEvents", "logs:FilterLogEvents")


@dataclass(frozen=True)
class ProvisionedFile:
    """One file of `monitoring/grafana/`, and where Grafana reads it (relative to the provisioning mount)."""

    target: str
    content: str


def provisioning_files(root: Path = PROVISIONING_DIR) -> list[ProvisionedFile]:
    """Data sources and dashboard providers under `provisioning/`, dashboards under `dashboards/`."""
    files = [
        ProvisionedFile(str(path.relative_to(root / "provisioning")), path.read_text())
        for path in sorted((root / "provisioning").rglob("*.yaml"))
    ]
    for path in sorted((root / "dashboards").glob("*.json")):
        json.loads(path.read_text())  # a broken dashboard fails synth, not Grafana's start
        files.append(ProvisionedFile(f"dashboards/json/{path.name}", path.read_text()))
    return files


def init_script(files: list[ProvisionedFile], mount: str = "/provisioning", *, directories: Sequence[str] = ()) -> str:
    """A POSIX sh script that empties `mount`, writes each file from its environment variable
    (`CT_FILE_<n>`) and creates `directories`."""
    lines = ["set -eu", f"rm -rf {shlex.quote(mount)}", *(f"mkdir -p {shlex.quote(path)}" for path in directories)]
    for index, item in enumerate(files):
        target = f"{mount}/{item.target}"
        lines.append(f"mkdir -p {shlex.quote(str(Path(target).parent))}")
        lines.append(f'printf "%s" "$CT_FILE_{index}" > {shlex.quote(target)}')
    return "\n".join(lines)


@dataclass(frozen=True, kw_only=True)
class GrafanaServiceProps:
    environment_name: str
    config: MonitoringConfig
    vpc: ec2.IVpc
    # The VPC's literal CIDR: operators reach the internal load balancer from inside it.
    vpc_cidr: str
    subnets: ec2.SubnetSelection
    encryption_key: kms.IKey
    prometheus: PrometheusWorkspace
    # Makes the admin login and hands it to the container.
    secrets: EnvironmentSecrets
    # HTTPS with this certificate and host name (secure cookies); None is plain HTTP inside the VPC,
    # which `EndpointConfig` allows in dev only.
    tls: ListenerTls | None = None
    # None: a bucket of its own for the load balancer's access logs.
    access_logs_bucket: s3.IBucket | None = None
    # What the CloudWatch Logs data source may read and query.
    readable_log_groups: Sequence[logs.ILogGroup] = ()
    provisioning_root: Path = PROVISIONING_DIR


class GrafanaService(Construct):
    """Grafana with the environment's AMP workspace and CloudWatch as provisioned data sources.

    Public: `service`, `load_balancer`, `listener`, `admin_secret` (made by `EnvironmentSecrets`),
    `file_system`, `url`.
    One task on purpose: Grafana's SQLite state on EFS must have a single writer, so a
    deployment stops the old task before it starts the new one (minutes of Grafana downtime,
    never of the product).
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: GrafanaServiceProps) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        config, vpc, subnets, encryption_key = props.config, props.vpc, props.subnets, props.encryption_key
        image = ecs.ContainerImage.from_registry(f"{GRAFANA_IMAGE}:{config.grafana_image_tag}")

        self.admin_secret = props.secrets.generated_secret(
            "grafana-admin",
            description=f"Grafana admin login of CashTrace {props.environment_name}",
            generate=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps({"username": "admin"}),
                generate_string_key="password",
                exclude_punctuation=True,
                password_length=32,
            ),
        )

        self.file_system = efs.FileSystem(
            self,
            "State",
            vpc=vpc,
            vpc_subnets=subnets,
            encrypted=True,
            kms_key=encryption_key,
            enable_automatic_backups=True,
            performance_mode=efs.PerformanceMode.GENERAL_PURPOSE,
            throughput_mode=efs.ThroughputMode.ELASTIC,
            removal_policy=RemovalPolicy.RETAIN,
            allow_anonymous_access=False,
        )
        access_point = self.file_system.add_access_point(
            "GrafanaData",
            path="/grafana",
            posix_user=efs.PosixUser(uid=GRAFANA_UID, gid="0"),
            create_acl=efs.Acl(owner_uid=GRAFANA_UID, owner_gid="0", permissions="750"),
        )

        balancer_group = ec2.SecurityGroup(
            self, "LoadBalancerSecurityGroup", vpc=vpc, description="Grafana internal ALB", allow_all_outbound=False
        )
        self.load_balancer = elbv2.ApplicationLoadBalancer(
            self,
            "LoadBalancer",
            vpc=vpc,
            internet_facing=False,
            vpc_subnets=subnets,
            security_group=balancer_group,
            drop_invalid_header_fields=True,
            deletion_protection=True,
        )
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=retention(config.log_retention_days, field="monitoring.log_retention_days"),
            encryption_key=encryption_key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        cluster = ecs.Cluster(self, "Cluster", vpc=vpc, container_insights_v2=ecs.ContainerInsights.ENABLED)
        task = ecs.FargateTaskDefinition(
            self,
            "Task",
            cpu=config.grafana_cpu,
            memory_limit_mib=config.grafana_memory_mib,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.ARM64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
            volumes=[
                ecs.Volume(
                    name="State",
                    efs_volume_configuration=ecs.EfsVolumeConfiguration(
                        file_system_id=self.file_system.file_system_id,
                        transit_encryption="ENABLED",
                        authorization_config=ecs.AuthorizationConfig(
                            access_point_id=access_point.access_point_id, iam="ENABLED"
                        ),
                    ),
                ),
            ],
        )
        files = provisioning_files(props.provisioning_root)
        init = task.add_container(
            "Provisioning",
            image=image,
            essential=False,
            user=GRAFANA_UID,
            readonly_root_filesystem=True,
            memory_limit_mib=INIT_MEMORY_MIB,
            entry_point=["sh", "-c"],
            command=[init_script(files, mount=PROVISIONING_MOUNT, directories=sorted(WRITABLE_PATHS.values()))],
            environment={f"CT_FILE_{index}": item.content for index, item in enumerate(files)},
            logging=ecs.LogDriver.aws_logs(stream_prefix="grafana-provisioning", log_group=self.log_group),
        )
        init.add_mount_points(ecs.MountPoint(container_path=STATE_MOUNT, source_volume="State", read_only=False))

        tls = props.tls
        # Links in Grafana (alerts, shares, redirects after login) point at its name: the one the
        # certificate covers, or the load balancer's own on plain HTTP.
        self.url = f"https://{tls.host_name}" if tls else f"http://{self.load_balancer.load_balancer_dns_name}"
        grafana = task.add_container(
            "Grafana",
            image=image,
            essential=True,
            user=GRAFANA_UID,
            readonly_root_filesystem=True,
            memory_limit_mib=config.grafana_memory_mib - INIT_MEMORY_MIB,
            port_mappings=[ecs.PortMapping(container_port=GRAFANA_PORT)],
            environment={
                "AWS_REGION": stack.region,
                "AMP_QUERY_URL": props.prometheus.query_url,
                "GF_SECURITY_ADMIN_USER": "admin",
                "GF_SECURITY_DISABLE_GRAVATAR": "true",
                # Browsers send the session cookie over HTTPS only; on plain HTTP they could not log in.
                "GF_SECURITY_COOKIE_SECURE": "true" if tls else "false",
                "GF_USERS_ALLOW_SIGN_UP": "false",
                "GF_AUTH_ANONYMOUS_ENABLED": "false",
                "GF_ANALYTICS_REPORTING_ENABLED": "false",
                "GF_ANALYTICS_CHECK_FOR_UPDATES": "false",
                "GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES": "false",
                "GF_SERVER_ROOT_URL": self.url,
                "GF_PATHS_PROVISIONING": PROVISIONING_MOUNT,
                "GF_LOG_MODE": "console",
                **WRITABLE_PATHS,
                "GF_AUTH_SIGV4_AUTH_ENABLED": "true",
                "GF_PLUGINS_PREINSTALL_SYNC": ",".join(config.grafana_plugins),
            },
            secrets={
                "GF_SECURITY_ADMIN_PASSWORD": props.secrets.container_secret(self.admin_secret, "password"),
            },
            logging=ecs.LogDriver.aws_logs(stream_prefix="grafana", log_group=self.log_group),
        )
        grafana.add_mount_points(ecs.MountPoint(container_path=STATE_MOUNT, source_volume="State", read_only=False))
        grafana.add_container_dependencies(
            ecs.ContainerDependency(container=init, condition=ecs.ContainerDependencyCondition.SUCCESS)
        )

        props.prometheus.grant_query(task.task_role)
        task.add_to_task_role_policy(iam.PolicyStatement(actions=list(CLOUDWATCH_READ_ACTIONS), resources=["*"]))
        if props.readable_log_groups:
            task.add_to_task_role_policy(
                iam.PolicyStatement(
                    actions=list(LOG_GROUP_READ_ACTIONS),
                    resources=[group.log_group_arn for group in props.readable_log_groups],
                )
            )
        self.file_system.grant_read_write(task.task_role)

        service_group = ec2.SecurityGroup(
            self, "ServiceSecurityGroup", vpc=vpc, description="Grafana tasks", allow_all_outbound=True
        )
        self.service = ecs.FargateService(
            self,
            "Service",
            cluster=cluster,
            task_definition=task,
            desired_count=1,
            min_healthy_percent=0,
            max_healthy_percent=100,
            vpc_subnets=subnets,
            security_groups=[service_group],
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            # Plugin download and SQLite migrations on first start take a while.
            health_check_grace_period=Duration.minutes(5),
        )
        # Read by the zero-downtime rule (Property 10 is about the product's traffic): Grafana stops
        # its one task before starting the next because SQLite on EFS allows a single writer.
        service_resource = self.service.node.default_child
        if isinstance(service_resource, CfnResource):
            service_resource.add_metadata(ZERO_DOWNTIME_EXEMPTION, "operator tool; single-writer SQLite state")
        self.file_system.connections.allow_default_port_from(service_group, "NFS from Grafana tasks")

        access_logs_bucket = props.access_logs_bucket
        if access_logs_bucket is None:
            access_logs_bucket = s3.Bucket(
                self,
                "AccessLogs",
                # ALB access logs support SSE-S3 only, not KMS keys.
                encryption=s3.BucketEncryption.S3_MANAGED,
                block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
                enforce_ssl=True,
                versioned=True,
                removal_policy=RemovalPolicy.RETAIN,
                lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(config.log_retention_days))],
            )
        self.access_logs_bucket = access_logs_bucket
        self.load_balancer.log_access_logs(access_logs_bucket, prefix="grafana")

        if tls:
            self.listener = self.load_balancer.add_listener(
                "Https",
                port=443,
                protocol=elbv2.ApplicationProtocol.HTTPS,
                certificates=tls.listener_certificates,
                ssl_policy=TLS_POLICY,
                open=False,
            )
        else:
            self.listener = self.load_balancer.add_listener(
                "Http", port=80, protocol=elbv2.ApplicationProtocol.HTTP, open=False
            )
        listener_port = 443 if tls else 80
        # The literal CIDR (not a reference to the VPC) keeps the rule reviewable by cdk-nag.
        balancer_group.add_ingress_rule(
            ec2.Peer.ipv4(props.vpc_cidr), ec2.Port.tcp(listener_port), "Operators inside the VPC (VPN or SSM)"
        )
        self.listener.add_targets(
            "Grafana",
            port=GRAFANA_PORT,
            protocol=elbv2.ApplicationProtocol.HTTP,
            targets=[self.service],
            health_check=elbv2.HealthCheck(path="/api/health", healthy_http_codes="200"),
            deregistration_delay=Duration.seconds(30),
        )
