"""The simulator's in-memory state: records, id counters, settings, counts and faults."""

from __future__ import annotations

import hmac
import itertools
from collections import Counter
from datetime import UTC, datetime

from dupcert.simulator.ca import (
    CertificateAuthority,
    build_csr,
    certificate_pem,
    generate_private_key,
)
from dupcert.simulator.faults import ActiveFault
from dupcert.simulator.model import (
    Account,
    Certificate,
    Order,
    Organization,
    Request,
    RequestStatus,
)
from dupcert.simulator.products import Product, default_catalogue
from dupcert.simulator.ratelimit import RateLimiter
from dupcert.simulator.seed import Seed, SeedAccount, SeedOrder, SeedQuirks

# Separate id ranges for orders, certificates and requests, so a client that passes one kind of
# id where another is expected gets a 404 instead of a wrong object.
FIRST_ACCOUNT_ID = 5550001
FIRST_ORDER_ID = 100001
FIRST_CERTIFICATE_ID = 500001
FIRST_REQUEST_ID = 900001

# Order statuses under which the primary certificate has been signed.
ISSUED_ORDER_STATUSES = frozenset({"issued", "revoked", "reissue_pending"})


class StateError(ValueError):
    """A seed order or admin change that refers to something that does not exist."""


def utc_now() -> datetime:
    """Return the current time in UTC, truncated to whole seconds like CertCentral's timestamps."""
    return datetime.now(UTC).replace(microsecond=0)


