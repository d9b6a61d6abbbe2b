"""Pydantic models for the CertCentral Services API v2 responses the client reads.

All models ignore unknown fields and accept `[]` where an object is expected, because
CertCentral has been seen serialising empty objects as empty arrays. Nested objects therefore
default every field. Dates are parsed leniently: `yyyy-MM-dd`, ISO 8601 with or without an
offset, and a space in place of the `T`. A datetime without an offset is taken as UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator


def _parse_datetime(value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip().replace(" ", "T", 1)
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        parsed = datetime.fromisoformat(text)
    else:
        return value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _parse_date(value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if len(text) == len("yyyy-mm-dd"):
            return date.fromisoformat(text)
        return _parse_datetime(text).date()
    return value


def _zero_as_none(value: Any) -> Any:
    """Map CertCentral's `0` ("no such order") to None."""
    if value in (0, "0", "", None):
        return None
    return value


def _as_text(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


# A timezone-aware datetime (UTC when the input has no offset), or None for an empty value.
LenientDateTime = Annotated[datetime | None, BeforeValidator(_parse_datetime)]
LenientDate = Annotated[date | None, BeforeValidator(_parse_date)]
OptionalOrderId = Annotated[int | None, BeforeValidator(_zero_as_none)]
TextId = Annotated[str | None, BeforeValidator(_as_text)]


class CertCentralModel(BaseModel):
    """Base for every response model: ignores unknown fields and reads `[]` as `{}`."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _empty_list_as_object(cls, data: Any) -> Any:
        if isinstance(data, list) and not data:
            return {}
        return data


class Account(CertCentralModel):
    """The account that owns the API key (`GET /account`)."""

    id: int
    primary_organization_id: int | None = None
    admin_email: str | None = None


class OrganizationRef(CertCentralModel):
    """An organization as embedded in orders."""

    id: int | None = None
    name: str | None = None


class ProductRef(CertCentralModel):
    """A product as embedded in orders: `name_id` is the identifier used in order URLs."""

    name_id: str | None = None
    name: str | None = None
    type: str | None = None


class ContainerRef(CertCentralModel):
    """A container (division) as embedded in orders."""

    id: int | None = None
    name: str | None = None


class ServerPlatform(CertCentralModel):
    """The server platform a certificate was requested for (`-1` is OTHER)."""

    id: int | None = None
    name: str | None = None


class OrderCertificate(CertCentralModel):
    """The primary certificate of an order. `dns_names` includes the common name."""

    id: int | None = None
    common_name: str | None = None
    dns_names: list[str] = Field(default_factory=list)
    thumbprint: str | None = None
    serial_number: str | None = None
    date_created: LenientDateTime = None
    date_issued: LenientDateTime = None
    valid_from: LenientDate = None
    valid_till: LenientDate = None
    days_remaining: int | None = None
    csr: str | None = None
    signature_hash: str | None = None
    key_size: int | None = None
    server_platform: ServerPlatform | None = None

    @field_validator("dns_names", mode="before")
    @classmethod
    def _null_names_as_empty(cls, value: Any) -> Any:
        return [] if value is None else value


class OrderSummary(CertCentralModel):
    """One order in the list from `GET /order/certificate`."""

    id: int
    status: str
    certificate: OrderCertificate = Field(default_factory=OrderCertificate)
    date_created: LenientDateTime = None
    is_renewed: bool = False
    has_duplicates: bool = False
    organization: OrganizationRef = Field(default_factory=OrganizationRef)
    product: ProductRef = Field(default_factory=ProductRef)
    container: ContainerRef = Field(default_factory=ContainerRef)
    validity_years: int | None = None


class Page(CertCentralModel):
    """The paging envelope of list endpoints."""

    total: int = 0
    limit: int = 0
    offset: int = 0


class OrderList(CertCentralModel):
    """One page of `GET /order/certificate`."""

    orders: list[OrderSummary] = Field(default_factory=list)
    page: Page | None = None


class RequestSummary(CertCentralModel):
    """An approval request as embedded in an order's `requests` list."""

    id: int
    date: LenientDateTime = None
    type: str | None = None
    status: str | None = None
    comments: str | None = None


class Order(CertCentralModel):
    """Order details from `GET /order/certificate/{order_id}`.

    `renewed_order_id` is None when CertCentral sends `0` (not renewed).
    """

    id: int
    status: str
    certificate: OrderCertificate = Field(default_factory=OrderCertificate)
    product: ProductRef = Field(default_factory=ProductRef)
    organization: OrganizationRef = Field(default_factory=OrganizationRef)
    container: ContainerRef = Field(default_factory=ContainerRef)
    date_created: LenientDateTime = None
    order_valid_till: LenientDate = None
    is_renewal: bool = False
    is_renewed: bool = False
    renewed_order_id: OptionalOrderId = None
    renewal_of_order_id: OptionalOrderId = None
    allow_duplicates: bool | None = None
    requests: list[RequestSummary] = Field(default_factory=list)


class Product(CertCentralModel):
    """Product details from `GET /product/{name_id}`.

    `duplicates_allowed` is False when the response omits it.
    """

    name_id: str
    name: str | None = None
    type: str | None = None
    duplicates_allowed: bool = False
    additional_dns_names_allowed: bool | None = None
    csr_required: bool | None = None


class DuplicateCertificate(CertCentralModel):
    """One certificate from `GET /order/certificate/{order_id}/duplicate`.

    `id` is the certificate id (not an order id). CertCentral sends `archived` as "0"/"1".
    """

    id: int
    serial_number: str | None = None
    thumbprint: str | None = None
    common_name: str | None = None
    dns_names: list[str] = Field(default_factory=list)
    status: str | None = None
    csr: str | None = None
    date_created: LenientDateTime = None
    valid_from: LenientDate = None
    valid_till: LenientDate = None
    days_remaining: int | None = None
    sub_id: TextId = None
    signature_hash: str | None = None
    key_size: int | None = None
    ca_cert_id: TextId = None
    archived: bool = False
    public_id: str | None = None
    user_id: int | None = None
    server_platform: ServerPlatform | None = None

    @field_validator("dns_names", mode="before")
    @classmethod
    def _null_names_as_empty(cls, value: Any) -> Any:
        return [] if value is None else value


class DuplicateList(CertCentralModel):
    """The duplicates list. CertCentral may send `{}` when the order has none."""

    certificates: list[DuplicateCertificate] = Field(default_factory=list)


class CertificateChainEntry(CertCentralModel):
    """One certificate of an issuance response chain, leaf first."""

    subject_common_name: str | None = None
    pem: str


class RequestStatus(CertCentralModel):
    """The approval request created by an order, duplicate or renewal."""

    id: int
    status: str | None = None


class IssuanceResponse(CertCentralModel):
    """Response of a request that creates a certificate.

    `certificate_id` and `certificate_chain` are present only when CertCentral issued the
    certificate immediately (no approval step).
    """

    id: int
    requests: list[RequestStatus] = Field(default_factory=list)
    certificate_id: int | None = None
    certificate_chain: list[CertificateChainEntry] | None = None


class DuplicateCreated(IssuanceResponse):
    """Response of `POST /order/certificate/{order_id}/duplicate`. `id` is the same order id."""


class OrderCreated(IssuanceResponse):
    """Response of `POST /order/certificate/{product_name_id}`. `id` is the new order id."""


class RequestOrder(CertCentralModel):
    """The order embedded in a request.

    CertCentral has been seen returning a stale copy here, so read the order itself for its
    current status.
    """

    id: int | None = None
    status: str | None = None
    is_renewal: bool = False
    certificate: OrderCertificate = Field(default_factory=OrderCertificate)


class Request(CertCentralModel):
    """Approval request details from `GET /request/{request_id}`."""

    id: int
    date: LenientDateTime = None
    type: str | None = None
    status: str
    date_processed: LenientDateTime = None
    order: RequestOrder = Field(default_factory=RequestOrder)
    comments: str | None = None
    processor_comment: str | None = None


class ErrorEntry(CertCentralModel):
    """One entry of an error body."""

    code: str | None = None
    message: str = ""


class ErrorBody(CertCentralModel):
    """An error body: `{"errors": [{"code": ..., "message": ...}]}`.

    A single object under `errors`, instead of a list, is read as a list of one.
    """

    errors: list[ErrorEntry] = Field(default_factory=list)

    @field_validator("errors", mode="before")
    @classmethod
    def _single_error_as_list(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return [value]
        return value
