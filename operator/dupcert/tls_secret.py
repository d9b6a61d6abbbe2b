"""Writing the TLS Secret: create or replace it safely, and keep its metadata in sync."""

from __future__ import annotations

from typing import Any

from dupcert.conditions import Reason
from dupcert.outcomes import PassFailure
from dupcert.pki import VerifiedChain
from dupcert.resources import DUPLICATE_CERTIFICATE_PLURAL, DuplicateCertificateSpec
from dupcert.storage.kube import ConflictError, Kube, KubeError
from dupcert.storage.secrets import (
    IssuedCertificate,
    apply_secret_template,
    build_tls_secret,
    owner_of,
)

# Attempts to write the Secret when it changes between the read and the write.
WRITE_ATTEMPTS = 3


async def write_tls_secret(
    kube: Kube,
    namespace: str,
    certificate_name: str,
    spec: DuplicateCertificateSpec,
    chain: VerifiedChain,
    key_pem: bytes,
    issued: IssuedCertificate,
) -> None:
    """Create or replace the TLS Secret; never touch one that belongs to someone else.

    The replace carries the resourceVersion that was read, so a concurrent change is a
    conflict and the write starts over from a fresh read.
    """
    where = f"{namespace}/{spec.secret_name}"
    for _attempt in range(WRITE_ATTEMPTS):
        existing = await kube.get_secret(namespace, spec.secret_name)
        if existing is not None and owner_of(existing) != certificate_name:
            raise PassFailure(
                Reason.SECRET_CONFLICT,
                f"Secret {where} was created by someone else while the duplicate was issued; "
                "it is left untouched",
            )
        body = build_tls_secret(
            name=spec.secret_name,
            namespace=namespace,
            certificate_name=certificate_name,
            chain=chain,
            key_pem=key_pem,
            issued=issued,
            template=spec.secret_template,
            existing=existing,
        )
        try:
            if existing is None:
                await kube.create_secret(namespace, body)
            else:
                await kube.replace_secret(namespace, body)
        except ConflictError:
            continue
        except KubeError as error:
            raise PassFailure(
                Reason.SECRET_WRITE_FAILED,
                f"the API server rejected Secret {where}: {error}; check spec.secretName and "
                "spec.secretTemplate",
            ) from None
        return
    raise PassFailure(
        Reason.SECRET_WRITE_FAILED, f"Secret {where} kept changing while it was written"
    )


async def sync_secret_metadata(
    kube: Kube, namespace: str, spec: DuplicateCertificateSpec, secret: dict[str, Any]
) -> bool:
    """Apply secretTemplate changes to the Secret without a new certificate.

    Returns whether the Secret was updated. A conflict leaves it for the next pass.
    """
    metadata = secret.get("metadata") or {}
    current_labels = dict(metadata.get("labels") or {})
    current_annotations = dict(metadata.get("annotations") or {})
    labels, annotations = apply_secret_template(
        current_labels, current_annotations, spec.secret_template
    )
    if labels == current_labels and annotations == current_annotations:
        return False
    body = {**secret, "metadata": {**metadata, "labels": labels, "annotations": annotations}}
    try:
        await kube.replace_secret(namespace, body)
    except ConflictError:
        return False
    return True


async def find_secret_name_owner(kube: Kube, namespace: str, secret_name: str) -> str | None:
    """Return the oldest DuplicateCertificate in the namespace that names this Secret.

    Two resources applied together with one secretName would otherwise each request a
    duplicate before either Secret exists, and one of them would be wasted.
    """
    claims = []
    for item in await kube.list_custom(DUPLICATE_CERTIFICATE_PLURAL, namespace):
        metadata = item.get("metadata") or {}
        if metadata.get("deletionTimestamp"):
            continue
        if (item.get("spec") or {}).get("secretName") == secret_name:
            claims.append((str(metadata.get("creationTimestamp") or ""), str(metadata["name"])))
    return min(claims)[1] if claims else None
