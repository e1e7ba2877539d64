"""What a preflight found: one result per check (ok, FAIL with its code and fix, a note, or not checked), printed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cashtrace_constructs.config import EnvironmentConfig, PipelineConfig
from cashtrace_constructs.errors import DeploymentError, ErrorCode
from cashtrace_constructs.release_manifest import ReleaseManifest, load
from stacks.release import require_repository

OK, FAIL, NOTE, SKIPPED = "ok", "FAIL", "note", "not checked"


@dataclass(frozen=True)
class Result:
    check: str
    status: str
    message: str
    code: ErrorCode | None = None
    field: str | None = None
    fix: str = ""

    @property
    def failed(self) -> bool:
        return self.status in (FAIL, SKIPPED)

    def lines(self) -> list[str]:
        where = f" [{self.field}]" if self.field else ""
        code = f"{self.code.value}{where}: " if self.code else ""
        lines = [f"  {self.status:<11} {self.check:<13} {code}{self.message}"]
        fixes = [line for line in self.fix.splitlines() if line]
        lines += [f"  {'':<11} {'':<13} {'fix:' if index == 0 else '    '} {line}" for index, line in enumerate(fixes)]
        return lines


def failed(check: str, code: ErrorCode, message: str, *, field: str | None = None, fix: str = "") -> Result:
    return Result(check, FAIL, message, code, field, fix)


def format_report(title: str, results: Sequence[Result]) -> str:
    lines = [title]
    for result in results:
        lines += result.lines()
    failures = [r for r in results if r.status == FAIL]
    skipped = [r for r in results if r.status == SKIPPED]
    if failures or skipped:
        lines.append(
            f"Preflight FAILED: {len(failures)} of {len(results)} checks failed, {len(skipped)} could not run. "
            "Fix each, then run it again."
        )
    else:
        lines.append(f"Preflight passed: {len(results)} checks (notes are what no AWS API can tell).")
    return "\n".join(lines)


# ---- the configuration: offline ----------------------------------------------------------------


def _placeholder_fix(field: str) -> str:
    name, *rest = field.split(".")
    leaf = ".".join(rest)
    if name == "pipeline" and leaf.startswith("notification_emails"):
        return "-c notification-emails=releases@your-domain,oncall@your-domain (or CASHTRACE_NOTIFICATION_EMAILS)"
    if leaf in ("service.repository_account",) or (name == "pipeline" and leaf == "account"):
        return "-c account.pipeline=<12-digit id of the tooling account> (or CASHTRACE_PIPELINE_ACCOUNT)"
    if leaf == "infrastructure.account":
        return f"-c account.{name}=<12-digit id> (or CASHTRACE_{name.upper()}_ACCOUNT)"
    if leaf.startswith("endpoint."):
        return (
            f"-c hosted-zone-id.{name}=Z... (the public zone of cashtrace.ng in that account; "
            f"CASHTRACE_{name.upper()}_HOSTED_ZONE_ID), or -c certificate-arn.{name}=arn:aws:acm:... "
            f"(CASHTRACE_{name.upper()}_CERTIFICATE_ARN)"
        )
    return f"give {field} a real value (README: Deploying for real)"


def config_results(environment: EnvironmentConfig, pipeline: PipelineConfig, *, promoted: bool) -> list[Result]:
    """Every value still a documented placeholder: it synthesizes, it cannot deploy."""
    fields = list(environment.placeholder_fields())
    # The pipeline's own placeholders matter where the pipeline deploys the environment.
    fields += [f for f in pipeline.placeholder_fields() if promoted or f == "pipeline.account"]
    if not fields:
        return [Result("config", OK, f"no placeholder left in the {environment.name} and pipeline values")]
    return [
        failed(
            "config",
            ErrorCode.CONFIG_INVALID,
            "still the documented placeholder; it synthesizes but cannot deploy",
            field=field,
            fix=f"{_placeholder_fix(field)}; give it to `cdk deploy` and to make preflight CONTEXT='-c ...' alike",
        )
        for field in fields
    ]


def release_results(path: Path | None, repository: str) -> tuple[ReleaseManifest | None, list[Result]]:
    """The release manifest to deploy, read by `release_manifest.py` (a tag or the placeholder is refused)."""
    if path is None:
        return None, [
            failed(
                "release",
                ErrorCode.CI_FAILED,
                "no release named: the stacks would pin the placeholder digest, which CloudFormation refuses",
                field="release",
                fix="make preflight ENV=<env> RELEASE=release.json (the manifest of the release to deploy, "
                "docs/release.md); a first release comes from CI once the pipeline stack is deployed",
            )
        ]
    try:
        release = load(str(path))
        require_repository(release, repository)
    except DeploymentError as error:
        return None, [
            failed("release", error.code, error.detail, field=error.field, fix="use the release.json CI wrote")
        ]
    commit = release.commit_sha or "unknown"
    return release, [Result("release", OK, f"{release.repository}@{release.digest} (commit {commit})")]
