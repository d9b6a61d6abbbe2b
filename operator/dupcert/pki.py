"""Private keys, CSRs and checks of issued certificates, all with ``cryptography``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from dupcert.names import name_is_covered
from dupcert.resources import KeyAlgorithm

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

_CURVES: dict[int, ec.EllipticCurve] = {
    256: ec.SECP256R1(),
    384: ec.SECP384R1(),
}
_HASHES: dict[str, hashes.SHA256 | hashes.SHA384 | hashes.SHA512] = {
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
    "sha512": hashes.SHA512(),
}


class CertificateCheckError(Exception):
    """An issued certificate or chain failed a check before it could be written."""


def generate_private_key(algorithm: KeyAlgorithm, size: int) -> PrivateKey:
    if algorithm is KeyAlgorithm.RSA:
        return rsa.generate_private_key(public_exponent=65537, key_size=size)
    return ec.generate_private_key(_CURVES[size])


def private_key_to_pem(key: PrivateKey) -> bytes:
    """Encode the key as unencrypted PKCS#8 PEM."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def serial_to_hex(serial: int) -> str:
    """Format a serial number as CertCentral shows it: upper-case hex, whole bytes."""
    digits = format(serial, "X")
    return digits.zfill(len(digits) + len(digits) % 2)


def load_private_key(pem: bytes) -> PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError("the private key is neither RSA nor ECDSA")
    return key


def key_matches(key: PrivateKey, algorithm: KeyAlgorithm, size: int) -> bool:
    """Tell whether a key has the requested algorithm and size."""
    if algorithm is KeyAlgorithm.RSA:
        return isinstance(key, rsa.RSAPrivateKey) and key.key_size == size
    return isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size == size


def public_key_der(key: PrivateKey | x509.Certificate | x509.CertificateSigningRequest) -> bytes:
    """Return the DER SubjectPublicKeyInfo, the form used to compare keys."""
    public = key.public_key()
    return public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def build_csr(key: PrivateKey, common_name: str, dns_names: list[str], signature_hash: str) -> str:
    """Build a PEM CSR with the common name as subject and the names as SANs."""
    builder = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name) for name in dns_names]),
            critical=False,
        )
    )
    csr = builder.sign(key, _HASHES[signature_hash])
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def csr_public_key(csr_pem: str) -> bytes | None:
    """Return the DER public key of a PEM (or bare base64) CSR, or None if it does not parse."""
    text = csr_pem.strip()
    if "BEGIN" not in text:
        text = f"-----BEGIN CERTIFICATE REQUEST-----\n{text}\n-----END CERTIFICATE REQUEST-----"
    try:
        csr = x509.load_pem_x509_csr(text.encode())
    except ValueError:
        return None
    return public_key_der(csr)


def load_pem_chain(pem_text: str) -> list[x509.Certificate]:
    """Parse every certificate of a PEM bundle, in order; CRLF line ends are fine."""
    data = pem_text.replace("\r\n", "\n").encode()
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError as error:
        raise CertificateCheckError(f"the certificate chain is not valid PEM: {error}") from error


def certificate_names(certificate: x509.Certificate) -> list[str]:
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return [str(name) for name in extension.value.get_values_for_type(x509.DNSName)]


def is_ca(certificate: x509.Certificate) -> bool:
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        return False
    return bool(constraints.value.ca)


def is_self_signed(certificate: x509.Certificate) -> bool:
    if certificate.issuer != certificate.subject:
        return False
    try:
        certificate.verify_directly_issued_by(certificate)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


@dataclass(frozen=True)
class VerifiedChain:
    """A leaf checked against its key and names, with its intermediates and optional root."""

    leaf: x509.Certificate
    intermediates: list[x509.Certificate]
    root: x509.Certificate | None

    @property
    def tls_crt(self) -> bytes:
        """Leaf then intermediates, the content of ``tls.crt`` (no root, on purpose)."""
        certificates = [self.leaf, *self.intermediates]
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)

    @property
    def ca_crt(self) -> bytes | None:
        if self.root is None:
            return None
        return self.root.public_bytes(serialization.Encoding.PEM)

    @property
    def serial_hex(self) -> str:
        return serial_to_hex(self.leaf.serial_number)

    @property
    def not_before(self) -> datetime:
        return self.leaf.not_valid_before_utc

    @property
    def not_after(self) -> datetime:
        return self.leaf.not_valid_after_utc


def verify_chain(
    certificates: list[x509.Certificate],
    key: PrivateKey,
    names: list[str],
    now: datetime | None = None,
) -> VerifiedChain:
    """Check a leaf-first chain before it is written into a Secret.

    The leaf's public key must be the key's, the leaf must cover every requested name, each
    certificate must be signed by the next one, and the leaf must not be expired.
    """
    if not certificates:
        raise CertificateCheckError("CertCentral returned no certificate")
    unique: list[x509.Certificate] = []
    for certificate in certificates:
        if certificate not in unique:
            unique.append(certificate)
    leaves = [c for c in unique if not is_ca(c)]
    if len(leaves) != 1:
        raise CertificateCheckError(
            f"expected exactly one end-entity certificate in the chain, found {len(leaves)}"
        )
    leaf = leaves[0]
    cas = [c for c in unique if is_ca(c)]

    if public_key_der(leaf) != public_key_der(key):
        raise CertificateCheckError("the certificate's public key does not match the private key")
    leaf_names = certificate_names(leaf)
    missing = [name for name in names if not name_is_covered(leaf_names, name)]
    if missing:
        raise CertificateCheckError(
            f"the certificate does not cover the requested names {', '.join(missing)}"
        )
    moment = now or datetime.now(UTC)
    if leaf.not_valid_after_utc <= moment:
        raise CertificateCheckError(
            f"the certificate expired at {leaf.not_valid_after_utc.isoformat()}"
        )

    # Order the CA certificates from the leaf's issuer upwards, checking each signature.
    ordered: list[x509.Certificate] = []
    current = leaf
    remaining = list(cas)
    while remaining:
        parent = next((c for c in remaining if c.subject == current.issuer), None)
        if parent is None:
            break
        try:
            current.verify_directly_issued_by(parent)
        except (ValueError, TypeError, InvalidSignature) as error:
            raise CertificateCheckError(
                f"{current.subject.rfc4514_string()} is not signed by "
                f"{parent.subject.rfc4514_string()}"
            ) from error
        ordered.append(parent)
        remaining.remove(parent)
        current = parent
    if not ordered:
        raise CertificateCheckError("the chain has no intermediate that issued the certificate")
    root = ordered[-1] if is_self_signed(ordered[-1]) else None
    intermediates = ordered[:-1] if root is not None else ordered
    if not intermediates:
        raise CertificateCheckError("the chain has no intermediate certificate")
    return VerifiedChain(leaf=leaf, intermediates=intermediates, root=root)
