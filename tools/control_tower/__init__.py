"""AWS Control Tower proactive controls (cfn-guard rules) over the synthesized templates.

The rules and the cfn-guard binary come from the pinned `cdklabs-cdk-validator-cfnguard` wheel;
`python -m tools.control_tower` prints the report, `make security` judges it by security/policy.yaml.
"""

from tools.control_tower.guard import ControlFinding, GuardBundle, evaluate, extract_bundle, parse_report

__all__ = ["ControlFinding", "GuardBundle", "evaluate", "extract_bundle", "parse_report"]
