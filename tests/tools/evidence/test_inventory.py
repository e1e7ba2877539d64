"""The data inventory: every store of the real prod template, and a store changed in a small app."""

from __future__ import annotations

import copy

import pytest
from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rds as rds
from aws_cdk import aws_s3 as s3

from cashtrace_constructs.checks.template import of_type, properties, references
from tests.synth import TEST_ENV, make_app
from tests.tools.evidence.assemblies import stack_of
from tools.evidence.assembly import Assembly
from tools.evidence.classification import DATA_TYPES, is_classified
from tools.evidence.inventory import Store, keys, stores, unclassified_types

ALLOWED = ("af-south-1",)


def by_path(inventory: list[Store]) -> dict[str, Store]:
    return {store.path: store for store in inventory}


def test_the_prod_inventory_lists_every_stateful_resource_of_the_template(assembly: Assembly) -> None:
    prod = assembly.stack_for("prod")
    inventory = stores(prod, ALLOWED)
    listed = {store.logical_id for store in inventory}
    assert listed == {lid for lid, r in prod.resources.items() if r["Type"] in DATA_TYPES}
    # Independently of the type table: whatever CloudFormation is told to keep holds something;
    # it is in the inventory, or it is a key (listed beside it) or a subnet group (a placement).
    kept = {lid for lid, r in prod.resources.items() if r.get("DeletionPolicy") in ("Retain", "Snapshot")}
    placements = {lid for lid, _ in of_type(prod.template, "AWS::RDS::DBSubnetGroup")}
    assert kept - listed - placements == {key.logical_id for key in keys(prod)}
    for kind in ("database", "cache", "bucket", "secret", "queue", "log group", "backup vault", "file system"):
        assert any(store.kind == kind for store in inventory), kind
    for store in inventory:
        assert store.region == "af-south-1" and store.resident, store
        assert "NOT ENCRYPTED" not in store.encryption and store.deletion_policy and store.placement, store


def test_the_database_entry_states_its_zones_key_copies_and_backups_from_the_template(assembly: Assembly) -> None:
    prod = assembly.stack_for("prod")
    database = next(store for store in stores(prod, ALLOWED) if store.kind == "database")
    (db_id, db), (_, group) = (
        next(of_type(prod.template, "AWS::RDS::DBInstance")),
        next(of_type(prod.template, "AWS::RDS::DBSubnetGroup")),
    )
    zones = {properties(prod.resources[s])["AvailabilityZone"] for s in references(properties(group)["SubnetIds"])}
    assert database.logical_id == db_id and set(database.availability_zones or ()) == zones
    (key_id,) = references(properties(db)["KmsKeyId"])
    assert database.encryption == f"customer-managed KMS key {prod.name_of(key_id)}"
    assert f"{properties(db)['BackupRetentionPeriod']} days" in database.backup[0]
    assert any(item.startswith("AWS Backup rule") for item in database.backup)
    assert any(item.startswith("restore tested") for item in database.backup)
    (vault_id, _) = next(of_type(prod.template, "AWS::Backup::BackupVault"))
    assert [copy.target for copy in database.copies] == [f"backup vault {prod.name_of(vault_id)}"]
    assert all(copy.in_region for copy in database.copies)
    assert database.deletion_protection is True and database.deletion_policy == db["DeletionPolicy"]


def test_no_resource_type_of_the_app_is_left_unclassified(assembly: Assembly) -> None:
    assert {stack.hierarchical_id: unclassified_types(stack) for stack in assembly.stacks} == {
        stack.hierarchical_id: [] for stack in assembly.stacks
    }
    assert not is_classified("AWS::Logs::Destination") and is_classified("AWS::Logs::SubscriptionFilter")


