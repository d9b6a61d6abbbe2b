"""CertCentralClient against the CertCentral simulator over TLS on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pydantic
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from dupcert.certcentral.client import CertCentralClient
from dupcert.certcentral.errors import (
    CredentialsInvalidError,
    DuplicatesNotAllowedError,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TLSVerificationError,
)
from dupcert.certcentral.models import OrderSummary
from dupcert.certcentral.pem import pem_payload, split_pem_chain
from dupcert.certcentral.ratelimit import SlidingWindowLimiter
from dupcert.simulator.server import SimulatorServer
from tests.certcentral.helpers import RecordedSleeps
from tests.plugins.simulator import simulator_admin_client, simulator_ssl_context

DEMO_ACCOUNT_ID = 5550001
DEMO_COMMON_NAME = "demo.example.com"
DEMO_DNS_NAMES = ["demo.example.com", "www.demo.example.com"]


def build_csr(common_name: str) -> tuple[ec.EllipticCurvePrivateKey, str]:
    """Return a fresh P-256 key and a PEM CSR for `common_name`."""
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .sign(key, hashes.SHA256())
    )
    return key, csr.public_bytes(serialization.Encoding.PEM).decode()


def make_client(
    sim: SimulatorServer, *, api_key: str | None = None, sleeps: RecordedSleeps | None = None
) -> CertCentralClient:
    return CertCentralClient(
        sim.base_url,
        pydantic.SecretStr(api_key if api_key is not None else sim.api_key),
        verify=simulator_ssl_context(sim),
        limiter=SlidingWindowLimiter(),
        sleep=sleeps if sleeps is not None else RecordedSleeps(),
    )


@pytest.fixture
async def client(simulator: SimulatorServer) -> AsyncIterator[CertCentralClient]:
    async with make_client(simulator) as certcentral:
        yield certcentral


@pytest.fixture
async def admin(simulator: SimulatorServer) -> AsyncIterator[httpx.AsyncClient]:
    async with simulator_admin_client(simulator) as admin_client:
        yield admin_client


async def admin_call(
    admin: httpx.AsyncClient, method: str, path: str, body: dict[str, Any] | None = None
) -> Any:
    response = await admin.request(method, path, json=body)
    assert response.is_success, f"{method} {path}: HTTP {response.status_code} {response.text}"
    return response.json() if response.content else None


async def demo_order(client: CertCentralClient, simulator: SimulatorServer) -> OrderSummary:
    orders = await client.list_orders(
        organization_id=simulator.organization_id, product_name_id="ssl_plus"
    )
    assert len(orders) == 1
    return orders[0]


async def test_account_over_tls(client: CertCentralClient) -> None:
    account = await client.get_account()

    assert account.id == DEMO_ACCOUNT_ID


async def test_invalid_key_rejected(simulator: SimulatorServer) -> None:
    async with make_client(simulator, api_key="not-a-valid-key-123") as client:
        with pytest.raises(CredentialsInvalidError) as caught:
            await client.get_account()

    assert caught.value.status_code == 403
    assert caught.value.code == "access_denied|access_denied_invalid_key"
    assert "not-a-valid-key-123" not in caught.value.message


async def test_list_orders_filters_product(
    client: CertCentralClient, simulator: SimulatorServer
) -> None:
    order = await demo_order(client, simulator)

    assert order.status == "issued"
    assert order.certificate.common_name == DEMO_COMMON_NAME
    assert order.organization.id == simulator.organization_id
    assert order.product.name_id == "ssl_plus"
    assert order.date_created is not None


async def test_list_orders_reads_small_pages(
    client: CertCentralClient, simulator: SimulatorServer, admin: httpx.AsyncClient
) -> None:
    created_ids = []
    for day in range(1, 6):
        added = await admin_call(
            admin,
            "POST",
            "/orders",
            {
                "organization_id": simulator.organization_id,
                "product_name_id": "ssl_basic",
                "common_name": f"host{day}.demo.example.com",
                "dns_names": [f"host{day}.demo.example.com"],
                "date_created": datetime(2026, 1, day, 12, tzinfo=UTC).isoformat(),
                "valid_for": "300d",
            },
        )
        created_ids.append(added["id"])

    orders = await client.list_orders(
        organization_id=simulator.organization_id, product_name_id="ssl_basic", page_size=2
    )
    counts = await admin_call(admin, "GET", "/counts")

    assert [order.id for order in orders] == list(reversed(created_ids))
    assert counts["GET /order/certificate"] == 3


async def test_list_orders_filters_domain(
    client: CertCentralClient, simulator: SimulatorServer
) -> None:
    matching = await client.list_orders(
        organization_id=simulator.organization_id,
        product_name_id="ssl_plus",
        domain_name="www.demo.example.com",
    )
    other = await client.list_orders(
        organization_id=simulator.organization_id,
        product_name_id="ssl_plus",
        domain_name="unknown.example.org",
    )

    assert len(matching) == 1
    assert other == []


async def test_get_order_reads_details(
    client: CertCentralClient, simulator: SimulatorServer
) -> None:
    summary = await demo_order(client, simulator)

    order = await client.get_order(summary.id)

    assert order.id == summary.id
    assert order.status == "issued"
    assert order.certificate.id is not None
    assert sorted(order.certificate.dns_names) == sorted(DEMO_DNS_NAMES)
    assert order.certificate.valid_till is not None
    assert order.product.name_id == "ssl_plus"
    assert order.organization.id == simulator.organization_id
    assert order.is_renewed is False
    assert order.renewed_order_id is None


async def test_missing_order_not_found(client: CertCentralClient) -> None:
    with pytest.raises(NotFoundError) as caught:
        await client.get_order(999999999)

    assert caught.value.status_code == 404


async def test_product_duplicates_flag(client: CertCentralClient) -> None:
    ov_product = await client.get_product("ssl_plus")
    dv_product = await client.get_product("ssl_dv_geotrust")

    assert ov_product.name_id == "ssl_plus"
    assert ov_product.duplicates_allowed is True
    assert dv_product.duplicates_allowed is False


async def test_duplicate_issued_and_downloaded(
    client: CertCentralClient, simulator: SimulatorServer
) -> None:
    order = await demo_order(client, simulator)
    key, csr_pem = build_csr(DEMO_COMMON_NAME)

    created = await client.request_duplicate(
        order.id,
        common_name=DEMO_COMMON_NAME,
        dns_names=DEMO_DNS_NAMES,
        csr_pem=csr_pem,
        signature_hash="sha256",
    )

    assert created.id == order.id
    assert created.requests
    assert created.certificate_id is not None
    assert created.certificate_chain

    duplicates = await client.list_duplicates(order.id)
    matching = [dup for dup in duplicates if pem_payload(dup.csr or "") == pem_payload(csr_pem)]
    assert [dup.id for dup in matching] == [created.certificate_id]
    assert matching[0].status == "issued"

    bundle = await client.download_certificate(created.certificate_id)
    certificates = split_pem_chain(bundle)
    assert 2 <= len(certificates) <= 4
    leaf = x509.load_pem_x509_certificate(certificates[0].encode())
    assert leaf.public_key() == key.public_key()
    assert pem_payload(certificates[0]) == pem_payload(created.certificate_chain[0].pem)


async def test_duplicate_with_approval_step(
    client: CertCentralClient, simulator: SimulatorServer, admin: httpx.AsyncClient
) -> None:
    await admin_call(admin, "PATCH", f"/accounts/{DEMO_ACCOUNT_ID}", {"skip_approval": False})
    order = await demo_order(client, simulator)
    _, csr_pem = build_csr(DEMO_COMMON_NAME)

    created = await client.request_duplicate(
        order.id,
        common_name=DEMO_COMMON_NAME,
        dns_names=DEMO_DNS_NAMES,
        csr_pem=csr_pem,
        signature_hash="sha256",
    )
    request_id = created.requests[0].id
    pending = await client.get_request(request_id)
    await client.update_request_status(request_id, "approved", "approved by the client test")
    approved = await client.get_request(request_id)
    duplicates = await client.list_duplicates(order.id)

    assert created.certificate_id is None
    assert pending.status == "pending"
    assert pending.type == "duplicate"
    assert pending.order.id == order.id
    assert approved.status == "approved"
    issued = [dup for dup in duplicates if pem_payload(dup.csr or "") == pem_payload(csr_pem)]
    assert len(issued) == 1
    assert issued[0].status == "issued"


@pytest.mark.parametrize(
    ("path", "setting"),
    [
        ("/products/ssl_plus", {"duplicates_allowed": False}),
        (f"/accounts/{DEMO_ACCOUNT_ID}", {"duplicates_enabled": False}),
    ],
    ids=["product", "account"],
)
async def test_duplicates_disabled_rejected(
    client: CertCentralClient,
    simulator: SimulatorServer,
    admin: httpx.AsyncClient,
    path: str,
    setting: dict[str, Any],
) -> None:
    await admin_call(admin, "PATCH", path, setting)
    order = await demo_order(client, simulator)
    _, csr_pem = build_csr(DEMO_COMMON_NAME)

    with pytest.raises(DuplicatesNotAllowedError) as caught:
        await client.request_duplicate(
            order.id,
            common_name=DEMO_COMMON_NAME,
            dns_names=DEMO_DNS_NAMES,
            csr_pem=csr_pem,
            signature_hash="sha256",
        )

    assert caught.value.code == "duplicates_not_allowed"
    assert caught.value.retryable is False


async def test_invalid_signature_hash_rejected(
    client: CertCentralClient, simulator: SimulatorServer
) -> None:
    order = await demo_order(client, simulator)
    _, csr_pem = build_csr(DEMO_COMMON_NAME)

    with pytest.raises(InvalidRequestError) as caught:
        await client.request_duplicate(
            order.id,
            common_name=DEMO_COMMON_NAME,
            dns_names=DEMO_DNS_NAMES,
            csr_pem=csr_pem,
            signature_hash="md5",
        )

    assert caught.value.status_code == 400
    assert caught.value.code == "invalid_signature_hash"


async def test_download_order_certificate_primary(
    client: CertCentralClient, simulator: SimulatorServer
) -> None:
    summary = await demo_order(client, simulator)
    order = await client.get_order(summary.id)

    bundle = await client.download_order_certificate(order.id)
    certificates = split_pem_chain(bundle)

    leaf = x509.load_pem_x509_certificate(certificates[0].encode())
    assert len(certificates) >= 2
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == DEMO_COMMON_NAME


async def test_renewal_links_both_orders(
    client: CertCentralClient, simulator: SimulatorServer
) -> None:
    summary = await demo_order(client, simulator)
    order = await client.get_order(summary.id)
    _, csr_pem = build_csr(DEMO_COMMON_NAME)

    created = await client.renew_order(order, csr_pem=csr_pem, signature_hash="sha256")
    renewal = await client.get_order(created.id)
    original = await client.get_order(order.id)

    assert created.id != order.id
    assert created.requests
    assert renewal.is_renewal is True
    assert renewal.product.name_id == "ssl_plus"
    assert sorted(renewal.certificate.dns_names) == sorted(DEMO_DNS_NAMES)
    assert original.is_renewed is True
    assert original.renewed_order_id == created.id


async def test_injected_503_retried_for_get(
    simulator: SimulatorServer, admin: httpx.AsyncClient
) -> None:
    sleeps = RecordedSleeps()
    async with make_client(simulator, sleeps=sleeps) as client:
        await admin_call(
            admin,
            "POST",
            "/faults",
            {"method": "GET", "path": "/account", "status": 503, "times": 2},
        )
        await admin_call(admin, "DELETE", "/counts")

        account = await client.get_account()

    counts = await admin_call(admin, "GET", "/counts")
    assert account.id == DEMO_ACCOUNT_ID
    assert counts["GET /account"] == 3
    assert len(sleeps.delays) == 2


async def test_injected_429_exhausts_retries(
    simulator: SimulatorServer, admin: httpx.AsyncClient
) -> None:
    sleeps = RecordedSleeps()
    async with make_client(simulator, sleeps=sleeps) as client:
        await admin_call(
            admin,
            "POST",
            "/faults",
            {
                "method": "GET",
                "path": "/account",
                "status": 429,
                "code": "request_limit_exceeded",
                "message": "Service unavailable, please limit request volume",
            },
        )
        with pytest.raises(RateLimitedError) as caught:
            await client.get_account()

    assert caught.value.code == "request_limit_exceeded"
    assert len(sleeps.delays) == 3


async def test_injected_503_not_retried_for_post(
    client: CertCentralClient, simulator: SimulatorServer, admin: httpx.AsyncClient
) -> None:
    order = await demo_order(client, simulator)
    _, csr_pem = build_csr(DEMO_COMMON_NAME)
    await admin_call(
        admin,
        "POST",
        "/faults",
        {"method": "POST", "path": "/order/certificate/*/duplicate", "status": 503, "times": 1},
    )
    await admin_call(admin, "DELETE", "/counts")

    with pytest.raises(ServerError):
        await client.request_duplicate(
            order.id,
            common_name=DEMO_COMMON_NAME,
            dns_names=DEMO_DNS_NAMES,
            csr_pem=csr_pem,
            signature_hash="sha256",
        )

    counts = await admin_call(admin, "GET", "/counts")
    assert counts["POST /order/certificate/{order_id}/duplicate"] == 1


async def test_quirks_tolerated(
    client: CertCentralClient, simulator: SimulatorServer, admin: httpx.AsyncClient
) -> None:
    await admin_call(
        admin,
        "PATCH",
        "/quirks",
        {"empty_duplicate_list_as_object": True, "crlf_pem": True, "omit_empty_lists": True},
    )
    order = await demo_order(client, simulator)

    duplicates = await client.list_duplicates(order.id)
    bundle = await client.download_order_certificate(order.id)

    assert duplicates == []
    assert "\r" not in bundle
    assert len(split_pem_chain(bundle)) >= 2


async def test_untrusted_certificate_not_retried(simulator: SimulatorServer) -> None:
    sleeps = RecordedSleeps()
    # The system trust store does not know the simulator's CA.
    async with CertCentralClient(
        simulator.base_url,
        pydantic.SecretStr(simulator.api_key),
        limiter=SlidingWindowLimiter(),
        sleep=sleeps,
    ) as client:
        with pytest.raises(TLSVerificationError) as caught:
            await client.get_account()
    assert not caught.value.retryable
    assert sleeps.delays == []
