"""Tests of requesting a duplicate exactly once and fetching what it produced."""

from __future__ import annotations

from typing import Any, cast

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from dupcert.certcentral.client import CertCentralClient
from dupcert.certcentral.models import DuplicateCertificate, DuplicateCreated
from dupcert.issuance import (
    DuplicateRejectedError,
    FetchedCertificate,
    PendingDuplicate,
    find_duplicate_for_key,
    request_duplicate_once,
)
from dupcert.keys import NextKey
from dupcert.pki import build_csr, generate_private_key, private_key_to_pem
from dupcert.resources import KeyAlgorithm
from tests.unit.certs import make_intermediate, make_leaf, make_root, new_key, to_pem
from tests.unit.fakes import FakeCertCentral

ORDER = 1001
CN = "www.example.com"
NAMES = ["www.example.com", "api.example.com"]


def next_key_for(key: ec.EllipticCurvePrivateKey) -> NextKey:
    csr = build_csr(key, CN, NAMES, "sha256")
    return NextKey(key, private_key_to_pem(key), csr, "www-dupcert-next-key", reused=False)


def listed(
    certificate_id: int,
    csr: str | None,
    *,
    status: str = "issued",
    created: str = "2025-06-01T12:00:00+00:00",
    serial: str | None = None,
) -> DuplicateCertificate:
    """Return a duplicate as the list duplicates API shows it."""
    return DuplicateCertificate.model_validate(
        {
            "id": certificate_id,
            "status": status,
            "csr": csr,
            "common_name": CN,
            "dns_names": NAMES,
            "date_created": created,
            "valid_from": "2025-06-01",
            "valid_till": "2026-01-10",
            "serial_number": serial or f"{certificate_id:032X}",
            "sub_id": "001",
            "archived": "0",
        }
    )


@pytest.fixture
def next_key() -> NextKey:
    return next_key_for(new_key())


@pytest.fixture(scope="module")
def chain_pem() -> str:
    intermediate = make_intermediate(make_root())
    return to_pem(make_leaf(intermediate, new_key(), NAMES), intermediate.certificate)


def other_csr() -> str:
    return build_csr(new_key(), CN, NAMES, "sha256")


def test_csr_text_matched_across_line_breaks(next_key: NextKey) -> None:
    body = "".join(next_key.csr_pem.splitlines())
    reformatted = listed(7, body.replace("\n", "\r\n"))

    assert find_duplicate_for_key([listed(6, other_csr()), reformatted], next_key) is reformatted


def test_csr_text_matched_crlf(next_key: NextKey) -> None:
    crlf = listed(7, next_key.csr_pem.replace("\n", "\r\n"))

    assert find_duplicate_for_key([crlf], next_key) is crlf


def test_public_key_matched(next_key: NextKey) -> None:
    # Same key, another CSR text (other names): CertCentral may store a reformatted CSR.
    same_key = listed(7, build_csr(next_key.key, CN, [CN], "sha384"))

    assert find_duplicate_for_key([same_key], next_key) is same_key


def test_bare_base64_csr_matched(next_key: NextKey) -> None:
    bare = listed(9, "".join(next_key.csr_pem.strip().splitlines()[1:-1]))

    assert find_duplicate_for_key([bare], next_key) is bare


def test_newest_match_wins(next_key: NextKey) -> None:
    older = listed(7, next_key.csr_pem, created="2025-06-01T12:00:00+00:00")
    newer = listed(9, next_key.csr_pem, created="2025-06-01T12:00:05+00:00")
    primary = listed(5, other_csr())

    found = find_duplicate_for_key([newer, primary, older, newer], next_key)

    assert found is newer


def test_newest_by_creation_date(next_key: NextKey) -> None:
    # CertCentral does not document that ids grow, so the creation date decides first.
    older = listed(9, next_key.csr_pem, created="2025-06-01T12:00:00+00:00")
    newer = listed(7, next_key.csr_pem, created="2025-06-02T12:00:00+00:00")

    assert find_duplicate_for_key([older, newer], next_key) is newer


def test_no_match_returns_none(next_key: NextKey) -> None:
    entries = [listed(6, other_csr()), listed(7, None), listed(8, "garbage")]

    assert find_duplicate_for_key(entries, next_key) is None


