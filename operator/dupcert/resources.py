"""Pydantic models of the dupcert.io custom resources, as users write them."""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

GROUP = "dupcert.io"
VERSION = "v1alpha1"
DUPLICATE_CERTIFICATE_PLURAL = "duplicatecertificates"
ISSUER_PLURAL = "certcentralissuers"
CLUSTER_ISSUER_PLURAL = "clustercertcentralissuers"
DEFAULT_URL = "https://www.digicert.com/services/v2"


class _Spec(BaseModel):
    """Base of user-written specs: camelCase fields, unknown fields rejected."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class IssuerKind(StrEnum):
    ISSUER = "CertCentralIssuer"
    CLUSTER_ISSUER = "ClusterCertCentralIssuer"


class IssuerRef(_Spec):
    name: str = Field(min_length=1)
    kind: IssuerKind = IssuerKind.ISSUER


class SecretKeyRef(_Spec):
    name: str = Field(min_length=1)
    key: str = Field(min_length=1)


class IssuerSpec(_Spec):
    """Spec of CertCentralIssuer and ClusterCertCentralIssuer."""

    url: str = DEFAULT_URL
    api_key_secret_ref: SecretKeyRef = Field(alias="apiKeySecretRef")
    organization_id: int = Field(alias="organizationId", ge=1)
    product_name_id: str = Field(alias="productNameId", min_length=1)
    ca_bundle_secret_ref: SecretKeyRef | None = Field(default=None, alias="caBundleSecretRef")

    @field_validator("api_key_secret_ref", mode="before")
    @classmethod
    def _default_api_key_key(cls, value: object) -> object:
        if isinstance(value, dict) and "key" not in value:
            return {**value, "key": "api-key"}
        return value

    @field_validator("ca_bundle_secret_ref", mode="before")
    @classmethod
    def _default_ca_key(cls, value: object) -> object:
        if isinstance(value, dict) and "key" not in value:
            return {**value, "key": "ca.crt"}
        return value

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not re.fullmatch(r"https?://\S+", value):
            raise ValueError("must be an http(s) URL such as https://www.digicert.com/services/v2")
        return value.rstrip("/")


class KeyAlgorithm(StrEnum):
    RSA = "RSA"
    ECDSA = "ECDSA"


class RotationPolicy(StrEnum):
    ALWAYS = "Always"
    NEVER = "Never"


RSA_SIZES = (2048, 3072, 4096, 8192)
# CertCentral signs ECDSA keys on P-256 and P-384 only.
ECDSA_SIZES = (256, 384)


class PrivateKeySpec(_Spec):
    algorithm: KeyAlgorithm = KeyAlgorithm.RSA
    size: int | None = None
    rotation_policy: RotationPolicy = Field(default=RotationPolicy.ALWAYS, alias="rotationPolicy")

    @property
    def effective_size(self) -> int:
        if self.size is not None:
            return self.size
        return 2048 if self.algorithm is KeyAlgorithm.RSA else 256

    @field_validator("size")
    @classmethod
    def _check_positive(cls, value: int | None) -> int | None:
        if value is not None and value <= 0:
            raise ValueError("must be a positive number of bits")
        return value


class SecretTemplate(_Spec):
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_DURATION_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
# Go's time.Duration is an int64 count of nanoseconds, so no Go duration is longer than this.
_MAX_GO_DURATION_SECONDS = (2**63 - 1) / 1e9


def parse_go_duration(text: str) -> timedelta:
    """Parse a Go duration string such as ``720h``, ``1h30m`` or ``90s``."""
    position = 0
    seconds = 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != position:
            break
        seconds += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        position = match.end()
    if not text or position != len(text):
        raise ValueError(f"{text!r} is not a duration; use a Go duration such as 720h or 90m")
    if seconds > _MAX_GO_DURATION_SECONDS:
        raise ValueError(f"{text!r} is too long; use a Go duration of at most 2562047h")
    return timedelta(seconds=seconds)


class DuplicateCertificateSpec(_Spec):
    issuer_ref: IssuerRef = Field(alias="issuerRef")
    common_name: str | None = Field(default=None, alias="commonName")
    dns_names: list[str] = Field(alias="dnsNames", min_length=1)
    order_id: int | None = Field(default=None, alias="orderId", ge=1)
    secret_name: str = Field(alias="secretName", min_length=1)
    secret_template: SecretTemplate = Field(default_factory=SecretTemplate, alias="secretTemplate")
    private_key: PrivateKeySpec = Field(default_factory=PrivateKeySpec, alias="privateKey")
    signature_hash: Literal["sha256", "sha384", "sha512"] = Field(
        default="sha256", alias="signatureHash"
    )
    server_platform_id: int | None = Field(default=None, alias="serverPlatformId")
    renew_before: Annotated[str | None, Field(alias="renewBefore")] = None
    auto_renew: bool = Field(default=True, alias="autoRenew")

    @property
    def renew_before_delta(self) -> timedelta | None:
        return parse_go_duration(self.renew_before) if self.renew_before else None
