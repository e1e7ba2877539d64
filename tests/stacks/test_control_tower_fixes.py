"""What the Control Tower controls asked of our own resources, on the real templates: non-root read-only
containers with memory limits, KMS grant conditions, declared dead-letter queues, a scoped and pinned
asset publisher, logged builds, and an account-wide trail stored in af-south-1."""

from __future__ import annotations

import json
from typing import Any

from cashtrace_constructs.checks.template import listed, of_type, policy_documents, statements
from stacks.pipeline_steps import CDK_ASSETS_VERSION
from tests.conftest import ENVIRONMENT_STACKS

ROOT_USERS = ("0", "root")


def _all(templates: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return list(templates.values())


def test_every_container_runs_unprivileged_on_a_read_only_root_within_a_memory_limit(
    templates: dict[str, dict[str, Any]],
) -> None:
    tasks = [r["Properties"] for t in _all(templates) for _, r in of_type(t, "AWS::ECS::TaskDefinition")]
    assert len(tasks) == 2 * 5  # API and Grafana, in 3 environment stacks and 2 pipeline stages
    for task in tasks:
        containers = task["ContainerDefinitions"]
        for container in containers:
            assert str(container.get("User", "0")).split(":")[0] not in ROOT_USERS, container["Name"]
            assert container.get("ReadonlyRootFilesystem") is True, container["Name"]
            assert int(container["Memory"]) >= 4, container["Name"]
        assert sum(int(c["Memory"]) for c in containers) <= int(task["Memory"])


def test_the_api_writes_only_to_its_task_volume(templates: dict[str, dict[str, Any]]) -> None:
    for name in ENVIRONMENT_STACKS:
        (task,) = [
            r["Properties"]
            for _, r in of_type(templates[name], "AWS::ECS::TaskDefinition")
            if "Grafana" not in {c["Name"] for c in r["Properties"]["ContainerDefinitions"]}
        ]
        volumes = {v["Name"]: v for v in task["Volumes"]}
        app = task["ContainerDefinitions"][0]
        mounts = {m["ContainerPath"]: m for m in app["MountPoints"]}
        assert mounts["/tmp"]["ReadOnly"] is False and "Host" not in volumes[mounts["/tmp"]["SourceVolume"]]


def test_grafana_keeps_everything_it_writes_on_its_efs_access_point(templates: dict[str, dict[str, Any]]) -> None:
    for name in ENVIRONMENT_STACKS:
        (task,) = [
            r["Properties"]
            for _, r in of_type(templates[name], "AWS::ECS::TaskDefinition")
            if "Grafana" in {c["Name"] for c in r["Properties"]["ContainerDefinitions"]}
        ]
        assert [v["Name"] for v in task["Volumes"]] == ["State"]
        for container in task["ContainerDefinitions"]:
            assert container["User"] == "472"
            assert [m["SourceVolume"] for m in container["MountPoints"]] == ["State"]
        grafana = next(c for c in task["ContainerDefinitions"] if c["Name"] == "Grafana")
        environment = {e["Name"]: e["Value"] for e in grafana["Environment"]}
        assert all(environment[k].startswith("/var/lib/grafana/") for k in ("GF_PATHS_PROVISIONING", "TMPDIR"))


def test_grafana_reads_and_queries_only_the_api_log_group(templates: dict[str, dict[str, Any]]) -> None:
    for name in ENVIRONMENT_STACKS:
        template = templates[name]
        grants = [
            statement
            for logical_id, _, document in policy_documents(template)
            if logical_id.startswith("GrafanaTaskTaskRoleDefaultPolicy")
            for _, statement in statements(document)
            if "logs:StartQuery" in listed(statement["Action"])
        ]
        (grant,) = grants
        assert grant["Resource"] != "*" and "ApiContainerLogs" in json.dumps(grant["Resource"])


def test_every_key_denies_grants_that_are_not_for_an_aws_resource(templates: dict[str, dict[str, Any]]) -> None:
    keys = [(n, r["Properties"]) for n, t in templates.items() for _, r in of_type(t, "AWS::KMS::Key")]
    assert len(keys) >= 12
    for name, key in keys:
        denies = [
            s
            for s in key["KeyPolicy"]["Statement"]
            if s["Effect"] == "Deny" and s["Action"] == "kms:CreateGrant" and s["Principal"] == {"AWS": "*"}
        ]
        assert denies, name
        assert denies[0]["Condition"] == {
            "BoolIfExists": {"kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false"}
        }


def test_every_queue_has_a_dead_letter_queue_or_is_declared_one(templates: dict[str, dict[str, Any]]) -> None:
    queues = [r["Properties"] for t in _all(templates) for _, r in of_type(t, "AWS::SQS::Queue")]
    assert queues
    for queue in queues:
        assert "RedrivePolicy" in queue or queue["RedriveAllowPolicy"]["redrivePermission"] == "allowAll"


def test_the_asset_publisher_is_pinned_and_may_start_only_the_asset_builds(
    templates: dict[str, dict[str, Any]],
) -> None:
    pipeline = templates["CashTrace-Pipeline"]
    projects = dict(of_type(pipeline, "AWS::CodeBuild::Project"))
    assets = {lid for lid in projects if lid.startswith("PipelineAssetsFileAsset")}
    for logical_id in assets:
        spec = projects[logical_id]["Properties"]["Source"]["BuildSpec"]
        assert f"cdk-assets@{CDK_ASSETS_VERSION}" in spec and "@latest" not in spec
    (document,) = [
        d for lid, _, d in policy_documents(pipeline) if lid.startswith("PipelineAssetsFileRoleDefaultPolicy")
    ]
    (builds,) = [s for _, s in statements(document) if "codebuild:StartBuild" in listed(s["Action"])]
    assert builds["Resource"] != "*"
    assert {ref["Fn::GetAtt"][0] for ref in builds["Resource"]} == assets


def test_every_build_logs_to_the_pipelines_encrypted_log_group(templates: dict[str, dict[str, Any]]) -> None:
    pipeline = templates["CashTrace-Pipeline"]
    projects = [r["Properties"] for _, r in of_type(pipeline, "AWS::CodeBuild::Project")]
    groups = {lid for lid, r in of_type(pipeline, "AWS::Logs::LogGroup") if "KmsKeyId" in r["Properties"]}
    for project in projects:
        logs = project["LogsConfig"]["CloudWatchLogs"]
        assert logs["Status"] == "ENABLED" and logs["GroupName"]["Ref"] in groups


def test_versioned_pipeline_and_trail_buckets_expire_old_versions(templates: dict[str, dict[str, Any]]) -> None:
    checked = 0
    for template in _all(templates):
        for logical_id, bucket in of_type(template, "AWS::S3::Bucket"):
            if not logical_id.startswith(("Source", "Artifacts", "SecretsAuditTrailBucket")):
                continue
            checked += 1
            properties = bucket["Properties"]
            assert properties["VersioningConfiguration"]["Status"] == "Enabled"
            rules = properties["LifecycleConfiguration"]["Rules"]
            assert any("NoncurrentVersionExpiration" in rule for rule in rules), logical_id
    assert checked == 2 + 5
