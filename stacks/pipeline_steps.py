"""The CD pipeline's CodeBuild steps (synth, image scan gate, live tests) and the toolchain pins they install.

Every step checks out the pipeline's source and runs on the same image and runtimes; the versions
it installs come from the repository's own lock files, so the pipeline never drifts from CI.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Duration, Stack, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs

from cashtrace_constructs.config import EnvironmentConfig, PipelineConfig
from cashtrace_constructs.errors import DeploymentError, ErrorCode

ROOT = Path(__file__).resolve().parent.parent
BUILD_IMAGE = codebuild.LinuxBuildImage.STANDARD_7_0
# CodeBuild standard 7.0 runtimes; pyproject allows 3.11-3.12 and jsii needs the Node 22 that
# `npm ci` installs from package-lock.json (node_modules/.bin/node).
RUNTIME_VERSIONS = {"python": "3.11", "nodejs": "20"}
# CodeBuild names the report group `<project name>-<this key>` and keeps each build's report.
EVIDENCE_REPORT = "Evidence"
# The asset-publishing steps install this exact cdk-assets (npm), never `@latest`: a release of
# the publisher cannot change what the pipeline runs without a reviewed commit.
CDK_ASSETS_VERSION = "4.7.3"


def cdk_cli_version(package_json: Path = ROOT / "package.json") -> str:
    """The aws-cdk CLI pinned in package.json, so self-mutation and asset steps use the same CLI."""
    version = json.loads(package_json.read_text())["devDependencies"]["aws-cdk"]
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        raise DeploymentError(
            ErrorCode.CONFIG_INVALID,
            f"package.json must pin aws-cdk to an exact version, got {version!r}",
            field="package.json.devDependencies.aws-cdk",
        )
    return str(version)


def pinned_requirement(package: str, pyproject: Path = ROOT / "pyproject.toml") -> str:
    """`package==version` exactly as pinned in pyproject.toml's dependency groups."""
    groups: dict[str, list[Any]] = tomllib.loads(pyproject.read_text())["dependency-groups"]
    for requirement in (item for group in groups.values() for item in group if isinstance(item, str)):
        if re.fullmatch(rf"{re.escape(package)}==[\w.]+", requirement, flags=re.IGNORECASE):
            return requirement
    raise DeploymentError(
        ErrorCode.CONFIG_INVALID,
        f"{package} is not pinned (==) in pyproject.toml",
        field=f"pyproject.dependency-groups.{package}",
    )


def build_defaults(log_group: logs.ILogGroup) -> pipelines.CodeBuildOptions:
    """What every CodeBuild project of the pipeline runs on, logging to `log_group`."""
    return pipelines.CodeBuildOptions(
        build_environment=codebuild.BuildEnvironment(
            build_image=BUILD_IMAGE, privileged=False, compute_type=codebuild.ComputeType.MEDIUM
        ),
        timeout=Duration.minutes(60),
        logging=codebuild.LoggingOptions(cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=log_group)),
    )


