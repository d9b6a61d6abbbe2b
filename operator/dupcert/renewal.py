"""Renewal-time resolution: follow a renewed order, or renew the order exactly once.

CertCentral's rule for duplicates at renewal time: when a renewed order (a new order id)
matching the names exists, duplicate that newest order instead of renewing anything. Only
when none exists is the order renewed, and only once however many duplicates share it. A
Kubernetes Lease per order id makes "once" hold across resources, restarts and replicas.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from dupcert.certcentral.client import CertCentralClient
from dupcert.certcentral.errors import NotFoundError
from dupcert.certcentral.models import Order
from dupcert.conditions import format_time
from dupcert.issuance import FetchedCertificate, chain_from_entries
from dupcert.keys import NextKey
from dupcert.pki import CertificateCheckError, is_ca, load_pem_chain, public_key_der
from dupcert.resolve import (
    OrderChoice,
    OrderMismatchError,
    check_pinned_order,
    pick_latest_order,
)
from dupcert.storage.kube import ConflictError, Kube

logger = logging.getLogger(__name__)

ANNOTATION_RENEWED_ORDER_ID = "dupcert.io/renewed-order-id"
LEASE_PREFIX = "dupcert-renewal-"


class RenewalInProgressError(Exception):
    """Another DuplicateCertificate holds the renewal lease of the order."""


@dataclass(frozen=True)
class RenewalPlaced:
    """The order was renewed; the new order's certificate may not be issued yet."""

    order_id: int
    renewed_order_id: int
    certificate: FetchedCertificate | None


async def _order_not_after(client: CertCentralClient, order_id: int) -> datetime | None:
    """Return the exact notAfter of an order's primary certificate (valid_till is only a day)."""
    try:
        pem = await client.download_order_certificate(order_id, "pem_all")
        leaves = [c for c in load_pem_chain(pem) if not is_ca(c)]
    except (NotFoundError, CertificateCheckError):
        return None
    return leaves[0].not_valid_after_utc if leaves else None


async def find_renewed_order(
    client: CertCentralClient,
    requested: Sequence[str],
    *,
    organization_id: int,
    product_name_id: str,
    current_order_id: int | None,
    current_not_after: datetime,
    now: datetime,
) -> OrderChoice | None:
    """Find the newest issued order allowing the names whose certificate outlives ours.

    The renewal chain (``renewed_order_id``) of the current order is followed first; the
    order list is searched when CertCentral links no renewal.
    """
    today = now.date()
    chain_choice: OrderChoice | None = None
    seen: set[int] = set()
    order: Order | None = None
    if current_order_id is not None:
        seen.add(current_order_id)
        try:
            order = await client.get_order(current_order_id)
        except NotFoundError:
            order = None
    while order is not None and order.renewed_order_id and order.renewed_order_id not in seen:
        seen.add(order.renewed_order_id)
        try:
            order = await client.get_order(order.renewed_order_id)
        except NotFoundError:
            break
        try:
            chain_choice = check_pinned_order(
                order,
                requested,
                organization_id=organization_id,
                product_name_id=product_name_id,
                today=today,
            )
        except OrderMismatchError:
            continue

    choice = chain_choice
    if choice is None:
        orders = await client.list_orders(
            organization_id=organization_id, product_name_id=product_name_id, status="issued"
        )
        choice = pick_latest_order(
            [o for o in orders if o.id not in seen],
            requested,
            organization_id=organization_id,
            product_name_id=product_name_id,
            today=today,
            expiring_after=current_not_after.date(),
        )
    if choice is None:
        return None
    if choice.valid_till is None or choice.valid_till <= current_not_after.date():
        # Same day (or unknown): compare the exact times of the certificates.
        not_after = await _order_not_after(client, choice.order_id)
        if not_after is None or not_after <= current_not_after:
            return None
    return choice


async def take_own_renewal(
    client: CertCentralClient, order_id: int, next_key: NextKey
) -> FetchedCertificate | None:
    """Return the order's primary certificate when it was issued for our key.

    The resource that renewed an order made the renewal's CSR from its next key, so the
    renewed order's own certificate is its new certificate, and no other resource's key matches it.
    """
    try:
        pem = await client.download_order_certificate(order_id, "pem_all")
        leaves = [c for c in load_pem_chain(pem) if not is_ca(c)]
    except (NotFoundError, CertificateCheckError):
        return None
    if leaves and public_key_der(leaves[0]) == public_key_der(next_key.key):
        return FetchedCertificate(chain_pem=pem, certificate_id=None)
    return None


