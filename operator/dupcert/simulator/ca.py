"""The simulator's issuing CA: a root and an intermediate that sign every end-entity certificate."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# Public key types that CertCentral accepts in a CSR and that the CA can sign for.
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

_HASHES: dict[str, type[hashes.SHA256 | hashes.SHA384 | hashes.SHA512]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}

# The CA itself is valid for ten years either side of its creation, so seeded certificates with
# past validity windows still chain to it.
_CA_LIFETIME = timedelta(days=3650)


def generate_private_key(algorithm: str) -> PrivateKey:
    """Generate a key for one of the seed file's key algorithms (`rsa-2048`, `ecdsa-p256`, ...)."""
    if algorithm.startswith("rsa-"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(algorithm[4:]))
    curves: dict[str, ec.EllipticCurve] = {
        "ecdsa-p256": ec.SECP256R1(),
        "ecdsa-p384": ec.SECP384R1(),
    }
    if algorithm not in curves:
        raise ValueError(f"unsupported key algorithm {algorithm!r}")
    return ec.generate_private_key(curves[algorithm])


def key_size(public_key: PublicKey) -> int:
    """Return the key size in bits as CertCentral reports it (`key_size`)."""
    return (
        public_key.key_size
        if isinstance(public_key, rsa.RSAPublicKey)
        else public_key.curve.key_size
    )


def random_serial_number() -> int:
    """Return a positive 127-bit serial number, so it prints as 16 bytes of hex like DigiCert's."""
    return int.from_bytes(os.urandom(16), "big") >> 1 | 1


def format_serial_number(serial: int) -> str:
    """Format a serial number as CertCentral does: upper-case hex, 32 digits."""
    return f"{serial:032X}"


def thumbprint(certificate: x509.Certificate) -> str:
    """Return the SHA-1 thumbprint of the DER bytes in upper-case hex, as CertCentral shows it."""
    der = certificate.public_bytes(serialization.Encoding.DER)
    return hashlib.sha1(der, usedforsecurity=False).hexdigest().upper()


def certificate_pem(certificate: x509.Certificate) -> str:
    """Return the PEM text of a certificate with LF line endings."""
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def subject_common_name(certificate: x509.Certificate) -> str:
    """Return the subject CN, or an empty string when the subject has none."""
    attributes = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(attributes[0].value) if attributes else ""


def build_csr(key: PrivateKey, common_name: str) -> str:
    """Build a PEM CSR for `key`; seeded orders carry one like orders placed by a user."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode("ascii")


@dataclass(frozen=True)
class ChainEntry:
    """One certificate of a chain as CertCentral returns it in `certificate_chain`."""

    subject_common_name: str
    pem: str


def _ca_certificate(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: PublicKey,
    signing_key: PrivateKey,
    issuer_public_key: PublicKey,
    path_length: int | None,
    now: datetime,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(random_serial_number())
        .not_valid_before(now - _CA_LIFETIME)
        .not_valid_after(now + _CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
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
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public_key), critical=False
        )
    )
    return builder.sign(signing_key, hashes.SHA256())


class CertificateAuthority:
    """A root CA and one intermediate; the intermediate signs every end-entity certificate."""

    def __init__(self, name: str = "DupCert Simulator") -> None:
        now = datetime.now(UTC)
        self._root_key = ec.generate_private_key(ec.SECP384R1())
        self._intermediate_key = ec.generate_private_key(ec.SECP256R1())
        root_name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
                x509.NameAttribute(NameOID.COMMON_NAME, f"{name} Root CA"),
            ]
        )
        intermediate_name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
                x509.NameAttribute(NameOID.COMMON_NAME, f"{name} Issuing CA"),
            ]
        )

        root_public = self._root_key.public_key()
        self.root = _ca_certificate(
            root_name, root_name, root_public, self._root_key, root_public, None, now
        )
        self.intermediate = _ca_certificate(
            intermediate_name,
            root_name,
            self._intermediate_key.public_key(),
            self._root_key,
            root_public,
            0,
            now,
        )

        self.root_pem = certificate_pem(self.root)
        self.intermediate_pem = certificate_pem(self.intermediate)
        # CertCentral's `ca_cert` names the issuing intermediate with a short hex id.
        self.ca_cert_id = thumbprint(self.intermediate)[:13]
        self.ca_cert_name = subject_common_name(self.intermediate)

    def issuer_chain(self) -> list[ChainEntry]:
        """Return the intermediate and the root, in that order."""
        return [
            ChainEntry(subject_common_name(self.intermediate), self.intermediate_pem),
            ChainEntry(subject_common_name(self.root), self.root_pem),
        ]

    def sign(
        self,
        public_key: PublicKey,
        common_name: str,
        dns_names: list[str],
        not_before: datetime,
        not_after: datetime,
        signature_hash: str,
        organization_name: str | None = None,
    ) -> x509.Certificate:
        """Sign a TLS server certificate for `public_key` with the intermediate."""
        attributes = []
        if organization_name:
            attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization_name))
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
        is_rsa = isinstance(public_key, rsa.RSAPublicKey)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name(attributes))
            .issuer_name(self.intermediate.subject)
            .public_key(public_key)
            .serial_number(random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=is_rsa,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
            .add_extension(
                x509.SubjectAlternativeName([x509.DNSName(name) for name in dns_names]),
                critical=False,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    self._intermediate_key.public_key()
                ),
                critical=False,
            )
        )
        return builder.sign(self._intermediate_key, _HASHES[signature_hash]())