async def request(
    client: FakeCertCentral,
    next_key: NextKey,
    statuses: list[dict[str, Any]] | None = None,
    known_request_id: int | None = None,
    **extra: Any,
) -> FetchedCertificate | PendingDuplicate:
    written = statuses if statuses is not None else []

    async def write_status(changes: dict[str, Any]) -> None:
        written.append(changes)
        client.calls.append(f"status {changes}")

    return await request_duplicate_once(
        cast(CertCentralClient, client),
        order_id=ORDER,
        common_name=CN,
        names=NAMES,
        next_key=next_key,
        signature_hash="sha256",
        server_platform_id=45,
        known_request_id=known_request_id,
        write_status=write_status,
        **extra,
    )


def created(**fields: Any) -> DuplicateCreated:
    return DuplicateCreated.model_validate({"id": ORDER, "requests": [{"id": 77}], **fields})


async def test_existing_duplicate_not_requested_again(next_key: NextKey, chain_pem: str) -> None:
    client = FakeCertCentral(
        listings=[[listed(5, other_csr()), listed(7, next_key.csr_pem)]],
        downloads={7: chain_pem},
    )
    statuses: list[dict[str, Any]] = []

    result = await request(client, next_key, statuses, known_request_id=76)

    assert result == FetchedCertificate(chain_pem=chain_pem, certificate_id=7)
    assert client.posted == []
    assert statuses == []


async def test_existing_pending_keeps_request_id(next_key: NextKey) -> None:
    client = FakeCertCentral(listings=[[listed(7, next_key.csr_pem, status="pending")]])

    result = await request(client, next_key, known_request_id=76)

    assert result == PendingDuplicate(request_id=76, certificate_id=7)
    assert client.posted == []


async def test_existing_rejected_raises(next_key: NextKey) -> None:
    client = FakeCertCentral(listings=[[listed(7, next_key.csr_pem, status="rejected")]])

    with pytest.raises(DuplicateRejectedError, match="certificate 7"):
        await request(client, next_key)

    assert client.posted == []


async def test_status_written_around_post(next_key: NextKey, chain_pem: str) -> None:
    chain = [{"subject_common_name": CN, "pem": chain_pem}]
    client = FakeCertCentral(created=created(certificate_id=9, certificate_chain=chain))

    await request(client, next_key)

    assert client.calls == [
        f"list {ORDER}",
        f"status {{'requestOrderId': {ORDER}, 'requestId': None}}",
        f"post {ORDER}",
        f"status {{'requestOrderId': {ORDER}, 'requestId': 77}}",
    ]


async def test_post_carries_request_fields(next_key: NextKey) -> None:
    client = FakeCertCentral(created=created(certificate_chain=[{"pem": "x"}]))

    await request(client, next_key)

    assert client.posted == [
        {
            "order_id": ORDER,
            "common_name": CN,
            "dns_names": NAMES,
            "csr_pem": next_key.csr_pem,
            "signature_hash": "sha256",
            "server_platform_id": 45,
        }
    ]


async def test_response_chain_used(next_key: NextKey, chain_pem: str) -> None:
    blocks = [
        block + "-----END CERTIFICATE-----"
        for block in chain_pem.split("-----END CERTIFICATE-----")[:-1]
    ]
    entries = [{"subject_common_name": CN, "pem": block.replace("\n", "\r\n")} for block in blocks]
    client = FakeCertCentral(created=created(certificate_id=9, certificate_chain=entries))

    result = await request(client, next_key)

    assert isinstance(result, FetchedCertificate)
    assert result.certificate_id == 9
    assert result.chain_pem.strip() == chain_pem.strip()
    assert "\r" not in result.chain_pem
    assert not any(call.startswith("download") for call in client.calls)


async def test_response_certificate_id_downloaded(next_key: NextKey, chain_pem: str) -> None:
    client = FakeCertCentral(created=created(certificate_id=9), downloads={9: chain_pem})

    result = await request(client, next_key)

    assert result == FetchedCertificate(chain_pem=chain_pem, certificate_id=9)
    assert "download 9 pem_all" in client.calls


async def test_unsigned_certificate_id_pending(next_key: NextKey) -> None:
    client = FakeCertCentral(created=created(certificate_id=9))

    result = await request(client, next_key)

    assert result == PendingDuplicate(request_id=77, certificate_id=9)


async def test_no_chain_found_in_list(next_key: NextKey, chain_pem: str) -> None:
    client = FakeCertCentral(
        listings=[[listed(5, other_csr())], [listed(5, other_csr()), listed(8, next_key.csr_pem)]],
        created=created(),
        downloads={8: chain_pem},
    )

    result = await request(client, next_key)

    assert result == FetchedCertificate(chain_pem=chain_pem, certificate_id=8)
    assert client.calls[-2:] == [f"list {ORDER}", "download 8 pem_all"]


