"""The evidence report for people: the JSON report (report.py) rendered as Markdown."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def cell(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        value = "; ".join(str(item) for item in value) if value else "none"
    return str(value).replace("|", "\\|").replace("\n", " ")


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return [*lines, ""]


def _location(store: Mapping[str, Any]) -> str:
    return f"{store['region']}: {store['placement']}"


def _copies(store: Mapping[str, Any]) -> str:
    copies = store["copies"]
    if not copies:
        return "none"
    return "; ".join(
        f"{copy['target']} ({copy['region']}{'' if copy['in_region'] else ', OUTSIDE'})" for copy in copies
    )


def _deletion(store: Mapping[str, Any]) -> str:
    text = f"{store['deletion_policy']} (replace: {store['update_replace_policy']})"
    if store["deletion_protection"] is not None:
        text += f", deletion protection {'on' if store['deletion_protection'] else 'OFF'}"
    return text


def _inventory(report: Mapping[str, Any]) -> list[str]:
    inventory = report["inventory"]
    resident = sum(1 for store in inventory if store["resident"])
    lines = [
        "## Data inventory",
        "",
        f"Every resource of `{report['stack']}` that stores or carries user data: **{len(inventory)}**, of which "
        f"**{resident}** are resident (in {', '.join(report['allowedRegions'])} only, every copy in-region).",
        "",
    ]
    rows = [
        (
            f"`{store['path']}`",
            f"{store['kind']}, {store['role']} {store['holds']}"
            + (f" ({', '.join(store['details'])})" if store["details"] else ""),
            _location(store),
            store["encryption"],
            _copies(store),
            store["backup"],
            store["retention"],
            _deletion(store),
            ("" if store["resident"] else "**") + store["residency"] + ("" if store["resident"] else "**"),
        )
        for store in inventory
    ]
    lines += table(
        ("Store", "What", "Location", "Encryption", "Copies", "Backup", "Retention", "Deletion", "Residency"), rows
    )
    lines += ["### Encryption keys", ""]
    lines += table(
        ("Key", "Description", "Rotation", "Multi-region", "Deletion", "Used by"),
        (
            (
                f"`{key['path']}`",
                key["description"],
                "on" if key["rotation"] else "OFF",
                "YES" if key["multi_region"] else "no",
                key["deletion_policy"],
                f"{key['encrypts']} resources",
            )
            for key in report["keys"]
        ),
    )
    lines += ["### Resource types that hold no user data", ""]
    lines += table(("Type", "Why"), sorted(report["noUserData"].items()))
    if report["unclassifiedTypes"]:
        lines += [
            "**Not classified yet** (decide in `tools/evidence/classification.py`): "
            + ", ".join(f"`{kind}`" for kind in report["unclassifiedTypes"]),
            "",
        ]
    return lines


def _properties(report: Mapping[str, Any]) -> list[str]:
    lines = ["## The ten correctness properties", ""]
    lines += table(
        ("Property", "Enforced by", "Result in this synth"),
        (
            (
                p["name"],
                p["enforced_by"],
                p["result"] if not p["findings"] else f"{p['result']}: {len(p['findings'])} finding(s)",
            )
            for p in report["properties"]
        ),
    )
    for p in report["properties"]:
        lines += [f"**{p['name']}**: {p['result']}", ""]
        lines += [f"- {rule['rule_id']} ({rule['result']}): {rule['description']}" for rule in p["rules"]]
        lines += [f"- {fact}" for fact in p["evidence"]]
        lines += [f"- FINDING: {finding}" for finding in p["findings"]]
        lines.append("")
    if report["otherRules"]:
        lines += ["Other rules of the checks plugin:", ""]
        lines += [f"- {rule['rule_id']} ({rule['result']}): {rule['description']}" for rule in report["otherRules"]]
        lines += [f"  - FINDING: {finding}" for rule in report["otherRules"] for finding in rule["findings"]]
        lines.append("")
    return lines


def _acknowledgments(report: Mapping[str, Any]) -> list[str]:
    groups = report["acknowledgments"]
    total = sum(len(items) for items in groups.values())
    lines = [
        "## Acknowledged findings",
        "",
        f"{total} acknowledgments in {len(groups)} capabilities (`stacks/acknowledgments/<capability>.py`); "
        'each names one construct path (`*` = one segment) and one rule. "Suppressed" counts the findings it '
        "suppressed in this synth; an acknowledgment that suppresses nothing fails synthesis.",
        "",
    ]
    for capability, items in groups.items():
        lines += [f"### {capability}", ""]
        lines += table(
            ("Rule", "Where", "Suppressed", "Reason"),
            (
                (item["rule"].split("::", 1)[-1], f"`{item['path']}`", item["suppressed"], item["reason"])
                for item in items
            ),
        )
    return lines


def _scanners(report: Mapping[str, Any]) -> list[str]:
    scanners = report["scanners"]
    lines = ["## Scanners", "", "cdk-nag packs (validation plugins, every synth):", ""]
    lines += table(
        ("Pack", "Result", "Unacknowledged", "Acknowledged"),
        ((p["name"], p["conclusion"], p["violations"], p["suppressed"]) for p in scanners["nag_packs"]),
    )
    lines += ["Our rules (`CashTraceChecks` plugin, every synth):", ""]
    lines += [f"- {rule}" for rule in scanners["rules"]]
    lines += [
        "",
        f"Security gate (`make security`, CI job security-scan): {', '.join(scanners['security_tools'])}; "
        f"fails at {scanners['security_fail_at']} and above. It runs:",
        "",
        *(f"- `{command}`" for command in scanners["security_commands"]),
        "",
        "Its exceptions (security/policy.yaml):",
        "",
    ]
    lines += table(
        ("Tool", "Rule", "Where", "Reason"),
        ((e["tool"], e["rule"], f"`{e['resource']}`", e["reason"]) for e in scanners["security_exceptions"]),
    )
    budgets = report["budgets"]
    lines += ["## Timing budgets (`make budgets`)", ""]
    if budgets is None:
        lines += ["No service in this stack.", ""]
    else:
        lines += table(
            ("Path", "Worst case", "Budget"),
            (
                (
                    "rollback (Property 5)",
                    f"{budgets['rollback_seconds']} s",
                    f"{budgets['rollback_budget_seconds']} s",
                ),
                (
                    "scale-out (Property 9)",
                    f"{budgets['scale_out_seconds']} s",
                    f"{budgets['scale_out_budget_seconds']} s",
                ),
            ),
        )
        lines += [f"Within budget: {'yes' if budgets['within_budget'] else 'NO'}.", ""]
    return lines


def render(report: Mapping[str, Any], diagram: str | None = None) -> str:
    conclusion = report["conclusion"]
    lines = [
        f"# Evidence: CashTrace {report['environment']}",
        "",
        f"Stack `{report['stack']}`, account {report['account']}, region {report['region']}; "
        f"source {report['sourceVersion'] or 'unknown'}. Generated by `make evidence ENV={report['environment']}` "
        "from the synthesized app (cdk.out); nothing in it is typed by hand.",
        "",
        f"**Conclusion: {conclusion}.**",
        "",
    ]
    lines += [f"- {problem}" for problem in report["problems"]]
    if report["problems"]:
        lines.append("")
    if diagram:
        lines += ["## Architecture", "", diagram, ""]
    for section in (_inventory, _properties, _acknowledgments, _scanners):
        lines += section(report)
    return "\n".join(lines).rstrip() + "\n"
