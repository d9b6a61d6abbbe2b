"""The Secrets the operator writes: the TLS Secret and the next private key Secret."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from dupcert.pki import VerifiedChain
from dupcert.resources import SecretTemplate

ANNOTATION_CERTIFICATE_NAME = "dupcert.io/certificate-name"
ANNOTATION_ORDER_ID = "dupcert.io/order-id"
ANNOTATION_CERTIFICATE_ID = "dupcert.io/certificate-id"
ANNOTATION_SERIAL = "dupcert.io/serial"
ANNOTATION_NOT_AFTER = "dupcert.io/not-after"
ANNOTATION_KEY_ALGORITHM = "dupcert.io/key-algorithm"
ANNOTATION_KEY_SIZE = "dupcert.io/key-size"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
LABEL_NEXT_PRIVATE_KEY = "dupcert.io/next-private-key"
MANAGED_BY = "dupcert"

# Keys of the next private key Secret.
NEXT_KEY_DATA_KEY = "tls.key"
NEXT_CSR_DATA_KEY = "csr.pem"


def encode(data: bytes) -> str:
    return base64.b64encode(data).decode()


def decode(secret: dict[str, Any], key: str) -> bytes | None:
    value = (secret.get("data") or {}).get(key)
    return base64.b64decode(value) if value else None


def owner_of(secret: dict[str, Any]) -> str | None:
    """Return the DuplicateCertificate name a Secret belongs to, or None for a foreign one."""
    annotations = secret.get("metadata", {}).get("annotations") or {}
    labels = secret.get("metadata", {}).get("labels") or {}
    if labels.get(LABEL_MANAGED_BY) != MANAGED_BY:
        return None
    owner = annotations.get(ANNOTATION_CERTIFICATE_NAME)
    return str(owner) if owner else None


_NEXT_KEY_SUFFIX = "-dupcert-next-key"
# Kubernetes object names are DNS subdomains of at most 253 characters.
_MAX_NAME_LENGTH = 253


def next_key_secret_name(certificate_name: str) -> str:
    """Name the next key Secret: the resource's name and a suffix, shortened when too long.

    A name that does not fit keeps its start and gets 8 hex digits of its SHA-256, so
    different resources still get different Secrets and the result is a valid name.
    """
    name = f"{certificate_name}{_NEXT_KEY_SUFFIX}"
    if len(name) <= _MAX_NAME_LENGTH:
        return name
    digest = hashlib.sha256(certificate_name.encode()).hexdigest()[:8]
    keep = _MAX_NAME_LENGTH - len(_NEXT_KEY_SUFFIX) - len(digest) - 1
    return f"{certificate_name[:keep].rstrip('-.')}-{digest}{_NEXT_KEY_SUFFIX}"


def apply_secret_template(
    labels: dict[str, str], annotations: dict[str, str], template: SecretTemplate
) -> tuple[dict[str, str], dict[str, str]]:
    """Return new labels and annotations with the template's merged in.

    The template never removes what dupcert relies on: the managed-by label is always
    dupcert's, and template annotations under ``dupcert.io/`` are ignored.
    """
    merged_labels = {**labels, **template.labels, LABEL_MANAGED_BY: MANAGED_BY}
    merged_annotations = dict(annotations)
    merged_annotations.update(
        {k: v for k, v in template.annotations.items() if not k.startswith("dupcert.io/")}
    )
    return merged_labels, merged_annotations


@dataclass(frozen=True)
class IssuedCertificate:
    """Order and certificate ids written into the TLS Secret beside the chain and the key."""

    order_id: int
    certificate_id: int | None


def build_tls_secret(
    *,
    name: str,
    namespace: str,
    certificate_name: str,
    chain: VerifiedChain,
    key_pem: bytes,
    issued: IssuedCertificate,
    template: SecretTemplate,
    existing: dict[str, Any] | None,
) -> dict[str, Any]:
    """Build the TLS Secret body, keeping labels and annotations other tools set."""
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    secret_type = "kubernetes.io/tls"
    if existing is not None:
        old_metadata = existing.get("metadata", {})
        labels.update(old_metadata.get("labels") or {})
        annotations.update(old_metadata.get("annotations") or {})
        metadata["resourceVersion"] = old_metadata.get("resourceVersion")
        secret_type = existing.get("type") or secret_type
    labels, annotations = apply_secret_template(labels, annotations, template)
    annotations.update(
        {
            ANNOTATION_CERTIFICATE_NAME: certificate_name,
            ANNOTATION_ORDER_ID: str(issued.order_id),
            ANNOTATION_SERIAL: chain.serial_hex,
            ANNOTATION_NOT_AFTER: chain.not_after.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    )
    if issued.certificate_id is not None:
        annotations[ANNOTATION_CERTIFICATE_ID] = str(issued.certificate_id)
    else:
        annotations.pop(ANNOTATION_CERTIFICATE_ID, None)
    metadata["labels"] = labels
    metadata["annotations"] = annotations
    data = {"tls.crt": encode(chain.tls_crt), "tls.key": encode(key_pem)}
    ca = chain.ca_crt
    if ca is not None:
        data["ca.crt"] = encode(ca)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata,
        "type": secret_type,
        "data": data,
    }


def build_next_key_secret(
    *,
    namespace: str,
    certificate_name: str,
    key_pem: bytes,
    csr_pem: str,
    algorithm: str,
    size: int,
    owner_uid: str | None = None,
) -> dict[str, Any]:
    """Build the next private key Secret.

    With ``owner_uid`` it is owned by its DuplicateCertificate, so the garbage collector
    removes the key with the resource.
    """
    metadata: dict[str, Any] = {
        "name": next_key_secret_name(certificate_name),
        "namespace": namespace,
        "labels": {LABEL_MANAGED_BY: MANAGED_BY, LABEL_NEXT_PRIVATE_KEY: "true"},
        "annotations": {
            ANNOTATION_CERTIFICATE_NAME: certificate_name,
            ANNOTATION_KEY_ALGORITHM: algorithm,
            ANNOTATION_KEY_SIZE: str(size),
        },
    }
    if owner_uid:
        metadata["ownerReferences"] = [
            {
                "apiVersion": "dupcert.io/v1alpha1",
                "kind": "DuplicateCertificate",
                "name": certificate_name,
                "uid": owner_uid,
                "controller": True,
                "blockOwnerDeletion": False,
            }
        ]
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": metadata,
        "data": {NEXT_KEY_DATA_KEY: encode(key_pem), NEXT_CSR_DATA_KEY: encode(csr_pem.encode())},
    }
