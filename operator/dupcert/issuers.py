"""Issuers: load an account profile and its Secrets, and build its CertCentral client."""

from __future__ import annotations

import hashlib
import ssl
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr, ValidationError

from dupcert.certcentral.client import CertCentralClient
from dupcert.certcentral.ratelimit import limiter_for_key
from dupcert.resources import (
    CLUSTER_ISSUER_PLURAL,
    ISSUER_PLURAL,
    IssuerKind,
    IssuerRef,
    IssuerSpec,
)
from dupcert.settings import OperatorSettings
from dupcert.storage.kube import Kube, NotFoundError
from dupcert.storage.secrets import decode
from dupcert.validation import describe_validation_error


class IssuerNotReadyError(Exception):
    """The issuer or one of its Secrets is missing or invalid; the message names which one."""


@dataclass
class Issuer:
    """A loaded account profile with a client for its CertCentral."""

    kind: IssuerKind
    name: str
    namespace: str | None
    spec: IssuerSpec
    client: CertCentralClient

    @property
    def key(self) -> str:
        return (
            f"{self.kind.value} {self.namespace}/{self.name}"
            if self.namespace
            else (f"{self.kind.value} {self.name}")
        )


@dataclass
class ClientCache:
    """One CertCentral client per URL, API key and CA bundle, shared by every resource."""

    clients: dict[tuple[str, str, str], CertCentralClient] = field(default_factory=dict)

    async def get(
        self, url: str, api_key: str, ca_bundle: str | None, timeout_seconds: float
    ) -> CertCentralClient:
        key_digest = hashlib.sha256(api_key.encode()).hexdigest()
        ca_digest = hashlib.sha256((ca_bundle or "").encode()).hexdigest()
        cache_key = (url, key_digest, ca_digest)
        client = self.clients.get(cache_key)
        if client is None:
            verify: ssl.SSLContext | bool = True
            if ca_bundle:
                verify = ssl.create_default_context(cadata=ca_bundle)
            client = CertCentralClient(
                url,
                SecretStr(api_key),
                verify=verify,
                timeout=timeout_seconds,
                limiter=limiter_for_key(api_key),
            )
            self.clients[cache_key] = client
        return client

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()
        self.clients.clear()


async def _read_secret_value(
    kube: Kube, namespace: str, name: str, key: str, purpose: str, field_path: str
) -> str:
    secret = await kube.get_secret(namespace, name)
    if secret is None:
        raise IssuerNotReadyError(
            f"{field_path}: Secret {namespace}/{name} with the {purpose} was not found; "
            f"create it or fix {field_path}.name"
        )
    if key not in (secret.get("data") or {}):
        raise IssuerNotReadyError(
            f"{field_path}: Secret {namespace}/{name} has no key {key!r} with the {purpose}; "
            f"add it or fix {field_path}.key"
        )
    value = decode(secret, key)
    if not value or not value.strip():
        raise IssuerNotReadyError(
            f"{field_path}: key {key!r} of Secret {namespace}/{name} is empty; store the "
            f"{purpose} in it"
        )
    try:
        return value.decode().strip()
    except UnicodeDecodeError:
        raise IssuerNotReadyError(
            f"{field_path}: key {key!r} of Secret {namespace}/{name} is not text"
        ) from None


def plain_http_problem(url: str) -> str | None:
    """Reject plain http except to loopback or an in-cluster Service (the simulator sandbox).

    Over plain http the API key would cross the network unencrypted.
    """
    parsed = urlsplit(url)
    if parsed.scheme != "http":
        return None
    host = (parsed.hostname or "").lower()
    if host in {"localhost", "127.0.0.1", "::1"} or host.endswith((".svc", ".svc.cluster.local")):
        return None
    return (
        f"spec.url {url} uses plain http, so the API key would travel unencrypted; use https "
        "(plain http is accepted only for loopback and in-cluster Service names)"
    )


def parse_issuer_spec(kind: IssuerKind, name: str, raw_spec: dict[str, Any]) -> IssuerSpec:
    try:
        spec = IssuerSpec.model_validate(raw_spec)
    except ValidationError as error:
        raise IssuerNotReadyError(
            f"{kind.value} {name} is invalid: {describe_validation_error(error)}"
        ) from None
    problem = plain_http_problem(spec.url)
    if problem is not None:
        raise IssuerNotReadyError(f"{kind.value} {name} is invalid: {problem}")
    return spec


async def build_issuer(
    kube: Kube,
    kind: IssuerKind,
    name: str,
    namespace: str | None,
    raw_spec: dict[str, Any],
    settings: OperatorSettings,
    cache: ClientCache,
) -> Issuer:
    """Build an Issuer from its spec, reading the API key and CA bundle Secrets."""
    spec = parse_issuer_spec(kind, name, raw_spec)
    secret_namespace = namespace or settings.operator_namespace
    api_key = await _read_secret_value(
        kube,
        secret_namespace,
        spec.api_key_secret_ref.name,
        spec.api_key_secret_ref.key,
        "CertCentral API key",
        "spec.apiKeySecretRef",
    )
    ca_bundle = None
    if spec.ca_bundle_secret_ref is not None:
        ca_bundle = await _read_secret_value(
            kube,
            secret_namespace,
            spec.ca_bundle_secret_ref.name,
            spec.ca_bundle_secret_ref.key,
            "CA bundle",
            "spec.caBundleSecretRef",
        )
        try:
            ssl.create_default_context(cadata=ca_bundle)
        except (ssl.SSLError, ValueError):
            raise IssuerNotReadyError(
                "spec.caBundleSecretRef: the CA bundle is not valid PEM; store PEM certificates"
            ) from None
    client = await cache.get(spec.url, api_key, ca_bundle, settings.certcentral_timeout_seconds)
    return Issuer(kind=kind, name=name, namespace=namespace, spec=spec, client=client)


async def load_issuer(
    kube: Kube,
    ref: IssuerRef,
    namespace: str,
    settings: OperatorSettings,
    cache: ClientCache,
) -> Issuer:
    """Load the issuer a DuplicateCertificate in ``namespace`` refers to."""
    if ref.kind is IssuerKind.CLUSTER_ISSUER:
        plural, issuer_namespace = CLUSTER_ISSUER_PLURAL, None
    else:
        plural, issuer_namespace = ISSUER_PLURAL, namespace
    try:
        body = await kube.get_custom(plural, issuer_namespace, ref.name)
    except NotFoundError:
        where = f" in namespace {namespace}" if issuer_namespace else ""
        raise IssuerNotReadyError(
            f"spec.issuerRef: {ref.kind.value} {ref.name!r} was not found{where}; "
            "create it or fix spec.issuerRef"
        ) from None
    return await build_issuer(
        kube, ref.kind, ref.name, issuer_namespace, body.get("spec") or {}, settings, cache
    )
