"""Requesting a duplicate exactly once and fetching the certificate it produced."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from dupcert.certcentral.client import CertCentralClient
from dupcert.certcentral.errors import NotFoundError
from dupcert.certcentral.models import DuplicateCertificate
from dupcert.keys import NextKey
from dupcert.pki import csr_public_key, public_key_der

# Duplicate list statuses (list duplicates API).
PENDING_STATUSES = frozenset({"pending", "submitted", "needs_approval"})
REJECTED_STATUSES = frozenset({"rejected", "denied", "canceled", "cancelled"})

logger = logging.getLogger(__name__)


class DuplicateRejectedError(Exception):
    """The duplicate request was rejected in CertCentral."""


@dataclass(frozen=True)
class FetchedCertificate:
    """The PEM chain of an issued duplicate and its certificate id when known."""

    chain_pem: str
    certificate_id: int | None


@dataclass(frozen=True)
class PendingDuplicate:
    """The duplicate exists but waits for approval (or for CertCentral to sign it)."""

    request_id: int | None
    certificate_id: int | None


StatusWriter = Callable[[dict[str, Any]], Awaitable[None]]


def find_duplicate_for_key(
    duplicates: list[DuplicateCertificate], next_key: NextKey
) -> DuplicateCertificate | None:
    """Find the duplicate requested with our key: same CSR text, or a CSR with our public key.

    The CSR text is compared first; the public key covers a CertCentral that reformats CSRs.
    The list can repeat an entry or include the primary certificate, so the newest match wins.
    """
    wanted_key = public_key_der(next_key.key)
    wanted_csr = "".join(next_key.csr_pem.split())
    matches = []
    for duplicate in duplicates:
        if not duplicate.csr:
            continue
        if (
            "".join(duplicate.csr.split()) == wanted_csr
            or csr_public_key(duplicate.csr) == wanted_key
        ):
            matches.append(duplicate)
    if not matches:
        return None
    return max(matches, key=lambda d: d.id)


def chain_from_entries(pems: list[str]) -> str:
    return "\n".join(pem.strip().replace("\r\n", "\n") for pem in pems) + "\n"


async def fetch_listed_duplicate(
    client: CertCentralClient, duplicate: DuplicateCertificate, request_id: int | None
) -> FetchedCertificate | PendingDuplicate:
    """Download a listed duplicate, or report it pending; raise when it was rejected."""
    status = (duplicate.status or "").lower()
    if status in REJECTED_STATUSES:
        raise DuplicateRejectedError(
            f"CertCentral rejected the duplicate request (certificate {duplicate.id})"
        )
    if status in PENDING_STATUSES:
        return PendingDuplicate(request_id=request_id, certificate_id=duplicate.id)
    try:
        chain_pem = await client.download_certificate(duplicate.id, "pem_all")
    except NotFoundError:
        # Approved but not signed yet: CertCentral serves the file once it is issued.
        return PendingDuplicate(request_id=request_id, certificate_id=duplicate.id)
    return FetchedCertificate(chain_pem=chain_pem, certificate_id=duplicate.id)


async def request_duplicate_once(
    client: CertCentralClient,
    *,
    order_id: int,
    common_name: str,
    names: list[str],
    next_key: NextKey,
    signature_hash: str,
    server_platform_id: int | None,
    known_request_id: int | None,
    write_status: StatusWriter,
) -> FetchedCertificate | PendingDuplicate:
    """Get the duplicate for this key from the order, requesting it only if none exists yet.

    The order's duplicate list is checked for our CSR before any POST, so a retry after a
    crash, a timeout or a lost response finds the duplicate it already requested. The request
    id is written to status right after the POST.
    """
    duplicates = await client.list_duplicates(order_id)
    existing = find_duplicate_for_key(duplicates, next_key)
    if existing is not None:
        logger.info(
            "Found the duplicate requested earlier: order %s, certificate %s, status %s",
            order_id,
            existing.id,
            existing.status,
        )
        return await fetch_listed_duplicate(client, existing, known_request_id)

    # Mark the order before the POST: after a crash, the next pass looks there first.
    await write_status({"requestOrderId": order_id, "requestId": None})
    created = await client.request_duplicate(
        order_id,
        common_name=common_name,
        dns_names=names,
        csr_pem=next_key.csr_pem,
        signature_hash=signature_hash,
        server_platform_id=server_platform_id,
    )
    request_id = created.requests[0].id if created.requests else None
    await write_status({"requestOrderId": order_id, "requestId": request_id})
    logger.info("Requested a duplicate of order %s: request %s", order_id, request_id)

    if created.certificate_chain:
        pems = [entry.pem for entry in created.certificate_chain]
        return FetchedCertificate(chain_from_entries(pems), created.certificate_id)
    if created.certificate_id is not None:
        try:
            chain_pem = await client.download_certificate(created.certificate_id, "pem_all")
        except NotFoundError:
            return PendingDuplicate(request_id, created.certificate_id)
        return FetchedCertificate(chain_pem, created.certificate_id)

    # Neither a chain nor a certificate id: find the certificate by our CSR.
    duplicates = await client.list_duplicates(order_id)
    listed = find_duplicate_for_key(duplicates, next_key)
    if listed is None:
        return PendingDuplicate(request_id, None)
    return await fetch_listed_duplicate(client, listed, request_id)
