"""The security scan (Property 3): bandit, pip-audit, detect-secrets, cfn-lint, checkov and the AWS
Control Tower proactive controls (cfn-guard), one verdict.

Every tool's findings are normalized to (tool, rule, severity, location); a template finding's
location is the resource's construct path (`CashTrace-Prod/Storage/Bucket/Resource`) wherever the
template records it, so exceptions name resources the way the code does. Exceptions and the
failing severity come from security/policy.yaml only. Exit 1 when a finding at or above
`fail_at` is not excepted; every finding is printed either way, so a reviewer sees the triage.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import subprocess  # nosec B404 - fixed argv of our own tools, no shell
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tools.control_tower import evaluate, extract_bundle

ROOT = Path(__file__).resolve().parent.parent
SEVERITIES = ("LOW", "MEDIUM", "HIGH", "CRITICAL")
TOOLS = ("bandit", "pip-audit", "detect-secrets", "cfn-lint", "checkov", "control-tower")


@dataclass(frozen=True)
class Finding:
    tool: str
    rule: str
    severity: str
    location: str
    message: str


@dataclass(frozen=True)
class ScanException:
    tool: str
    rule: str
    resource: str
    reason: str

    def covers(self, finding: Finding) -> bool:
        return (
            self.tool == finding.tool
            and self.rule == finding.rule
            and fnmatch.fnmatchcase(finding.location, self.resource)
        )


@dataclass(frozen=True)
class Policy:
    fail_at: str
    bandit_paths: tuple[str, ...]
    exceptions: tuple[ScanException, ...]

    @classmethod
    def load(cls, path: Path) -> Policy:
        raw: dict[str, Any] = yaml.safe_load(path.read_text())
        fail_at = str(raw["fail_at"]).upper()
        if fail_at not in SEVERITIES:
            raise ValueError(f"{path}: fail_at must be one of {SEVERITIES}, got {fail_at!r}")
        exceptions = []
        for tool, entries in (raw.get("exceptions") or {}).items():
            if tool not in TOOLS:
                raise ValueError(f"{path}: exceptions for unknown tool {tool!r}")
            for entry in entries or []:
                if not str(entry.get("reason", "")).strip():
                    raise ValueError(f"{path}: exception {tool} {entry.get('id')} has no reason")
                # One entry may name several resources for the same reason.
                resources = entry.get("resource", "*")
                for resource in resources if isinstance(resources, list) else [resources]:
                    exceptions.append(ScanException(tool, str(entry["id"]), str(resource), entry["reason"]))
        return cls(fail_at, tuple(raw.get("bandit_paths", ())), tuple(exceptions))

    def blocks(self, finding: Finding) -> bool:
        return SEVERITIES.index(finding.severity) >= SEVERITIES.index(self.fail_at)


@dataclass(frozen=True)
class Verdict:
    blocking: tuple[Finding, ...]
    excepted: tuple[tuple[Finding, ScanException], ...]
    below_threshold: tuple[Finding, ...]
    unused_exceptions: tuple[ScanException, ...]

    @property
    def passed(self) -> bool:
        return not self.blocking


def judge(findings: Iterable[Finding], policy: Policy, tools_run: Iterable[str]) -> Verdict:
    blocking, excepted, below = [], [], []
    used: set[ScanException] = set()
    for finding in findings:
        match = next((e for e in policy.exceptions if e.covers(finding)), None)
        if match is not None:
            excepted.append((finding, match))
            used.add(match)
        elif policy.blocks(finding):
            blocking.append(finding)
        else:
            below.append(finding)
    ran = set(tools_run)
    unused = tuple(e for e in policy.exceptions if e not in used and e.tool in ran)
    return Verdict(tuple(blocking), tuple(excepted), tuple(below), unused)


# ---- parsers: each tool's JSON report -> findings ----


def parse_bandit(report: dict[str, Any]) -> list[Finding]:
    return [
        Finding(
            "bandit", r["test_id"], r["issue_severity"].upper(), f"{r['filename']}:{r['line_number']}", r["issue_text"]
        )
        for r in report.get("results", [])
    ]


def parse_cfn_lint(report: list[dict[str, Any]]) -> list[Finding]:
    levels = {"Error": "HIGH", "Warning": "MEDIUM", "Informational": "LOW"}
    findings = []
    for match in report:
        path = match.get("Location", {}).get("Path") or []
        resource = path[1] if len(path) > 1 and path[0] == "Resources" else "/".join(map(str, path))
        template = Path(match.get("Filename", "")).name
        findings.append(
            Finding(
                "cfn-lint",
                match["Rule"]["Id"],
                levels.get(match["Level"], "HIGH"),
                f"{template}:{resource}",
                match["Message"],
            )
        )
    return findings


def construct_path(template: Path, logical_id: str, cache: dict[Path, dict[str, Any]]) -> str | None:
    """The `aws:cdk:path` CDK records for a resource of a synthesized template (None if unknown)."""
    if template not in cache:
        cache[template] = json.loads(template.read_text()).get("Resources") or {} if template.is_file() else {}
    path = ((cache[template].get(logical_id) or {}).get("Metadata") or {}).get("aws:cdk:path")
    return str(path) if path else None


def parse_checkov(report: dict[str, Any] | list[dict[str, Any]], outdir: Path | None = None) -> list[Finding]:
    reports = report if isinstance(report, list) else [report]
    templates: dict[Path, dict[str, Any]] = {}
    findings = []
    for entry in reports:
        for check in entry.get("results", {}).get("failed_checks", []):
            file_path = str(check.get("file_path", ""))
            logical_id = str(check["resource"]).partition(".")[2]
            path = construct_path(outdir / file_path.lstrip("/"), logical_id, templates) if outdir else None
            findings.append(
                Finding(
                    "checkov",
                    check["check_id"],
                    # Offline checkov has no severities; an unexcepted failed check is treated as serious.
                    (check.get("severity") or "HIGH").upper(),
                    path or check["resource"],
                    f"{check['check_name']} ({check['resource']} in {Path(file_path).name})",
                )
            )
    return findings


def parse_pip_audit(report: dict[str, Any]) -> list[Finding]:
    return [
        Finding(
            "pip-audit", vuln["id"], "HIGH", f"{dep['name']}=={dep.get('version')}", vuln.get("description", "")[:200]
        )
        for dep in report.get("dependencies", [])
        for vuln in dep.get("vulns", [])
    ]


def parse_detect_secrets(report: dict[str, Any]) -> list[Finding]:
    return [
        Finding("detect-secrets", secret["type"], "HIGH", f"{filename}:{secret.get('line_number')}", "possible secret")
        for filename, secrets in report.get("results", {}).items()
        for secret in secrets
    ]


# ---- runners ----


def _executable(name: str) -> str:
    """On PATH, else beside this interpreter (a venv's python run without activating the venv)."""
    return shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent)) or name


