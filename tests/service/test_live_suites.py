"""The pipeline's IntegrationTests and SmokeTests steps, run as the pipeline runs them, against the
reference service on 127.0.0.1 over HTTPS: green against a healthy service, red against a broken one.

Each suite runs in its own `python -m pytest tests/<suite> --confcutdir=tests/<suite>` process (the
build spec's command) with the parameters the pipeline passes (base URL, release manifest) plus the
throwaway certificate's CA bundle.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cashtrace_constructs.release_manifest import ReleaseManifest, write
from service.server import ServiceHandler, ServiceSettings
from tests.live_api import BACKOFF_ENV, BASE_URL_ENV, CA_BUNDLE_ENV, RELEASE_MANIFEST_ENV
from tests.service.harness import running
from tests.tls import Certificate, self_signed

ROOT = Path(__file__).resolve().parents[2]
SUITES = ("integration", "smoke")
DIGEST = "sha256:" + "5" * 64
COMMIT = "1234567890abcdef1234567890abcdef12345678"  # pragma: allowlist secret
# The pipeline's test steps install pytest alone; these plugins of the repository's own suite stay off.
_OTHER_PLUGINS = ("xdist", "randomly", "hypothesispytest", "syrupy", "pytest_cov")


class _UnhealthyHandler(ServiceHandler):
    """A release whose /health fails, the rest of it answering."""

    def health(self) -> None:
        self.reply(500, {"status": "database unreachable"})


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ReleaseManifest]:
    path = tmp_path_factory.mktemp("release") / "release.json"
    return path, write(path, repository="cashtrace/api", digest=DIGEST, commit_sha=COMMIT)


def _settings(certificate: Certificate, *, commit: str = COMMIT, digest: str = DIGEST) -> ServiceSettings:
    return ServiceSettings(
        host="127.0.0.1",
        port=0,
        commit_sha=commit,
        image_digest=digest,
        tls_cert_file=str(certificate.cert_file),
        tls_key_file=str(certificate.key_file),
    )


def run_suite(suite: str, url: str, *, manifest: Path, ca_bundle: Path | None) -> tuple[int, str]:
    """`python -m pytest tests/<suite>` exactly as the pipeline's build spec runs it; (exit code, output)."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("CASHTRACE_", "PYTEST_"))}
    environment |= {BASE_URL_ENV: url, RELEASE_MANIFEST_ENV: str(manifest), BACKOFF_ENV: "0"}
    if ca_bundle is not None:
        environment[CA_BUNDLE_ENV] = str(ca_bundle)
    command = [sys.executable, "-m", "pytest", f"tests/{suite}", f"--confcutdir=tests/{suite}"]
    done = subprocess.run(
        [*command, "-p", "no:cacheprovider", "-q", *[f"-pno:{plugin}" for plugin in _OTHER_PLUGINS]],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout + done.stderr


def _counts(output: str) -> dict[str, int]:
    return {word: int(number) for number, word in re.findall(r"(\d+) (passed|failed|skipped|error)", output)}


@pytest.fixture(scope="module")
def healthy(certificate: Certificate) -> Iterator[str]:
    with running(_settings(certificate)) as service:
        yield service.url


@pytest.mark.parametrize("suite", SUITES)
def test_the_suite_passes_against_a_healthy_service_with_every_test_run(
    suite: str, healthy: str, certificate: Certificate, manifest: tuple[Path, ReleaseManifest]
) -> None:
    code, output = run_suite(suite, healthy, manifest=manifest[0], ca_bundle=certificate.ca_bundle)
    assert code == 0, output
    counts = _counts(output)
    # Green because every test ran and passed, not because the live marker skipped them.
    assert counts.get("passed", 0) >= 3 and "skipped" not in counts and "failed" not in counts, output


@pytest.mark.parametrize("suite", SUITES)
def test_the_suite_fails_when_health_fails(
    suite: str, certificate: Certificate, manifest: tuple[Path, ReleaseManifest]
) -> None:
    with running(_settings(certificate), _UnhealthyHandler) as service:
        code, output = run_suite(suite, service.url, manifest=manifest[0], ca_bundle=certificate.ca_bundle)
    assert code == 1, output
    assert re.search(rf"FAILED tests/{suite}/\w+\.py::test_health", output) and "'status': 500" in output, output
    assert _counts(output)["failed"] == 1, output


@pytest.mark.parametrize("suite", SUITES)
def test_the_suite_fails_when_version_is_not_the_manifests(
    suite: str, certificate: Certificate, manifest: tuple[Path, ReleaseManifest]
) -> None:
    # The previous release still serving: same image repository, another commit and digest.
    stale = _settings(certificate, commit="f" * 40, digest="sha256:" + "4" * 64)
    with running(stale) as service:
        code, output = run_suite(suite, service.url, manifest=manifest[0], ca_bundle=certificate.ca_bundle)
    assert code == 1, output
    assert re.search(rf"FAILED tests/{suite}/\w+\.py::test_\w+_(runs_the|approved)_release", output), output
    assert _counts(output)["failed"] == 1 and COMMIT in output and "f" * 40 in output, output


def test_without_the_ca_bundle_the_certificate_is_refused(healthy: str, manifest: tuple[Path, ReleaseManifest]) -> None:
    # The suites verify certificates: a self-signed one is only trusted through CASHTRACE_CA_BUNDLE.
    code, output = run_suite("integration", healthy, manifest=manifest[0], ca_bundle=None)
    assert code == 1 and "CERTIFICATE_VERIFY_FAILED" in output, output
