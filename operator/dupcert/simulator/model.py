"""The simulator's records: accounts, organizations, orders, certificates and requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from cryptography import x509

CertificateKind = Literal["primary", "duplicate"]
CertificateStatus = Literal["pending", "issued", "rejected", "revoked"]
RequestType = Literal["new_request", "duplicate"]
RequestStatus = Literal["submitted", "pending", "approved", "rejected"]


@dataclass(frozen=True)
class User:
    """A CertCentral user, as named in orders, requests and duplicates."""

    id: int
    first_name: str
    last_name: str
    email: str


# The one user the simulator models. It places every order and request of every account, because
# CertCentral always names a user on them.
SIMULATOR_USER = User(
    id=7000001, first_name="Simulator", last_name="User", email="simulator.user@example.com"
)


@dataclass
class Account:
    """A CertCentral account, its settings, and the API key that authenticates as it."""

    id: int
    name: str
    api_key: str = field(repr=False)
    skip_approval: bool
    duplicates_enabled: bool
    include_chain_in_response: bool
    rate_limit_enabled: bool
    renewal_validity: timedelta


@dataclass
class Organization:
    """An organization of an account."""

    id: int
    name: str
    account_id: int


@dataclass
class Certificate:
    """A primary or duplicate certificate; `x509` stays None until it is issued."""

    id: int
    order_id: int
    kind: CertificateKind
    common_name: str
    dns_names: list[str]
    signature_hash: str
    date_created: datetime
    status: CertificateStatus
    csr: str = ""
    key_size: int = 0
    server_platform_id: int = -1
    sub_id: str = ""
    archived: bool = False
    x509: x509.Certificate | None = None
    pem: str = ""
    date_issued: datetime | None = None

    @property
    def is_issued(self) -> bool:
        """Whether the certificate has been signed."""
        return self.x509 is not None

    @property
    def valid_from(self) -> datetime | None:
        """The notBefore of the signed certificate."""
        return self.x509.not_valid_before_utc if self.x509 is not None else None

    @property
    def valid_till(self) -> datetime | None:
        """The notAfter of the signed certificate."""
        return self.x509.not_valid_after_utc if self.x509 is not None else None


@dataclass
class Request:
    """An approval request for a new order, a renewal order or a duplicate."""

    id: int
    order_id: int
    type: RequestType
    status: RequestStatus
    date: datetime
    certificate_id: int
    comments: str = ""
    processor_comment: str = ""
    date_processed: datetime | None = None


@dataclass
class Order:
    """A certificate order; its primary certificate and every duplicate belong to it."""

    id: int
    account_id: int
    organization_id: int
    product_name_id: str
    status: str
    date_created: datetime
    primary_certificate_id: int
    # Validity of the order's certificate, fixed when the order is placed and used when a pending
    # order is approved later.
    validity: timedelta
    renewal_of_order_id: int | None = None
    renewed_order_id: int = 0
    allow_duplicates: bool | None = None
    disable_renewal_notifications: bool = False
    duplicate_certificate_ids: list[int] = field(default_factory=list)
    request_ids: list[int] = field(default_factory=list)
    renewal_count: int = 0

    @property
    def container_id(self) -> int:
        """The order's container id, which is the account id: each account has one container."""
        return self.account_id

    @property
    def is_renewal(self) -> bool:
        """Whether this order renews another order."""
        return self.renewal_of_order_id is not None

    @property
    def is_renewed(self) -> bool:
        """Whether another order renews this one."""
        return self.renewed_order_id != 0