@pytest.fixture(scope="module")
def store_change(tmp_path_factory: pytest.TempPathFactory) -> Assembly:
    """One small app, synthesized once: the same data layer before and after a change to its stores."""
    outdir = tmp_path_factory.mktemp("stores") / "cdk.out"
    app = make_app(outdir)
    for name, changed in (("Before", False), ("After", True)):
        stack = Stack(app, name, env=TEST_ENV, tags={"environment": name.lower()})
        key = kms.Key(stack, "Key", enable_key_rotation=True)
        vpc = ec2.Vpc(
            stack,
            "Vpc",
            availability_zones=["af-south-1a", "af-south-1b"],
            nat_gateways=0,
            subnet_configuration=[ec2.SubnetConfiguration(name="data", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
        )
        placement = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        database = rds.DatabaseInstance(
            stack,
            "Database",
            engine=rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_16),
            vpc=vpc,
            vpc_subnets=placement,
            multi_az=True,
            storage_encrypted=True,
            storage_encryption_key=key,
            backup_retention=Duration.days(7),
            removal_policy=RemovalPolicy.SNAPSHOT,
        )
        s3.Bucket(stack, "Documents", encryption=s3.BucketEncryption.KMS, encryption_key=key)
        if changed:
            rds.DatabaseInstanceReadReplica(
                stack,
                "Replica",
                source_database_instance=database,
                instance_type=ec2.InstanceType("m6g.large"),
                vpc=vpc,
                vpc_subnets=placement,
                storage_encrypted=True,
                storage_encryption_key=key,
            )
            s3.Bucket(stack, "Exports", encryption=s3.BucketEncryption.KMS, encryption_key=key)
    app.synth()
    return Assembly.load(outdir)


@pytest.mark.synth
def test_adding_an_in_region_replica_and_a_bucket_changes_the_inventory(store_change: Assembly) -> None:
    before = by_path(stores(store_change.stack_for("before"), ALLOWED))
    after = by_path(stores(store_change.stack_for("after"), ALLOWED))
    assert set(after) - set(before) == {"Replica", "Exports"}
    assert after["Replica"].kind == "database" and after["Exports"].kind == "bucket"
    assert before["Database"].copies == ()
    (replica,) = after["Database"].copies
    assert replica.target == "read replica Replica" and replica.region == "af-south-1" and replica.in_region
    assert after["Database"].resident and after["Database"].residency == "in af-south-1 only, copies in-region"
    assert after["Exports"].encryption == "customer-managed KMS key Key"


@pytest.mark.synth
def test_a_cross_region_replica_makes_its_source_and_itself_non_resident(store_change: Assembly) -> None:
    after = store_change.stack_for("after")
    template = copy.deepcopy(dict(after.template))
    replica_id = next(lid for lid, r in of_type(template, "AWS::RDS::DBInstance") if "Replica" in lid)
    template["Resources"][replica_id]["Properties"]["SourceRegion"] = "eu-west-1"
    changed = by_path(stores(stack_of(template, metadata=_renamed(after.metadata, "After")), ALLOWED))
    assert not changed["Database"].resident and "read replica Replica in eu-west-1" in changed["Database"].residency
    assert not changed["Replica"].resident and "eu-west-1" in changed["Replica"].residency
    assert changed["Documents"].resident


def test_a_store_outside_the_allowed_regions_is_not_resident_and_an_unencrypted_one_says_so() -> None:
    template = {
        "Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {}},
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"SqsManagedSseEnabled": False}},
        }
    }
    (bucket, queue) = stores(stack_of(template, region="eu-west-1"), ALLOWED)
    assert not bucket.resident and bucket.residency.startswith("NOT RESIDENT: eu-west-1 is outside")
    assert bucket.encryption == "S3 default (SSE-S3)" and queue.encryption == "NOT ENCRYPTED"
    assert bucket.deletion_policy == "Delete (CloudFormation default)"


def _renamed(metadata: object, hierarchical_id: str) -> dict[str, object]:
    """Metadata keyed as stack_of's "Test" stack expects."""
    assert isinstance(metadata, dict)
    return {key.replace(f"/{hierarchical_id}/", "/Test/", 1): value for key, value in metadata.items()}