async def test_pending_after_post(next_key: NextKey) -> None:
    client = FakeCertCentral(
        listings=[[], [listed(8, next_key.csr_pem, status="pending")]],
        created=DuplicateCreated.model_validate(
            {"id": ORDER, "requests": [{"id": 77, "status": "pending"}]}
        ),
    )

    result = await request(client, next_key)

    assert result == PendingDuplicate(request_id=77, certificate_id=8)


async def test_not_listed_after_post_pending(next_key: NextKey) -> None:
    client = FakeCertCentral(created=created())

    result = await request(client, next_key)

    assert result == PendingDuplicate(request_id=77, certificate_id=None)


async def test_approved_unsigned_pending(next_key: NextKey) -> None:
    client = FakeCertCentral(listings=[[listed(7, next_key.csr_pem, status="approved")]])

    result = await request(client, next_key, known_request_id=76)

    assert result == PendingDuplicate(request_id=76, certificate_id=7)


async def test_rejected_after_post_raises(next_key: NextKey) -> None:
    client = FakeCertCentral(
        listings=[[], [listed(8, next_key.csr_pem, status="rejected")]], created=created()
    )

    with pytest.raises(DuplicateRejectedError):
        await request(client, next_key)


async def test_response_without_requests(next_key: NextKey) -> None:
    statuses: list[dict[str, Any]] = []
    client = FakeCertCentral(created=DuplicateCreated.model_validate({"id": ORDER}))

    result = await request(client, next_key, statuses)

    assert result == PendingDuplicate(request_id=None, certificate_id=None)
    assert statuses[-1] == {"requestOrderId": ORDER, "requestId": None}


def rsa_next_key() -> NextKey:
    key = generate_private_key(KeyAlgorithm.RSA, 2048)
    csr = build_csr(key, CN, NAMES, "sha256")
    return NextKey(key, private_key_to_pem(key), csr, "www-dupcert-next-key", reused=False)


async def test_reused_key_requests_new_duplicate(chain_pem: str) -> None:
    # rotationPolicy Never: the key, and with RSA even the CSR text, equal the replaced one's.
    next_key = rsa_next_key()
    replaced = listed(7, next_key.csr_pem, serial="0A" * 16)
    client = FakeCertCentral(
        listings=[[replaced]], created=created(certificate_id=9), downloads={9: chain_pem}
    )

    result = await request(client, next_key, replaced_serial=int("0A" * 16, 16))

    assert client.posted != []
    assert result == FetchedCertificate(chain_pem=chain_pem, certificate_id=9)


async def test_reused_key_older_copies_skipped(chain_pem: str) -> None:
    next_key = rsa_next_key()
    first = listed(5, next_key.csr_pem, created="2025-01-01T00:00:00Z")
    replaced = listed(7, next_key.csr_pem, created="2025-03-01T00:00:00Z", serial="0B" * 16)
    client = FakeCertCentral(
        listings=[[first, replaced]], created=created(certificate_id=9), downloads={9: chain_pem}
    )

    await request(client, next_key, replaced_serial=int("0B" * 16, 16))

    assert len(client.posted) == 1


async def test_reused_key_finds_newer_duplicate(chain_pem: str) -> None:
    # A crash after the POST: the duplicate made after the replaced certificate is ours.
    next_key = rsa_next_key()
    replaced = listed(7, next_key.csr_pem, created="2025-03-01T00:00:00Z", serial="0C" * 16)
    ours = listed(9, next_key.csr_pem, created="2025-06-01T00:00:00Z")
    client = FakeCertCentral(listings=[[ours, replaced]], downloads={9: chain_pem})

    result = await request(client, next_key, replaced_serial=int("0C" * 16, 16))

    assert client.posted == []
    assert result == FetchedCertificate(chain_pem=chain_pem, certificate_id=9)


async def test_replaced_serial_elsewhere_ignored(next_key: NextKey, chain_pem: str) -> None:
    # The replaced certificate belongs to another order: every match here counts.
    ours = listed(9, next_key.csr_pem)
    client = FakeCertCentral(listings=[[ours]], downloads={9: chain_pem})

    await request(client, next_key, replaced_serial=12345)

    assert client.posted == []
