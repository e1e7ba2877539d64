#!/usr/bin/env bash
# Debian's PostgreSQL server (and openssl), which the Lambda tests start on 127.0.0.1 themselves
# (tests/postgres.py): installed when missing, so a fresh machine and CI run those tests too.
set -euo pipefail
if { command -v initdb >/dev/null || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; } \
  && command -v openssl >/dev/null; then
  exit 0
fi
as_root=()
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)  # GitHub's runners: a user with passwordless sudo
elif [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "PostgreSQL server binaries or openssl are missing and cannot be installed here:" \
    "install Debian's postgresql and openssl packages (without them the PostgreSQL tests skip; under CI they fail)" >&2
  exit 0
fi
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql openssl >/dev/null
# The package may start a cluster of its own on 5432; the tests need none of it.
if command -v pg_lsclusters >/dev/null; then
  pg_lsclusters -h | while read -r version name _; do "${as_root[@]}" pg_ctlcluster "$version" "$name" stop >/dev/null 2>&1 || true; done
fi
