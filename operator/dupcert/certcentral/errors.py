"""Typed errors for CertCentral Services API failures.

Every failure the client sees becomes one subclass of `CertCentralError`, so callers can map
each class once onto "retry later" or "give up". Messages are cut to `MAX_MESSAGE_LENGTH`
characters. The client builds every message without the API key and scrubs it again before
raising, so no message should ever contain it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MAX_MESSAGE_LENGTH = 256

# The code CertCentral sends, with HTTP 403 rather than 401, for an invalid API key.
INVALID_KEY_CODE = "access_denied|access_denied_invalid_key"

# CertCentral documents no code for "duplicates are disabled", so any code containing this
# text is treated as that refusal.
DUPLICATES_NOT_ALLOWED_MARKER = "duplicates_not_allowed"


@dataclass(frozen=True)
class ErrorDetail:
    """One entry of a CertCentral error body: `{"code": ..., "message": ...}`."""

    code: str | None
    message: str


def truncate_message(text: str, limit: int = MAX_MESSAGE_LENGTH) -> str:
    """Cut `text` to `limit` characters, marking the cut with an ellipsis."""
    if len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


class CertCentralError(Exception):
    """A CertCentral request failed.

    `status_code` is the HTTP status (None when no response arrived), `code` is the first
    error code of the body (None when the body had none), and `errors` keeps every entry.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
        errors: Sequence[ErrorDetail] = (),
    ) -> None:
        self.message = truncate_message(message)
        self.status_code = status_code
        self.code = code
        self.errors: tuple[ErrorDetail, ...] = tuple(errors)
        super().__init__(self.message)

    @property
    def retryable(self) -> bool:
        """Whether the same request may succeed later without any change."""
        return False


class CredentialsInvalidError(CertCentralError):
    """The API key was rejected: HTTP 401, or 403 with `access_denied|access_denied_invalid_key`."""


class AccessDeniedError(CertCentralError):
    """HTTP 403 for a valid key that lacks the rights for this request."""


class DuplicatesNotAllowedError(CertCentralError):
    """CertCentral refused a duplicate because the product or order does not allow them."""


class NotFoundError(CertCentralError):
    """HTTP 404: the order, certificate, request or product does not exist."""


class InvalidRequestError(CertCentralError):
    """Any other HTTP 4xx: CertCentral rejected the request; `errors` lists every reason."""


class RateLimitedError(CertCentralError):
    """HTTP 429 `request_limit_exceeded`: the key exceeded a rolling rate-limit window."""

    @property
    def retryable(self) -> bool:
        return True


class ServerError(CertCentralError):
    """HTTP 5xx from CertCentral or its CDN."""

    @property
    def retryable(self) -> bool:
        return True


class CertCentralUnavailableError(CertCentralError):
    """No response: the connection failed or timed out. Chained from the httpx error.

    For a POST the request may still have been processed, so check (for example by listing
    duplicates) before sending it again.
    """

    @property
    def retryable(self) -> bool:
        return True


class TLSVerificationError(CertCentralUnavailableError):
    """CertCentral's TLS certificate failed verification; retrying cannot fix it."""

    @property
    def retryable(self) -> bool:
        return False


class ResponseFormatError(CertCentralError):
    """A successful HTTP status with a body that is not the JSON shape the client expects."""


def error_from_status(
    status_code: int, message: str, errors: Sequence[ErrorDetail] = ()
) -> CertCentralError:
    """Build the typed error for an HTTP error status and the entries of its body."""
    codes = [detail.code or "" for detail in errors]
    first_code = next((code for code in codes if code), None)
    error_class: type[CertCentralError]

    if status_code == 401 or (status_code == 403 and INVALID_KEY_CODE in codes):
        error_class = CredentialsInvalidError
    elif any(DUPLICATES_NOT_ALLOWED_MARKER in code for code in codes):
        error_class = DuplicatesNotAllowedError
    elif status_code == 403:
        error_class = AccessDeniedError
    elif status_code == 404:
        error_class = NotFoundError
    elif status_code == 429:
        error_class = RateLimitedError
    elif 500 <= status_code <= 599:
        error_class = ServerError
    elif 400 <= status_code <= 499:
        error_class = InvalidRequestError
    else:
        error_class = CertCentralError

    return error_class(message, status_code=status_code, code=first_code, errors=errors)
