"""Status conditions and the reasons they carry.

Every reason the operator sets is defined here, so users can look them up in one place.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

READY = "Ready"
ISSUING = "Issuing"


class Reason:
    """Condition and Event reasons (PascalCase, stable: users match on them)."""

    # Ready=True: the Secret contains a valid certificate for the current spec.
    READY = "Ready"
    # The issuer's authenticated call succeeded (issuer Ready=True).
    CREDENTIALS_VALID = "CredentialsValid"
    # The spec is invalid; the message names the field and the fix. No retry until it changes.
    INVALID_SPEC = "InvalidSpec"
    # The issuer does not exist, is invalid, or its Secrets are missing, or TLS verification of
    # CertCentral's certificate failed (the message names spec.caBundleSecretRef).
    ISSUER_NOT_READY = "IssuerNotReady"
    # CertCentral has no product with the issuer's spec.productNameId.
    INVALID_PRODUCT = "InvalidProduct"
    # CertCentral rejected the API key (HTTP 401 or 403 access_denied_invalid_key).
    CREDENTIALS_INVALID = "CredentialsInvalid"
    # No issued, unexpired order of the issuer's organization and product allows the names.
    ORDER_NOT_FOUND = "OrderNotFound"
    # The pinned spec.orderId does not allow the names, or is not issued.
    ORDER_MISMATCH = "OrderMismatch"
    # Duplicates are disabled for the account, the order's product or the issuer's product.
    DUPLICATES_NOT_ALLOWED = "DuplicatesNotAllowed"
    # The duplicate request waits for an approver in CertCentral.
    PENDING_APPROVAL = "PendingApproval"
    # The duplicate request was rejected in CertCentral.
    REQUEST_REJECTED = "RequestRejected"
    # A duplicate has been requested and is being fetched.
    DUPLICATE_REQUESTED = "DuplicateRequested"
    # The issued certificate failed a check (key, names, chain or validity).
    INVALID_CERTIFICATE = "InvalidCertificate"
    # The target Secret exists and belongs to someone else; it is left untouched.
    SECRET_CONFLICT = "SecretConflict"
    # The API server rejected the TLS Secret (for example an invalid template label).
    SECRET_WRITE_FAILED = "SecretWriteFailed"
    # CertCentral or the network failed in a way that is retried with backoff.
    CERTCENTRAL_UNAVAILABLE = "CertCentralUnavailable"
    # CertCentral rejected the request for another reason; the message carries its error.
    REQUEST_FAILED = "RequestFailed"
    # The certificate in the Secret has expired and no replacement exists yet.
    EXPIRED = "Expired"
    # The certificate is due and is being re-issued.
    RENEWING = "Renewing"
    # Re-issuance was requested with the dupcert.io/renew-requested-at annotation.
    MANUALLY_TRIGGERED = "ManuallyTriggered"
    # autoRenew is false and no renewed order exists yet; renew the order in CertCentral.
    WAITING_FOR_RENEWED_ORDER = "WaitingForRenewedOrder"
    # A duplicate of a newer, renewed order replaced the certificate.
    RENEWED_ORDER_DUPLICATED = "RenewedOrderDuplicated"
    # The operator renewed the order in CertCentral (once per order).
    ORDER_RENEWED = "OrderRenewed"
    # Another DuplicateCertificate holds the renewal lease of this order.
    RENEWAL_IN_PROGRESS = "RenewalInProgress"
    # The certificate was issued and written to the Secret.
    ISSUED = "Issued"


def format_time(moment: datetime) -> str:
    """Format a time as Kubernetes does: RFC 3339 in UTC, whole seconds."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def find_condition(conditions: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    return next((c for c in conditions if c.get("type") == kind), None)


def set_condition(
    conditions: list[dict[str, Any]] | None,
    kind: str,
    status: bool,
    reason: str,
    message: str,
    generation: int | None,
    now: datetime,
) -> list[dict[str, Any]]:
    """Return a new condition list with one condition set.

    ``lastTransitionTime`` changes only when the status flips, so users can tell how long a
    state has lasted.
    """
    new_status = "True" if status else "False"
    result = [dict(c) for c in conditions or [] if c.get("type") != kind]
    previous = find_condition(conditions or [], kind)
    if previous is not None and previous.get("status") == new_status:
        transition = previous.get("lastTransitionTime") or format_time(now)
    else:
        transition = format_time(now)
    condition: dict[str, Any] = {
        "type": kind,
        "status": new_status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": transition,
    }
    if generation is not None:
        condition["observedGeneration"] = generation
    result.append(condition)
    order = {READY: 0, ISSUING: 1}
    result.sort(key=lambda c: order.get(str(c.get("type")), 2))
    return result


def remove_condition(conditions: list[dict[str, Any]] | None, kind: str) -> list[dict[str, Any]]:
    return [dict(c) for c in conditions or [] if c.get("type") != kind]
