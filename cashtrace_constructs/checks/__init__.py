"""Our correctness-property rules, one per module, run as one policy-validation plugin."""

from __future__ import annotations

from collections.abc import Sequence

from cashtrace_constructs.checks.backup_verification import BackupVerification
from cashtrace_constructs.checks.cost_allocation_tags import CostAllocationTags
from cashtrace_constructs.checks.data_residency import DataResidency
from cashtrace_constructs.checks.data_store_residency import DataStoreResidency
from cashtrace_constructs.checks.database_protection import DatabaseProtection
from cashtrace_constructs.checks.every_alarm_has_action import EveryAlarmHasAction
from cashtrace_constructs.checks.iam_full_admin import IamFullAdmin
from cashtrace_constructs.checks.image_scanning import ImageScanOnPush
from cashtrace_constructs.checks.plugin import CashTraceChecks, evaluate
from cashtrace_constructs.checks.promotion_gate import PromotionGateBeforeRelease
from cashtrace_constructs.checks.public_buckets import PublicBuckets
from cashtrace_constructs.checks.rollback_budget import RollbackBudget
from cashtrace_constructs.checks.rule import Finding, Rule, StackRule, SynthesizedStack
from cashtrace_constructs.checks.scale_out_budget import ScaleOutBudget
from cashtrace_constructs.checks.scanned_image_ships import ScannedImageShips
from cashtrace_constructs.checks.secret_isolation import SecretIsolation
from cashtrace_constructs.checks.staging_before_prod import StagingBeforeProd
from cashtrace_constructs.checks.world_open_ingress import WorldOpenIngress
from cashtrace_constructs.checks.zero_downtime import ZeroDowntime
from cashtrace_constructs.config import DEFAULT_ALLOWED_REGIONS


def default_rules(allowed_regions: Sequence[str] = DEFAULT_ALLOWED_REGIONS) -> list[Rule]:
    """Every rule the CashTrace app is held to."""
    return [
        DataResidency(allowed_regions),
        DataStoreResidency(),
        BackupVerification(),
        CostAllocationTags(),
        RollbackBudget(),
        ScaleOutBudget(),
        ZeroDowntime(),
        SecretIsolation(),
        StagingBeforeProd(),
        PromotionGateBeforeRelease(),
        ScannedImageShips(),
        EveryAlarmHasAction(),
        PublicBuckets(),
        DatabaseProtection(),
        ImageScanOnPush(),
        WorldOpenIngress(),
        IamFullAdmin(),
    ]


__all__ = [
    "BackupVerification",
    "CashTraceChecks",
    "CostAllocationTags",
    "DataResidency",
    "DataStoreResidency",
    "DatabaseProtection",
    "EveryAlarmHasAction",
    "Finding",
    "IamFullAdmin",
    "ImageScanOnPush",
    "PromotionGateBeforeRelease",
    "PublicBuckets",
    "RollbackBudget",
    "Rule",
    "ScaleOutBudget",
    "ScannedImageShips",
    "SecretIsolation",
    "StackRule",
    "StagingBeforeProd",
    "SynthesizedStack",
    "WorldOpenIngress",
    "ZeroDowntime",
    "default_rules",
    "evaluate",
]
