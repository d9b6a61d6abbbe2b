"""Duplicate certificates: issuance, name rules, permissions, approval and the duplicate list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from dupcert.simulator.server import SimulatorServer
from tests.plugins.simulator import SimulatorFactory, simulator_admin_client, simulator_client
from tests.simulator.support import (
    common_name,
    dns_names,
    duplicate_body,
    make_csr,
    public_key_der,
    verify_server_chain,
)

PLUS_CN = "demo.example.com"
WILDCARD_CN = "*.demo.example.com"


async def order_id_for(client: httpx.AsyncClient, name: str) -> int:
    response = await client.get("/order/certificate", params={"filters[common_name]": name})
    orders = response.json()["orders"]
    assert len(orders) == 1
    return int(orders[0]["id"])


async def test_duplicate_issued_with_chain(
    simulator: SimulatorServer, sim_client: httpx.AsyncClient
) -> None:
    order_id = await order_id_for(sim_client, PLUS_CN)
    key, csr = make_csr()
    body = duplicate_body(csr, "www.demo.example.com", ["demo.example.com"])

    response = await sim_client.post(f"/order/certificate/{order_id}/duplicate", json=body)

    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    payload = response.json()
    assert payload["id"] == order_id
    assert payload["requests"][0]["status"] == "approved"
    assert isinstance(payload["certificate_id"], int)
    chain = payload["certificate_chain"]
    assert len(chain) == 3
    leaf, intermediate, root = (x509.load_pem_x509_certificate(e["pem"].encode()) for e in chain)
    assert chain[0]["subject_common_name"] == "www.demo.example.com"
    assert chain[2]["pem"] == simulator.issuing_root_pem
    verify_server_chain(leaf, [intermediate], simulator.issuing_root_pem, "demo.example.com")
    assert root.subject == root.issuer
    assert public_key_der(leaf.public_key()) == public_key_der(key.public_key())
    assert common_name(leaf) == "www.demo.example.com"
    assert dns_names(leaf) == ["www.demo.example.com", "demo.example.com"]


async def test_duplicate_not_after_matches_order(
    simulator: SimulatorServer, sim_client: httpx.AsyncClient
) -> None:
    order_id = await order_id_for(sim_client, PLUS_CN)
    _, csr = make_csr()
    response = await sim_client.post(
        f"/order/certificate/{order_id}/duplicate", json=duplicate_body(csr, PLUS_CN)
    )
    leaf = x509.load_pem_x509_certificate(response.json()["certificate_chain"][0]["pem"].encode())
    order = simulator.state.orders[order_id]
    primary = simulator.state.primary_certificate(order)

    assert leaf.not_valid_after_utc == primary.valid_till
    assert leaf.not_valid_before_utc <= datetime.now(UTC)
    assert leaf.not_valid_before_utc >= datetime.now(UTC) - timedelta(minutes=5)


async def test_duplicate_capped_at_397_days(simulator_factory: SimulatorFactory) -> None:
    seed = {
        "accounts": [{"api_key": "cap-test-key-000000"}],
        "organizations": [{"id": 1, "name": "Org"}],
        "orders": [
            {
                "organization_id": 1,
                "product_name_id": "ssl_plus",
                "common_name": "long.example.com",
                "valid_for": "800d",
                "key_algorithm": "ecdsa-p256",
            }
        ],
    }
    sim = await simulator_factory(seed=seed)
    async with simulator_client(sim) as client:
        order_id = await order_id_for(client, "long.example.com")
        _, csr = make_csr()
        response = await client.post(
            f"/order/certificate/{order_id}/duplicate", json=duplicate_body(csr, "long.example.com")
        )
    leaf = x509.load_pem_x509_certificate(response.json()["certificate_chain"][0]["pem"].encode())
    lifetime = leaf.not_valid_after_utc - datetime.now(UTC)
    assert lifetime <= timedelta(days=397)
    assert lifetime > timedelta(days=396)


async def test_duplicate_rsa_key_reported(sim_client: httpx.AsyncClient) -> None:
    order_id = await order_id_for(sim_client, PLUS_CN)
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _, csr = make_csr(key=rsa_key)
    response = await sim_client.post(
        f"/order/certificate/{order_id}/duplicate",
        json=duplicate_body(csr, PLUS_CN, signature_hash="sha384"),
    )
    certificate_id = response.json()["certificate_id"]

    listing = await sim_client.get(f"/order/certificate/{order_id}/duplicate")
    item = next(c for c in listing.json()["certificates"] if c["id"] == certificate_id)
    assert item["key_size"] == 2048
    assert item["signature_hash"] == "sha384"


@pytest.mark.parametrize(
    ("cn", "sans"),
    [
        ("app.demo.example.com", ["api.demo.example.com"]),
        ("*.demo.example.com", ["node-1.demo.example.com"]),
        ("node-7.demo.example.com", None),
    ],
)
async def test_wildcard_extra_sans_allowed(
    sim_client: httpx.AsyncClient, cn: str, sans: list[str] | None
) -> None:
    order_id = await order_id_for(sim_client, WILDCARD_CN)
    _, csr = make_csr()
    response = await sim_client.post(
        f"/order/certificate/{order_id}/duplicate", json=duplicate_body(csr, cn, sans)
    )
    assert response.status_code == 201, response.text
    leaf = x509.load_pem_x509_certificate(response.json()["certificate_chain"][0]["pem"].encode())
    assert common_name(leaf) == cn
    assert set(dns_names(leaf)) == {cn, *(sans or [])}


@pytest.mark.parametrize(
    "name",
    ["a.b.demo.example.com", "demo.example.com", "other.example.com", "*.other.example.com"],
)
async def test_wildcard_uncovered_san_rejected(sim_client: httpx.AsyncClient, name: str) -> None:
    order_id = await order_id_for(sim_client, WILDCARD_CN)
    _, csr = make_csr()
    response = await sim_client.post(
        f"/order/certificate/{order_id}/duplicate",
        json=duplicate_body(csr, WILDCARD_CN, [name]),
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_dns_names"


async def test_plain_order_extra_san_rejected(sim_client: httpx.AsyncClient) -> None:
    order_id = await order_id_for(sim_client, PLUS_CN)
    _, csr = make_csr()
    response = await sim_client.post(
        f"/order/certificate/{order_id}/duplicate",
        json=duplicate_body(csr, PLUS_CN, ["api.demo.example.com"]),
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json()["errors"][0]["code"] == "invalid_dns_names"


async def test_plain_order_extra_cn_rejected(sim_client: httpx.AsyncClient) -> None:
    order_id = await order_id_for(sim_client, PLUS_CN)
    _, csr = make_csr()
    response = await sim_client.post(
        f"/order/certificate/{order_id}/duplicate",
        json=duplicate_body(csr, "api.demo.example.com"),
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_dns_names"


async def test_duplicates_disabled_for_account(
    simulator: SimulatorServer, sim_client: httpx.AsyncClient, sim_admin: httpx.AsyncClient
) -> None:
    account_id = simulator.state.first_account().id
    patched = await sim_admin.patch(f"/accounts/{account_id}", json={"duplicates_enabled": False})
    assert patched.status_code == 200
    order_id = await order_id_for(sim_client, PLUS_CN)
    _, csr = make_csr()

    response = await sim_client.post(
        f"/order/certificate/{order_id}/duplicate", json=duplicate_body(csr, PLUS_CN)
    )
    order = await sim_client.get(f"/order/certificate/{order_id}")

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "duplicates_not_allowed"
    assert order.json()["allow_duplicates"] is False


async def test_duplicates_disabled_for_product(
    sim_client: httpx.AsyncClient, sim_admin: httpx.AsyncClient
) -> None:
    patched = await sim_admin.patch("/products/ssl_plus", json={"duplicates_allowed": False})
    assert patched.status_code == 200
    order_id = await order_id_for(sim_client, PLUS_CN)
    _, csr = make_csr()

    response = await sim_client.post(
        f"/order/certificate/{order_id}/duplicate", json=duplicate_body(csr, PLUS_CN)
    )
    product = await sim_client.get("/product/ssl_plus")

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "duplicates_not_allowed"
    assert product.json()["duplicates_allowed"] is False


async def test_dv_product_refuses_duplicates(simulator_factory: SimulatorFactory) -> None:
    seed = {
        "accounts": [{"api_key": "dv-test-key-0000000"}],
        "organizations": [{"id": 1, "name": "Org"}],
        "orders": [
            {
                "organization_id": 1,
                "product_name_id": "ssl_dv_geotrust",
                "common_name": "dv.example.com",
                "key_algorithm": "ecdsa-p256",
            }
        ],
    }
    sim = await simulator_factory(seed=seed)
    async with simulator_client(sim) as client:
        order_id = await order_id_for(client, "dv.example.com")
        _, csr = make_csr()
        response = await client.post(
            f"/order/certificate/{order_id}/duplicate", json=duplicate_body(csr, "dv.example.com")
        )
        product = await client.get("/product/ssl_dv_geotrust")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "duplicates_not_allowed"
    assert product.json()["duplicates_allowed"] is False


async def test_invalid_csr_rejected(sim_client: httpx.AsyncClient) -> None:
    order_id = await order_id_for(sim_client, PLUS_CN)
    response = await sim_client.post(
        f"/order/certificate/{order_id}/duplicate",
        json=duplicate_body("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n", PLUS_CN),
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_csr"


async def test_tampered_csr_signature_rejected(sim_client: httpx.AsyncClient) -> None:
    order_id = await order_id_for(sim_client, PLUS_CN)
    _, csr = make_csr()
    lines = csr.splitlines()
    # Flip one base64 character in the last body line, which contains the signature.
    body_line = lines[-2]
    flipped = ("B" if body_line[5] == "A" else "A").join([body_line[:5], body_line[6:]])
    tampered = "\n".join([*lines[:-2], flipped, lines[-1]]) + "\n"
    response = await sim_client.post(
        f"/order/certificate/{order_id}/duplicate", json=duplicate_body(tampered, PLUS_CN)
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_csr"


async def test_csr_without_line_breaks_accepted(sim_client: httpx.AsyncClient) -> None:
    order_id = await order_id_for(sim_client, PLUS_CN)
    _, csr = make_csr()
    flat = csr.replace("\n", "")
    response = await sim_client.post(
        f"/order/certificate/{order_id}/duplicate", json=duplicate_body(flat, PLUS_CN)
    )
    assert response.status_code == 201


async def test_bad_signature_hash_rejected(sim_client: httpx.AsyncClient) -> None:
    order_id = await order_id_for(sim_client, PLUS_CN)
    _, csr = make_csr()
    response = await sim_client.post(
        f"/order/certificate/{order_id}/duplicate",
        json=duplicate_body(csr, PLUS_CN, signature_hash="sha1"),
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_signature_hash"


async def test_missing_csr_names_field(sim_client: httpx.AsyncClient) -> None:
    order_id = await order_id_for(sim_client, PLUS_CN)
    response = await sim_client.post(
        f"/order/certificate/{order_id}/duplicate",
        json={"certificate": {"common_name": PLUS_CN, "signature_hash": "sha256"}},
    )
    error = response.json()["errors"][0]
    assert response.status_code == 400
    assert error["code"] == "missing_field"
    assert "certificate.csr" in error["message"]


async def test_unknown_order_returns_404(sim_client: httpx.AsyncClient) -> None:
    _, csr = make_csr()
    response = await sim_client.post(
        "/order/certificate/999999/duplicate", json=duplicate_body(csr, PLUS_CN)
    )
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found|order"


async def test_expired_order_refuses_duplicate(simulator_factory: SimulatorFactory) -> None:
    now = datetime.now(UTC)
    seed = {
        "accounts": [{"api_key": "expired-key-0000000"}],
        "organizations": [{"id": 1, "name": "Org"}],
        "orders": [
            {
                "organization_id": 1,
                "product_name_id": "ssl_plus",
                "common_name": "old.example.com",
                "valid_from": (now - timedelta(days=30)).isoformat(),
                "valid_till": (now - timedelta(days=1)).isoformat(),
                "key_algorithm": "ecdsa-p256",
            },
            {
                "organization_id": 1,
                "product_name_id": "ssl_plus",
                "common_name": "waiting.example.com",
                "status": "pending",
            },
        ],
    }
    sim = await simulator_factory(seed=seed)
    async with simulator_client(sim) as client:
        expired_id = await order_id_for(client, "old.example.com")
        pending_id = await order_id_for(client, "waiting.example.com")
        _, csr = make_csr()
        expired = await client.post(
            f"/order/certificate/{expired_id}/duplicate",
            json=duplicate_body(csr, "old.example.com"),
        )
        pending = await client.post(
            f"/order/certificate/{pending_id}/duplicate",
            json=duplicate_body(csr, "waiting.example.com"),
        )
    assert expired.status_code == 400
    assert expired.json()["errors"][0]["code"] == "order_expired"
    assert pending.status_code == 400
    assert pending.json()["errors"][0]["code"] == "order_not_issued"


async def test_duplicate_list_fields(sim_client: httpx.AsyncClient) -> None:
    order_id = await order_id_for(sim_client, PLUS_CN)
    submitted = []
    for _ in range(2):
        _, csr = make_csr()
        await sim_client.post(
            f"/order/certificate/{order_id}/duplicate", json=duplicate_body(csr, PLUS_CN)
        )
        submitted.append(csr)

    response = await sim_client.get(f"/order/certificate/{order_id}/duplicate")
    certificates = response.json()["certificates"]

    assert [c["sub_id"] for c in certificates] == ["001", "002"]
    assert [c["csr"] for c in certificates] == submitted
    first = certificates[0]
    assert first["status"] == "issued"
    assert first["archived"] == "0"
    assert first["common_name"] == PLUS_CN
    assert first["dns_names"] == [PLUS_CN]
    assert len(first["thumbprint"]) == 40
    assert len(first["serial_number"]) == 32
    assert (
        first["valid_till"]
        == (await sim_client.get(f"/order/certificate/{order_id}")).json()["certificate"][
            "valid_till"
        ]
    )
    assert first["date_created"].endswith("+00:00")
    assert isinstance(first["days_remaining"], int)


async def test_duplicate_list_empty(sim_client: httpx.AsyncClient) -> None:
    order_id = await order_id_for(sim_client, PLUS_CN)
    response = await sim_client.get(f"/order/certificate/{order_id}/duplicate")
    assert response.json() == {"certificates": []}


async def test_archived_duplicate_hidden(
    sim_client: httpx.AsyncClient, sim_admin: httpx.AsyncClient
) -> None:
    order_id = await order_id_for(sim_client, PLUS_CN)
    _, csr = make_csr()
    created = await sim_client.post(
        f"/order/certificate/{order_id}/duplicate", json=duplicate_body(csr, PLUS_CN)
    )
    certificate_id = created.json()["certificate_id"]
    await sim_admin.post(f"/certificates/{certificate_id}/archive")

    hidden = await sim_client.get(f"/order/certificate/{order_id}/duplicate")
    with_archived = await sim_client.get(
        f"/order/certificate/{order_id}/duplicate", params={"show_archived": "true"}
    )
    assert hidden.json()["certificates"] == []
    assert with_archived.json()["certificates"][0]["archived"] == "1"


async def test_chain_omitted_when_account_says(
    simulator: SimulatorServer, sim_client: httpx.AsyncClient, sim_admin: httpx.AsyncClient
) -> None:
    account_id = simulator.state.first_account().id
    await sim_admin.patch(f"/accounts/{account_id}", json={"include_chain_in_response": False})
    order_id = await order_id_for(sim_client, PLUS_CN)
    _, csr = make_csr()

    response = await sim_client.post(
        f"/order/certificate/{order_id}/duplicate", json=duplicate_body(csr, PLUS_CN)
    )
    listing = await sim_client.get(f"/order/certificate/{order_id}/duplicate")

    assert response.status_code == 201
    assert set(response.json()) == {"id", "requests"}
    assert listing.json()["certificates"][0]["csr"] == csr
    assert listing.json()["certificates"][0]["status"] == "issued"


async def test_approval_pending_then_approved(
    simulator: SimulatorServer, sim_client: httpx.AsyncClient, sim_admin: httpx.AsyncClient
) -> None:
    account_id = simulator.state.first_account().id
    await sim_admin.patch(f"/accounts/{account_id}", json={"skip_approval": False})
    order_id = await order_id_for(sim_client, PLUS_CN)
    _, csr = make_csr()

    created = await sim_client.post(
        f"/order/certificate/{order_id}/duplicate", json=duplicate_body(csr, PLUS_CN)
    )
    request_id = created.json()["requests"][0]["id"]
    pending_list = await sim_client.get(f"/order/certificate/{order_id}/duplicate")
    pending_request = await sim_client.get(f"/request/{request_id}")
    approved = await sim_client.put(f"/request/{request_id}/status", json={"status": "approved"})
    issued_list = await sim_client.get(f"/order/certificate/{order_id}/duplicate")
    approved_request = await sim_client.get(f"/request/{request_id}")

    assert created.status_code == 201
    assert created.json()["requests"][0]["status"] == "pending"
    assert "certificate_id" not in created.json()
    pending_item = pending_list.json()["certificates"][0]
    assert pending_item["status"] == "pending"
    assert "serial_number" not in pending_item
    assert pending_request.json()["status"] == "pending"
    assert pending_request.json()["type"] == "duplicate"
    assert pending_request.json()["order"]["certificate"]["csr"] == csr
    assert approved.status_code == 204
    assert approved.content == b""
    issued_item = issued_list.json()["certificates"][0]
    assert issued_item["status"] == "issued"
    assert len(issued_item["serial_number"]) == 32
    assert approved_request.json()["status"] == "approved"
    assert "date_processed" in approved_request.json()


async def test_approval_rejected_by_admin(
    simulator: SimulatorServer, sim_client: httpx.AsyncClient, sim_admin: httpx.AsyncClient
) -> None:
    account_id = simulator.state.first_account().id
    await sim_admin.patch(f"/accounts/{account_id}", json={"skip_approval": False})
    order_id = await order_id_for(sim_client, PLUS_CN)
    _, csr = make_csr()
    created = await sim_client.post(
        f"/order/certificate/{order_id}/duplicate", json=duplicate_body(csr, PLUS_CN)
    )
    request_id = created.json()["requests"][0]["id"]

    rejected = await sim_admin.post(f"/requests/{request_id}/reject")
    listing = await sim_client.get(f"/order/certificate/{order_id}/duplicate")
    again = await sim_client.put(f"/request/{request_id}/status", json={"status": "approved"})

    assert rejected.status_code == 200
    assert listing.json()["certificates"][0]["status"] == "rejected"
    assert again.status_code == 400
    assert again.json()["errors"][0]["code"] == "request_already_processed"


async def test_admin_approval_issues_duplicate(
    simulator: SimulatorServer, sim_client: httpx.AsyncClient, sim_admin: httpx.AsyncClient
) -> None:
    account_id = simulator.state.first_account().id
    await sim_admin.patch(f"/accounts/{account_id}", json={"skip_approval": False})
    order_id = await order_id_for(sim_client, PLUS_CN)
    _, csr = make_csr()
    created = await sim_client.post(
        f"/order/certificate/{order_id}/duplicate", json=duplicate_body(csr, PLUS_CN)
    )
    request_id = created.json()["requests"][0]["id"]

    approved = await sim_admin.post(f"/requests/{request_id}/approve")
    listing = await sim_client.get(f"/order/certificate/{order_id}/duplicate")

    assert approved.json()["status"] == "approved"
    assert listing.json()["certificates"][0]["status"] == "issued"


async def test_request_list_filters(
    simulator: SimulatorServer, sim_client: httpx.AsyncClient, sim_admin: httpx.AsyncClient
) -> None:
    account_id = simulator.state.first_account().id
    await sim_admin.patch(f"/accounts/{account_id}", json={"skip_approval": False})
    order_id = await order_id_for(sim_client, PLUS_CN)
    _, csr = make_csr()
    created = await sim_client.post(
        f"/order/certificate/{order_id}/duplicate", json=duplicate_body(csr, PLUS_CN)
    )
    request_id = created.json()["requests"][0]["id"]

    pending = await sim_client.get("/request", params={"filters[status]": "pending"})
    duplicates = await sim_client.get("/request", params={"filters[type]": "duplicate"})
    new_requests = await sim_client.get("/request", params={"filters[type]": "new_request"})

    assert [r["id"] for r in pending.json()["requests"]] == [request_id]
    assert pending.json()["page"]["total"] == 1
    assert [r["id"] for r in duplicates.json()["requests"]] == [request_id]
    assert len(new_requests.json()["requests"]) == 2
    assert all(r["status"] == "approved" for r in new_requests.json()["requests"])


async def test_request_search_matches_email_or_cn(
    sim_client: httpx.AsyncClient,
) -> None:
    by_email = await sim_client.get(
        "/request", params={"filters[search]": "simulator.user@example.com"}
    )
    by_cn = await sim_client.get("/request", params={"filters[search]": PLUS_CN})
    by_part = await sim_client.get("/request", params={"filters[search]": "%demo.example"})
    by_other = await sim_client.get("/request", params={"filters[search]": "nobody@example.com"})

    assert len(by_email.json()["requests"]) == 2
    assert len(by_cn.json()["requests"]) == 1
    assert len(by_part.json()["requests"]) == 2
    assert "requests" not in by_other.json()


async def test_other_account_cannot_duplicate(simulator_factory: SimulatorFactory) -> None:
    seed = {
        "accounts": [
            {"id": 1, "api_key": "first-account-key-0"},
            {"id": 2, "api_key": "second-account-key"},
        ],
        "organizations": [{"id": 10, "name": "Org", "account_id": 1}],
        "orders": [
            {
                "id": 77,
                "organization_id": 10,
                "product_name_id": "ssl_plus",
                "common_name": "one.example.com",
                "key_algorithm": "ecdsa-p256",
            }
        ],
    }
    sim = await simulator_factory(seed=seed)
    async with simulator_client(sim, api_key="second-account-key") as client:
        _, csr = make_csr()
        response = await client.post(
            "/order/certificate/77/duplicate", json=duplicate_body(csr, "one.example.com")
        )
        info = await client.get("/order/certificate/77")
    assert response.status_code == 404
    assert info.status_code == 404


async def test_stats_count_duplicates(simulator: SimulatorServer) -> None:
    async with simulator_client(simulator) as client, simulator_admin_client(simulator) as admin:
        order_id = await order_id_for(client, PLUS_CN)
        for _ in range(3):
            _, csr = make_csr()
            await client.post(
                f"/order/certificate/{order_id}/duplicate", json=duplicate_body(csr, PLUS_CN)
            )
        stats = await admin.get(f"/orders/{order_id}/stats")
    assert stats.json() == {"duplicates": 3, "renewals": 0}
