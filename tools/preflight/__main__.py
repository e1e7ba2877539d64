"""`python -m tools.preflight --env prod` (`make preflight ENV=prod`): is everything a first deploy needs there?

Reads the environment's account and the pipeline (tooling) account, never writes (every client refuses
anything but Get/Describe/List/Query), and lists every missing prerequisite, not only the first, each
with its DEPLOY_* code and the command that fixes it. The configuration is read as `cdk deploy` reads
it: cdk.json and cdk.context.json, `-c key=value` (as many as needed), then the CASHTRACE_* variables.

Exit status: 0 all present; 1 something is missing; 2 no usable credentials (how to get them is printed).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cashtrace_constructs.config import ENVIRONMENT_NAMES, pagerduty_secret_name
from cashtrace_constructs.errors import DeploymentError
from stacks import environments
from tools.preflight import checks, release_checks
from tools.preflight.accounts import Account
from tools.preflight.report import FAIL, Result, config_results, format_report, release_results

ROOT = Path(__file__).resolve().parent.parent.parent


def context_of(pairs: Sequence[str], root: Path = ROOT) -> dict[str, Any]:
    """What `cdk` would see: cdk.json's context, cdk.context.json, then each `-c key=value`."""
    context: dict[str, Any] = {}
    for name in ("cdk.json", "cdk.context.json"):
        path = root / name
        if path.exists():
            data = json.loads(path.read_text())
            context |= data.get("context", {}) if name == "cdk.json" else data
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator:
            raise SystemExit(f"-c takes key=value, got {pair!r}")
        context[key.strip()] = value.strip()
    return context


def run(
    environment_name: str,
    context: Mapping[str, Any],
    release_path: Path | None,
    *,
    account: Account | None = None,
    pipeline_account: Account | None = None,
    assembly: Path = ROOT / "cdk.out",
) -> tuple[list[Result], str]:
    """Every check for `environment_name`, in the order a first deploy needs them; and the report's title."""
    configs = {config.name: config for config in environments.all_environments(context)}
    environment, pipeline = configs[environment_name], environments.pipeline(context)
    promoted = environment_name in pipeline.promotion
    region = environment.infrastructure.region
    account = account or Account(environment_name, environment.infrastructure.account, region)
    pipeline_account = pipeline_account or Account("pipeline", pipeline.account, region)
    release, release_found = release_results(release_path, pipeline.release_repository)

    results = config_results(environment, pipeline, promoted=promoted) + release_found
    results += [checks.credentials(account), checks.credentials(pipeline_account)]
    required = checks.required_bootstrap_version(assembly)
    results += checks.guarded("region", account, lambda: checks.region(account))
    results += checks.guarded("region", pipeline_account, lambda: checks.region(pipeline_account))
    results += checks.guarded(
        "bootstrap",
        account,
        lambda: checks.bootstrap(account, required=required, trusted=pipeline.account if promoted else None),
    )
    results += checks.guarded(
        "bootstrap", pipeline_account, lambda: checks.bootstrap(pipeline_account, required=required, trusted=None)
    )
    secret = pagerduty_secret_name(environment_name)
    results += checks.guarded("secrets", account, lambda: checks.secret(account, secret))
    results += checks.guarded("tls", account, lambda: checks.tls(account, environment.endpoint, environment_name))
    results += checks.guarded("pipeline", pipeline_account, lambda: release_checks.pipeline_stack(pipeline_account))
    create_provider = environments.github_oidc().create_provider
    results += checks.guarded(
        "github-oidc",
        pipeline_account,
        lambda: release_checks.github_oidc(pipeline_account, create_provider=create_provider),
    )
    if release is not None:
        results += checks.guarded(
            "image",
            pipeline_account,
            lambda: release_checks.image(pipeline_account, pipeline.release_repository, release.digest),
        )
        if environment.settings.requires_approval:
            results += checks.guarded(
                "promotion",
                pipeline_account,
                lambda: release_checks.promotion(
                    pipeline_account, environment_name, "staging", release.digest, release.commit_sha
                ),
            )
    title = (
        f"Preflight of {environment.stack_name}: account {environment.infrastructure.account} ({region}), "
        f"images and deployment record in the pipeline account {pipeline.account}"
    )
    return results, title


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.preflight", description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", required=True, choices=ENVIRONMENT_NAMES)
    parser.add_argument("--release", type=Path, help="the release manifest to deploy (release.json)")
    parser.add_argument("--profile", help="AWS CLI profile of the environment's account (default: the usual chain)")
    parser.add_argument("--pipeline-profile", help="AWS CLI profile of the pipeline (tooling) account")
    parser.add_argument("-c", "--context", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    try:
        context = context_of(args.context)
        configs = {config.name: config for config in environments.all_environments(context)}
        pipeline = environments.pipeline(context)
    except DeploymentError as error:
        print(f"Preflight FAILED: the configuration is refused: {error}", file=sys.stderr)
        return 1
    environment = configs[args.env]
    region = environment.infrastructure.region
    account = Account(args.env, environment.infrastructure.account, region, profile=args.profile)
    pipeline_account = Account("pipeline", pipeline.account, region, profile=args.pipeline_profile or args.profile)
    results, title = run(args.env, context, args.release, account=account, pipeline_account=pipeline_account)
    print(format_report(title, results))
    return exit_status(results)


def exit_status(results: Sequence[Result]) -> int:
    """0 all present, 2 no usable credentials (the report says how to get them), 1 anything else missing."""
    if any(r.status == FAIL and (r.field or "").endswith(".credentials") for r in results):
        return 2
    return 1 if any(r.failed for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