class SimulatorState:
    """The simulator's records and settings, which the API and admin routes read and change."""

    def __init__(self, seed: Seed, ca: CertificateAuthority | None = None) -> None:
        self.ca = ca or CertificateAuthority()
        self.accounts: dict[int, Account] = {}
        self.organizations: dict[int, Organization] = {}
        self.products: dict[str, Product] = default_catalogue()
        self.orders: dict[int, Order] = {}
        self.certificates: dict[int, Certificate] = {}
        self.requests: dict[int, Request] = {}
        self.quirks: SeedQuirks = seed.quirks.model_copy()
        self.faults: list[ActiveFault] = []
        self.counts: Counter[str] = Counter()
        self.rate_limiter = RateLimiter()
        # CertCentral returned `{"page": {...}}` without an `orders` key for an empty order list
        # in a recorded exchange, so list endpoints omit an empty item list unless this is off.
        self.omit_empty_lists = True
        self._account_ids = itertools.count(FIRST_ACCOUNT_ID)
        self._order_ids = itertools.count(FIRST_ORDER_ID)
        self._certificate_ids = itertools.count(FIRST_CERTIFICATE_ID)
        self._request_ids = itertools.count(FIRST_REQUEST_ID)
        self._load(seed)

    # Ids

    def next_order_id(self) -> int:
        """Return an unused order id."""
        return next(order_id for order_id in self._order_ids if order_id not in self.orders)

    def next_certificate_id(self) -> int:
        """Return an unused certificate id."""
        return next(self._certificate_ids)

    def next_request_id(self) -> int:
        """Return an unused request id."""
        return next(self._request_ids)

    # Seed loading

    def _load(self, seed: Seed) -> None:
        for seed_account in seed.accounts:
            self._add_account(seed_account)
        first_account_id = next(iter(self.accounts))
        for seed_organization in seed.organizations:
            account_id = seed_organization.account_id or first_account_id
            if account_id not in self.accounts:
                raise StateError(
                    f"organization {seed_organization.id}: account {account_id} is not defined"
                )
            self.organizations[seed_organization.id] = Organization(
                seed_organization.id, seed_organization.name, account_id
            )
        for seed_product in seed.products:
            self._apply_product(seed_product.name_id, seed_product.model_dump(exclude_none=True))
        # Renewal links may point forward in the file, so they are set after every order exists.
        links: list[tuple[int, int]] = []
        for seed_order in seed.orders:
            order = self.add_seed_order(seed_order, link_renewal=False)
            if seed_order.renewal_of_order_id is not None:
                links.append((order.id, seed_order.renewal_of_order_id))
        for new_order_id, old_order_id in links:
            self.link_renewal(self.orders[old_order_id], self.orders[new_order_id])

    def _add_account(self, seed_account: SeedAccount) -> Account:
        account_id = seed_account.id or next(
            account_id for account_id in self._account_ids if account_id not in self.accounts
        )
        if account_id in self.accounts:
            raise StateError(f"account {account_id} is defined twice")
        account = Account(
            id=account_id,
            name=seed_account.name,
            api_key=seed_account.api_key.get_secret_value(),
            skip_approval=seed_account.skip_approval,
            duplicates_enabled=seed_account.duplicates_enabled,
            include_chain_in_response=seed_account.include_chain_in_response,
            rate_limit_enabled=seed_account.rate_limit_enabled,
            renewal_validity=seed_account.renewal_validity,
        )
        self.accounts[account_id] = account
        return account

    def _apply_product(self, name_id: str, changes: dict[str, object]) -> Product:
        product = self.products.get(name_id)
        if product is None:
            product = Product(
                name_id=name_id,
                name=str(changes.get("name", name_id)),
                type=str(changes.get("type", "ssl_certificate")),
                validation_type=str(changes.get("validation_type", "ov")),
                duplicates_allowed=bool(changes.get("duplicates_allowed", True)),
                is_wildcard=bool(changes.get("is_wildcard", False)),
            )
            self.products[name_id] = product
        for key, value in changes.items():
            if key != "name_id":
                setattr(product, key, value)
        return product

    def update_product(self, name_id: str, changes: dict[str, object]) -> Product:
        """Change settings of a product in the catalogue."""
        if name_id not in self.products:
            raise StateError(f"product {name_id!r} is not in the catalogue")
        return self._apply_product(name_id, changes)

    def add_seed_order(self, seed_order: SeedOrder, link_renewal: bool = True) -> Order:
        """Create an order from the seed shape, signing its primary certificate when issued."""
        account_id = seed_order.account_id or next(iter(self.accounts))
        if account_id not in self.accounts:
            raise StateError(f"account {account_id} is not defined")
        organization = self.organizations.get(seed_order.organization_id)
        if organization is None or organization.account_id != account_id:
            raise StateError(
                f"organization {seed_order.organization_id} is not defined in account {account_id}"
            )
        product = self.products.get(seed_order.product_name_id)
        if product is None:
            raise StateError(f"product {seed_order.product_name_id!r} is not in the catalogue")
        if seed_order.id is not None and seed_order.id in self.orders:
            raise StateError(f"order {seed_order.id} already exists")
        old_order = None
        if link_renewal and seed_order.renewal_of_order_id is not None:
            old_order = self.orders.get(seed_order.renewal_of_order_id)
            if old_order is None:
                raise StateError(f"order {seed_order.renewal_of_order_id} does not exist")

        now = utc_now()
        valid_from, valid_till = seed_order.validity_window(now)
        order_id = seed_order.id or self.next_order_id()
        names = normalize_names(seed_order.common_name, seed_order.dns_names)
        certificate = Certificate(
            id=self.next_certificate_id(),
            order_id=order_id,
            kind="primary",
            common_name=names[0],
            dns_names=names,
            signature_hash=seed_order.signature_hash,
            date_created=seed_order.date_created or min(now, valid_from),
            status="pending",
        )
        order = Order(
            id=order_id,
            account_id=account_id,
            organization_id=organization.id,
            product_name_id=product.name_id,
            status=seed_order.status,
            date_created=certificate.date_created,
            primary_certificate_id=certificate.id,
            validity=valid_till - valid_from,
            allow_duplicates=seed_order.allow_duplicates,
            disable_renewal_notifications=seed_order.disable_renewal_notifications,
        )
        if seed_order.status in ISSUED_ORDER_STATUSES:
            key = generate_private_key(seed_order.key_algorithm)
            signed = self.ca.sign(
                key.public_key(),
                certificate.common_name,
                certificate.dns_names,
                valid_from,
                valid_till,
                certificate.signature_hash,
                organization.name,
            )
            certificate.csr = build_csr(key, certificate.common_name)
            certificate.x509 = signed
            certificate.pem = certificate_pem(signed)
            certificate.key_size = key.key_size
            certificate.date_issued = valid_from
            certificate.status = "revoked" if seed_order.status == "revoked" else "issued"
        self.certificates[certificate.id] = certificate
        self.orders[order.id] = order

        request_status: RequestStatus = (
            "approved" if seed_order.status in ISSUED_ORDER_STATUSES else "pending"
        )
        if seed_order.status in ("rejected", "canceled"):
            request_status = "rejected"
        request = Request(
            id=self.next_request_id(),
            order_id=order.id,
            type="new_request",
            status=request_status,
            date=order.date_created,
            certificate_id=certificate.id,
            date_processed=None if request_status == "pending" else order.date_created,
        )
        self.requests[request.id] = request
        order.request_ids.append(request.id)
        if old_order is not None:
            self.link_renewal(old_order, order)
        return order

    def link_renewal(self, old_order: Order, new_order: Order) -> None:
        """Record that `new_order` renews `old_order`."""
        new_order.renewal_of_order_id = old_order.id
        old_order.renewed_order_id = new_order.id
        old_order.renewal_count += 1

    # Lookups

    def account_for_key(self, api_key: str) -> Account | None:
        """Find the account an API key belongs to, comparing keys in constant time."""
        found = None
        for account in self.accounts.values():
            if hmac.compare_digest(account.api_key.encode(), api_key.encode()):
                found = account
        return found

    def first_account(self) -> Account:
        """Return the account defined first in the seed."""
        return next(iter(self.accounts.values()))

    def primary_certificate(self, order: Order) -> Certificate:
        """Return the order's primary certificate."""
        return self.certificates[order.primary_certificate_id]

    def order_status(self, order: Order, now: datetime) -> str:
        """Return the status CertCentral shows: `expired` for an issued order past its notAfter."""
        valid_till = self.primary_certificate(order).valid_till
        if order.status == "issued" and valid_till is not None and valid_till <= now:
            return "expired"
        return order.status

    def order_allows_duplicates(self, order: Order) -> bool:
        """Return True when the product, the account and the order all allow duplicates."""
        product = self.products[order.product_name_id]
        account = self.accounts[order.account_id]
        if order.allow_duplicates is False:
            return False
        return product.duplicates_allowed and account.duplicates_enabled

    def duplicates_of(self, order: Order) -> list[Certificate]:
        """Return the order's duplicates, oldest first."""
        return [self.certificates[cert_id] for cert_id in order.duplicate_certificate_ids]


def normalize_names(common_name: str, dns_names: list[str]) -> list[str]:
    """Lower-case the names and return them de-duplicated with the common name first."""
    names = [common_name.strip().lower().rstrip(".")]
    for name in dns_names:
        normalized = name.strip().lower().rstrip(".")
        if normalized not in names:
            names.append(normalized)
    return names