class RenewalLease:
    """A coordination.k8s.io Lease named after the order, held while renewing it."""

    def __init__(self, kube: Kube, namespace: str, order_id: int, holder: str) -> None:
        self.kube = kube
        self.namespace = namespace
        self.name = f"{LEASE_PREFIX}{order_id}"
        self.order_id = order_id
        self.holder = holder

    async def acquire(self, now: datetime, duration_seconds: float) -> int | None:
        """Take the lease; return an order id already recorded as the renewal, if any.

        Raises RenewalInProgressError while another holder's lease is still valid.
        """
        lease = await self.kube.get_lease(self.namespace, self.name)
        stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        if lease is None:
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {
                    "name": self.name,
                    "namespace": self.namespace,
                    "labels": {"app.kubernetes.io/managed-by": "dupcert"},
                },
                "spec": {
                    "holderIdentity": self.holder,
                    "leaseDurationSeconds": int(duration_seconds),
                    "acquireTime": stamp,
                    "renewTime": stamp,
                },
            }
            try:
                await self.kube.create_lease(self.namespace, body)
            except ConflictError:
                raise RenewalInProgressError(
                    f"another DuplicateCertificate is renewing order {self.order_id}"
                ) from None
            return None

        annotations = lease.get("metadata", {}).get("annotations") or {}
        recorded = annotations.get(ANNOTATION_RENEWED_ORDER_ID)
        if recorded and str(recorded).isdigit():
            return int(recorded)
        spec = lease.get("spec") or {}
        holder = spec.get("holderIdentity")
        renewed_at = spec.get("renewTime")
        duration = timedelta(seconds=int(spec.get("leaseDurationSeconds") or duration_seconds))
        if holder != self.holder and renewed_at:
            renewed = datetime.fromisoformat(str(renewed_at).replace("Z", "+00:00"))
            if renewed + duration > now:
                raise RenewalInProgressError(
                    f"{holder} is renewing order {self.order_id} (lease {self.namespace}/"
                    f"{self.name} held until {format_time(renewed + duration)})"
                )
        lease["spec"] = {
            **spec,
            "holderIdentity": self.holder,
            "leaseDurationSeconds": int(duration_seconds),
            "renewTime": stamp,
        }
        if holder != self.holder:
            lease["spec"]["acquireTime"] = stamp
        try:
            await self.kube.replace_lease(self.namespace, lease)
        except ConflictError:
            raise RenewalInProgressError(
                f"another DuplicateCertificate took the renewal lease of order {self.order_id}"
            ) from None
        return None

    async def record_renewal(self, renewed_order_id: int | None) -> None:
        """Write the renewed order id on the lease, so that no resource renews the order again.

        None removes it: the renewal was rejected, and the order may be renewed again.
        """
        for _attempt in range(3):
            lease = await self.kube.get_lease(self.namespace, self.name)
            if lease is None:
                return
            metadata = lease.setdefault("metadata", {})
            annotations = metadata.get("annotations") or {}
            if renewed_order_id is None:
                annotations.pop(ANNOTATION_RENEWED_ORDER_ID, None)
            else:
                annotations[ANNOTATION_RENEWED_ORDER_ID] = str(renewed_order_id)
            metadata["annotations"] = annotations
            try:
                await self.kube.replace_lease(self.namespace, lease)
            except ConflictError:
                continue
            return


async def renew_order_once(
    client: CertCentralClient,
    lease: RenewalLease,
    *,
    next_key: NextKey,
    signature_hash: str,
    now: datetime,
    lease_seconds: float,
) -> RenewalPlaced:
    """Renew the order unless it was renewed already; the lease admits one renewer at a time.

    Before renewing, CertCentral is asked whether the order was renewed (``is_renewed`` and
    ``renewed_order_id``), and the lease is checked for a renewal recorded by dupcert.
    """
    recorded = await lease.acquire(now, lease_seconds)
    if recorded is not None:
        return RenewalPlaced(lease.order_id, recorded, None)
    order = await client.get_order(lease.order_id)
    if order.is_renewed and order.renewed_order_id:
        await lease.record_renewal(order.renewed_order_id)
        return RenewalPlaced(order.id, order.renewed_order_id, None)

    created = await client.renew_order(
        order, csr_pem=next_key.csr_pem, signature_hash=signature_hash
    )
    await lease.record_renewal(created.id)
    logger.info("Renewed order %s as order %s", order.id, created.id)
    fetched = None
    if created.certificate_chain:
        pems = [entry.pem for entry in created.certificate_chain]
        fetched = FetchedCertificate(chain_from_entries(pems), created.certificate_id)
    return RenewalPlaced(order.id, created.id, fetched)
