"""Outcomes of a pass other than success: a failure, a wait, and the trigger of an issuance."""

from __future__ import annotations

from dataclasses import dataclass

from dupcert.certcentral.errors import (
    CertCentralError,
    CredentialsInvalidError,
    DuplicatesNotAllowedError,
)
from dupcert.conditions import Reason
from dupcert.issuer_check import describe_tls_failure
from dupcert.resolve import OrderMismatchError, OrderNotFoundError

# Triggers whose issuance goes through renewal-time resolution.
RENEWAL_TRIGGERS = frozenset({Reason.RENEWING, Reason.MANUALLY_TRIGGERED})


class PassFailure(Exception):
    """A failed pass: the reason and message go to the conditions and an Event."""

    def __init__(self, reason: str, message: str, *, retry: bool = True) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.retry = retry


class PassWait(Exception):
    """Issuance goes on later (approval, a renewal in progress); nothing failed."""

    def __init__(self, reason: str, message: str, seconds: float) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.seconds = seconds


@dataclass(frozen=True)
class Trigger:
    """The cause of an issuance: the Issuing condition's reason and message."""

    reason: str
    message: str

    @property
    def is_renewal(self) -> bool:
        return self.reason in RENEWAL_TRIGGERS


def failure_from(error: Exception, url: str, ca_bundle_set: bool) -> PassFailure:
    """Map an error of order resolution or CertCentral onto a reason and a message.

    ``url`` and ``ca_bundle_set`` describe the issuer, for the fix of a TLS failure.
    """
    tls_problem = describe_tls_failure(error, url, ca_bundle_set)
    if tls_problem is not None:
        return PassFailure(Reason.ISSUER_NOT_READY, tls_problem)
    if isinstance(error, OrderNotFoundError):
        return PassFailure(Reason.ORDER_NOT_FOUND, str(error))
    if isinstance(error, OrderMismatchError):
        return PassFailure(Reason.ORDER_MISMATCH, str(error))
    if isinstance(error, CredentialsInvalidError):
        return PassFailure(
            Reason.CREDENTIALS_INVALID,
            "CertCentral rejected the API key of the issuer; store a valid key in the "
            "Secret named by the issuer's spec.apiKeySecretRef",
        )
    if isinstance(error, DuplicatesNotAllowedError):
        return PassFailure(
            Reason.DUPLICATES_NOT_ALLOWED,
            "CertCentral does not allow duplicates for this account or product "
            f"({error.message}); ask a CertCentral administrator to enable duplicate "
            "certificates, or use an issuer with a product that allows them",
        )
    if isinstance(error, CertCentralError) and error.retryable:
        return PassFailure(
            Reason.CERTCENTRAL_UNAVAILABLE,
            f"CertCentral is unavailable: {error}; retrying with backoff",
        )
    return PassFailure(Reason.REQUEST_FAILED, f"CertCentral rejected the request: {error}")
