"""The CI definition itself: ci-gate needs every job, the ruleset requires it, coverage is 80
everywhere it is written down, actions are pinned, and actionlint and zizmor find nothing."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
REQUIRED_CHECK = "ci-gate"
CI_JOBS = {"lint", "typecheck", "unit-tests", "property-tests", "security-scan", "synth"}


def _workflow(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    return loaded


def _tool(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))


def gate_problems(workflow: dict[str, Any]) -> list[str]:
    """Why `ci-gate` would not block a merge when some job fails (empty when it would)."""
    jobs = workflow["jobs"]
    gate = jobs.get(REQUIRED_CHECK)
    if gate is None:
        return [f"no {REQUIRED_CHECK} job"]
    problems = []
    needs = set(gate.get("needs", []))
    missing = set(jobs) - {REQUIRED_CHECK} - needs
    if missing:
        problems.append(f"{REQUIRED_CHECK} does not need {sorted(missing)}")
    if "always()" not in str(gate.get("if", "")):
        problems.append(f"{REQUIRED_CHECK} is skipped, not failed, when a need fails: add `if: always()`")
    script = " ".join(step.get("run", "") for step in gate.get("steps", []))
    if "needs" not in " ".join(str(v) for step in gate.get("steps", []) for v in step.get("env", {}).values()):
        problems.append(f"{REQUIRED_CHECK} does not look at the needs' results")
    if 'result == "success"' not in script:
        problems.append(f"{REQUIRED_CHECK} does not require every need to have succeeded")
    return problems


def test_ci_has_every_stage_of_the_issue() -> None:
    assert set(_workflow("ci.yml")["jobs"]) == CI_JOBS | {REQUIRED_CHECK}


def test_ci_gate_needs_every_other_job_and_fails_when_one_fails() -> None:
    assert gate_problems(_workflow("ci.yml")) == []


def test_removing_a_job_from_the_gate_is_caught() -> None:
    workflow = _workflow("ci.yml")
    workflow["jobs"][REQUIRED_CHECK]["needs"].remove("security-scan")
    assert gate_problems(workflow) == ["ci-gate does not need ['security-scan']"]
    workflow = _workflow("ci.yml")
    del workflow["jobs"][REQUIRED_CHECK]["if"]
    assert len(gate_problems(workflow)) == 1


def test_ruleset_requires_ci_gate_a_review_and_forbids_force_push_and_deletion() -> None:
    import json

    ruleset = json.loads((ROOT / ".github" / "rulesets" / "main.json").read_text())
    assert ruleset["target"] == "branch" and ruleset["enforcement"] == "active"
    assert ruleset["conditions"]["ref_name"]["include"] == ["~DEFAULT_BRANCH"]
    rules = {rule["type"]: rule.get("parameters", {}) for rule in ruleset["rules"]}
    checks = [c["context"] for c in rules["required_status_checks"]["required_status_checks"]]
    assert checks == [REQUIRED_CHECK]
    assert rules["required_status_checks"]["strict_required_status_checks_policy"] is True
    assert rules["pull_request"]["required_approving_review_count"] >= 1
    assert rules["pull_request"]["dismiss_stale_reviews_on_push"] is True
    assert {"non_fast_forward", "deletion"} <= set(rules)
    # Nobody may bypass the gate, admins included.
    assert ruleset.get("bypass_actors", []) == []
    # The check name the ruleset requires is the job name GitHub reports.
    assert _workflow("ci.yml")["jobs"][REQUIRED_CHECK]["name"] == REQUIRED_CHECK


def coverage_thresholds() -> dict[str, list[int]]:
    """Every coverage threshold written in the repository, by file (Property 2)."""
    found: dict[str, list[int]] = {}
    pattern = re.compile(
        r"(?:fail[_-]under|cov-fail-under)\s*[=:]?\s*(\d+)|coverage[^\n]{0,40}?(?:>=|≥|at least|under)\s*(\d+)\s*%"
    )
    candidates = [ROOT / "pyproject.toml", ROOT / "Makefile", ROOT / "README.md", *WORKFLOWS.glob("*.yml")]
    candidates += ROOT.glob("docs/*.md")
    for path in candidates:
        if path.exists():
            values = [int(a or b) for a, b in pattern.findall(path.read_text())]
            if values:
                found[str(path.relative_to(ROOT))] = values
    return found


def test_coverage_threshold_is_80_in_pyproject_and_everywhere_it_appears() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["tool"]["coverage"]["report"]["fail_under"] == 80
    thresholds = coverage_thresholds()
    assert thresholds.get("pyproject.toml") == [80]
    assert {value for values in thresholds.values() for value in values} == {80}, thresholds


def test_unit_tests_job_runs_make_test_which_applies_the_pyproject_gate() -> None:
    steps = _workflow("ci.yml")["jobs"]["unit-tests"]["steps"]
    assert any(step.get("run", "").startswith("make test") for step in steps)
    makefile = (ROOT / "Makefile").read_text()
    test_recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "--cov" in test_recipe and "--cov-fail-under" not in test_recipe
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def _uses(workflow: dict[str, Any]) -> list[str]:
    return [step["uses"] for job in workflow["jobs"].values() for step in job.get("steps", []) if "uses" in step]


@pytest.mark.parametrize("name", sorted(p.name for p in WORKFLOWS.glob("*.yml")))
def test_actions_are_pinned_by_commit_and_permissions_are_least(name: str) -> None:
    workflow = _workflow(name)
    for uses in _uses(workflow):
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", uses), f"{name}: {uses} is not pinned by commit SHA"
    text = (WORKFLOWS / name).read_text()
    assert all(re.search(rf"{re.escape(u)} # v\d", text) for u in _uses(workflow)), "keep the version comment"
    assert workflow["permissions"] == {}, "top-level permissions must be empty; jobs ask for what they use"
    assert "concurrency" in workflow
    for job_name, job in workflow["jobs"].items():
        permissions = job.get("permissions")
        assert permissions is not None, f"{name}:{job_name} has no permissions block"
        assert permissions.get("contents", "read") == "read"
        if permissions.get("id-token") == "write":
            assert (name, job_name) == ("release.yml", "release"), "only the release job assumes the AWS role"
    assert "pull_request_target" not in workflow.get(True, workflow.get("on", {}))


def test_release_runs_on_main_only_and_uses_oidc_not_keys() -> None:
    workflow = _workflow("release.yml")
    # PyYAML reads the `on` key as True.
    assert workflow[True] == {"push": {"branches": ["main"]}}
    text = (WORKFLOWS / "release.yml").read_text()
    assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text
    job = workflow["jobs"]["release"]
    assert "environment" not in job, "an environment changes the OIDC subject the role trusts"


def test_release_scan_blocks_at_the_configured_severity() -> None:
    from cashtrace_constructs.config import SEVERITIES
    from stacks.environments import pipeline

    threshold = pipeline().vulnerability_severity_threshold
    expected = SEVERITIES[SEVERITIES.index(threshold) :]
    workflow = _workflow("release.yml")
    assert workflow["env"]["BLOCKING_SEVERITIES"].split(",") == list(expected)
    [scan] = [s for s in workflow["jobs"]["release"]["steps"] if "trivy-action" in s.get("uses", "")]
    assert scan["with"]["exit-code"] == "1"
    assert scan["with"]["severity"] == "${{ env.BLOCKING_SEVERITIES }}"


def test_snapshots_are_never_updated_in_ci() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        assert "snapshot-update" not in path.read_text(), path.name


def test_zizmor_finds_nothing() -> None:
    zizmor = _tool("zizmor")
    if zizmor is None:
        pytest.fail("zizmor is not installed: it is in the lint dependency group (pip install --group dev)")
    result = subprocess.run(
        [zizmor, "--offline", "--persona", "pedantic", "--no-progress", str(WORKFLOWS)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_finds_nothing() -> None:
    actionlint = _tool("actionlint")
    if actionlint is None:
        if os.environ.get("CASHTRACE_REQUIRE_ACTIONLINT"):
            pytest.fail("actionlint is required here but not installed (pip install --group workflow-lint)")
        pytest.skip("actionlint not installed: its wheel downloads the binary from GitHub (make workflow-lint)")
    result = subprocess.run([actionlint], capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
