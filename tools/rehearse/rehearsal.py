"""What a rehearsal shows, read from two synthesized cloud assemblies (release A, then a next release B).

(a) every Staging and Prod task definition the pipeline ships pins A's digest; (b) B changes only the
task definitions and what must change with them, nothing stateful; (c) the security gate, run as the
pipeline runs it, asks ECR for A's digest; (d) the deployment record reads A's commit back.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import subprocess  # nosec B404 - git rev-parse, fixed arguments
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cashtrace_constructs.checks.scanned_image_ships import security_gates, task_images
from cashtrace_constructs.checks.staging_before_prod import pipeline_actions
from cashtrace_constructs.checks.template import of_type, resources_of
from cashtrace_constructs.release_manifest import ReleaseManifest, write

PIPELINE = "CashTrace-Pipeline"
STAGES = ("Staging", "Prod")
# What a new image must change: the task definition, the custom resource that starts the CodeDeploy
# rollout of it, prod's promotion gate (it checks the new digest before either changes), and in the
# pipeline the gate's build project, which names the digest. The pipeline
# resource itself does not change, so self-mutation updates the project and the execution goes on.
EXPECTED_CHANGES = {
    "AWS::ECS::TaskDefinition": "the new image",
    "Custom::EcsDeployment": "starts the CodeDeploy rollout of the new task definition",
    "Custom::PromotionGate": "prod checks the new digest in the deployment record first",
    "AWS::CodeBuild::Project": "the SecurityGate step names the new digest",
}
STATEFUL_TYPES = frozenset(
    {
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBCluster",
        "AWS::DynamoDB::Table",
        "AWS::DynamoDB::GlobalTable",
        "AWS::S3::Bucket",
        "AWS::ElastiCache::ReplicationGroup",
        "AWS::ElastiCache::CacheCluster",
        "AWS::EFS::FileSystem",
        "AWS::KMS::Key",
        "AWS::SecretsManager::Secret",
        "AWS::Logs::LogGroup",
        "AWS::Backup::BackupVault",
        "AWS::ECR::Repository",
        "AWS::SQS::Queue",
        "AWS::APS::Workspace",
    }
)


@dataclass(frozen=True)
class Pin:
    stage: str
    stack: str
    task: str
    image: str
    digest: str | None


@dataclass(frozen=True)
class Change:
    stack: str
    logical_id: str
    resource_type: str
    stateful: bool

    @property
    def expected(self) -> bool:
        return self.resource_type in EXPECTED_CHANGES and not self.stateful


def templates(outdir: Path) -> dict[str, dict[str, Any]]:
    """Hierarchical stack id (CashTrace-Prod, CashTrace-Pipeline/Prod/Environment) -> template."""
    from aws_cdk.cx_api import CloudAssembly

    return {
        stack.hierarchical_id: json.loads(Path(stack.template_full_path).read_text())
        for stack in CloudAssembly(str(outdir)).stacks_recursively
    }


def pins(stacks: Mapping[str, Mapping[str, Any]]) -> list[Pin]:
    """The release image of every task definition the pipeline deploys to Staging and Prod."""
    found = []
    for stage in STAGES:
        name = f"{PIPELINE}/{stage}/Environment"
        for task_id, _container, image in task_images(stacks[name]):
            if image.private:
                family = str(resources_of(stacks[name])[task_id]["Properties"].get("Family", task_id))
                found.append(Pin(stage, name, family, f"{image.repository}@{image.digest or image.tag}", image.digest))
    return found


def changes(before: Mapping[str, Mapping[str, Any]], after: Mapping[str, Mapping[str, Any]]) -> list[Change]:
    """Every resource added, removed or changed between two syntheses, with whether it holds state."""
    found = []
    for stack in sorted(set(before) | set(after)):
        old, new = resources_of(before.get(stack, {})), resources_of(after.get(stack, {}))
        for logical_id in sorted(set(old) | set(new)):
            if old.get(logical_id) == new.get(logical_id):
                continue
            resource = new.get(logical_id) or old[logical_id]
            stateful = resource.get("Type") in STATEFUL_TYPES or resource.get("DeletionPolicy") in (
                "Retain",
                "Snapshot",
                "RetainExceptOnCreate",
            )
            found.append(Change(stack, logical_id, str(resource.get("Type")), stateful))
        for section in ("Outputs", "Parameters", "Rules", "Conditions"):
            if before.get(stack, {}).get(section) != after.get(stack, {}).get(section):
                found.append(Change(stack, section, f"template {section}", stateful=False))
    return found


def gate_command(pipeline: Mapping[str, Any]) -> list[str]:
    """The SecurityGate step's command line, as the pipeline's CodeBuild project runs it."""
    (resource,) = [r for _, r in of_type(pipeline, "AWS::CodePipeline::Pipeline")]
    gates = security_gates(pipeline, pipeline_actions(resource))
    if not gates:
        raise LookupError("the pipeline has no security gate step")
    project = resources_of(pipeline)[gates[0].action.configuration["ProjectName"]["Ref"]]
    spec = json.loads(project["Properties"]["Source"]["BuildSpec"])
    (command,) = [c for c in spec["phases"]["build"]["commands"] if "tools.image_scan_gate" in c]
    return str(command).split()


def run_gate(command: list[str], manifest: Path) -> tuple[int, dict[str, Any], str]:
    """The gate's own `main` on the pipeline's arguments (the manifest read from `manifest`), ECR stubbed.

    Returns its exit code, the image it asked ECR about, and what it printed. A clean scan is
    answered, so the exit code shows the gate accepted the image it was pointed at.
    """
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config
    from botocore.stub import ANY, Stubber

    from tools.image_scan_gate.__main__ import main as gate

    arguments = command[command.index("tools.image_scan_gate") + 1 :]
    arguments[arguments.index("--release-manifest") + 1] = str(manifest)
    asked: dict[str, Any] = {}
    # Unsigned: the Stubber answers before anything would be sent, so no credentials are involved.
    ecr = boto3.client("ecr", region_name="af-south-1", config=Config(signature_version=UNSIGNED))
    ecr.meta.events.register(
        "provide-client-params.ecr.DescribeImageScanFindings", lambda params, **_: asked.update(params)
    )
    clean = {
        "imageScanStatus": {"status": "COMPLETE", "description": "rehearsal: no scan was run"},
        "imageScanFindings": {"findings": [], "findingSeverityCounts": {}},
    }
    printed = io.StringIO()
    with Stubber(ecr) as stub, contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        stub.add_response("describe_image_scan_findings", clean, {"repositoryName": ANY, "imageId": ANY})
        code = gate(arguments, ecr=ecr)
    return code, asked, printed.getvalue().strip()


def deployment_descriptions(stacks: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Stage -> the description its EcsDeployment gives the CodeDeploy deployment (the hook reports it)."""
    found = {}
    for stage in STAGES:
        for _, resource in of_type(stacks[f"{PIPELINE}/{stage}/Environment"], "Custom::EcsDeployment"):
            found[stage] = str(resource["Properties"]["description"])
    return found


