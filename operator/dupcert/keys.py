"""The next private key: generated once per issuance and kept in a Secret until it succeeds.

Keeping the key (and its CSR) in a Secret before any CertCentral request means a retry or an
operator restart reuses it, so the duplicate it may already have requested is found again
instead of requesting a second one.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from dupcert.pki import (
    PrivateKey,
    build_csr,
    generate_private_key,
    key_matches,
    load_private_key,
    private_key_to_pem,
)
from dupcert.resources import DuplicateCertificateSpec, RotationPolicy
from dupcert.storage.kube import ConflictError, Kube
from dupcert.storage.secrets import (
    NEXT_CSR_DATA_KEY,
    NEXT_KEY_DATA_KEY,
    build_next_key_secret,
    decode,
    next_key_secret_name,
    owner_of,
)


class NextKeyConflictError(Exception):
    """A Secret with the next key's name exists and does not belong to this resource."""


@dataclass(frozen=True)
class NextKey:
    key: PrivateKey
    key_pem: bytes
    csr_pem: str
    secret_name: str
    reused: bool


def _csr_matches(csr_pem: str, common_name: str, names: list[str]) -> bool:
    try:
        csr = x509.load_pem_x509_csr(csr_pem.encode())
        cn_attributes = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        sans = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except (ValueError, x509.ExtensionNotFound):
        return False
    cn = str(cn_attributes[0].value) if cn_attributes else ""
    return cn == common_name and list(sans.value.get_values_for_type(x509.DNSName)) == names


def _load_existing(
    secret: dict[str, Any], spec: DuplicateCertificateSpec, common_name: str, names: list[str]
) -> NextKey | None:
    key_pem = decode(secret, NEXT_KEY_DATA_KEY)
    csr_bytes = decode(secret, NEXT_CSR_DATA_KEY)
    if not key_pem or not csr_bytes:
        return None
    try:
        key = load_private_key(key_pem)
    except ValueError:
        return None
    settings = spec.private_key
    if not key_matches(key, settings.algorithm, settings.effective_size):
        return None
    csr_pem = csr_bytes.decode()
    if not _csr_matches(csr_pem, common_name, names):
        return None
    return NextKey(key, key_pem, csr_pem, secret["metadata"]["name"], reused=True)


async def ensure_next_key(
    kube: Kube,
    namespace: str,
    certificate_name: str,
    spec: DuplicateCertificateSpec,
    common_name: str,
    names: list[str],
    current_key: PrivateKey | None,
    owner_uid: str | None = None,
) -> NextKey:
    """Return the key and CSR for this issuance, reusing the stored ones when they still fit.

    With rotationPolicy Never, the key of the current certificate is reused when it matches
    the key settings; otherwise a new key is generated.
    """
    name = next_key_secret_name(certificate_name)
    existing = await kube.get_secret(namespace, name)
    if existing is not None:
        if owner_of(existing) != certificate_name:
            raise NextKeyConflictError(
                f"Secret {namespace}/{name} exists and was not created by dupcert for this "
                "DuplicateCertificate; delete or rename it"
            )
        loaded = _load_existing(existing, spec, common_name, names)
        if loaded is not None:
            return loaded
        # The stored key no longer fits the spec: replace it.
        await kube.delete_secret(namespace, name)

    settings = spec.private_key
    key: PrivateKey
    if (
        settings.rotation_policy is RotationPolicy.NEVER
        and current_key is not None
        and key_matches(current_key, settings.algorithm, settings.effective_size)
    ):
        key = current_key
    else:
        # Key generation takes seconds for large RSA keys: keep the event loop free meanwhile.
        key = await asyncio.to_thread(
            generate_private_key, settings.algorithm, settings.effective_size
        )
    key_pem = private_key_to_pem(key)
    csr_pem = await asyncio.to_thread(build_csr, key, common_name, names, spec.signature_hash)
    body = build_next_key_secret(
        namespace=namespace,
        certificate_name=certificate_name,
        key_pem=key_pem,
        csr_pem=csr_pem,
        algorithm=settings.algorithm.value,
        size=settings.effective_size,
        owner_uid=owner_uid,
    )
    try:
        await kube.create_secret(namespace, body)
    except ConflictError:
        # Another pass created it in between: use that one, so only one key is ever in flight.
        raced = await kube.get_secret(namespace, name)
        loaded = _load_existing(raced, spec, common_name, names) if raced else None
        if loaded is None:
            raise
        return loaded
    return NextKey(key, key_pem, csr_pem, name, reused=False)


async def delete_next_key(kube: Kube, namespace: str, certificate_name: str) -> None:
    await kube.delete_secret(namespace, next_key_secret_name(certificate_name))
