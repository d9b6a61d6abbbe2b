"""Certificate downloads by certificate id and by order id, and the chain endpoint."""

from __future__ import annotations

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import pkcs7

from dupcert.simulator.server import SimulatorServer
from tests.simulator.support import (
    common_name,
    duplicate_body,
    make_csr,
    split_pems,
    verify_server_chain,
)

PLUS_CN = "demo.example.com"


async def issue_duplicate(
    client: httpx.AsyncClient, cn: str = "www.demo.example.com"
) -> tuple[int, int]:
    """Return (order id, duplicate certificate id) of a fresh duplicate of the demo order."""
    listing = await client.get("/order/certificate", params={"filters[common_name]": PLUS_CN})
    order_id = listing.json()["orders"][0]["id"]
    _, csr = make_csr()
    created = await client.post(
        f"/order/certificate/{order_id}/duplicate", json=duplicate_body(csr, cn)
    )
    return order_id, created.json()["certificate_id"]


@pytest.mark.parametrize(
    ("format_type", "expected_names"),
    [
        (
            "pem_all",
            ["www.demo.example.com", "DupCert Simulator Issuing CA", "DupCert Simulator Root CA"],
        ),
        ("pem_noroot", ["www.demo.example.com", "DupCert Simulator Issuing CA"]),
        ("pem_nointermediate", ["www.demo.example.com"]),
    ],
)
async def test_download_pem_formats(
    sim_client: httpx.AsyncClient, format_type: str, expected_names: list[str]
) -> None:
    _, certificate_id = await issue_duplicate(sim_client)

    response = await sim_client.get(f"/certificate/{certificate_id}/download/format/{format_type}")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-pem-file"
    assert [common_name(c) for c in split_pems(response.text)] == expected_names


async def test_download_chain_verifies(
    simulator: SimulatorServer, sim_client: httpx.AsyncClient
) -> None:
    _, certificate_id = await issue_duplicate(sim_client)
    response = await sim_client.get(f"/certificate/{certificate_id}/download/format/pem_noroot")
    leaf, intermediate = split_pems(response.text)
    verify_server_chain(leaf, [intermediate], simulator.issuing_root_pem, "www.demo.example.com")


async def test_download_p7b_bundle(sim_client: httpx.AsyncClient) -> None:
    _, certificate_id = await issue_duplicate(sim_client)
    response = await sim_client.get(f"/certificate/{certificate_id}/download/format/p7b")
    certificates = pkcs7.load_der_pkcs7_certificates(response.content)
    assert response.headers["content-type"] == "application/x-pkcs7-certificates"
    assert len(certificates) == 3


async def test_download_unknown_format(sim_client: httpx.AsyncClient) -> None:
    _, certificate_id = await issue_duplicate(sim_client)
    response = await sim_client.get(f"/certificate/{certificate_id}/download/format/zip_magic")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_format"


async def test_order_download_returns_primary(sim_client: httpx.AsyncClient) -> None:
    order_id, _ = await issue_duplicate(sim_client)
    info = (await sim_client.get(f"/order/certificate/{order_id}")).json()

    response = await sim_client.get(f"/certificate/download/order/{order_id}/format/pem_all")
    leaf = split_pems(response.text)[0]

    assert response.status_code == 200
    assert common_name(leaf) == PLUS_CN
    assert f"{leaf.serial_number:032X}" == info["certificate"]["serial_number"]


async def test_chain_endpoint_leaf_first(sim_client: httpx.AsyncClient) -> None:
    _, certificate_id = await issue_duplicate(sim_client)
    response = await sim_client.get(f"/certificate/{certificate_id}/chain")
    intermediates = response.json()["intermediates"]
    assert [entry["subject_common_name"] for entry in intermediates] == [
        "www.demo.example.com",
        "DupCert Simulator Issuing CA",
        "DupCert Simulator Root CA",
    ]
    assert common_name(split_pems(intermediates[0]["pem"])[0]) == "www.demo.example.com"


async def test_pending_certificate_not_downloadable(
    simulator: SimulatorServer, sim_client: httpx.AsyncClient, sim_admin: httpx.AsyncClient
) -> None:
    await sim_admin.patch(
        f"/accounts/{simulator.state.first_account().id}", json={"skip_approval": False}
    )
    listing = await sim_client.get("/order/certificate", params={"filters[common_name]": PLUS_CN})
    order_id = listing.json()["orders"][0]["id"]
    _, csr = make_csr()
    await sim_client.post(
        f"/order/certificate/{order_id}/duplicate", json=duplicate_body(csr, PLUS_CN)
    )
    pending_id = (await sim_client.get(f"/order/certificate/{order_id}/duplicate")).json()[
        "certificates"
    ][0]["id"]

    download = await sim_client.get(f"/certificate/{pending_id}/download/format/pem_all")
    chain = await sim_client.get(f"/certificate/{pending_id}/chain")

    assert download.status_code == 400
    assert download.json()["errors"][0]["code"] == "certificate_not_issued"
    assert chain.status_code == 400


async def test_unknown_certificate_returns_404(sim_client: httpx.AsyncClient) -> None:
    response = await sim_client.get("/certificate/123/download/format/pem_all")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found|certificate"
