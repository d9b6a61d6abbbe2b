"""Client for the DigiCert CertCentral Services API v2: errors, models, rate limiting."""

from dupcert.certcentral.client import CertCentralClient
from dupcert.certcentral.errors import (
    AccessDeniedError,
    CertCentralError,
    CertCentralUnavailableError,
    CredentialsInvalidError,
    DuplicatesNotAllowedError,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
    ResponseFormatError,
    ServerError,
)
from dupcert.certcentral.pem import split_pem_chain
from dupcert.certcentral.ratelimit import SlidingWindowLimiter, limiter_for_key

__all__ = [
    "AccessDeniedError",
    "CertCentralClient",
    "CertCentralError",
    "CertCentralUnavailableError",
    "CredentialsInvalidError",
    "DuplicatesNotAllowedError",
    "InvalidRequestError",
    "NotFoundError",
    "RateLimitedError",
    "ResponseFormatError",
    "ServerError",
    "SlidingWindowLimiter",
    "limiter_for_key",
    "split_pem_chain",
]
