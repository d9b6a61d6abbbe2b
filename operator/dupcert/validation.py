"""Spec validation that runs before any CertCentral call, with messages naming the field."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from dupcert.names import dns_name_problem, normalize_name
from dupcert.resources import ECDSA_SIZES, RSA_SIZES, DuplicateCertificateSpec, KeyAlgorithm
from dupcert.storage.secrets import LABEL_MANAGED_BY

_FIELD_NAMES = {
    "issuer_ref": "issuerRef",
    "common_name": "commonName",
    "dns_names": "dnsNames",
    "order_id": "orderId",
    "secret_name": "secretName",
    "secret_template": "secretTemplate",
    "private_key": "privateKey",
    "rotation_policy": "rotationPolicy",
    "signature_hash": "signatureHash",
    "server_platform_id": "serverPlatformId",
    "renew_before": "renewBefore",
    "auto_renew": "autoRenew",
    "api_key_secret_ref": "apiKeySecretRef",
    "organization_id": "organizationId",
    "product_name_id": "productNameId",
    "ca_bundle_secret_ref": "caBundleSecretRef",
}


class InvalidSpecError(Exception):
    """The spec cannot be acted on; the message names the field and the fix."""


def describe_validation_error(error: ValidationError) -> str:
    """Turn pydantic errors into "spec.field: problem" sentences."""
    parts = []
    for item in error.errors():
        path = ""
        for part in item["loc"]:
            if isinstance(part, int):
                path += f"[{part}]"
            else:
                path += f".{_FIELD_NAMES.get(part, part)}"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "is not a known field; remove it or check its spelling"
        elif item["type"] == "value_error" and "error" in item.get("ctx", {}):
            # Our validators' own sentence, without pydantic's "Value error, " prefix.
            message = str(item["ctx"]["error"])
        parts.append(f"spec{path}: {message}")
    return "; ".join(parts)


# Kubernetes label values and the name part of label and annotation keys.
_METADATA_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def _key_problem(key: str) -> str | None:
    """Return why a label or annotation key is invalid for Kubernetes, or None."""
    prefix, slash, name = key.rpartition("/")
    if slash and (len(prefix) > 253 or not _DNS_SUBDOMAIN.fullmatch(prefix)):
        return "has an invalid prefix; use a DNS subdomain such as example.com/"
    if len(name) > 63 or not _METADATA_NAME.fullmatch(name):
        return (
            "is not a valid key; use at most 63 letters, digits, '-', '_' or '.', starting "
            "and ending with a letter or digit"
        )
    return None


def _metadata_problems(labels: dict[str, str], annotations: dict[str, str]) -> list[str]:
    """Check secretTemplate labels and annotations as the API server will."""
    problems = []
    for field_name, entries in (("labels", labels), ("annotations", annotations)):
        for key in entries:
            problem = _key_problem(key)
            if problem:
                problems.append(f"spec.secretTemplate.{field_name} key {key!r} {problem}")
    for key, value in labels.items():
        if value and (len(value) > 63 or not _METADATA_NAME.fullmatch(value)):
            problems.append(
                f"spec.secretTemplate.labels[{key!r}] value {value!r} is not a valid label "
                "value; use at most 63 letters, digits, '-', '_' or '.', starting and ending "
                "with a letter or digit"
            )
    return problems


def parse_spec(raw_spec: dict[str, Any]) -> DuplicateCertificateSpec:
    """Validate a DuplicateCertificate spec, raising InvalidSpecError with a helpful message."""
    try:
        spec = DuplicateCertificateSpec.model_validate(raw_spec)
    except ValidationError as error:
        raise InvalidSpecError(describe_validation_error(error)) from None

    problems = []
    seen: dict[str, int] = {}
    for index, name in enumerate(spec.dns_names):
        problem = dns_name_problem(name)
        if problem:
            problems.append(f"spec.dnsNames[{index}] {name!r} {problem}")
        normalized = normalize_name(name)
        if normalized in seen:
            problems.append(
                f"spec.dnsNames[{index}] {name!r} repeats spec.dnsNames[{seen[normalized]}]; "
                "list each name once"
            )
        seen.setdefault(normalized, index)
    if spec.common_name is not None:
        problem = dns_name_problem(spec.common_name)
        if problem:
            problems.append(f"spec.commonName {spec.common_name!r} {problem}")
        elif len(spec.common_name) > 64:
            problems.append("spec.commonName is longer than 64 characters; use a shorter name")

    key = spec.private_key
    if key.algorithm is KeyAlgorithm.RSA and key.effective_size not in RSA_SIZES:
        problems.append(
            f"spec.privateKey.size {key.effective_size} is not a supported RSA size; "
            "use 2048, 3072, 4096 or 8192"
        )
    if key.algorithm is KeyAlgorithm.ECDSA and key.effective_size not in ECDSA_SIZES:
        problems.append(
            f"spec.privateKey.size {key.effective_size} is not a supported ECDSA size; "
            "use 256 or 384, the curves CertCentral signs"
        )
    template = spec.secret_template
    for key_name in template.annotations:
        if key_name.startswith("dupcert.io/"):
            problems.append(
                f"spec.secretTemplate.annotations {key_name!r}: annotations with the dupcert.io/ "
                "prefix are set by the operator; use another prefix"
            )
    problems += _metadata_problems(template.labels, template.annotations)
    if LABEL_MANAGED_BY in template.labels:
        problems.append(
            f"spec.secretTemplate.labels {LABEL_MANAGED_BY!r} is set by the operator, which "
            "finds its own Secrets by it; remove it"
        )
    if spec.renew_before is not None:
        try:
            delta = spec.renew_before_delta
        except ValueError as error:
            problems.append(f"spec.renewBefore: {error}")
        else:
            if delta is not None and delta.total_seconds() <= 0:
                problems.append("spec.renewBefore must be longer than zero, such as 720h")
    if problems:
        raise InvalidSpecError("; ".join(problems))
    return spec
