"""The serving certificate: a small CA of its own and a leaf for 127.0.0.1 and localhost."""

from __future__ import annotations

import ipaddress
import ssl
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from dupcert.simulator.ca import certificate_pem, random_serial_number

_LIFETIME = timedelta(days=825)


def _subject_alternative_names(hosts: list[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


class ServingIdentity:
    """A self-signed TLS CA and a server certificate it signed; the key never leaves memory."""

    def __init__(self, extra_hosts: list[str] | None = None) -> None:
        now = datetime.now(UTC)
        hosts = ["127.0.0.1", "localhost"]
        for host in extra_hosts or []:
            if host not in hosts and host not in ("0.0.0.0", "::"):
                hosts.append(host)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "DupCert Simulator TLS CA")])
        ca_certificate = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + _LIFETIME)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        self._key = ec.generate_private_key(ec.SECP256R1())
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
            .issuer_name(ca_name)
            .public_key(self._key.public_key())
            .serial_number(random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + _LIFETIME)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.SubjectAlternativeName(_subject_alternative_names(hosts)), critical=False
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        self.ca_pem = certificate_pem(ca_certificate)

    def ssl_context(self) -> ssl.SSLContext:
        """Build a server SSLContext with the serving certificate and key."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        key_pem = self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # SSLContext.load_cert_chain reads only files, so the PEMs go to a private temporary
        # directory that is removed as soon as they are loaded.
        with tempfile.TemporaryDirectory(prefix="dupcert-sim-tls-") as directory:
            cert_path = Path(directory) / "tls.crt"
            key_path = Path(directory) / "tls.key"
            cert_path.write_text(certificate_pem(self.certificate), encoding="ascii")
            key_path.touch(mode=0o600)
            key_path.write_bytes(key_pem)
            context.load_cert_chain(cert_path, key_path)
        return context
