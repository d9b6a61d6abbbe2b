"""One reconciliation pass of a DuplicateCertificate, free of Kopf.

A pass reads the spec, the status and the Secret, and decides whether a certificate is
needed. It gets one by resolving the order, requesting a duplicate exactly once, or renewing
an order at most once. Then it verifies the certificate, writes the Secret and the status, and
returns when it wants to run again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from dupcert.certcentral.errors import (
    CertCentralError,
)
from dupcert.certificate import (
    CurrentCertificate,
    RenewBeforeTooLongError,
    issuance_hash,
    read_current_certificate,
    renewal_time,
)
from dupcert.conditions import (
    ISSUING,
    READY,
    Reason,
    find_condition,
    format_time,
    parse_time,
    set_condition,
)
from dupcert.issuance import (
    DuplicateRejectedError,
    FetchedCertificate,
    PendingDuplicate,
    request_duplicate_once,
)
from dupcert.issuers import ClientCache, Issuer, IssuerNotReadyError, load_issuer
from dupcert.keys import NextKey, NextKeyConflictError, delete_next_key, ensure_next_key
from dupcert.names import requested_names
from dupcert.outcomes import PassFailure, PassWait, Trigger, failure_from
from dupcert.pki import CertificateCheckError, VerifiedChain, load_pem_chain, verify_chain
from dupcert.renewal import (
    RenewalInProgressError,
    RenewalLease,
    find_renewed_order,
    renew_order_once,
    take_own_renewal,
)
from dupcert.resolve import (
    OrderChoice,
    OrderMismatchError,
    OrderNotFoundError,
    check_pinned_order,
    resolve_latest_order,
    resolve_pinned_order,
)
from dupcert.resources import DUPLICATE_CERTIFICATE_PLURAL, DuplicateCertificateSpec
from dupcert.settings import OperatorSettings
from dupcert.storage.kube import Kube
from dupcert.storage.secrets import (
    IssuedCertificate,
    owner_of,
)
from dupcert.tls_secret import find_secret_name_owner, sync_secret_metadata, write_tls_secret
from dupcert.validation import InvalidSpecError, parse_spec

ANNOTATION_RENEW_REQUESTED_AT = "dupcert.io/renew-requested-at"

# Order statuses of a renewal that will never be issued.
REJECTED_ORDER_STATUSES = frozenset({"rejected", "canceled", "cancelled", "denied"})

EventRecorder = Callable[[str, str, str], None]


@dataclass
class Dependencies:
    """External dependencies of a pass: API clients, settings and the clock."""

    kube: Kube
    settings: OperatorSettings
    clients: ClientCache
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


class Reconciler:
    """Run one pass for one DuplicateCertificate body."""

    def __init__(
        self,
        deps: Dependencies,
        body: dict[str, Any],
        record_event: EventRecorder,
        logger: logging.Logger | logging.LoggerAdapter[logging.Logger],
    ) -> None:
        self.deps = deps
        metadata = body.get("metadata") or {}
        self.name: str = metadata["name"]
        self.namespace: str = metadata["namespace"]
        self.generation: int | None = metadata.get("generation")
        self.uid: str | None = metadata.get("uid")
        self.annotations: dict[str, str] = metadata.get("annotations") or {}
        self.raw_spec: dict[str, Any] = body.get("spec") or {}
        self.status: dict[str, Any] = dict(body.get("status") or {})
        self.record_event = record_event
        self.logger = logger
        self.now = deps.clock()
        # Filled in by the pass once the Secret is read.
        self._current: CurrentCertificate | None = None
        self._spec_matches = False

    # Status

    async def _write_status(self, changes: dict[str, Any]) -> None:
        result = await self.deps.kube.patch_status(
            DUPLICATE_CERTIFICATE_PLURAL, self.namespace, self.name, changes
        )
        self.status = dict(result.get("status") or {})

    def _conditions(self) -> list[dict[str, Any]]:
        return list(self.status.get("conditions") or [])

    def _with(
        self, conditions: list[dict[str, Any]], kind: str, ok: bool, reason: str, message: str
    ) -> list[dict[str, Any]]:
        return set_condition(conditions, kind, ok, reason, message, self.generation, self.now)

    async def _set_conditions(self, conditions: list[dict[str, Any]], **fields: Any) -> None:
        """Write conditions and fields, skipping the write when nothing would change."""
        changes: dict[str, Any] = dict(fields)
        if conditions != self._conditions():
            changes["conditions"] = conditions
        changes = {k: v for k, v in changes.items() if self.status.get(k) != v}
        if changes:
            await self._write_status(changes)

    # Entry point

    async def reconcile(self) -> float | None:
        """Run the pass; return seconds until the next one, or None to wait for a change."""
        try:
            spec = parse_spec(self.raw_spec)
        except InvalidSpecError as error:
            await self._fail(Reason.INVALID_SPEC, str(error), retry=False, current_ok=False)
            return None
        try:
            delay = await self._reconcile(spec)
        except PassFailure as failure:
            delay = await self._fail(
                failure.reason, failure.message, retry=failure.retry, current_ok=None
            )
        return self._wake_by_expiry(delay)

    def _wake_by_expiry(self, delay: float | None) -> float | None:
        """Wake up by notAfter at the latest, so Ready never outlives the certificate."""
        current = self._current
        if current is None or current.not_after <= self.now:
            return delay
        until_expiry = (current.not_after - self.now).total_seconds() + 1.0
        return until_expiry if delay is None else min(delay, until_expiry)

    async def _reconcile(self, spec: DuplicateCertificateSpec) -> float | None:
        kube = self.deps.kube
        secret = await kube.get_secret(self.namespace, spec.secret_name)
        if secret is not None and owner_of(secret) != self.name:
            owner = owner_of(secret)
            whose = (
                f"belongs to DuplicateCertificate {owner}"
                if owner
                else "was not created by dupcert"
            )
            raise PassFailure(
                Reason.SECRET_CONFLICT,
                f"Secret {self.namespace}/{spec.secret_name} exists and {whose}, so it is left "
                "untouched; delete it or set another spec.secretName",
            )
        current = read_current_certificate(secret) if secret is not None else None
        self._current = current
        self._spec_matches = current is not None and self.status.get(
            "issuanceHash"
        ) == issuance_hash(spec)

        if current is not None and current.not_after <= self.now:
            # Said first, so no backoff or wait below can leave Ready claiming it.
            expired = f"Certificate expired on {format_time(current.not_after)}"
            ready = find_condition(self._conditions(), READY)
            if ready is None or ready.get("reason") != Reason.EXPIRED:
                self.record_event("Warning", Reason.EXPIRED, expired)
            conditions = self._with(self._conditions(), READY, False, Reason.EXPIRED, expired)
            await self._set_conditions(conditions)

        trigger = self._decide_trigger(spec, secret, current)
        if trigger is None:
            assert secret is not None
            if await sync_secret_metadata(kube, self.namespace, spec, secret):
                self.logger.info(
                    "Updated the labels and annotations of Secret %s", spec.secret_name
                )
            return await self._report_ready(spec, current)

        # Back off after failures, unless the spec changed or a user asked for a new attempt.
        next_retry = parse_time(self.status.get("nextRetryTime"))
        if (
            next_retry is not None
            and next_retry > self.now
            and self.status.get("failedGeneration") == self.generation
            and self._manual_request() is None
        ):
            self.logger.debug("Backing off until %s", format_time(next_retry))
            return (next_retry - self.now).total_seconds()

        return await self._issue(spec, trigger, current)

    def _manual_request(self) -> str | None:
        """Return the renew annotation's value when it has not been acted on yet."""
        requested = self.annotations.get(ANNOTATION_RENEW_REQUESTED_AT)
        if requested and requested != self.status.get("renewRequestedAt"):
            return requested
        return None

    def _decide_trigger(
        self,
        spec: DuplicateCertificateSpec,
        secret: dict[str, Any] | None,
        current: CurrentCertificate | None,
    ) -> Trigger | None:
        in_flight = self.status.get("issuanceTrigger")
        if in_flight and self.status.get("nextPrivateKeySecretName"):
            issuing = find_condition(self._conditions(), ISSUING)
            message = issuing.get("message") if issuing else None
            return Trigger(str(in_flight), str(message or "Continuing the issuance in progress"))
        if secret is None:
            return Trigger(
                "DoesNotExist",
                f"Issuing a duplicate because Secret {spec.secret_name} does not exist",
            )
        if current is None:
            return Trigger(
                "InvalidSecret",
                f"Issuing a duplicate because Secret {spec.secret_name} has no valid certificate "
                "and key",
            )
        if not self._spec_matches:
            return Trigger(
                "SpecChanged", "Issuing a duplicate because the spec changed since the last one"
            )
        requested = self._manual_request()
        if requested:
            return Trigger(
                Reason.MANUALLY_TRIGGERED,
                f"Re-issuing as requested by the {ANNOTATION_RENEW_REQUESTED_AT} annotation "
                f"({requested})",
            )
        due = self._renewal_time(spec, current)
        if due is not None and due <= self.now:
            return Trigger(
                Reason.RENEWING,
                f"Renewing the duplicate as renewal was scheduled at {format_time(due)}",
            )
        return None

    def _renewal_time(
        self, spec: DuplicateCertificateSpec, current: CurrentCertificate
    ) -> datetime | None:
        try:
            return renewal_time(current.not_before, current.not_after, spec.renew_before_delta)
        except RenewBeforeTooLongError:
            return None

    # Steady state

    async def _report_ready(
        self, spec: DuplicateCertificateSpec, current: CurrentCertificate | None
    ) -> float | None:
        assert current is not None
        try:
            due = renewal_time(current.not_before, current.not_after, spec.renew_before_delta)
        except RenewBeforeTooLongError as error:
            raise PassFailure(Reason.INVALID_SPEC, str(error), retry=False) from None
        conditions = self._conditions()
        if current.not_after <= self.now:
            conditions = self._with(
                conditions,
                READY,
                False,
                Reason.EXPIRED,
                f"Certificate expired on {format_time(current.not_after)}",
            )
        else:
            conditions = self._with(
                conditions,
                READY,
                True,
                Reason.READY,
                "Certificate is up to date and has not expired",
            )
        await self._set_conditions(conditions, renewalTime=format_time(due))
        wake = min(due, current.not_after) if current.not_after > self.now else due
        seconds = (wake - self.now).total_seconds()
        return max(1.0, min(seconds, self.deps.settings.resync_seconds))

    # Issuance

    async def _issue(
        self,
        spec: DuplicateCertificateSpec,
        trigger: Trigger,
        current: CurrentCertificate | None,
    ) -> float | None:
        kube = self.deps.kube
        settings = self.deps.settings
        current_valid = current is not None and current.not_after > self.now
        keep_ready = current_valid and self._spec_matches
        manual = self._manual_request()
        if manual:
            # Recorded when acted on, so one annotation value starts one attempt, also when
            # that attempt fails.
            await self._write_status({"renewRequestedAt": manual})

        if self._current is None:
            owner = await find_secret_name_owner(kube, self.namespace, spec.secret_name)
            if owner is not None and owner != self.name:
                raise PassFailure(
                    Reason.SECRET_CONFLICT,
                    f"DuplicateCertificate {owner} already writes Secret "
                    f"{self.namespace}/{spec.secret_name}; set another spec.secretName",
                )
        try:
            issuer = await load_issuer(
                kube, spec.issuer_ref, self.namespace, settings, self.deps.clients
            )
        except IssuerNotReadyError as error:
            raise PassFailure(Reason.ISSUER_NOT_READY, str(error)) from None

        common_name, names = requested_names(spec.common_name, spec.dns_names)
        try:
            next_key = await ensure_next_key(
                kube,
                self.namespace,
                self.name,
                spec,
                common_name,
                names,
                current.key if current is not None else None,
                owner_uid=self.uid,
            )
        except NextKeyConflictError as error:
            raise PassFailure(Reason.SECRET_CONFLICT, str(error)) from None
        if not next_key.reused:
            self.logger.info("Generated a new %s private key", spec.private_key.algorithm.value)

        # Say what is happening, in one status write, before the first CertCentral call.
        conditions = self._with(self._conditions(), ISSUING, True, trigger.reason, trigger.message)
        if current is not None and not current_valid:
            expired = f"Certificate expired on {format_time(current.not_after)}"
            conditions = self._with(conditions, READY, False, Reason.EXPIRED, expired)
        elif not keep_ready:
            conditions = self._with(conditions, READY, False, trigger.reason, trigger.message)
        if self.status.get("issuanceTrigger") != trigger.reason:
            self.record_event("Normal", "Issuing", trigger.message)
        await self._set_conditions(
            conditions,
            issuanceTrigger=trigger.reason,
            nextPrivateKeySecretName=next_key.secret_name,
        )

        try:
            fetched, order_id, event_reason = await self._obtain(
                spec, trigger, current, issuer, common_name, names, next_key
            )
        except PassWait as wait:
            conditions = self._with(self._conditions(), ISSUING, True, wait.reason, wait.message)
            await self._set_conditions(conditions)
            return max(1.0, wait.seconds)
        except (CertCentralError, OrderNotFoundError, OrderMismatchError) as error:
            raise failure_from(
                error, issuer.spec.url, issuer.spec.ca_bundle_secret_ref is not None
            ) from error
        except DuplicateRejectedError as error:
            await self._abandon_request()
            raise PassFailure(
                Reason.REQUEST_REJECTED, f"{error}; fix the request or approve it"
            ) from None

        try:
            chain = verify_chain(load_pem_chain(fetched.chain_pem), next_key.key, names, self.now)
        except CertificateCheckError as error:
            await self._abandon_request()
            raise PassFailure(
                Reason.INVALID_CERTIFICATE,
                f"the certificate from order {order_id} failed a check and was not written: "
                f"{error}",
            ) from None

        return await self._store(
            spec, trigger, chain, next_key, order_id, fetched.certificate_id, event_reason
        )

    async def _obtain(
        self,
        spec: DuplicateCertificateSpec,
        trigger: Trigger,
        current: CurrentCertificate | None,
        issuer: Issuer,
        common_name: str,
        names: list[str],
        next_key: NextKey,
    ) -> tuple[FetchedCertificate, int, str | None]:
        """Get an issued certificate for the next key; raise PassWait while it is not ready."""
        profile = issuer.spec
        client = issuer.client
        event_reason: str | None = None

        pending_order = self.status.get("requestOrderId")
        if pending_order and next_key.reused and not trigger.is_renewal:
            order = OrderChoice(int(pending_order), profile.product_name_id, (), None, None)
        elif trigger.is_renewal and current is not None:
            renewal = await self._resolve_renewal(spec, trigger, current, issuer, names, next_key)
            if isinstance(renewal, tuple):
                return renewal
            order, event_reason = renewal, Reason.RENEWED_ORDER_DUPLICATED
        elif spec.order_id is not None:
            order = await resolve_pinned_order(
                client,
                spec.order_id,
                names,
                organization_id=profile.organization_id,
                product_name_id=profile.product_name_id,
                now=self.now,
            )
        else:
            order = await resolve_latest_order(
                client,
                names,
                organization_id=profile.organization_id,
                product_name_id=profile.product_name_id,
                now=self.now,
            )

        result = await request_duplicate_once(
            client,
            order_id=order.order_id,
            common_name=common_name,
            names=names,
            next_key=next_key,
            signature_hash=spec.signature_hash,
            server_platform_id=spec.server_platform_id,
            known_request_id=self.status.get("requestId"),
            write_status=self._write_status,
            replaced_serial=self._replaced_serial(),
        )
        if isinstance(result, PendingDuplicate):
            request = f" (request {result.request_id})" if result.request_id else ""
            raise PassWait(
                Reason.PENDING_APPROVAL,
                f"The duplicate of order {order.order_id}{request} waits for approval in "
                "CertCentral; an administrator can approve it, or enable skipping the approval "
                "step for duplicates",
                self.deps.settings.approval_poll_seconds,
            )
        return result, order.order_id, event_reason

    async def _resolve_renewal(
        self,
        spec: DuplicateCertificateSpec,
        trigger: Trigger,
        current: CurrentCertificate,
        issuer: Issuer,
        names: list[str],
        next_key: NextKey,
    ) -> OrderChoice | tuple[FetchedCertificate, int, str | None]:
        """Pick the order to duplicate at renewal time, renewing the current one if needed."""
        profile = issuer.spec
        client = issuer.client
        current_order = self.status.get("orderId") or current.order_id
        renewed = await find_renewed_order(
            client,
            names,
            organization_id=profile.organization_id,
            product_name_id=profile.product_name_id,
            current_order_id=current_order,
            current_not_after=current.not_after,
            now=self.now,
        )
        if renewed is not None:
            if next_key.reused:
                own = await take_own_renewal(client, renewed.order_id, next_key)
                if own is not None:
                    return own, renewed.order_id, Reason.ORDER_RENEWED
            return renewed

        if trigger.reason == Reason.MANUALLY_TRIGGERED and self._renewal_not_due(spec, current):
            # A manual trigger before the renewal window duplicates the current order again,
            # so the new certificate lives as long as the old one. It never buys a renewal
            # early. The latest order is the fallback when the current one cannot be used.
            pinned = spec.order_id or current_order
            if pinned is not None:
                try:
                    return await resolve_pinned_order(
                        client,
                        int(pinned),
                        names,
                        organization_id=profile.organization_id,
                        product_name_id=profile.product_name_id,
                        now=self.now,
                    )
                except OrderMismatchError:
                    pass
            return await resolve_latest_order(
                client,
                names,
                organization_id=profile.organization_id,
                product_name_id=profile.product_name_id,
                now=self.now,
            )

        if current_order is None:
            raise PassFailure(
                Reason.ORDER_NOT_FOUND,
                "the current certificate's order is unknown, so it cannot be renewed",
            )
        if not spec.auto_renew:
            recheck = self.deps.settings.renewal_recheck_seconds
            until_expiry = (current.not_after - self.now).total_seconds()
            raise PassWait(
                Reason.WAITING_FOR_RENEWED_ORDER,
                f"No renewed order of order {current_order} exists and spec.autoRenew is false; "
                f"renew order {current_order} in CertCentral, and the duplicate will follow it",
                min(recheck, until_expiry) if until_expiry > 0 else recheck,
            )

        lease = RenewalLease(
            self.deps.kube,
            self.deps.settings.operator_namespace,
            int(current_order),
            f"{self.namespace}/{self.name}",
        )
        try:
            placed = await renew_order_once(
                client,
                lease,
                next_key=next_key,
                signature_hash=spec.signature_hash,
                now=self.now,
                lease_seconds=self.deps.settings.renewal_lease_seconds,
            )
        except RenewalInProgressError as error:
            raise PassWait(
                Reason.RENEWAL_IN_PROGRESS,
                f"{error}; this duplicate will follow the renewed order",
                min(self.deps.settings.approval_poll_seconds, 5.0),
            ) from None
        if placed.certificate is not None:
            return placed.certificate, placed.renewed_order_id, Reason.ORDER_RENEWED

        # The renewal exists (placed now or earlier) but its certificate is not issued yet.
        renewed_status = "unknown"
        choice = None
        try:
            order = await client.get_order(placed.renewed_order_id)
            renewed_status = order.status
            choice = check_pinned_order(
                order,
                names,
                organization_id=profile.organization_id,
                product_name_id=profile.product_name_id,
                today=self.now.date(),
            )
        except (CertCentralError, OrderMismatchError):
            choice = None
        if renewed_status in REJECTED_ORDER_STATUSES:
            # Forget the dead renewal, so that a later attempt may renew the order again.
            await lease.record_renewal(None)
            raise PassFailure(
                Reason.REQUEST_REJECTED,
                f"the renewal of order {placed.order_id} (order {placed.renewed_order_id}) was "
                f"{renewed_status} in CertCentral; renew order {placed.order_id} by hand, or "
                "the operator renews it again after the retry delay",
            )
        if choice is None:
            raise PassWait(
                Reason.RENEWAL_IN_PROGRESS,
                f"Order {placed.order_id} was renewed as order {placed.renewed_order_id}, which "
                f"is not issued yet (status {renewed_status}); approve its request in "
                "CertCentral if it waits for approval",
                self.deps.settings.approval_poll_seconds,
            )
        if next_key.reused:
            own = await take_own_renewal(client, choice.order_id, next_key)
            if own is not None:
                return own, choice.order_id, Reason.ORDER_RENEWED
        return choice

    def _replaced_serial(self) -> int | None:
        """Serial of the certificate this issuance replaces, from status.

        Status, not the Secret: after a crash between writing the Secret and the status, the
        Secret already contains this issuance's own duplicate, which must still be found.
        """
        serial = self.status.get("serialNumber")
        try:
            return int(serial, 16) if serial else None
        except ValueError:
            return None

    def _renewal_not_due(self, spec: DuplicateCertificateSpec, current: CurrentCertificate) -> bool:
        due = self._renewal_time(spec, current)
        return due is not None and due > self.now

    async def _abandon_request(self) -> None:
        """Drop the in-flight key and request so the next attempt starts afresh."""
        await delete_next_key(self.deps.kube, self.namespace, self.name)
        await self._write_status(
            {
                "nextPrivateKeySecretName": None,
                "requestOrderId": None,
                "issuanceTrigger": None,
            }
        )

    async def _store(
        self,
        spec: DuplicateCertificateSpec,
        trigger: Trigger,
        chain: VerifiedChain,
        next_key: NextKey,
        order_id: int,
        certificate_id: int | None,
        event_reason: str | None,
    ) -> float | None:
        kube = self.deps.kube
        try:
            due = renewal_time(chain.not_before, chain.not_after, spec.renew_before_delta)
        except RenewBeforeTooLongError as error:
            raise PassFailure(Reason.INVALID_SPEC, str(error), retry=False) from None

        await write_tls_secret(
            kube,
            self.namespace,
            self.name,
            spec,
            chain,
            next_key.key_pem,
            IssuedCertificate(order_id=order_id, certificate_id=certificate_id),
        )

        await delete_next_key(kube, self.namespace, self.name)
        previous_order = self.status.get("orderId")
        conditions = self._with(
            self._conditions(),
            READY,
            True,
            Reason.READY,
            "Certificate is up to date and has not expired",
        )
        # The resource that renewed an order gets that order's own certificate.
        what = "Certificate" if event_reason == Reason.ORDER_RENEWED else "Duplicate certificate"
        conditions = self._with(
            conditions,
            ISSUING,
            False,
            Reason.ISSUED,
            f"{what} {chain.serial_hex} of order {order_id} written to Secret {spec.secret_name}",
        )
        fields: dict[str, Any] = {
            "orderId": order_id,
            "certificateId": certificate_id,
            "serialNumber": chain.serial_hex,
            "notBefore": format_time(chain.not_before),
            "notAfter": format_time(chain.not_after),
            "renewalTime": format_time(due),
            "issuanceHash": issuance_hash(spec),
            "failedIssuanceAttempts": None,
            "lastFailureTime": None,
            "nextRetryTime": None,
            "failedGeneration": None,
            "nextPrivateKeySecretName": None,
            "requestOrderId": None,
            "issuanceTrigger": None,
        }
        if event_reason == Reason.ORDER_RENEWED:
            # No duplicate request belongs to this certificate.
            fields["requestId"] = None
        requested = self.annotations.get(ANNOTATION_RENEW_REQUESTED_AT)
        if requested:
            fields["renewRequestedAt"] = requested
        await self._set_conditions(conditions, **fields)

        if event_reason == Reason.ORDER_RENEWED:
            self.record_event(
                "Normal",
                Reason.ORDER_RENEWED,
                f"Renewed order {previous_order} as order {order_id} and wrote its certificate",
            )
        if event_reason == Reason.RENEWED_ORDER_DUPLICATED:
            self.record_event(
                "Normal",
                Reason.RENEWED_ORDER_DUPLICATED,
                f"Moved from order {previous_order} to order {order_id}, whose certificate "
                "outlives the current one",
            )
        self.record_event(
            "Normal",
            Reason.ISSUED,
            f"Wrote duplicate certificate {chain.serial_hex} of order {order_id} "
            f"(certificate {certificate_id}) to Secret {spec.secret_name}, valid until "
            f"{format_time(chain.not_after)}",
        )
        self.logger.info(
            "Issued certificate %s of order %s (certificate id %s), trigger %s",
            chain.serial_hex,
            order_id,
            certificate_id,
            trigger.reason,
        )
        wake = min(due, chain.not_after)
        return max(1.0, min((wake - self.now).total_seconds(), self.deps.settings.resync_seconds))

    async def _fail(
        self, reason: str, message: str, *, retry: bool, current_ok: bool | None
    ) -> float | None:
        """Report a failure in the conditions, the status counters and an Event."""
        settings = self.deps.settings
        if current_ok is None:
            current_ok = (
                self._current is not None
                and self._current.not_after > self.now
                and self._spec_matches
            )
        attempts = 1
        if self.status.get("failedGeneration") == self.generation:
            attempts = int(self.status.get("failedIssuanceAttempts") or 0) + 1
        delay = min(settings.retry_base_seconds * 2.0 ** (attempts - 1), settings.retry_max_seconds)
        next_retry = self.now + timedelta(seconds=delay)

        conditions = self._conditions()
        current = self._current
        if current is not None and current.not_after <= self.now:
            expired = f"Certificate expired on {format_time(current.not_after)}"
            conditions = self._with(
                conditions, READY, False, Reason.EXPIRED, f"{expired}; {message}"
            )
        elif not current_ok:
            conditions = self._with(conditions, READY, False, reason, message)
        if reason == Reason.INVALID_SPEC or find_condition(conditions, ISSUING) is not None:
            conditions = self._with(conditions, ISSUING, False, reason, message)
        fields: dict[str, Any] = {
            "failedIssuanceAttempts": attempts,
            "lastFailureTime": format_time(self.now),
            "failedGeneration": self.generation,
            "nextRetryTime": format_time(next_retry) if retry else None,
        }
        await self._set_conditions(conditions, **fields)
        self.record_event("Warning", reason, message)
        if retry:
            self.logger.warning("%s: %s; retrying in %.0f s", reason, message, delay)
            return delay
        self.logger.warning("%s: %s", reason, message)
        return None
