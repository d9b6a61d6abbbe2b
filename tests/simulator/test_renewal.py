"""Renewal orders placed through `POST /order/certificate/{product}` and through the admin route."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from cryptography import x509

from dupcert.simulator.server import SimulatorServer
from tests.simulator.support import common_name, make_csr

PLUS_CN = "demo.example.com"


async def demo_order_id(client: httpx.AsyncClient) -> int:
    listing = await client.get("/order/certificate", params={"filters[common_name]": PLUS_CN})
    return int(listing.json()["orders"][0]["id"])


def renewal_body(order_id: int | None, organization_id: int, csr: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "certificate": {
            "common_name": PLUS_CN,
            "dns_names": [PLUS_CN, "www.demo.example.com"],
            "csr": csr,
            "signature_hash": "sha256",
            "server_platform": {"id": -1},
        },
        "organization": {"id": organization_id},
        "order_validity": {"years": 1},
        "payment_method": "balance",
    }
    if order_id is not None:
        body["renewal_of_order_id"] = order_id
    return body


async def test_renewal_creates_linked_order(
    simulator: SimulatorServer, sim_client: httpx.AsyncClient, sim_admin: httpx.AsyncClient
) -> None:
    old_id = await demo_order_id(sim_client)
    _, csr = make_csr()

    response = await sim_client.post(
        "/order/certificate/ssl_plus", json=renewal_body(old_id, simulator.organization_id, csr)
    )
    new_id = response.json()["id"]
    old = (await sim_client.get(f"/order/certificate/{old_id}")).json()
    new = (await sim_client.get(f"/order/certificate/{new_id}")).json()
    renewed = await sim_client.get("/order/certificate", params={"filters[is_renewed]": "1"})
    stats = await sim_admin.get(f"/orders/{old_id}/stats")

    assert response.status_code == 201
    assert new_id != old_id
    assert response.json()["requests"][0]["status"] == "approved"
    assert len(response.json()["certificate_chain"]) == 3
    assert old["is_renewed"] is True
    assert old["renewed_order_id"] == new_id
    assert new["is_renewal"] is True
    assert new["renewal_of_order_id"] == old_id
    assert new["status"] == "issued"
    assert [order["id"] for order in renewed.json()["orders"]] == [old_id]
    assert stats.json() == {"duplicates": 0, "renewals": 1}


async def test_renewal_uses_account_validity(
    simulator: SimulatorServer, sim_client: httpx.AsyncClient, sim_admin: httpx.AsyncClient
) -> None:
    account_id = simulator.state.first_account().id
    await sim_admin.patch(f"/accounts/{account_id}", json={"renewal_validity": "10m"})
    old_id = await demo_order_id(sim_client)
    _, csr = make_csr()

    response = await sim_client.post(
        "/order/certificate/ssl_plus", json=renewal_body(old_id, simulator.organization_id, csr)
    )
    leaf = x509.load_pem_x509_certificate(response.json()["certificate_chain"][0]["pem"].encode())
    remaining = leaf.not_valid_after_utc - datetime.now(UTC)

    assert remaining <= timedelta(minutes=10)
    assert remaining > timedelta(minutes=8)
    assert common_name(leaf) == PLUS_CN


async def test_second_renewal_rejected(
    simulator: SimulatorServer, sim_client: httpx.AsyncClient
) -> None:
    old_id = await demo_order_id(sim_client)
    _, csr = make_csr()
    body = renewal_body(old_id, simulator.organization_id, csr)
    await sim_client.post("/order/certificate/ssl_plus", json=body)

    again = await sim_client.post("/order/certificate/ssl_plus", json=body)

    assert again.status_code == 400
    assert again.json()["errors"][0]["code"] == "order_already_renewed"


async def test_new_order_without_renewal(
    simulator: SimulatorServer, sim_client: httpx.AsyncClient
) -> None:
    old_id = await demo_order_id(sim_client)
    _, csr = make_csr()

    response = await sim_client.post(
        "/order/certificate/ssl_plus", json=renewal_body(None, simulator.organization_id, csr)
    )
    new = (await sim_client.get(f"/order/certificate/{response.json()['id']}")).json()
    old = (await sim_client.get(f"/order/certificate/{old_id}")).json()

    assert response.status_code == 201
    assert new["is_renewal"] is False
    assert "renewal_of_order_id" not in new
    assert old["is_renewed"] is False


async def test_order_body_disables_renewal_notifications(
    simulator: SimulatorServer, sim_client: httpx.AsyncClient
) -> None:
    _, csr = make_csr()
    body = renewal_body(None, simulator.organization_id, csr)
    body["disable_renewal_notifications"] = True

    response = await sim_client.post("/order/certificate/ssl_plus", json=body)
    new_id = response.json()["id"]
    new = (await sim_client.get(f"/order/certificate/{new_id}")).json()
    disabled = await sim_client.get(
        "/order/certificate", params={"filters[disable_renewal_notifications]": "1"}
    )

    assert response.status_code == 201
    assert new["disable_renewal_notifications"] is True
    assert [order["id"] for order in disabled.json()["orders"]] == [new_id]


async def test_renewal_pending_then_rejected(
    simulator: SimulatorServer, sim_client: httpx.AsyncClient, sim_admin: httpx.AsyncClient
) -> None:
    await sim_admin.patch(
        f"/accounts/{simulator.state.first_account().id}", json={"skip_approval": False}
    )
    old_id = await demo_order_id(sim_client)
    _, csr = make_csr()

    created = await sim_client.post(
        "/order/certificate/ssl_plus", json=renewal_body(old_id, simulator.organization_id, csr)
    )
    new_id = created.json()["id"]
    request_id = created.json()["requests"][0]["id"]
    pending = (await sim_client.get(f"/order/certificate/{new_id}")).json()
    request_view = (await sim_client.get(f"/request/{request_id}")).json()
    await sim_client.put(f"/request/{request_id}/status", json={"status": "rejected"})
    rejected = (await sim_client.get(f"/order/certificate/{new_id}")).json()
    old = (await sim_client.get(f"/order/certificate/{old_id}")).json()

    assert created.json()["requests"][0]["status"] == "pending"
    assert "certificate_chain" not in created.json()
    assert pending["status"] == "needs_approval"
    assert request_view["type"] == "new_request"
    assert request_view["order"]["is_renewal"] is True
    assert rejected["status"] == "rejected"
    assert old["is_renewed"] is False
    assert old["renewed_order_id"] == 0


async def test_renewal_of_unknown_order(
    simulator: SimulatorServer, sim_client: httpx.AsyncClient
) -> None:
    _, csr = make_csr()
    response = await sim_client.post(
        "/order/certificate/ssl_plus", json=renewal_body(4040, simulator.organization_id, csr)
    )
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found|order"


async def test_order_unknown_product(
    simulator: SimulatorServer, sim_client: httpx.AsyncClient
) -> None:
    _, csr = make_csr()
    response = await sim_client.post(
        "/order/certificate/no_such_product",
        json=renewal_body(None, simulator.organization_id, csr),
    )
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found|product"


async def test_admin_renew_links_orders(
    sim_client: httpx.AsyncClient, sim_admin: httpx.AsyncClient
) -> None:
    old_id = await demo_order_id(sim_client)

    response = await sim_admin.post(f"/orders/{old_id}/renew", json={})
    new_id = response.json()["id"]
    old = (await sim_client.get(f"/order/certificate/{old_id}")).json()
    new = (await sim_client.get(f"/order/certificate/{new_id}")).json()

    assert response.status_code == 201
    assert old["renewed_order_id"] == new_id
    assert new["renewal_of_order_id"] == old_id
    assert new["status"] == "issued"
    assert new["certificate"]["dns_names"] == old["certificate"]["dns_names"]
