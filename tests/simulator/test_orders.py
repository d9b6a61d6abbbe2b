"""Listing and reading orders: filters, sort, paging and the order-info fields."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from dupcert.simulator.server import SimulatorServer
from tests.plugins.simulator import SimulatorFactory, simulator_client
from tests.simulator.support import duplicate_body, make_csr

NOW = datetime.now(UTC).replace(microsecond=0)


def _order(order_id: int, cn: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": order_id,
        "organization_id": extra.pop("organization_id", 1),
        "product_name_id": extra.pop("product_name_id", "ssl_plus"),
        "common_name": cn,
        "key_algorithm": "ecdsa-p256",
        **extra,
    }


LIST_SEED: dict[str, Any] = {
    "accounts": [{"id": 9, "api_key": "list-test-key-00000"}],
    "organizations": [{"id": 1, "name": "Org One"}, {"id": 2, "name": "Org Two"}],
    "orders": [
        _order(
            11,
            "a.example.com",
            dns_names=["a.example.com", "alt.example.com"],
            date_created="2025-01-10T08:00:00+00:00",
            valid_for="30d",
        ),
        _order(
            12,
            "b.example.com",
            organization_id=2,
            date_created="2025-02-10T08:00:00+00:00",
            valid_for="60d",
            disable_renewal_notifications=True,
        ),
        _order(
            13,
            "*.c.example.com",
            product_name_id="ssl_wildcard",
            date_created="2025-03-10T08:00:00+00:00",
            valid_for="90d",
        ),
        _order(
            14,
            "old.example.com",
            date_created="2024-01-10T08:00:00+00:00",
            valid_from=(NOW - timedelta(days=100)).isoformat(),
            valid_till=(NOW - timedelta(days=10)).isoformat(),
        ),
        _order(15, "pending.example.com", status="pending", date_created="2025-04-10T08:00:00Z"),
        _order(
            16,
            "renewal.example.com",
            renewal_of_order_id=14,
            date_created="2025-05-10T08:00:00+00:00",
            valid_for="120d",
        ),
    ],
}


ALL_IDS = [11, 12, 13, 14, 15, 16]


@pytest.fixture
async def list_client(simulator_factory: SimulatorFactory) -> AsyncIterator[httpx.AsyncClient]:
    sim = await simulator_factory(seed=LIST_SEED)
    async with simulator_client(sim) as client:
        yield client


async def ids(client: httpx.AsyncClient, **params: str) -> list[int]:
    response = await client.get("/order/certificate", params=params)
    assert response.status_code == 200, response.text
    return [order["id"] for order in response.json().get("orders", [])]


async def test_list_envelope_and_item_fields(list_client: httpx.AsyncClient) -> None:
    response = await list_client.get("/order/certificate", params={"filters[id]": "11"})
    body = response.json()
    item = body["orders"][0]

    assert response.headers["content-type"] == "application/json"
    assert body["page"] == {"total": 1, "limit": 1000, "offset": 0}
    assert item["certificate"]["common_name"] == "a.example.com"
    assert item["certificate"]["dns_names"] == ["a.example.com", "alt.example.com"]
    # The seed gives the order 30 days from load time; the day may roll over during the test.
    expected_days = {(NOW + timedelta(days=30 + extra)).date().isoformat() for extra in (0, 1)}
    assert item["certificate"]["valid_till"] in expected_days
    assert item["certificate"]["days_remaining"] in (29, 30)
    assert item["certificate"]["signature_hash"] == "sha256"
    assert item["status"] == "issued"
    assert item["is_renewed"] is False
    assert item["date_created"] == "2025-01-10T08:00:00+00:00"
    assert item["organization"] == {"id": 1, "name": "Org One"}
    assert item["product"] == {
        "name_id": "ssl_plus",
        "name": "Standard SSL",
        "type": "ssl_certificate",
    }
    assert item["has_duplicates"] is False


async def test_list_paging(list_client: httpx.AsyncClient) -> None:
    first = await list_client.get("/order/certificate", params={"limit": "2", "offset": "0"})
    second = await list_client.get("/order/certificate", params={"limit": "2", "offset": "2"})
    beyond = await list_client.get("/order/certificate", params={"limit": "2", "offset": "10"})

    assert [o["id"] for o in first.json()["orders"]] == [11, 12]
    assert first.json()["page"] == {"total": 6, "limit": 2, "offset": 0}
    assert [o["id"] for o in second.json()["orders"]] == [13, 14]
    assert beyond.json() == {"page": {"total": 6, "limit": 2, "offset": 10}}


async def test_list_limit_capped(list_client: httpx.AsyncClient) -> None:
    response = await list_client.get("/order/certificate", params={"limit": "5000"})
    assert response.json()["page"]["limit"] == 1000


async def test_list_bad_offset_rejected(list_client: httpx.AsyncClient) -> None:
    response = await list_client.get("/order/certificate", params={"offset": "-1"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_param"


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("id", [11, 12, 13, 14, 15, 16]),
        ("-id", [16, 15, 14, 13, 12, 11]),
        ("date_created", [14, 11, 12, 13, 15, 16]),
        ("-date_created", [16, 15, 13, 12, 11, 14]),
        # The pending order has no certificate yet, so it sorts last either way.
        ("valid_till", [14, 11, 12, 13, 16, 15]),
        ("-valid_till", [16, 13, 12, 11, 14, 15]),
        ("organization_id,-id", [16, 15, 14, 13, 11, 12]),
    ],
)
async def test_list_sort(list_client: httpx.AsyncClient, sort: str, expected: list[int]) -> None:
    assert await ids(list_client, sort=sort) == expected


async def test_list_unknown_sort_rejected(list_client: httpx.AsyncClient) -> None:
    response = await list_client.get("/order/certificate", params={"sort": "colour"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_sort"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("status", "issued", [11, 12, 13, 14, 16]),
        ("status", "expired", [14]),
        ("status", "pending", [15]),
        ("status", "pending,expired", [14, 15]),
        ("organization_id", "2", [12]),
        ("product_name_id", "ssl_wildcard", [13]),
        ("common_name", "a.example.com", [11]),
        ("common_name", "alt.example.com", []),
        ("domain_name", "alt.example.com", [11]),
        ("domain_name", "*.c.example.com", [13]),
        ("is_renewed", "1", [14]),
        ("is_renewed", "0", [11, 12, 13, 15, 16]),
        ("id", "12,13", [12, 13]),
        ("date_created", "2025-02-01...2025-03-31", [12, 13]),
        ("date_created", "2025-02-10 08:00:00...2025-02-10 08:00:00", [12]),
        ("date_created", ">2025-03-10", [15, 16]),
        ("date_created", "<2025-01-10", [14]),
        ("date_created", "2025-01-10", [11]),
        ("search", "%renewal", [16]),
        ("search", "%RENEWAL", [16]),
        ("search", "b.example.com", [12]),
        ("search", "%c.example", [13]),
        ("search", "renewal", []),
        ("search", "simulator.user@example.com", ALL_IDS),
        ("search", "%simulator.user@", ALL_IDS),
        ("user_id", "7000001", ALL_IDS),
        ("user_id", "7000002", []),
        ("email", "simulator.user@example.com", ALL_IDS),
        ("email", "%@example.com", ALL_IDS),
        ("email", "someone@example.com", []),
        ("container_id", "9", ALL_IDS),
        ("container_id", "10", []),
        ("origin", "certcentral", ALL_IDS),
        ("origin", "migrated", []),
        ("origin", "migrated,certcentral", ALL_IDS),
        ("disable_renewal_notifications", "1", [12]),
        ("disable_renewal_notifications", "0", [11, 13, 14, 15, 16]),
        ("metadata_id", "5", []),
    ],
)
async def test_list_filter(
    list_client: httpx.AsyncClient, name: str, value: str, expected: list[int]
) -> None:
    assert await ids(list_client, **{f"filters[{name}]": value}) == expected


async def test_list_valid_till_filter(list_client: httpx.AsyncClient) -> None:
    in_45_days = (NOW + timedelta(days=45)).date().isoformat()
    in_100_days = (NOW + timedelta(days=100)).date().isoformat()
    today = NOW.date().isoformat()

    assert await ids(list_client, **{"filters[valid_till]": f"<{in_45_days}"}) == [11, 14]
    assert await ids(list_client, **{"filters[valid_till]": f">{in_100_days}"}) == [16]
    assert await ids(list_client, **{"filters[valid_till]": f"{today}...{in_100_days}"}) == [
        11,
        12,
        13,
    ]


async def test_list_unknown_filter_rejected(list_client: httpx.AsyncClient) -> None:
    response = await list_client.get("/order/certificate", params={"filters[colour]": "red"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_filter"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("origin", "legacy"),
        ("origin", ""),
        ("metadata_id", "colour"),
        ("user_id", "me"),
        ("container_id", "root"),
        ("disable_renewal_notifications", "yes"),
    ],
)
async def test_list_bad_filter_value_rejected(
    list_client: httpx.AsyncClient, name: str, value: str
) -> None:
    response = await list_client.get("/order/certificate", params={f"filters[{name}]": value})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_filter"
    assert name in response.json()["errors"][0]["message"]


async def test_renewal_notifications_flag_shown(list_client: httpx.AsyncClient) -> None:
    listing = await list_client.get("/order/certificate", params={"filters[id]": "11,12"})
    disabled_info = (await list_client.get("/order/certificate/12")).json()
    enabled_info = (await list_client.get("/order/certificate/11")).json()

    flags = {o["id"]: o["disable_renewal_notifications"] for o in listing.json()["orders"]}
    assert flags == {11: False, 12: True}
    assert disabled_info["disable_renewal_notifications"] is True
    assert enabled_info["disable_renewal_notifications"] is False


async def test_list_empty_omits_orders_key(list_client: httpx.AsyncClient) -> None:
    response = await list_client.get("/order/certificate", params={"filters[id]": "999"})
    assert response.json() == {"page": {"total": 0, "limit": 1000, "offset": 0}}


async def test_list_has_duplicates_flag(simulator: SimulatorServer) -> None:
    async with simulator_client(simulator) as client:
        _, csr = make_csr()
        order_id = (await ids(client, **{"filters[common_name]": "demo.example.com"}))[0]
        await client.post(
            f"/order/certificate/{order_id}/duplicate",
            json=duplicate_body(csr, "demo.example.com"),
        )
        response = await client.get("/order/certificate", params={"filters[id]": str(order_id)})
    assert response.json()["orders"][0]["has_duplicates"] is True


async def test_order_info_fields(list_client: httpx.AsyncClient) -> None:
    response = await list_client.get("/order/certificate/11")
    body = response.json()
    certificate = body["certificate"]

    assert response.status_code == 200
    assert body["id"] == 11
    assert body["status"] == "issued"
    assert body["is_renewal"] is False
    assert body["is_renewed"] is False
    assert body["renewed_order_id"] == 0
    assert "renewal_of_order_id" not in body
    assert body["allow_duplicates"] is True
    assert body["product"]["name_id"] == "ssl_plus"
    assert body["organization"]["id"] == 1
    assert body["requests"][0]["type"] == "new_request"
    assert body["requests"][0]["status"] == "approved"
    assert len(certificate["thumbprint"]) == 40
    assert len(certificate["serial_number"]) == 32
    assert certificate["common_name"] == "a.example.com"
    assert certificate["dns_names"] == ["a.example.com", "alt.example.com"]
    assert len(certificate["valid_from"]) == 10
    assert len(certificate["valid_till"]) == 10
    assert certificate["date_issued"].endswith("+00:00")
    assert certificate["signature_hash"] == "sha256"
    assert certificate["key_size"] == 256
    assert certificate["csr"].startswith("-----BEGIN CERTIFICATE REQUEST-----")


async def test_order_info_renewal_links(list_client: httpx.AsyncClient) -> None:
    old = (await list_client.get("/order/certificate/14")).json()
    new = (await list_client.get("/order/certificate/16")).json()

    assert old["status"] == "expired"
    assert old["is_renewed"] is True
    assert old["renewed_order_id"] == 16
    assert new["is_renewal"] is True
    assert new["renewal_of_order_id"] == 14
    assert new["renewed_order_id"] == 0


async def test_order_info_pending_has_no_serial(list_client: httpx.AsyncClient) -> None:
    body = (await list_client.get("/order/certificate/15")).json()
    assert body["status"] == "pending"
    assert "serial_number" not in body["certificate"]
    assert "valid_till" not in body["certificate"]


async def test_order_info_by_thumbprint_and_serial(list_client: httpx.AsyncClient) -> None:
    certificate = (await list_client.get("/order/certificate/12")).json()["certificate"]

    by_thumbprint = await list_client.get(f"/order/certificate/{certificate['thumbprint']}")
    by_serial = await list_client.get(f"/order/certificate/{certificate['serial_number']}")

    assert by_thumbprint.json()["id"] == 12
    assert by_serial.json()["id"] == 12


async def test_order_info_unknown_order(list_client: httpx.AsyncClient) -> None:
    response = await list_client.get("/order/certificate/424242")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json()["errors"][0]["code"] == "not_found|order"


async def test_product_info_fields(list_client: httpx.AsyncClient) -> None:
    wildcard = (await list_client.get("/product/ssl_wildcard")).json()
    unknown = await list_client.get("/product/no_such_product")

    assert wildcard["name_id"] == "ssl_wildcard"
    assert wildcard["type"] == "ssl_certificate"
    assert wildcard["duplicates_allowed"] is True
    assert unknown.status_code == 404


async def test_account_info(list_client: httpx.AsyncClient) -> None:
    body = (await list_client.get("/account")).json()
    assert body["id"] == 9
    assert body["primary_organization_id"] == 1
    assert "api_key" not in body