def _run(argv: Sequence[str]) -> str:
    executable = _executable(argv[0])
    result = subprocess.run([executable, *argv[1:]], capture_output=True, text=True, cwd=ROOT, check=False)  # noqa: S603  # nosec B603
    # 1 means "findings" for these tools; the verdict comes from the findings, not the exit code.
    if result.returncode not in (0, 1) or not result.stdout.strip():
        raise RuntimeError(f"{argv[0]} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")
    return result.stdout


def run_bandit(paths: Sequence[str]) -> list[Finding]:
    return parse_bandit(json.loads(_run(["bandit", "-q", "-r", "-f", "json", *paths])))


def run_cfn_lint(templates: Sequence[Path]) -> list[Finding]:
    if not templates:
        raise RuntimeError("no templates to lint: run `make synth` first")
    # cfn-lint's exit code is a bit mask of the levels it found (2, 4, 6, ...), so read the report.
    result = subprocess.run(  # noqa: S603  # nosec B603
        [_executable("cfn-lint"), "--format", "json", *map(str, templates)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if not result.stdout.strip():
        if result.returncode == 0:
            return []
        raise RuntimeError(f"cfn-lint failed ({result.returncode}): {result.stderr.strip()[-2000:]}")
    return parse_cfn_lint(json.loads(result.stdout))


def run_checkov(outdir: Path, checkov: str) -> list[Finding]:
    if not templates_in(outdir):
        raise RuntimeError("no templates to scan: run `make synth` first")
    # One run over the directory (stage assemblies included): checkov's start-up dominates.
    output = _run(
        [
            checkov,
            "-d",
            str(outdir),
            "--framework",
            "cloudformation",
            "-o",
            "json",
            "--compact",
            "--quiet",
            "--skip-download",
        ]
    )
    return parse_checkov(json.loads(output), outdir)


def run_pip_audit() -> list[Finding]:
    return parse_pip_audit(
        json.loads(_run(["pip-audit", "--format", "json", "--progress-spinner", "off", "--skip-editable"]))
    )


def run_detect_secrets() -> list[Finding]:
    output = _run(
        [
            "detect-secrets",
            "scan",
            "--exclude-files",
            r"(^|/)(cdk\.out|node_modules|\.venv[^/]*)/",
            "--exclude-files",
            r"package-lock\.json$",
        ]
    )
    return parse_detect_secrets(json.loads(output))


def run_control_tower(templates: Sequence[Path]) -> list[Finding]:
    if not templates:
        raise RuntimeError("no templates to check: run `make synth` first")
    with tempfile.TemporaryDirectory() as directory:
        bundle = extract_bundle(Path(directory))
        return [
            # The controls carry no severity: a failing control is treated as serious.
            Finding("control-tower", f.control, "HIGH", f.location, f"{f.rule} ({f.logical_id} in {f.template})")
            for f in evaluate(bundle, templates)
        ]


# Known-bad inputs: a scanner that lets them through is broken or configured too laxly.
CANARY_PYTHON = "import subprocess\n\n\ndef run(command):\n    return subprocess.call(command, shell=True)\n"
CANARY_TEMPLATE = {
    "Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"AccessControl": "PublicReadWrite", "BucketNam": "x"}}
    }
}
CANARY_TOOLS = ("bandit", "cfn-lint", "checkov", "control-tower")


def canary(policy: Policy, tools: Sequence[str], checkov: str) -> list[str]:
    """The tools among `tools` that do NOT fail a known-bad input at `policy.fail_at` (empty: all good)."""
    strict = Policy(policy.fail_at, (), ())
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        (root / "insecure.py").write_text(CANARY_PYTHON)
        (root / "cdk.out").mkdir()
        (root / "cdk.out" / "Canary.template.json").write_text(json.dumps(CANARY_TEMPLATE))
        runners: dict[str, Callable[[], list[Finding]]] = {
            "bandit": lambda: run_bandit([str(root / "insecure.py")]),
            "cfn-lint": lambda: run_cfn_lint(templates_in(root / "cdk.out")),
            "checkov": lambda: run_checkov(root / "cdk.out", checkov),
            "control-tower": lambda: run_control_tower(templates_in(root / "cdk.out")),
        }
        return [tool for tool in tools if tool in runners and judge(runners[tool](), strict, [tool]).passed]


def templates_in(outdir: Path) -> list[Path]:
    return sorted(outdir.rglob("*.template.json"))


def print_verdict(verdict: Verdict, policy: Policy) -> None:
    def line(finding: Finding) -> str:
        return f"  {finding.severity:8} {finding.tool:14} {finding.rule:28} {finding.location}  {finding.message[:120]}"

    print(f"Security scan: failing at {policy.fail_at} and above (security/policy.yaml)")
    print(f"BLOCKING ({len(verdict.blocking)}):")
    print("\n".join(line(f) for f in verdict.blocking) or "  none")
    print(f"Excepted ({len(verdict.excepted)}):")
    print("\n".join(f"{line(f)}\n           reason: {e.reason.strip()[:160]}" for f, e in verdict.excepted) or "  none")
    print(f"Below {policy.fail_at} ({len(verdict.below_threshold)}):")
    print("\n".join(line(f) for f in verdict.below_threshold) or "  none")
    for exception in verdict.unused_exceptions:
        print(f"note: exception {exception.tool} {exception.rule} {exception.resource} matched nothing; remove it?")
    print("PASSED" if verdict.passed else "FAILED: fix the findings above or add a justified exception")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--policy", type=Path, default=ROOT / "security" / "policy.yaml")
    parser.add_argument("--cdk-out", type=Path, default=ROOT / "cdk.out")
    parser.add_argument("--tools", default=",".join(TOOLS), help=f"comma-separated subset of {','.join(TOOLS)}")
    parser.add_argument("--bandit-path", action="append", help="override the policy's bandit_paths")
    parser.add_argument("--checkov", default=os.environ.get("CHECKOV", "checkov"))
    parser.add_argument("--canary", action="store_true", help="only prove the scanners fail known-bad input")
    args = parser.parse_args(argv)
    policy = Policy.load(args.policy)
    tools = [t for t in args.tools.split(",") if t]
    unknown = set(tools) - set(TOOLS)
    if unknown:
        parser.error(f"unknown tools {sorted(unknown)}")
    if args.canary:
        lax = canary(policy, tools, args.checkov)
        for tool in lax:
            print(f"canary: {tool} let a known-bad input through at fail_at={policy.fail_at}")
        print("canary PASSED: every scanner fails known-bad input" if not lax else "canary FAILED")
        return 1 if lax else 0
    templates = templates_in(args.cdk_out)
    runners: dict[str, Callable[[], list[Finding]]] = {
        "bandit": lambda: run_bandit(args.bandit_path or policy.bandit_paths),
        "pip-audit": run_pip_audit,
        "detect-secrets": run_detect_secrets,
        "cfn-lint": lambda: run_cfn_lint(templates),
        "checkov": lambda: run_checkov(args.cdk_out, args.checkov),
        "control-tower": lambda: run_control_tower(templates),
    }
    findings: list[Finding] = []
    for tool in tools:
        found = runners[tool]()
        print(f"{tool}: {len(found)} finding(s)")
        findings += found
    verdict = judge(findings, policy, tools)
    print_verdict(verdict, policy)
    return 0 if verdict.passed else 1


if __name__ == "__main__":
    sys.exit(main())
