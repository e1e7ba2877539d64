"""`python -m tools.secret_manager --env staging list|get|set|rotate|audit [NAME]`: the operator CLI.

Values are read from standard input, never from the command line (shell history, process lists);
exit 2 carries the DEPLOY_* code of a refusal.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from cashtrace_constructs.config import ENVIRONMENT_NAMES
from cashtrace_constructs.errors import DeploymentError, ErrorCode
from tools.secret_manager.manager import DEFAULT_REGION, SecretManager


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.secret_manager",
        description="Operate one CashTrace environment's secrets (Property 6: other environments are refused).",
    )
    parser.add_argument("--env", required=True, choices=ENVIRONMENT_NAMES, help="the environment to operate on")
    parser.add_argument("--region", default=DEFAULT_REGION)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="name, version, created, rotated, next rotation of every secret")
    for command, text in (
        ("get", "print the current value"),
        ("set", "store a new current value read from standard input (never from the command line)"),
        ("rotate", "start the configured rotation now"),
        ("audit", "reads, writes and rotations from CloudTrail, one JSON object per line"),
    ):
        sub = commands.add_parser(command, help=text)
        sub.add_argument("name", help="api-keys, cashtrace/<env>/api-keys or the secret's ARN")
        if command == "audit":
            sub.add_argument("--days", type=int, default=7, help="how far back to look (at most 90)")
    return parser


def _json_default(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def main(
    argv: Sequence[str] | None = None,
    *,
    manager_factory: Callable[[str, str], SecretManager] | None = None,
    stdin: Any = None,
    stdout: Any = None,
    stderr: Any = None,
) -> int:
    args = _parser().parse_args(argv)
    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    factory = manager_factory or (lambda env, region: SecretManager(env, region=region))
    try:
        manager = factory(args.env, args.region)
        if args.command == "list":
            for metadata in manager.list_secrets():
                print(json.dumps(asdict(metadata), default=_json_default), file=stdout)
        elif args.command == "get":
            print(manager.get_secret(args.name), file=stdout)
        elif args.command == "set":
            value = stdin.read().rstrip("\n")
            if not value:
                raise DeploymentError(ErrorCode.CONFIG_INVALID, "no value on standard input", field="value")
            manager.set_secret(args.name, value)
        elif args.command == "rotate":
            manager.rotate_secret(args.name)
        elif args.command == "audit":
            since = datetime.now(UTC) - timedelta(days=args.days)
            for log in manager.audit_access(args.name, since=since):
                print(json.dumps(asdict(log), default=_json_default), file=stdout)
    except DeploymentError as error:
        print(str(error), file=stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
