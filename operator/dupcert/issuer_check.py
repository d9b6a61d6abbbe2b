"""Issuer readiness: check an issuer's Secrets, API key, product and TLS trust.

A check makes at most two CertCentral calls: ``GET /account`` (is the key valid?) and
``GET /product/{name_id}`` (does the product exist and allow duplicates?).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from dupcert.certcentral.errors import (
    CertCentralError,
    CertCentralUnavailableError,
    CredentialsInvalidError,
    NotFoundError,
)
from dupcert.certcentral.models import Account, Product
from dupcert.conditions import READY, Reason, set_condition
from dupcert.issuers import ClientCache, IssuerNotReadyError, build_issuer
from dupcert.resources import IssuerKind, IssuerSpec
from dupcert.settings import OperatorSettings
from dupcert.storage.kube import Kube

# OpenSSL verify codes (X509_V_ERR_*) that spec.url, not the CA bundle, can fix.
_NAME_MISMATCH_CODES = frozenset({62, 64})  # HOSTNAME_MISMATCH, IP_ADDRESS_MISMATCH
# OpenSSL verify codes of a certificate outside its validity period.
_VALIDITY_CODES = frozenset({9, 10})  # CERT_NOT_YET_VALID, CERT_HAS_EXPIRED


class ReadinessClient(Protocol):
    """The CertCentral calls of an issuer check, as ``CertCentralClient`` implements them."""

    async def get_account(self) -> Account: ...

    async def get_product(self, name_id: str) -> Product: ...


@dataclass(frozen=True)
class Readiness:
    """The Ready condition's parts, and the account id when the API key worked."""

    ready: bool
    reason: str
    message: str
    account_id: int | None = None


@dataclass(frozen=True)
class IssuerCheck:
    """Result of a check: the status to write and the Ready condition's parts."""

    status: dict[str, Any]
    ready: bool
    reason: str
    message: str


