"""The YAML seed file: accounts, organizations, products and orders the simulator starts with."""

from __future__ import annotations

import importlib.resources
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal, Self

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from dupcert.simulator.durations import format_duration, parse_duration
from dupcert.simulator.products import default_catalogue

Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
]

KeyAlgorithm = Literal["rsa-2048", "rsa-3072", "rsa-4096", "ecdsa-p256", "ecdsa-p384"]
SignatureHash = Literal["sha256", "sha384", "sha512"]

# Order statuses that CertCentral documents. An order seeded as `issued` whose certificate has
# expired is shown as `expired`, so `expired` itself is not a seed status.
OrderStatus = Literal[
    "issued",
    "pending",
    "processing",
    "needs_approval",
    "waiting_pickup",
    "reissue_pending",
    "rejected",
    "revoked",
    "canceled",
]

DEFAULT_SEED_RESOURCE = "default-seed.yaml"


class SeedError(ValueError):
    """A seed file that cannot be read or does not validate."""


def _aware(value: datetime | None) -> datetime | None:
    """Treat a naive datetime from YAML as UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class SeedAccount(BaseModel):
    """A CertCentral account and the API key that authenticates as it."""

    model_config = ConfigDict(extra="forbid")

    id: int | None = Field(default=None, gt=0)
    name: str = "Simulator Account"
    api_key: SecretStr = Field(min_length=8)
    skip_approval: bool = True
    duplicates_enabled: bool = True
    include_chain_in_response: bool = True
    rate_limit_enabled: bool = True
    renewal_validity: Duration = timedelta(days=397)


class SeedOrganization(BaseModel):
    """An organization that orders are issued to."""

    model_config = ConfigDict(extra="forbid")

    id: int = Field(gt=0)
    name: str
    account_id: int | None = Field(default=None, gt=0)


class SeedProduct(BaseModel):
    """A product added to the built-in catalogue, or a change to one of its entries."""

    model_config = ConfigDict(extra="forbid")

    name_id: str = Field(min_length=1)
    name: str | None = None
    type: str | None = None
    validation_type: str | None = None
    duplicates_allowed: bool | None = None
    is_wildcard: bool | None = None


class SeedOrder(BaseModel):
    """An order with its primary certificate, created when the seed is loaded."""

    model_config = ConfigDict(extra="forbid")

    id: int | None = Field(default=None, gt=0)
    account_id: int | None = Field(default=None, gt=0)
    organization_id: int = Field(gt=0)
    product_name_id: str = Field(min_length=1)
    common_name: str = Field(min_length=1)
    dns_names: list[str] = Field(default_factory=list)
    status: OrderStatus = "issued"
    valid_for: Duration | None = None
    valid_from: datetime | None = None
    valid_till: datetime | None = None
    date_created: datetime | None = None
    renewal_of_order_id: int | None = Field(default=None, gt=0)
    key_algorithm: KeyAlgorithm = "rsa-2048"
    signature_hash: SignatureHash = "sha256"
    allow_duplicates: bool | None = None
    disable_renewal_notifications: bool = False

    @field_validator("valid_from", "valid_till", "date_created")
    @classmethod
    def _assume_utc(cls, value: datetime | None) -> datetime | None:
        return _aware(value)

    @model_validator(mode="after")
    def _check_validity(self) -> Self:
        if self.valid_for is not None and self.valid_till is not None:
            raise ValueError("give either valid_for or valid_till, not both")
        if (
            self.valid_from is not None
            and self.valid_till is not None
            and self.valid_till <= self.valid_from
        ):
            raise ValueError("valid_till must be later than valid_from")
        return self

    def validity_window(self, now: datetime) -> tuple[datetime, datetime]:
        """Return the primary certificate's notBefore and notAfter for an order seeded at `now`."""
        valid_from = self.valid_from or now
        if self.valid_till is not None:
            return valid_from, self.valid_till
        return valid_from, valid_from + (self.valid_for or timedelta(days=397))


