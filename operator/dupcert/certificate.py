"""The certificate currently in a DuplicateCertificate's Secret, and when to renew it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509

from dupcert.names import requested_names
from dupcert.pki import (
    CertificateCheckError,
    PrivateKey,
    certificate_names,
    is_ca,
    load_pem_chain,
    load_private_key,
    public_key_der,
)
from dupcert.resources import DuplicateCertificateSpec
from dupcert.storage.secrets import ANNOTATION_ORDER_ID, decode


@dataclass(frozen=True)
class CurrentCertificate:
    """The leaf and key found in the Secret."""

    leaf: x509.Certificate
    key: PrivateKey
    order_id: int | None

    @property
    def not_before(self) -> datetime:
        return self.leaf.not_valid_before_utc

    @property
    def not_after(self) -> datetime:
        return self.leaf.not_valid_after_utc

    @property
    def names(self) -> list[str]:
        return certificate_names(self.leaf)


def read_current_certificate(secret: dict[str, Any]) -> CurrentCertificate | None:
    """Parse the Secret's leaf and key; None when either is missing, invalid or mismatched."""
    crt = decode(secret, "tls.crt")
    key_pem = decode(secret, "tls.key")
    if not crt or not key_pem:
        return None
    try:
        certificates = load_pem_chain(crt.decode())
        key = load_private_key(key_pem)
    except (CertificateCheckError, ValueError, UnicodeDecodeError):
        return None
    leaves = [c for c in certificates if not is_ca(c)]
    if not leaves or public_key_der(leaves[0]) != public_key_der(key):
        return None
    annotations = secret.get("metadata", {}).get("annotations") or {}
    order_text = annotations.get(ANNOTATION_ORDER_ID, "")
    order_id = int(order_text) if str(order_text).isdigit() else None
    return CurrentCertificate(leaf=leaves[0], key=key, order_id=order_id)


class RenewBeforeTooLongError(Exception):
    """renewBefore is not shorter than the certificate's lifetime."""


def format_duration(delta: timedelta) -> str:
    """Format a duration in Go's style, as spec.renewBefore is written: 2160h0m0s."""
    seconds = int(delta.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}h{minutes}m{seconds}s"


def renewal_time(
    not_before: datetime, not_after: datetime, renew_before: timedelta | None
) -> datetime:
    """Return ``notAfter - renewBefore``, by default a third of the lifetime before the end.

    The result is truncated to whole seconds, as Kubernetes times are.
    """
    lifetime = not_after - not_before
    if renew_before is None:
        renew_before = lifetime / 3
    elif renew_before >= lifetime:
        raise RenewBeforeTooLongError(
            f"spec.renewBefore ({format_duration(renew_before)}) is not shorter than the "
            f"certificate's lifetime ({format_duration(lifetime)}); use a shorter duration or "
            "remove it to renew a third of the lifetime before expiry"
        )
    return (not_after - renew_before).replace(microsecond=0)


def issuance_hash(spec: DuplicateCertificateSpec) -> str:
    """Digest of what a certificate is issued for, derived from the spec.

    A change of any of these means the Secret no longer matches the spec and a new duplicate
    is needed. Names are compared as requested (normalised, the common name defaulted) with
    the SANs sorted, and the key by algorithm and effective size, so rewriting the spec in an
    equivalent form does not re-issue. secretTemplate, renewBefore, autoRenew and
    privateKey.rotationPolicy are left out: they never need a new certificate.
    """
    common_name, names = requested_names(spec.common_name, spec.dns_names)
    key = spec.private_key
    fields = {
        "issuerRef": spec.issuer_ref.model_dump(mode="json", by_alias=True),
        "commonName": common_name,
        "dnsNames": sorted(names),
        "orderId": spec.order_id,
        "secretName": spec.secret_name,
        "privateKey": {"algorithm": key.algorithm.value, "size": key.effective_size},
        "signatureHash": spec.signature_hash,
        "serverPlatformId": spec.server_platform_id,
    }
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
