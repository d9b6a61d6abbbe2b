"""Admin routes: seeding orders, faults, counts, quirks and the state dump."""

from __future__ import annotations

import httpx

from dupcert.simulator.server import SimulatorServer
from tests.simulator.support import DEMO_KEY, duplicate_body, make_csr, split_pems

PLUS_ORDER = 100001
DUPLICATE_PATH = f"/order/certificate/{PLUS_ORDER}/duplicate"


async def test_fault_fails_then_clears(
    sim_client: httpx.AsyncClient, sim_admin: httpx.AsyncClient
) -> None:
    added = await sim_admin.post(
        "/faults",
        json={
            "method": "POST",
            "path": "/order/certificate/*/duplicate",
            "status": 503,
            "code": "service_unavailable",
            "message": "Try again later.",
            "times": 2,
        },
    )
    _, csr = make_csr()
    body = duplicate_body(csr, "demo.example.com")

    first = await sim_client.post(DUPLICATE_PATH, json=body)
    listing = await sim_client.get(DUPLICATE_PATH)
    second = await sim_client.post(DUPLICATE_PATH, json=body)
    third = await sim_client.post(DUPLICATE_PATH, json=body)

    assert added.status_code == 201
    assert first.status_code == 503
    assert first.headers["content-type"] == "application/json"
    assert first.json() == {
        "errors": [{"code": "service_unavailable", "message": "Try again later."}]
    }
    assert listing.status_code == 200
    assert second.status_code == 503
    assert third.status_code == 201


async def test_fault_delete_stops_faults(
    sim_client: httpx.AsyncClient, sim_admin: httpx.AsyncClient
) -> None:
    await sim_admin.post("/faults", json={"path": "/account", "status": 500})
    failing = await sim_client.get("/account")
    cleared = await sim_admin.delete("/faults")
    working = await sim_client.get("/account")

    assert failing.status_code == 500
    assert failing.json()["errors"][0]["code"] == "internal_error"
    assert cleared.status_code == 204
    assert working.status_code == 200


async def test_fault_full_path_and_raw_body(
    sim_client: httpx.AsyncClient, sim_admin: httpx.AsyncClient
) -> None:
    await sim_admin.post(
        "/faults",
        json={
            "path": "/services/v2/order/certificate",
            "status": 502,
            "body": "<html>Bad gateway</html>",
            "content_type": "text/html",
            "times": 1,
        },
    )
    response = await sim_client.get("/order/certificate")
    assert response.status_code == 502
    assert response.headers["content-type"] == "text/html"
    assert response.text == "<html>Bad gateway</html>"


async def test_fault_delay_only(
    sim_client: httpx.AsyncClient, sim_admin: httpx.AsyncClient
) -> None:
    await sim_admin.post("/faults", json={"path": "/account", "delay_seconds": 0.05, "times": 1})
    response = await sim_client.get("/account")
    assert response.status_code == 200