class SeedQuirks(BaseModel):
    """Switches for behaviours that real CertCentral has shown; all are off by default."""

    model_config = ConfigDict(extra="forbid")

    primary_in_duplicate_list: bool = False
    empty_duplicate_list_as_object: bool = False
    crlf_pem: bool = False
    stale_request_status: bool = False
    issued_duplicate_status_approved: bool = False


class Seed(BaseModel):
    """The whole seed file."""

    model_config = ConfigDict(extra="forbid")

    accounts: list[SeedAccount] = Field(min_length=1)
    organizations: list[SeedOrganization] = Field(default_factory=list)
    products: list[SeedProduct] = Field(default_factory=list)
    orders: list[SeedOrder] = Field(default_factory=list)
    quirks: SeedQuirks = Field(default_factory=SeedQuirks)

    @model_validator(mode="after")
    def _check_unique(self) -> Self:
        keys = [account.api_key.get_secret_value() for account in self.accounts]
        if len(set(keys)) != len(keys):
            raise ValueError("accounts: two accounts use the same api_key")

        for section, ids in (
            ("accounts", [account.id for account in self.accounts if account.id is not None]),
            ("organizations", [organization.id for organization in self.organizations]),
            ("orders", [order.id for order in self.orders if order.id is not None]),
        ):
            if len(set(ids)) != len(ids):
                raise ValueError(f"{section}: two entries use the same id")
        return self

    @model_validator(mode="after")
    def _check_references(self) -> Self:
        account_ids = {account.id for account in self.accounts if account.id is not None}
        for index, organization in enumerate(self.organizations):
            if organization.account_id is not None and organization.account_id not in account_ids:
                raise ValueError(
                    f"organizations.{index}.account_id: account {organization.account_id} "
                    "is not defined under accounts with an explicit id"
                )

        products = set(default_catalogue()) | {product.name_id for product in self.products}
        organization_ids = {organization.id for organization in self.organizations}
        order_ids = {order.id for order in self.orders if order.id is not None}
        for index, order in enumerate(self.orders):
            if order.product_name_id not in products:
                raise ValueError(
                    f"orders.{index}.product_name_id: unknown product {order.product_name_id!r}, "
                    f"known products: {', '.join(sorted(products))}"
                )
            if order.organization_id not in organization_ids:
                raise ValueError(
                    f"orders.{index}.organization_id: organization {order.organization_id} "
                    "is not defined under organizations"
                )
            if order.renewal_of_order_id is not None and order.renewal_of_order_id not in order_ids:
                raise ValueError(
                    f"orders.{index}.renewal_of_order_id: order {order.renewal_of_order_id} "
                    "is not defined under orders with an explicit id"
                )
        return self


def _format_validation_error(source: str, error: ValidationError) -> str:
    lines = [f"invalid seed {source}:"]
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"  {location}: {item['msg']}")
    return "\n".join(lines)


def parse_seed(data: object, source: str = "(inline)") -> Seed:
    """Validate already-parsed YAML data, raising SeedError that names each bad field."""
    try:
        return Seed.model_validate(data)
    except ValidationError as error:
        raise SeedError(_format_validation_error(source, error)) from error


def load_seed_text(text: str, source: str = "(inline)") -> Seed:
    """Parse and validate seed YAML text."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise SeedError(f"invalid seed {source}: not valid YAML: {error}") from error
    return parse_seed(data, source)


def load_seed_file(path: str | Path) -> Seed:
    """Read and validate a seed file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise SeedError(f"cannot read seed file {path}: {error.strerror}") from error
    return load_seed_text(text, str(path))


def load_default_seed() -> Seed:
    """Load the packaged demo seed."""
    resource = importlib.resources.files("dupcert.simulator").joinpath(DEFAULT_SEED_RESOURCE)
    return load_seed_text(resource.read_text(encoding="utf-8"), DEFAULT_SEED_RESOURCE)


def resolve_seed(seed: str | Path | Seed | None) -> Seed:
    """Accept a seed model, a path to a seed file, or None for the default seed."""
    if seed is None:
        return load_default_seed()
    if isinstance(seed, Seed):
        return seed
    return load_seed_file(seed)
