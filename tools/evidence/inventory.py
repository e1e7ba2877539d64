"""The data inventory of one synthesized stack: every resource that stores or carries user data.

Each entry states where the store lives (region, AZs), the key it is encrypted with, where it is
copied to, how it is backed up and how long data is kept, what happens to it on deletion, and
its residency position. All of it is read from the template; nothing is typed by hand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from cashtrace_constructs.checks.rule import Finding
from cashtrace_constructs.checks.template import of_type, properties, references
from tools.evidence.assembly import Stack
from tools.evidence.classification import data_kind, is_classified
from tools.evidence.stores import Facts, facts_of, referenced

# CloudFormation's DeletionPolicy when a template names none: Snapshot for RDS instances outside
# a cluster and for clusters (documented per resource type), Delete for everything else.
_SNAPSHOT_BY_DEFAULT = frozenset({"AWS::RDS::DBCluster", "AWS::RDS::DBInstance"})


@dataclass(frozen=True)
class Copy:
    target: str
    region: str
    in_region: bool


@dataclass(frozen=True)
class Store:
    logical_id: str
    path: str
    resource_type: str
    role: str
    kind: str
    holds: str
    details: tuple[str, ...]
    region: str
    availability_zones: tuple[str, ...] | None
    placement: str
    encryption: str
    copies: tuple[Copy, ...]
    backup: tuple[str, ...]
    retention: tuple[str, ...]
    deletion_policy: str
    update_replace_policy: str
    deletion_protection: bool | None
    resident: bool
    residency: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Key:
    logical_id: str
    path: str
    description: str
    rotation: bool
    multi_region: bool
    deletion_policy: str
    encrypts: int


def _deletion_policy(resource: Mapping[str, Any], attribute: str) -> str:
    policy = resource.get(attribute)
    if policy:
        return str(policy)
    kind = resource.get("Type")
    if kind in _SNAPSHOT_BY_DEFAULT and not properties(resource).get("DBClusterIdentifier"):
        return "Snapshot (CloudFormation default)"
    return "Delete (CloudFormation default)"


def _encryption(stack: Stack, facts: Facts) -> str:
    if facts.key is None:
        return facts.key_default
    key_id = referenced(facts.key)
    if key_id and stack.resources.get(key_id, {}).get("Type") == "AWS::KMS::Key":
        return f"customer-managed KMS key {stack.name_of(key_id)}"
    if key_id and stack.resources.get(key_id, {}).get("Type") == "AWS::KMS::Alias":
        return f"KMS alias {stack.name_of(key_id)}"
    return f"KMS key {facts.key}"


def _backup_plans(stack: Stack) -> dict[str, list[str]]:
    """Logical id of a store -> what AWS Backup does for it (plans, vaults, restore tests)."""
    covered: dict[str, list[str]] = {}
    plans = dict(of_type(stack.template, "AWS::Backup::BackupPlan"))
    for _, selection in of_type(stack.template, "AWS::Backup::BackupSelection"):
        selection_props = properties(selection)
        plan = plans.get(referenced(selection_props.get("BackupPlanId")) or "")
        targets = references((selection_props.get("BackupSelection") or {}).get("Resources"))
        for rule in ((properties(plan).get("BackupPlan") or {}).get("BackupPlanRule") or []) if plan else []:
            vault = referenced(rule.get("TargetBackupVault"))
            days = (rule.get("Lifecycle") or {}).get("DeleteAfterDays", "forever")
            text = (
                f"AWS Backup rule {rule.get('RuleName')} {rule.get('ScheduleExpression')} "
                f"into {stack.name_of(vault) if vault else rule.get('TargetBackupVault')}, kept {days} days"
            )
            for action in rule.get("CopyActions") or []:
                destination = referenced(action.get("DestinationBackupVaultArn"))
                arn = action.get("DestinationBackupVaultArn")
                local = destination is not None and destination in stack.resources
                text += f"; copied to {stack.name_of(destination) if destination and local else arn!r}"
            for target in targets:
                covered.setdefault(target, []).append(text)
    for _, selection in of_type(stack.template, "AWS::Backup::RestoreTestingSelection"):
        selection_props = properties(selection)
        plan_name = selection_props.get("RestoreTestingPlanName")
        schedule = next(
            (
                properties(plan).get("ScheduleExpression")
                for _, plan in of_type(stack.template, "AWS::Backup::RestoreTestingPlan")
                if properties(plan).get("RestoreTestingPlanName") == plan_name
            ),
            "?",
        )
        for target in references(selection_props.get("ProtectedResourceArns")):
            covered.setdefault(target, []).append(f"restore tested {schedule} (plan {plan_name})")
    return covered


def _vault_copies(stack: Stack) -> dict[str, list[str]]:
    """Logical id of a store -> the vaults AWS Backup copies it into."""
    copies: dict[str, list[str]] = {}
    plans = dict(of_type(stack.template, "AWS::Backup::BackupPlan"))
    for _, selection in of_type(stack.template, "AWS::Backup::BackupSelection"):
        selection_props = properties(selection)
        plan = plans.get(referenced(selection_props.get("BackupPlanId")) or "")
        rules = ((properties(plan).get("BackupPlan") or {}).get("BackupPlanRule") or []) if plan else []
        vaults = {referenced(rule.get("TargetBackupVault")) for rule in rules} - {None}
        for target in references((selection_props.get("BackupSelection") or {}).get("Resources")):
            copies.setdefault(target, []).extend(sorted(str(vault) for vault in vaults))
    return copies


def stores(stack: Stack, allowed_regions: Sequence[str], findings: Sequence[Finding] = ()) -> list[Store]:
    """Every store and carrier of `stack`; `findings` are the residency rules' findings on it."""
    plans, vault_copies = _backup_plans(stack), _vault_copies(stack)
    problems: dict[str, list[str]] = {}
    for finding in findings:
        problems.setdefault(finding.logical_id or "", []).append(finding.message)
    inventory = []
    for logical_id, resource in stack.resources.items():
        kind = data_kind(str(resource.get("Type")))
        if kind is None:
            continue
        facts = facts_of(stack, logical_id, resource)
        copies = [
            Copy(target, region or stack.region, (region or stack.region) in allowed_regions)
            for target, region in facts.replication
        ]
        copies += [
            Copy(f"backup vault {stack.name_of(vault)}", stack.region, stack.region in allowed_regions)
            for vault in vault_copies.get(logical_id, [])
        ]
        outside = [copy for copy in copies if not copy.in_region]
        resident = stack.region in allowed_regions and not outside and logical_id not in problems
        if resident:
            residency = f"in {stack.region} only" + (", copies in-region" if copies else ", no copies")
        else:
            reasons = [f"{copy.target} in {copy.region}" for copy in outside] + problems.get(logical_id, [])
            if stack.region not in allowed_regions:
                reasons.insert(0, f"{stack.region} is outside {list(allowed_regions)}")
            residency = "NOT RESIDENT: " + "; ".join(reasons)
        inventory.append(
            Store(
                logical_id=logical_id,
                path=stack.name_of(logical_id),
                resource_type=str(resource["Type"]),
                role=kind.role,
                kind=kind.label,
                holds=kind.holds,
                details=tuple(detail for detail in facts.details if detail),
                region=stack.region,
                availability_zones=tuple(facts.availability_zones) if facts.availability_zones is not None else None,
                placement=facts.placement or "regional (AWS keeps it in several AZs of the region)",
                encryption=_encryption(stack, facts),
                copies=tuple(copies),
                backup=tuple(facts.backup + plans.get(logical_id, [])),
                retention=tuple(facts.retention),
                deletion_policy=_deletion_policy(resource, "DeletionPolicy"),
                update_replace_policy=_deletion_policy(resource, "UpdateReplacePolicy"),
                deletion_protection=facts.deletion_protection,
                resident=resident,
                residency=residency,
            )
        )
    return inventory


def keys(stack: Stack) -> list[Key]:
    """The KMS keys of the stack, with how many resources each one encrypts."""
    users: dict[str, int] = {}
    for resource in stack.resources.values():
        if resource.get("Type") in ("AWS::KMS::Key", "AWS::KMS::Alias", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            continue
        for target in references(properties(resource)):
            users[target] = users.get(target, 0) + 1
    return [
        Key(
            logical_id=logical_id,
            path=stack.name_of(logical_id),
            description=str(properties(resource).get("Description", "")),
            rotation=properties(resource).get("EnableKeyRotation") is True,
            multi_region=properties(resource).get("MultiRegion") is True,
            deletion_policy=_deletion_policy(resource, "DeletionPolicy"),
            encrypts=users.get(logical_id, 0),
        )
        for logical_id, resource in of_type(stack.template, "AWS::KMS::Key")
    ]


def unclassified_types(stack: Stack) -> list[str]:
    """Resource types of the stack that nobody has declared a store, a carrier or data-free."""
    return sorted({str(r.get("Type")) for r in stack.resources.values() if not is_classified(str(r.get("Type")))})
