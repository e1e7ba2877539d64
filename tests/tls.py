"""A throwaway self-signed certificate for 127.0.0.1, so the live suites can be run over real HTTPS.

Made with the `cryptography` package when it is installed (moto brings it), else with the
`openssl` command line; the certificate is its own CA bundle.
"""

from __future__ import annotations

import datetime
import ipaddress
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Certificate:
    cert_file: Path
    key_file: Path

    @property
    def ca_bundle(self) -> Path:
        # Self-signed: the certificate is the CA that signed it.
        return self.cert_file


def self_signed(directory: Path, host: str = "127.0.0.1") -> Certificate:
    certificate = Certificate(directory / "service.crt", directory / "service.key")
    try:
        _with_cryptography(certificate, host)
    except ImportError:
        _with_openssl(certificate, host)
    return certificate


def _with_cryptography(certificate: Certificate, host: str) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host)), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    certificate.key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


def _with_openssl(certificate: Certificate, host: str) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("neither the cryptography package nor the openssl command is available")
    host_names = f"subjectAltName=IP:{host},DNS:localhost"
    arguments = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"]
    files = ["-keyout", str(certificate.key_file), "-out", str(certificate.cert_file)]
    # Fixed arguments, the openssl found on PATH.
    subprocess.run(
        [openssl, *arguments, "-subj", f"/CN={host}", "-addext", host_names, *files], check=True, capture_output=True
    )
