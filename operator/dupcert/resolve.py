"""Order resolution: which CertCentral order a duplicate is made from."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from dupcert.certcentral.client import CertCentralClient
from dupcert.certcentral.errors import NotFoundError
from dupcert.certcentral.models import Order, OrderSummary
from dupcert.names import WILDCARD_PRODUCTS, names_not_allowed, normalize_name


class OrderNotFoundError(Exception):
    """No issued, unexpired order of the profile allows the requested names."""


class OrderMismatchError(Exception):
    """The pinned order cannot be duplicated for the requested names."""


@dataclass(frozen=True)
class OrderChoice:
    """The order a duplicate will be requested from, with the facts used to pick it."""

    order_id: int
    product_name_id: str
    names: tuple[str, ...]
    date_created: datetime | None
    valid_till: date | None


def order_names(common_name: str | None, dns_names: Iterable[str] | None) -> list[str]:
    names: list[str] = []
    for name in [common_name or "", *(dns_names or [])]:
        normalized = normalize_name(name)
        if normalized and normalized not in names:
            names.append(normalized)
    return names


def _is_expired(valid_till: date | None, today: date) -> bool:
    return valid_till is not None and valid_till < today


def _summary_choice(order: OrderSummary) -> OrderChoice:
    certificate = order.certificate
    return OrderChoice(
        order_id=order.id,
        product_name_id=order.product.name_id or "",
        names=tuple(order_names(certificate.common_name, certificate.dns_names)),
        date_created=order.date_created,
        valid_till=certificate.valid_till,
    )


def pick_latest_order(
    orders: Sequence[OrderSummary],
    requested: Sequence[str],
    *,
    organization_id: int,
    product_name_id: str,
    today: date,
    expiring_after: date | None = None,
) -> OrderChoice | None:
    """Pick the newest issued, unexpired order of the profile whose names allow ``requested``.

    The newest match is also the head of its renewal chain, because a renewal is always a
    newer order than the one it renews. With ``expiring_after``, only orders whose
    certificate ends on or after that day count.
    """
    candidates = []
    for order in orders:
        choice = _summary_choice(order)
        if order.status != "issued" or _is_expired(choice.valid_till, today):
            continue
        if order.organization.id is not None and order.organization.id != organization_id:
            continue
        if choice.product_name_id != product_name_id:
            continue
        if expiring_after is not None and (
            choice.valid_till is None or choice.valid_till < expiring_after
        ):
            continue
        if names_not_allowed(requested, choice.names, choice.product_name_id):
            continue
        candidates.append(choice)
    if not candidates:
        return None
    oldest = datetime.min.replace(tzinfo=UTC)
    candidates.sort(key=lambda c: (c.date_created or oldest, c.order_id), reverse=True)
    return candidates[0]


async def resolve_latest_order(
    client: CertCentralClient,
    requested: Sequence[str],
    *,
    organization_id: int,
    product_name_id: str,
    now: datetime,
) -> OrderChoice:
    """List the profile's issued orders (all pages) and pick the latest that allows the names."""
    orders = await client.list_orders(
        organization_id=organization_id, product_name_id=product_name_id, status="issued"
    )
    choice = pick_latest_order(
        orders,
        requested,
        organization_id=organization_id,
        product_name_id=product_name_id,
        today=now.date(),
    )
    if choice is None:
        hint = ""
        if product_name_id in WILDCARD_PRODUCTS:
            hint = " (a wildcard order covers names exactly one label below its wildcard)"
        raise OrderNotFoundError(
            f"no issued, unexpired {product_name_id} order of organization {organization_id} "
            f"allows the names {', '.join(requested)}{hint}; order or renew a certificate for "
            "them in CertCentral, fix spec.dnsNames, or check the issuer's spec.organizationId "
            "and spec.productNameId"
        )
    return choice


def check_pinned_order(
    order: Order,
    requested: Sequence[str],
    *,
    organization_id: int,
    product_name_id: str,
    today: date,
) -> OrderChoice:
    """Check that a pinned order can be duplicated for the names; raise OrderMismatchError."""
    certificate = order.certificate
    names = order_names(certificate.common_name, certificate.dns_names)
    order_product = order.product.name_id or ""
    problems = []
    if order.status != "issued":
        problems.append(f"its status is {order.status}, not issued")
    if _is_expired(certificate.valid_till, today):
        problems.append(f"it expired on {certificate.valid_till}")
    if order.organization.id is not None and order.organization.id != organization_id:
        problems.append(
            f"it belongs to organization {order.organization.id}, not the issuer's "
            f"{organization_id}"
        )
    if order_product != product_name_id:
        problems.append(f"its product is {order_product}, not the issuer's {product_name_id}")
    rejected = names_not_allowed(requested, names, order_product)
    if rejected:
        problems.append(
            f"it does not allow the names {', '.join(rejected)} (order names: {', '.join(names)})"
        )
    if problems:
        raise OrderMismatchError(
            f"spec.orderId {order.id} cannot be duplicated: {'; '.join(problems)}; "
            "pin another order or remove spec.orderId"
        )
    return OrderChoice(
        order_id=order.id,
        product_name_id=order_product,
        names=tuple(names),
        date_created=order.date_created,
        valid_till=certificate.valid_till,
    )


async def resolve_pinned_order(
    client: CertCentralClient,
    order_id: int,
    requested: Sequence[str],
    *,
    organization_id: int,
    product_name_id: str,
    now: datetime,
) -> OrderChoice:
    try:
        order = await client.get_order(order_id)
    except NotFoundError:
        raise OrderMismatchError(
            f"spec.orderId {order_id} was not found in CertCentral; fix spec.orderId"
        ) from None
    return check_pinned_order(
        order,
        requested,
        organization_id=organization_id,
        product_name_id=product_name_id,
        today=now.date(),
    )