async def test_fault_needs_an_effect(sim_admin: httpx.AsyncClient) -> None:
    response = await sim_admin.post("/faults", json={"path": "/account"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_field"


async def test_counts_by_route_template(
    sim_client: httpx.AsyncClient, sim_admin: httpx.AsyncClient
) -> None:
    _, csr = make_csr()
    await sim_client.post(DUPLICATE_PATH, json=duplicate_body(csr, "demo.example.com"))
    await sim_client.get(f"/order/certificate/{PLUS_ORDER}")
    await sim_client.get(f"/order/certificate/{PLUS_ORDER}")
    await sim_client.get("/account", headers={"X-DC-DEVKEY": "bad-key-000000"})

    counts = (await sim_admin.get("/counts")).json()
    reset = await sim_admin.delete("/counts")
    after = (await sim_admin.get("/counts")).json()

    assert counts["POST /order/certificate/{order_id}/duplicate"] == 1
    assert counts["GET /order/certificate/{order_id}"] == 2
    assert counts["GET /account"] == 1
    assert reset.status_code == 204
    assert after == {}


async def test_admin_adds_order(
    sim_client: httpx.AsyncClient, sim_admin: httpx.AsyncClient
) -> None:
    response = await sim_admin.post(
        "/orders",
        json={
            "organization_id": 112233,
            "product_name_id": "ssl_multi_domain",
            "common_name": "multi.example.com",
            "dns_names": ["multi.example.com", "second.example.com"],
            "valid_for": "90s",
            "key_algorithm": "ecdsa-p384",
        },
    )
    order_id = response.json()["id"]
    info = (await sim_client.get(f"/order/certificate/{order_id}")).json()
    pem = await sim_client.get(f"/certificate/download/order/{order_id}/format/pem_nointermediate")
    leaf = split_pems(pem.text)[0]
    lifetime = leaf.not_valid_after_utc - leaf.not_valid_before_utc

    assert response.status_code == 201
    assert info["product"]["name_id"] == "ssl_multi_domain"
    assert info["certificate"]["key_size"] == 384
    assert lifetime.total_seconds() == 90


async def test_admin_order_bad_reference(sim_admin: httpx.AsyncClient) -> None:
    response = await sim_admin.post(
        "/orders",
        json={"organization_id": 1, "product_name_id": "ssl_plus", "common_name": "x.example.com"},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_seed_order"
    assert "organization 1" in response.json()["errors"][0]["message"]


async def test_state_dump_hides_keys(sim_admin: httpx.AsyncClient) -> None:
    response = await sim_admin.get("/state")
    assert response.status_code == 200
    assert DEMO_KEY not in response.text
    assert len(response.json()["orders"]) == 2
    assert response.json()["accounts"][0]["skip_approval"] is True


async def test_admin_unknown_route(sim_admin: httpx.AsyncClient) -> None:
    response = await sim_admin.get("/nothing-here")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found|route"


async def test_quirk_primary_in_duplicate_list(
    sim_client: httpx.AsyncClient, sim_admin: httpx.AsyncClient
) -> None:
    await sim_admin.patch("/quirks", json={"primary_in_duplicate_list": True})
    response = await sim_client.get(DUPLICATE_PATH)
    primary_id = (await sim_client.get(f"/order/certificate/{PLUS_ORDER}")).json()["certificate"][
        "id"
    ]
    assert [c["id"] for c in response.json()["certificates"]] == [primary_id]


async def test_quirk_empty_list_as_object(
    sim_client: httpx.AsyncClient, sim_admin: httpx.AsyncClient
) -> None:
    await sim_admin.patch("/quirks", json={"empty_duplicate_list_as_object": True})
    response = await sim_client.get(DUPLICATE_PATH)
    assert response.json() == {}


async def test_quirk_crlf_pems(sim_client: httpx.AsyncClient, sim_admin: httpx.AsyncClient) -> None:
    await sim_admin.patch("/quirks", json={"crlf_pem": True})
    _, csr = make_csr()
    created = await sim_client.post(DUPLICATE_PATH, json=duplicate_body(csr, "demo.example.com"))
    certificate_id = created.json()["certificate_id"]
    download = await sim_client.get(f"/certificate/{certificate_id}/download/format/pem_all")

    assert "\r\n" in created.json()["certificate_chain"][0]["pem"]
    assert download.text.count("-----END CERTIFICATE-----\r\n") == 3
    assert len(split_pems(download.text)) == 3


async def test_quirk_stale_request_status(
    sim_client: httpx.AsyncClient, sim_admin: httpx.AsyncClient
) -> None:
    await sim_admin.patch("/quirks", json={"stale_request_status": True})
    _, csr = make_csr()
    created = await sim_client.post(DUPLICATE_PATH, json=duplicate_body(csr, "demo.example.com"))
    request_id = created.json()["requests"][0]["id"]

    view = (await sim_client.get(f"/request/{request_id}")).json()
    listing = (await sim_client.get(DUPLICATE_PATH)).json()

    assert view["status"] == "pending"
    assert view["order"]["status"] == "needs_approval"
    assert listing["certificates"][0]["status"] == "issued"


async def test_quirk_issued_shown_as_approved(
    sim_client: httpx.AsyncClient, sim_admin: httpx.AsyncClient
) -> None:
    await sim_admin.patch("/quirks", json={"issued_duplicate_status_approved": True})
    _, csr = make_csr()
    await sim_client.post(DUPLICATE_PATH, json=duplicate_body(csr, "demo.example.com"))
    listing = (await sim_client.get(DUPLICATE_PATH)).json()
    assert listing["certificates"][0]["status"] == "approved"


async def test_quirks_default_off(sim_admin: httpx.AsyncClient) -> None:
    quirks = (await sim_admin.get("/quirks")).json()
    assert quirks == {
        "primary_in_duplicate_list": False,
        "empty_duplicate_list_as_object": False,
        "crlf_pem": False,
        "stale_request_status": False,
        "issued_duplicate_status_approved": False,
        "omit_empty_lists": True,
    }


async def test_unknown_account_setting_rejected(
    simulator: SimulatorServer, sim_admin: httpx.AsyncClient
) -> None:
    account_id = simulator.state.first_account().id
    response = await sim_admin.patch(f"/accounts/{account_id}", json={"colour": "blue"})
    bad_duration = await sim_admin.patch(
        f"/accounts/{account_id}", json={"renewal_validity": "soon"}
    )
    assert response.status_code == 400
    assert bad_duration.status_code == 400
    assert "renewal_validity" in bad_duration.json()["errors"][0]["message"]
