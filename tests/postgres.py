"""A real, throwaway PostgreSQL server on 127.0.0.1 for the Lambdas that speak to the database.

Started once per test process from Debian's server binaries (`make test` installs them with
`scripts/ensure_postgres.sh`): its own data directory, a free port, TLS only (a self-signed
certificate for 127.0.0.1, like RDS's `rds.force_ssl=1`) and SCRAM passwords, as RDS has.
Without the binaries the tests that need it skip, except under CI, where they fail: CI must run them.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

MASTER_USERNAME = "cashtrace_admin"
DATABASE_NAME = "cashtrace"
_RUN_AS = "postgres"


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    master_username: str
    master_password: str
    database: str
    ca_file: str

    def connect(self, user: str, password: str, database: str | None = None, **kwargs: Any) -> Any:
        import ssl

        import pg8000.native

        return pg8000.native.Connection(
            user=user,
            password=password,
            host=self.host,
            port=self.port,
            database=database or self.database,
            ssl_context=ssl.create_default_context(cafile=self.ca_file),
            timeout=5,
            **kwargs,
        )

    def admin(self) -> Any:
        return self.connect(self.master_username, self.master_password)


def _binaries() -> Path | None:
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run the PostgreSQL tests (.ci/run installs the server)", pytrace=False)
    pytest.skip(f"{reason}; `make test` installs it (scripts/ensure_postgres.sh)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_postgres() -> Iterator[PostgresServer]:
    binaries = _binaries()
    if binaries is None:
        _unavailable("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
        return
    # The server refuses to run as root; as root, run it as Debian's postgres user.
    run_as: dict[str, Any] = {}
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam(_RUN_AS)
        except KeyError:
            _unavailable(f"running as root and there is no {_RUN_AS!r} user to run the server")
            return
        run_as = {"user": owner.pw_uid, "group": owner.pw_gid}
    root = Path(tempfile.mkdtemp(prefix="cashtrace-postgres-"))
    data, password = root / "data", "master-" + os.urandom(12).hex()
    (root / "password").write_text(password)
    key, certificate = str(root / "server.key"), str(root / "server.crt")
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", certificate),
        ],
        check=True,
        capture_output=True,
    )
    (root / "server.key").chmod(0o600)
    if run_as:
        for path in (root, *root.iterdir()):
            os.chown(path, run_as["user"], run_as["group"])
    subprocess.run(
        [
            *(str(binaries / "initdb"), "-D", str(data), "-U", MASTER_USERNAME, "--pwfile", str(root / "password")),
            *("--auth-host=scram-sha-256", "--auth-local=scram-sha-256", "-E", "UTF8", "--no-sync"),
        ],
        check=True,
        capture_output=True,
        **run_as,
    )
    # TLS only, as rds.force_ssl=1 makes RDS: a plain connection has no matching line.
    (data / "pg_hba.conf").write_text("hostssl all all 127.0.0.1/32 scram-sha-256\n")
    port = _free_port()
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={root} -c fsync=off "
        f"-c ssl=on -c ssl_cert_file={root / 'server.crt'} -c ssl_key_file={root / 'server.key'}"
    )
    subprocess.run(
        [str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"],
        check=True,
        capture_output=True,
        **run_as,
    )
    server = PostgresServer("127.0.0.1", port, MASTER_USERNAME, password, DATABASE_NAME, str(root / "server.crt"))
    try:
        admin = server.connect(MASTER_USERNAME, password, database="postgres")
        admin.run(f"CREATE DATABASE {DATABASE_NAME}")
        admin.close()
        yield server
    finally:
        subprocess.run(
            [str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True, **run_as
        )
        shutil.rmtree(root, ignore_errors=True)
