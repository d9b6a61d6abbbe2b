"""Requesting a duplicate exactly once and fetching the certificate it produced."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dupcert.certcentral.client import CertCentralClient
from dupcert.certcentral.errors import NotFoundError
from dupcert.certcentral.models import DuplicateCertificate
from dupcert.keys import NextKey
from dupcert.pki import csr_public_key, public_key_der

# Duplicate list statuses (list duplicates API).
PENDING_STATUSES = frozenset({"pending", "submitted", "needs_approval"})
REJECTED_STATUSES = frozenset({"rejected", "denied", "canceled", "cancelled"})

# Sorts a duplicate without a creation date before every dated one.
_UNDATED = datetime.min.replace(tzinfo=UTC)

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


def _serial_number(duplicate: DuplicateCertificate) -> int | None:
    try:
        return int(duplicate.serial_number or "", 16)
    except ValueError:
        return None


def _age_key(duplicate: DuplicateCertificate) -> tuple[datetime, int]:
    """Sort key that puts the newest duplicate last: creation time, then id."""
    return (duplicate.date_created or _UNDATED, duplicate.id)


def find_duplicate_for_key(
    duplicates: list[DuplicateCertificate],
    next_key: NextKey,
    *,
    replaced_serial: int | None = None,
) -> DuplicateCertificate | None:
    """Find the duplicate requested with our key: same CSR text, or a CSR with our public key.

    The CSR text is compared first; the public key covers a CertCentral that reformats CSRs.
    The list can repeat an entry or include the primary certificate, so the newest match wins.

    ``replaced_serial`` is the serial number of the certificate this issuance replaces. When
    the key is reused (rotationPolicy Never), that certificate and older duplicates carry the
    same key, and with RSA even the same CSR text, so they match too. A match counts only if
    it is newer than the listed entry with that serial number.
    """
    expected_key = public_key_der(next_key.key)
    expected_csr = "".join(next_key.csr_pem.split())
    matches = []
    for duplicate in duplicates:
        if not duplicate.csr:
            continue
        if (
            "".join(duplicate.csr.split()) == expected_csr
            or csr_public_key(duplicate.csr) == expected_key
        ):
            matches.append(duplicate)
    if replaced_serial is not None:
        replaced = [d for d in duplicates if _serial_number(d) == replaced_serial]
        if replaced:
            # NOTE: when the replaced certificate is on another order, older duplicates of
            # this order made with the same key still match.
            cutoff = max(_age_key(d) for d in replaced)
            matches = [
                d for d in matches if _serial_number(d) != replaced_serial and _age_key(d) > cutoff
            ]
    if not matches:
        return None
    return max(matches, key=_age_key)


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
    replaced_serial: int | None = None,
) -> FetchedCertificate | PendingDuplicate:
    """Get the duplicate for this key from the order, requesting it only if none exists yet.

    The order's duplicate list is checked for our CSR before any POST, so a retry after a
    crash, a timeout or a lost response finds the duplicate it already requested. The request
    id is written to status right after the POST.

    ``replaced_serial`` (see find_duplicate_for_key) should be the serial number recorded in
    status, not the Secret's: after a crash between writing the Secret and the status, the
    Secret already contains this issuance's own duplicate, which must still match.
    """
    duplicates = await client.list_duplicates(order_id)
    existing = find_duplicate_for_key(duplicates, next_key, replaced_serial=replaced_serial)
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
    listed = find_duplicate_for_key(duplicates, next_key, replaced_serial=replaced_serial)
    if listed is None:
        return PendingDuplicate(request_id, None)
    return await fetch_listed_duplicate(client, listed, request_id)
