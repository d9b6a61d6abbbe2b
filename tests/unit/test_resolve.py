"""Table tests of order resolution: which CertCentral order a duplicate is made from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from dupcert.certcentral.models import Order, OrderSummary
from dupcert.resolve import OrderMismatchError, check_pinned_order, pick_latest_order

TODAY = date(2025, 6, 1)
ORGANIZATION = 12345
MULTI = "ssl_multi_domain"


def order_dict(
    order_id: int,
    names: list[str],
    *,
    product: str = MULTI,
    status: str = "issued",
    organization: int | None = ORGANIZATION,
    created: str | None = "2025-01-10T10:00:00+00:00",
    valid_till: str | None = "2026-01-10",
) -> dict[str, Any]:
    """Return an order as CertCentral lists it: dns_names includes the common name."""
    body: dict[str, Any] = {
        "id": order_id,
        "status": status,
        "date_created": created,
        "certificate": {
            "id": order_id * 10,
            "common_name": names[0],
            "dns_names": names,
            "valid_till": valid_till,
            "signature_hash": "sha256",
        },
        "organization": {"id": organization, "name": "Example Inc"},
        "product": {"name_id": product, "name": "Some SSL", "type": "ssl_certificate"},
        "container": {"id": 1, "name": "Example"},
        "is_renewed": False,
        "has_duplicates": True,
    }
    if organization is None:
        body["organization"] = []
    return body


@dataclass(frozen=True)
class Case:
    orders: list[dict[str, Any]]
    requested: list[str]
    expected: int | None
    product: str = MULTI
    expiring_after: date | None = None
    extra: dict[str, Any] = field(default_factory=dict)


WWW = ["example.com", "www.example.com"]

CASES = {
    "newest of several matches": Case(
        [
            order_dict(3, WWW, created="2024-03-01T00:00:00+00:00"),
            order_dict(1, WWW, created="2025-05-01T00:00:00+00:00"),
            order_dict(2, WWW, created="2024-11-01T00:00:00+00:00"),
        ],
        ["www.example.com"],
        1,
    ),
    "same date, higher id": Case(
        [order_dict(7, WWW), order_dict(8, WWW)],
        ["www.example.com"],
        8,
    ),
    "undated order counts as oldest": Case(
        [order_dict(9, WWW, created=None), order_dict(4, WWW)],
        ["www.example.com"],
        4,
    ),
    "names not covered": Case(
        [order_dict(1, WWW)],
        ["api.example.com"],
        None,
    ),
    "only the covering order": Case(
        [
            order_dict(1, ["example.com", "api.example.com"], created="2024-01-01T00:00:00Z"),
            order_dict(2, WWW, created="2025-01-01T00:00:00Z"),
        ],
        ["api.example.com"],
        1,
    ),
    "other product": Case(
        [order_dict(1, WWW, product="ssl_plus")],
        ["www.example.com"],
        None,
    ),
    "other organization": Case(
        [order_dict(1, WWW, organization=999)],
        ["www.example.com"],
        None,
    ),
    "organization not in listing": Case(
        [order_dict(1, WWW, organization=None)],
        ["www.example.com"],
        1,
    ),
    "wildcard covers extra sans": Case(
        [order_dict(1, ["*.example.com", "example.com"], product="ssl_wildcard")],
        ["a.example.com", "b.example.com", "example.com"],
        1,
        product="ssl_wildcard",
    ),
    "private wildcard covers extra sans": Case(
        [order_dict(1, ["*.example.com"], product="private_ssl_wildcard")],
        ["a.example.com", "*.example.com"],
        1,
        product="private_ssl_wildcard",
    ),
    "wildcard two labels deep": Case(
        [order_dict(1, ["*.example.com", "example.com"], product="ssl_wildcard")],
        ["a.b.example.com"],
        None,
        product="ssl_wildcard",
    ),
    "wildcard base not in order": Case(
        [order_dict(1, ["*.example.com"], product="ssl_wildcard")],
        ["example.com"],
        None,
        product="ssl_wildcard",
    ),
    "private wildcard base not in order": Case(
        [order_dict(1, ["*.example.com"], product="private_ssl_wildcard")],
        ["www.example.com", "example.com"],
        None,
        product="private_ssl_wildcard",
    ),
    "non-wildcard extra san": Case(
        [order_dict(1, ["*.example.com", "example.com"])],
        ["www.example.com"],
        None,
    ),
    "san moved into common name": Case(
        [order_dict(1, ["example.com", "www.example.com", "api.example.com"])],
        ["api.example.com", "example.com"],
        1,
    ),
    "expired order ignored": Case(
        [
            order_dict(2, WWW, created="2025-05-01T00:00:00Z", valid_till="2025-05-31"),
            order_dict(1, WWW, created="2024-06-01T00:00:00Z", valid_till="2025-07-01"),
        ],
        ["www.example.com"],
        1,
    ),
    "order ending today counts": Case(
        [order_dict(1, WWW, valid_till="2025-06-01")],
        ["www.example.com"],
        1,
    ),
    "revoked order ignored": Case(
        [order_dict(2, WWW, status="revoked"), order_dict(1, WWW, created="2024-01-01T00:00:00Z")],
        ["www.example.com"],
        1,
    ),
    "pending orders ignored": Case(
        [order_dict(1, WWW, status="pending"), order_dict(2, WWW, status="needs_approval")],
        ["www.example.com"],
        None,
    ),
    "expiring after skips earlier": Case(
        [
            order_dict(2, WWW, created="2025-05-01T00:00:00Z", valid_till="2025-08-01"),
            order_dict(1, WWW, created="2025-01-01T00:00:00Z", valid_till="2026-01-10"),
        ],
        ["www.example.com"],
        1,
        expiring_after=date(2025, 9, 1),
    ),
    "expiring after same day": Case(
        [order_dict(1, WWW, valid_till="2025-09-01")],
        ["www.example.com"],
        1,
        expiring_after=date(2025, 9, 1),
    ),
    "expiring after, no end date": Case(
        [order_dict(1, WWW, valid_till=None)],
        ["www.example.com"],
        None,
        expiring_after=date(2025, 9, 1),
    ),
    "no orders": Case([], ["www.example.com"], None),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_pick_latest_order_table(case: Case) -> None:
    orders = [OrderSummary.model_validate(body) for body in case.orders]

    choice = pick_latest_order(
        orders,
        case.requested,
        organization_id=ORGANIZATION,
        product_name_id=case.product,
        today=TODAY,
        expiring_after=case.expiring_after,
    )

    assert (choice.order_id if choice else None) == case.expected


def test_pick_latest_order_choice_facts() -> None:
    order = OrderSummary.model_validate(order_dict(1, ["Example.com", "WWW.example.com"]))

    choice = pick_latest_order(
        [order],
        ["www.example.com"],
        organization_id=ORGANIZATION,
        product_name_id=MULTI,
        today=TODAY,
    )

    assert choice is not None
    assert choice.names == ("example.com", "www.example.com")
    assert choice.product_name_id == MULTI
    assert choice.valid_till == date(2026, 1, 10)
    assert choice.date_created is not None


def pinned(body: dict[str, Any], requested: list[str], product: str = MULTI) -> int:
    order = Order.model_validate(body)
    choice = check_pinned_order(
        order, requested, organization_id=ORGANIZATION, product_name_id=product, today=TODAY
    )
    return choice.order_id


def pinned_error(body: dict[str, Any], requested: list[str], product: str = MULTI) -> str:
    with pytest.raises(OrderMismatchError) as caught:
        pinned(body, requested, product)
    return str(caught.value)


def test_pinned_order_accepted() -> None:
    assert pinned(order_dict(42, WWW), ["www.example.com"]) == 42


def test_pinned_wildcard_order_accepted() -> None:
    body = order_dict(42, ["*.example.com"], product="ssl_wildcard")

    assert pinned(body, ["a.example.com"], "ssl_wildcard") == 42


def test_pinned_san_into_common_name() -> None:
    assert pinned(order_dict(42, WWW), ["www.example.com", "example.com"]) == 42


@pytest.mark.parametrize(
    ("changes", "requested", "fragment"),
    [
        ({"status": "revoked"}, WWW, "its status is revoked, not issued"),
        ({"status": "pending"}, WWW, "its status is pending, not issued"),
        ({"valid_till": "2025-05-31"}, WWW, "it expired on 2025-05-31"),
        ({"organization": 999}, WWW, "it belongs to organization 999, not the issuer's 12345"),
        (
            {"product": "ssl_plus"},
            WWW,
            "its product is ssl_plus, not the issuer's ssl_multi_domain",
        ),
        (
            {},
            ["api.example.com"],
            "it does not allow the names api.example.com "
            "(order names: example.com, www.example.com)",
        ),
    ],
)
def test_pinned_order_mismatch_reason(
    changes: dict[str, Any], requested: list[str], fragment: str
) -> None:
    message = pinned_error(order_dict(42, WWW, **changes), requested)

    assert message.startswith("spec.orderId 42 cannot be duplicated: ")
    assert fragment in message
    assert message.endswith("pin another order or remove spec.orderId")


@pytest.mark.parametrize(
    ("names", "requested"),
    [
        (["*.example.com"], ["a.b.example.com"]),
        (["*.example.com"], ["example.com"]),
    ],
)
def test_pinned_wildcard_uncovered_rejected(names: list[str], requested: list[str]) -> None:
    body = order_dict(42, names, product="ssl_wildcard")

    message = pinned_error(body, requested, "ssl_wildcard")

    assert f"it does not allow the names {requested[0]}" in message


def test_pinned_non_wildcard_extra_rejected() -> None:
    body = order_dict(42, ["*.example.com", "example.com"])

    assert "does not allow the names www.example.com" in pinned_error(body, ["www.example.com"])


def test_pinned_mismatch_lists_every_reason() -> None:
    body = order_dict(42, WWW, status="revoked", organization=999, product="ssl_plus")

    message = pinned_error(body, ["api.example.com"])

    assert "its status is revoked" in message
    assert "organization 999" in message
    assert "its product is ssl_plus" in message
    assert "api.example.com" in message