def find_tls_verification_error(error: BaseException) -> ssl.SSLCertVerificationError | None:
    """Return the certificate verification error in the cause chain of ``error``, if any."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLCertVerificationError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def describe_tls_failure(error: BaseException, url: str, ca_bundle_set: bool) -> str | None:
    """Describe a failed TLS verification of CertCentral's certificate, with the fix.

    Returns None when ``error`` is not a ``CertCentralUnavailableError`` caused by a failed
    certificate verification. ``ca_bundle_set`` is True when the issuer sets
    spec.caBundleSecretRef, and it decides which fix the message suggests.
    """
    if not isinstance(error, CertCentralUnavailableError):
        return None
    verification = find_tls_verification_error(error)
    if verification is None:
        return None
    # An error built outside OpenSSL's handshake lacks the verify_* attributes.
    code: int | None = getattr(verification, "verify_code", None)
    detail = getattr(verification, "verify_message", None) or "certificate verify failed"
    if code in _NAME_MISMATCH_CODES:
        return (
            f"spec.url: the certificate of {url} does not name its host ({detail}); set "
            "spec.url to a host name that the certificate contains"
        )
    if code in _VALIDITY_CODES:
        return (
            f"the certificate of {url} is not valid now ({detail}); check the server's "
            "certificate and the operator's clock"
        )
    if ca_bundle_set:
        return (
            f"spec.caBundleSecretRef: the CA bundle does not verify {url}'s certificate "
            f"({detail}); put the CA that signed it in the Secret"
        )
    return (
        f"the system CAs do not verify {url}'s certificate ({detail}); set "
        "spec.caBundleSecretRef to a Secret with the CA that signed it"
    )


def _describe_error(error: CertCentralError, spec: IssuerSpec, call: str) -> Readiness:
    """Map a failed CertCentral call of the check onto the Ready condition."""
    tls_failure = describe_tls_failure(error, spec.url, spec.ca_bundle_secret_ref is not None)
    if tls_failure is not None:
        return Readiness(False, Reason.ISSUER_NOT_READY, tls_failure)
    if isinstance(error, CredentialsInvalidError):
        return Readiness(
            False,
            Reason.CREDENTIALS_INVALID,
            "CertCentral rejected the API key; store a valid key in the Secret named by "
            "spec.apiKeySecretRef",
        )
    if error.retryable:
        return Readiness(False, Reason.CERTCENTRAL_UNAVAILABLE, f"CertCentral call failed: {error}")
    return Readiness(False, Reason.REQUEST_FAILED, f"CertCentral rejected {call}: {error}")


async def probe_certcentral(client: ReadinessClient, spec: IssuerSpec) -> Readiness:
    """Check the API key with ``GET /account``, then the product with ``GET /product``.

    NOTE: spec.organizationId is not checked. ``GET /account`` returns only the primary
    organization, and an account can order for others too, so a different id proves nothing.
    """
    try:
        account = await client.get_account()
    except CertCentralError as error:
        return _describe_error(error, spec, "the account check")

    name_id = spec.product_name_id
    try:
        product = await client.get_product(name_id)
    except NotFoundError:
        # NOTE: only HTTP 404 counts as an unknown product. CertCentral does not document
        # its status for a name id it does not know, so any other 4xx reads as RequestFailed.
        return Readiness(
            False,
            Reason.INVALID_PRODUCT,
            f"spec.productNameId: CertCentral has no product {name_id!r}; set it to the "
            "product name id of the orders to duplicate, for example ssl_plus",
            account.id,
        )
    except CertCentralError as error:
        failure = _describe_error(error, spec, f"the product check of {name_id!r}")
        return Readiness(failure.ready, failure.reason, failure.message, account.id)

    if not product.duplicates_allowed:
        return Readiness(
            False,
            Reason.DUPLICATES_NOT_ALLOWED,
            f"spec.productNameId: CertCentral does not allow duplicates for product "
            f"{name_id!r}; choose a product that allows them",
            account.id,
        )
    return Readiness(
        True,
        Reason.CREDENTIALS_VALID,
        f"Authenticated to CertCentral at {spec.url} (account {account.id}); product "
        f"{name_id} allows duplicates",
        account.id,
    )


async def check_issuer(
    kube: Kube,
    kind: IssuerKind,
    body: dict[str, Any],
    settings: OperatorSettings,
    clients: ClientCache,
    now: datetime,
) -> IssuerCheck:
    """Load the issuer's Secrets and check its key and product in CertCentral."""
    metadata = body.get("metadata") or {}
    name = metadata["name"]
    namespace = metadata.get("namespace") if kind is IssuerKind.ISSUER else None
    try:
        issuer = await build_issuer(
            kube, kind, name, namespace, body.get("spec") or {}, settings, clients
        )
    except IssuerNotReadyError as error:
        readiness = Readiness(False, Reason.ISSUER_NOT_READY, str(error))
    else:
        readiness = await probe_certcentral(issuer.client, issuer.spec)

    conditions = set_condition(
        (body.get("status") or {}).get("conditions"),
        READY,
        readiness.ready,
        readiness.reason,
        readiness.message,
        metadata.get("generation"),
        now,
    )
    status: dict[str, Any] = {"conditions": conditions}
    if readiness.account_id is not None:
        status["accountId"] = readiness.account_id
    return IssuerCheck(status, readiness.ready, readiness.reason, readiness.message)


def retry_delay(settings: OperatorSettings, retry: int) -> float:
    """Return the seconds before the next check of a failing issuer.

    ``retry`` is Kopf's count of earlier failed attempts (0 after the first failure), so the
    delay starts at retry_base_seconds and doubles up to retry_max_seconds.
    """
    # Cap the exponent so a long failure cannot overflow the float.
    exponent = min(retry, 64)
    return min(settings.retry_base_seconds * 2.0**exponent, settings.retry_max_seconds)


def readiness_changed(previous: dict[str, Any] | None, check: IssuerCheck) -> bool:
    """Return True when the Ready condition's status or reason differs from ``previous``.

    A missing ``previous`` condition counts as a change, so the first result is reported.
    """
    if previous is None:
        return True
    status = "True" if check.ready else "False"
    return previous.get("status") != status or previous.get("reason") != check.reason
