"""Helpers for the simulator tests: keys, CSRs and chain checks."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import verification
from cryptography.x509.oid import NameOID

DEMO_KEY = "sim-demo-key-0000000000000000"
_PEM_BLOCK = re.compile(
    r"-----BEGIN CERTIFICATE-----\r?\n.*?-----END CERTIFICATE-----\r?\n?", re.DOTALL
)


def make_csr(
    common_name: str = "ignored.example.com", key: Any = None
) -> tuple[ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, str]:
    """Return a fresh key (EC P-256 unless given) and a PEM CSR signed by it."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    return key, csr.public_bytes(serialization.Encoding.PEM).decode("ascii")


def split_pems(text: str) -> list[x509.Certificate]:
    """Parse every certificate of a PEM bundle, in order."""
    return [x509.load_pem_x509_certificate(block.encode()) for block in _PEM_BLOCK.findall(text)]


def dns_names(certificate: x509.Certificate) -> list[str]:
    """Return the DNS SANs of a certificate."""
    extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    return extension.value.get_values_for_type(x509.DNSName)


def common_name(certificate: x509.Certificate) -> str:
    """Return the subject CN."""
    return str(certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


def public_key_der(key: Any) -> bytes:
    """Return the DER SubjectPublicKeyInfo of a public key."""
    return bytes(
        key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def verify_server_chain(
    leaf: x509.Certificate, intermediates: list[x509.Certificate], root_pem: str, host: str
) -> None:
    """Verify `leaf` for `host` up to the root with cryptography's X.509 path validation."""
    root = x509.load_pem_x509_certificate(root_pem.encode())
    store = verification.Store([root])
    verifier = (
        verification.PolicyBuilder()
        .store(store)
        .time(datetime.now(UTC))
        .build_server_verifier(x509.DNSName(host))
    )
    verifier.verify(leaf, intermediates)


def duplicate_body(
    csr: str, common_name: str, dns: list[str] | None = None, signature_hash: str = "sha256"
) -> dict[str, Any]:
    """Build the body of `POST /order/certificate/{id}/duplicate`."""
    certificate: dict[str, Any] = {
        "common_name": common_name,
        "csr": csr,
        "signature_hash": signature_hash,
        "server_platform": {"id": -1},
    }
    if dns is not None:
        certificate["dns_names"] = dns
    return {"certificate": certificate}
