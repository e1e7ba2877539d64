"""The service's task: Fargate size, task definition, log group, the app container and its sidecars."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from cashtrace_constructs.config import ServiceConfig
from cashtrace_constructs.errors import DeploymentError, ErrorCode
from cashtrace_constructs.log_retention import retention

# The image's unprivileged user (service/ builds it with this uid). ECS refuses nothing here: the
# kernel does, when the image expects root (Control Tower CT.ECS.PR.3).
APP_USER = "10001:10001"
# Where the read-only app container may write: a task-local volume, emptied with the task.
APP_SCRATCH_PATH = "/tmp"  # noqa: S108  # nosec B108 - a task volume, not the host's /tmp
# Hard memory limits (CT.ECS.PR.7): sidecars share this slice of the task, the app gets the rest,
# so a leaking sidecar is killed alone instead of starving the app.
SIDECAR_MEMORY_BUDGET_MIB = 256


# The service reads these for /version (service/server.py); the values come from the release manifest.
RELEASE_COMMIT_VARIABLE = "CASHTRACE_COMMIT_SHA"
RELEASE_DIGEST_VARIABLE = "CASHTRACE_IMAGE_DIGEST"


class ApplicationTask:
    """The task definition with the app container, built into `scope` (the service's own scope).

    Public: `log_group`, `task_definition`, `repository`, `container`; `add_sidecar` adds a
    non-essential container beside the app.
    """

    def __init__(
        self,
        scope: Construct,
        *,
        environment_name: str,
        config: ServiceConfig,
        cpu: int,
        memory: int,
        encryption_key: kms.IKey,
        environment: Mapping[str, str],
        secrets: Mapping[str, ecs.Secret],
    ) -> None:
        self.log_group = logs.LogGroup(
            scope,
            "ContainerLogs",
            retention=retention(config.log_retention_days, field=f"{environment_name}.service.log_retention_days"),
            encryption_key=encryption_key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.task_definition = ecs.FargateTaskDefinition(
            scope,
            "TaskDefinition",
            # Named, not derived from the construct path: the family must not change between a
            # top-level and a pipeline-staged deploy of the same environment (logical_ids.py).
            family=f"cashtrace-{environment_name}-{config.name}",
            cpu=cpu,
            memory_limit_mib=memory,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.ARM64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )
        self.repository = ecr.Repository.from_repository_attributes(
            scope,
            "Repository",
            repository_arn=Stack.of(scope).format_arn(
                service="ecr",
                account=config.repository_account,
                resource="repository",
                resource_name=config.repository_name,
            ),
            repository_name=config.repository_name,
        )
        self._sidecar_memory_mib = 0
        self.task_definition.add_volume(name="Scratch")
        self.container = self.task_definition.add_container(
            "App",
            container_name=config.name,
            user=APP_USER,
            memory_limit_mib=memory - SIDECAR_MEMORY_BUDGET_MIB,
            # By digest: the bytes the pipeline's image scan gate checked (rule CT-P3-ScannedImageShips).
            image=ecs.ContainerImage.from_ecr_repository(self.repository, config.image_digest),
            # Sidecars (e.g. the ADOT collector) are not essential; the app container alone is.
            essential=True,
            port_mappings=[ecs.PortMapping(container_port=config.container_port, protocol=ecs.Protocol.TCP)],
            # The release the task runs, for the service's /version (the image cannot know its own digest).
            environment={
                "PORT": str(config.container_port),
                RELEASE_COMMIT_VARIABLE: config.commit_sha or "unknown",
                RELEASE_DIGEST_VARIABLE: config.image_digest,
                **environment,
            },
            secrets=dict(secrets),
            logging=ecs.LogDriver.aws_logs(stream_prefix=config.name, log_group=self.log_group),
            readonly_root_filesystem=True,
            # SIGTERM -> SIGKILL: in-flight requests (after the ALB drained the task) finish first.
            stop_timeout=Duration.seconds(config.stop_timeout_seconds),
        )
        self.container.add_mount_points(
            ecs.MountPoint(container_path=APP_SCRATCH_PATH, source_volume="Scratch", read_only=False)
        )

    def add_sidecar(
        self,
        container_id: str,
        *,
        image: ecs.ContainerImage,
        log_stream_prefix: str,
        user: str,
        memory_reservation_mib: int = 128,
        memory_limit_mib: int = SIDECAR_MEMORY_BUDGET_MIB,
        parameters: Mapping[str, ssm.IStringParameter] | None = None,
    ) -> ecs.ContainerDefinition:
        """A non-essential container beside the app, logging to the service's log group.

        It runs as `user` (never root) on a read-only root filesystem, within `memory_limit_mib`
        of the sidecars' shared budget. `parameters` are configuration read at task start (env
        var -> SSM parameter); secrets come only through `EnvironmentSecrets.container_secret`,
        for the app container.
        """
        if user.split(":")[0] in ("0", "root"):
            raise DeploymentError(ErrorCode.CONFIG_INVALID, "sidecars never run as root", field=f"{container_id}.user")
        if self._sidecar_memory_mib + memory_limit_mib > SIDECAR_MEMORY_BUDGET_MIB:
            raise DeploymentError(
                ErrorCode.RESOURCE_LIMIT,
                f"sidecars would need {self._sidecar_memory_mib + memory_limit_mib} MiB, over the "
                f"{SIDECAR_MEMORY_BUDGET_MIB} MiB the task keeps for them",
                field=f"{container_id}.memory_limit_mib",
            )
        self._sidecar_memory_mib += memory_limit_mib
        return self.task_definition.add_container(
            container_id,
            image=image,
            # A sidecar failure costs its function (metrics, say), never the API's tasks.
            essential=False,
            user=user,
            memory_reservation_mib=memory_reservation_mib,
            memory_limit_mib=memory_limit_mib,
            secrets={name: ecs.Secret.from_ssm_parameter(value) for name, value in (parameters or {}).items()} or None,
            logging=ecs.LogDriver.aws_logs(stream_prefix=log_stream_prefix, log_group=self.log_group),
            readonly_root_filesystem=True,
        )