def scope_asset_builds(pipeline: pipelines.CodePipeline) -> None:
    """Limit the shared file-asset role's CodeBuild actions to the pipeline's asset projects.

    CDK Pipelines grants codebuild:StartBuild/StopBuild/BatchGetBuilds on `*` to save policy
    space; this rewrites that statement to name the asset projects (call it after
    `build_pipeline()`, when every project exists).
    """
    assets = pipeline.node.try_find_child("Assets")
    role = assets.node.try_find_child("FileRole") if assets else None
    policy = role.node.try_find_child("DefaultPolicy") if role else None
    resource = policy.node.default_child if policy else None
    if assets is None or not isinstance(resource, iam.CfnPolicy):
        return
    stack = Stack.of(pipeline)
    projects = [
        stack.resolve(child.project_arn) for child in assets.node.children if isinstance(child, codebuild.Project)
    ]
    document = stack.resolve(resource.policy_document)
    for statement in document["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if "codebuild:StartBuild" in actions and statement.get("Resource") == "*":
            statement["Resource"] = projects
    resource.policy_document = document


def _step(
    step_id: str,
    source: pipelines.IFileSetProducer,
    *,
    install: str,
    commands: Sequence[str],
    reports: Mapping[str, Any] | None = None,
    **options: Any,
) -> pipelines.CodeBuildStep:
    return pipelines.CodeBuildStep(
        step_id,
        input=source,
        partial_build_spec=codebuild.BuildSpec.from_object(
            {"phases": {"install": {"runtime-versions": RUNTIME_VERSIONS}}, **({"reports": reports} if reports else {})}
        ),
        install_commands=[install],
        commands=list(commands),
        **options,
    )


def deployment_values(environments: Sequence[EnvironmentConfig], config: PipelineConfig) -> dict[str, str]:
    """The values the pipeline was deployed with, as the variables stacks/environments.py reads."""
    values = {
        "CASHTRACE_PIPELINE_ACCOUNT": config.account,
        "CASHTRACE_NOTIFICATION_EMAILS": ",".join(config.notification_emails),
    }
    for environment in environments:
        prefix, endpoint = f"CASHTRACE_{environment.name.upper()}", environment.endpoint
        values[f"{prefix}_ACCOUNT"] = environment.infrastructure.account
        if endpoint.hosted_zone is not None:
            values[f"{prefix}_HOSTED_ZONE_ID"] = endpoint.hosted_zone.zone_id
        if endpoint.certificate_arn is not None:
            values[f"{prefix}_CERTIFICATE_ARN"] = endpoint.certificate_arn
    return values


def synth_step(
    source: pipelines.IFileSetProducer, environments: Sequence[EnvironmentConfig], *, config: PipelineConfig
) -> pipelines.CodeBuildStep:
    """The whole suite (with the coverage gate), the CLI synth that cdk-nag, the region lock and our rules gate,
    then the evidence of every environment (`make evidence`).

    The synth reads the release manifest CI put in the source zip: every environment is pinned to its
    digest, and a missing manifest, a tag or the placeholder fails the build (DEPLOY_CI_FAILED).

    The evidence lands in cdk.out/evidence/, so it travels in the Synth step's output artifact with the
    assembly it describes; its JUnit file is also this build's CodeBuild test report.
    """
    return _step(
        "Synth",
        source,
        # `make deps` installs from the lock files: `npm ci` (CLI and Node 22) and the pinned venv.
        install="make deps",
        commands=[
            "make test",
            f"make synth RELEASE={config.release_manifest}",
            f"make evidence ENV='{' '.join(e.name for e in environments)}'",
        ],
        reports={
            EVIDENCE_REPORT: {"files": ["*.junit.xml"], "base-directory": "cdk.out/evidence", "file-format": "JUNITXML"}
        },
        # The pipeline's own synth renders the stacks it was deployed with (accounts, TLS, addresses).
        env={**deployment_values(environments, config), "CI": "true"},
        primary_output_directory="cdk.out",
    )


def security_gate_step(
    source: pipelines.IFileSetProducer, config: PipelineConfig, release_repository: ecr.IRepository, *, digest: str
) -> pipelines.CodeBuildStep:
    """The release image against its ECR scan findings (Property 3): `python -m tools.image_scan_gate`.

    `digest` is the one the stage templates pin, written into the step so the CT-P3-ScannedImageShips
    rule can compare them at synth; the gate also refuses a source manifest naming another digest.
    """
    return _step(
        "SecurityGate",
        source,
        install=f"python -m pip install --quiet {pinned_requirement('boto3')}",
        commands=[
            "python -m tools.image_scan_gate"
            f" --repository {config.release_repository}"
            f" --digest {digest}"
            f" --release-manifest {config.release_manifest}"
            f" --threshold {config.vulnerability_severity_threshold}"
            f" --wait-seconds {config.scan_wait_seconds}"
        ],
        role_policy_statements=[
            iam.PolicyStatement(
                actions=["ecr:DescribeImageScanFindings", "ecr:DescribeImages"],
                resources=[release_repository.repository_arn],
            )
        ],
    )


def live_tests_step(
    source: pipelines.IFileSetProducer, suite: str, service_url: CfnOutput, *, release_manifest: str
) -> pipelines.CodeBuildStep:
    """`tests/<suite>` against the environment just deployed (integration before approval, smoke after).

    The base URL is the stack's ServiceUrl output, whatever its scheme; /version must report the
    release manifest's commit and digest. The public certificate needs no CA bundle.
    """
    return _step(
        f"{suite.capitalize()}Tests",
        source,
        # The live tests use the standard library's HTTP client: pytest is all they need.
        install=f"python -m pip install --quiet {pinned_requirement('pytest')}",
        # --confcutdir: the repo's top conftest synthesizes the CDK app; these tests need none of it.
        commands=[f"python -m pytest tests/{suite} --confcutdir=tests/{suite} -p no:cacheprovider -q"],
        env={"CASHTRACE_RELEASE_MANIFEST": release_manifest},
        env_from_cfn_outputs={"CASHTRACE_BASE_URL": service_url},
    )
