"""The deploy hook over HTTPS: it connects to the load balancer and verifies the certificate's host name.

A real TLS server on 127.0.0.1 stands in for the load balancer, with a certificate for a host name
that resolves nowhere (as the environment's name may not yet point at a new load balancer), issued
by a CA made for the test.
"""

from __future__ import annotations

import datetime
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from lambdas.deployment_health_check import handler as hook

HOST = "api.cashtrace.invalid"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(
    subject: str, issuer: str, public_key: Any, signing_key: Any, *, ca: bool, san: str | None = None
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        # The hook must send the certificate's name, as a client of the real domain would.
        status = 200 if self.headers.get("Host", "").startswith(HOST) else 421
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("test CA", "test CA", ca_key.public_key(), ca_key, ca=True)
    paths = {"ca": directory / "ca.pem"}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    for label, san in (("right", HOST), ("wrong", "other.cashtrace.invalid")):
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = _certificate(san, "test CA", key.public_key(), ca_key, ca=False, san=san)
        path = directory / f"{label}.pem"
        path.write_bytes(
            certificate.public_bytes(serialization.Encoding.PEM)
            + key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        paths[label] = path
    return paths


def _serve(certificate: Path) -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def right_server(pki: dict[str, Path]) -> Iterator[ThreadingHTTPServer]:
    yield from _serve(pki["right"])


@pytest.fixture
def wrong_server(pki: dict[str, Path]) -> Iterator[ThreadingHTTPServer]:
    yield from _serve(pki["wrong"])


def _trusting(pki: dict[str, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(pki["ca"]))


def test_a_certificate_for_the_url_host_passes_through_the_load_balancer_address(
    pki: dict[str, Path], right_server: ThreadingHTTPServer
) -> None:
    url = f"https://{HOST}:{right_server.server_port}/health"
    result = hook.check_once(url, 2, connect_host="127.0.0.1", tls_context=_trusting(pki))
    assert result.healthy and result.status == 200, result
    assert result.endpoint == url


def test_a_certificate_for_another_name_fails_the_check(
    pki: dict[str, Path], wrong_server: ThreadingHTTPServer
) -> None:
    result = hook.check_once(
        f"https://{HOST}:{wrong_server.server_port}/health", 2, connect_host="127.0.0.1", tls_context=_trusting(pki)
    )
    assert not result.healthy and result.status == 0
    assert result.error is not None and "SSLCertVerificationError" in result.error


def test_a_certificate_the_system_does_not_trust_fails_the_check(right_server: ThreadingHTTPServer) -> None:
    # The hook's own default: the system's CAs (ACM's public chain in Lambda), never "no verification".
    result = hook.check_once(f"https://{HOST}:{right_server.server_port}/health", 2, connect_host="127.0.0.1")
    assert not result.healthy and result.error is not None and "SSLCertVerificationError" in result.error


def test_without_the_load_balancer_address_the_unresolvable_name_fails(
    pki: dict[str, Path], right_server: ThreadingHTTPServer
) -> None:
    result = hook.check_once(f"https://{HOST}:{right_server.server_port}/health", 2, tls_context=_trusting(pki))
    assert not result.healthy and result.status == 0


def test_the_load_balancer_address_comes_from_the_environment() -> None:
    settings = hook.HookSettings.from_environment(
        {
            "TEST_URL": f"https://{HOST}:9443/health",
            "TEST_CONNECT_HOST": "internal-api-123.af-south-1.elb.amazonaws.com",
        }
    )
    assert settings.connect_host == "internal-api-123.af-south-1.elb.amazonaws.com"
    assert hook.HookSettings.from_environment({"TEST_URL": "http://alb:9443/health"}).connect_host is None