# ---- manifests for a rehearsal when none is given ------------------------------------------------


def head_commit(root: Path) -> str | None:
    try:
        # git from PATH with fixed arguments, as a developer runs it.
        done = subprocess.run(  # nosec B603 B607
            ["git", "rev-parse", "HEAD"],  # noqa: S607
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    commit = done.stdout.strip()
    return commit if len(commit) == 40 else None


def rehearsal_manifest(directory: Path, commit: str | None) -> Path:
    """A manifest for `commit` (HEAD) whose digest names no image: what `make rehearse` uses by default."""
    commit = commit or hashlib.sha1(b"cashtrace rehearsal", usedforsecurity=False).hexdigest()
    digest = "sha256:" + hashlib.sha256(f"cashtrace rehearsal {commit}".encode()).hexdigest()
    path = directory / "release.json"
    write(path, repository="cashtrace/api", digest=digest, commit_sha=commit, built_at="2026-01-01T00:00:00Z")
    return path


def next_manifest(release: ReleaseManifest, directory: Path) -> Path:
    """A next release of `release`: another digest and commit, as the next push to main would make."""
    digest = "sha256:" + hashlib.sha256(f"next {release.digest}".encode()).hexdigest()
    commit = hashlib.sha1(release.commit_sha.encode(), usedforsecurity=False).hexdigest()
    path = directory / "next.json"
    write(path, repository=release.repository, digest=digest, commit_sha=commit, built_at=release.built_at)
    return path
