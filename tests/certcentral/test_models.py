"""Tests of the response models' tolerance for CertCentral's serialisation quirks."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from dupcert.certcentral.models import (
    DuplicateList,
    ErrorBody,
    Order,
    OrderList,
    Request,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2018-10-16T17:29:56+00:00", datetime(2018, 10, 16, 17, 29, 56, tzinfo=UTC)),
        ("2018-10-16T17:29:56Z", datetime(2018, 10, 16, 17, 29, 56, tzinfo=UTC)),
        ("2018-10-16 17:29:56", datetime(2018, 10, 16, 17, 29, 56, tzinfo=UTC)),
        ("2018-10-16", datetime(2018, 10, 16, tzinfo=UTC)),
    ],
)
def test_datetime_formats_parse(text: str, expected: datetime) -> None:
    order = Order.model_validate({"id": 1, "status": "issued", "date_created": text})

    assert order.date_created == expected


def test_datetime_keeps_foreign_offset() -> None:
    order = Order.model_validate(
        {"id": 1, "status": "issued", "date_created": "2018-10-16T11:29:56-06:00"}
    )

    assert order.date_created == datetime(2018, 10, 16, 17, 29, 56, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2025-01-31", "2025-01-31T23:59:59+00:00"])
def test_date_formats_parse(text: str) -> None:
    order = Order.model_validate({"id": 1, "status": "issued", "certificate": {"valid_till": text}})

    assert order.certificate.valid_till == date(2025, 1, 31)


def test_empty_date_is_none() -> None:
    order = Order.model_validate(
        {"id": 1, "status": "issued", "date_created": "", "certificate": {"valid_till": None}}
    )

    assert order.date_created is None
    assert order.certificate.valid_till is None


def test_invalid_date_rejected() -> None:
    with pytest.raises(ValueError, match="date_created"):
        Order.model_validate({"id": 1, "status": "issued", "date_created": "yesterday"})


def test_empty_arrays_read_as_objects() -> None:
    order = Order.model_validate(
        {
            "id": 1,
            "status": "issued",
            "organization": [],
            "product": [],
            "container": [],
            "certificate": [],
        }
    )

    assert order.organization.id is None
    assert order.product.name_id is None
    assert order.certificate.dns_names == []


def test_renewal_links_read() -> None:
    renewed = Order.model_validate(
        {"id": 1, "status": "issued", "is_renewed": True, "renewed_order_id": 2}
    )
    fresh = Order.model_validate({"id": 2, "status": "issued", "renewed_order_id": 0})

    assert renewed.renewed_order_id == 2
    assert fresh.renewed_order_id is None
    assert fresh.renewal_of_order_id is None


def test_order_list_without_page() -> None:
    listing = OrderList.model_validate({"orders": [{"id": 1, "status": "issued"}]})

    assert listing.page is None
    assert listing.orders[0].certificate.dns_names == []


def test_duplicate_list_null_names() -> None:
    listing = DuplicateList.model_validate({"certificates": [{"id": 5, "dns_names": None}]})

    assert listing.certificates[0].dns_names == []


def test_request_without_order() -> None:
    request = Request.model_validate({"id": 3, "status": "approved"})

    assert request.order.id is None


def test_error_body_single_object() -> None:
    body = ErrorBody.model_validate({"errors": {"code": "not_found|route", "message": "No."}})

    assert [entry.code for entry in body.errors] == ["not_found|route"]
