"""Duplicates, new and renewal orders, and request approval, for the API and admin routes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from dupcert.simulator.bodies import (
    CertificateFields,
    IdReference,
    OrderBody,
    check_signature_hash,
)
from dupcert.simulator.ca import (
    PublicKey,
    build_csr,
    certificate_pem,
    generate_private_key,
    key_size,
)
from dupcert.simulator.csr import parse_csr
from dupcert.simulator.errors import invalid_request, not_found
from dupcert.simulator.model import Account, Certificate, Order, Request, RequestStatus
from dupcert.simulator.names import check_duplicate_names, check_name_syntax
from dupcert.simulator.state import SimulatorState, normalize_names

# Public TLS certificates may not be valid for longer than 397 days, so a duplicate ends at the
# order certificate's notAfter or 397 days from now, whichever is sooner.
MAX_CERTIFICATE_VALIDITY = timedelta(days=397)
# notBefore is set a minute in the past so that clients with a slightly slow clock accept it.
BACKDATE = timedelta(minutes=1)


@dataclass
class Submission:
    """The outcome of a duplicate or order request: its order, request and certificate."""

    order: Order
    request: Request
    certificate: Certificate


def _request_is_open(request: Request) -> bool:
    return request.status in ("pending", "submitted")


def _check_order_can_duplicate(state: SimulatorState, order: Order, now: datetime) -> None:
    if not state.order_allows_duplicates(order):
        product = state.products[order.product_name_id]
        account = state.accounts[order.account_id]
        if not product.duplicates_allowed:
            reason = f"the product {product.name_id} does not allow duplicates"
        elif not account.duplicates_enabled:
            reason = "duplicate certificates are not enabled for this account"
        else:
            reason = f"duplicates are turned off for order {order.id}"
        raise invalid_request("duplicates_not_allowed", f"Duplicates are not allowed: {reason}.")
    status = state.order_status(order, now)
    if status == "expired":
        raise invalid_request(
            "order_expired", f"Order {order.id} has expired; renew it before requesting duplicates."
        )
    if status != "issued":
        raise invalid_request(
            "order_not_issued",
            f"Order {order.id} has status {status}; only issued orders can be duplicated.",
        )


def request_duplicate(
    state: SimulatorState, account: Account, order: Order, fields: CertificateFields, now: datetime
) -> Submission:
    """Create a duplicate of an issued order, signing it at once unless approval is required."""
    _check_order_can_duplicate(state, order, now)
    product = state.products[order.product_name_id]
    primary = state.primary_certificate(order)
    names = normalize_names(fields.common_name, fields.dns_names or [])
    check_duplicate_names(primary.dns_names, names, product.is_wildcard)
    _, public_key = parse_csr(fields.csr)
    check_signature_hash(fields.signature_hash)

    certificate = Certificate(
        id=state.next_certificate_id(),
        order_id=order.id,
        kind="duplicate",
        common_name=names[0],
        dns_names=names,
        signature_hash=fields.signature_hash,
        date_created=now,
        status="pending",
        csr=fields.csr,
        key_size=key_size(public_key),
        server_platform_id=fields.server_platform.id if fields.server_platform else -1,
        sub_id=f"{len(order.duplicate_certificate_ids) + 1:03d}",
    )
    state.certificates[certificate.id] = certificate
    order.duplicate_certificate_ids.append(certificate.id)
    request = _add_request(state, order, "duplicate", certificate, now)
    if account.skip_approval:
        _approve(state, request, now, comment="")
    return Submission(order, request, certificate)


def _add_request(
    state: SimulatorState,
    order: Order,
    request_type: str,
    certificate: Certificate,
    now: datetime,
    comments: str = "",
) -> Request:
    request = Request(
        id=state.next_request_id(),
        order_id=order.id,
        type="duplicate" if request_type == "duplicate" else "new_request",
        status="pending",
        date=now,
        certificate_id=certificate.id,
        comments=comments,
    )
    state.requests[request.id] = request
    order.request_ids.append(request.id)
    return request


def _sign_duplicate(
    state: SimulatorState, certificate: Certificate, public_key: PublicKey, now: datetime
) -> None:
    order = state.orders[certificate.order_id]
    primary_not_after = state.primary_certificate(order).valid_till
    if primary_not_after is None or primary_not_after <= now:
        raise invalid_request(
            "order_expired", f"Order {order.id} has expired; the duplicate cannot be issued."
        )
    not_after = min(primary_not_after, now + MAX_CERTIFICATE_VALIDITY)
    _sign(state, order, certificate, public_key, now - BACKDATE, not_after, now)


def _sign(
    state: SimulatorState,
    order: Order,
    certificate: Certificate,
    public_key: PublicKey,
    not_before: datetime,
    not_after: datetime,
    now: datetime,
) -> None:
    organization = state.organizations[order.organization_id]
    signed = state.ca.sign(
        public_key,
        certificate.common_name,
        certificate.dns_names,
        not_before,
        not_after,
        certificate.signature_hash,
        organization.name,
    )
    certificate.x509 = signed
    certificate.pem = certificate_pem(signed)
    certificate.key_size = key_size(public_key)
    certificate.date_issued = now
    certificate.status = "issued"


def _check_new_order_names(names: list[str], wildcard_product: bool) -> None:
    if wildcard_product and not names[0].startswith("*."):
        raise invalid_request(
            "invalid_dns_names", "A wildcard product needs a common name of the form *.example.com."
        )
    for name in names:
        check_name_syntax(name, wildcard_allowed=wildcard_product)


def place_order(
    state: SimulatorState, account: Account, product_name_id: str, body: OrderBody, now: datetime
) -> Submission:
    """Place a new order, or a renewal when `renewal_of_order_id` is set.

    The new order is issued at once when the account skips approval or the body sets
    `skip_approval`. Otherwise it waits in `needs_approval` until its request is approved.
    """
    product = state.products.get(product_name_id)
    if product is None:
        raise not_found("product", product_name_id)
    organization = state.organizations.get(body.organization.id)
    if organization is None or organization.account_id != account.id:
        raise not_found("organization", body.organization.id)
    old_order = None
    if body.renewal_of_order_id is not None:
        old_order = state.orders.get(body.renewal_of_order_id)
        if old_order is None or old_order.account_id != account.id:
            raise not_found("order", body.renewal_of_order_id)
        _check_renewable(state, old_order, now)
    names = normalize_names(body.certificate.common_name, body.certificate.dns_names or [])
    _check_new_order_names(names, product.is_wildcard)
    _, public_key = parse_csr(body.certificate.csr)
    check_signature_hash(body.certificate.signature_hash)

    order = Order(
        id=state.next_order_id(),
        account_id=account.id,
        organization_id=organization.id,
        product_name_id=product.name_id,
        status="needs_approval",
        date_created=now,
        primary_certificate_id=state.next_certificate_id(),
        validity=account.renewal_validity,
        disable_renewal_notifications=body.disable_renewal_notifications,
    )
    certificate = Certificate(
        id=order.primary_certificate_id,
        order_id=order.id,
        kind="primary",
        common_name=names[0],
        dns_names=names,
        signature_hash=body.certificate.signature_hash,
        date_created=now,
        status="pending",
        csr=body.certificate.csr,
        key_size=key_size(public_key),
        server_platform_id=(
            body.certificate.server_platform.id if body.certificate.server_platform else -1
        ),
    )
    state.certificates[certificate.id] = certificate
    state.orders[order.id] = order
    if old_order is not None:
        state.link_renewal(old_order, order)
    request = _add_request(state, order, "new_request", certificate, now, body.comments or "")
    if account.skip_approval or body.skip_approval:
        _approve(state, request, now, comment="")
    return Submission(order, request, certificate)


def _check_renewable(state: SimulatorState, order: Order, now: datetime) -> None:
    if order.is_renewed:
        raise invalid_request(
            "order_already_renewed",
            f"Order {order.id} has already been renewed by order {order.renewed_order_id}.",
        )
    status = state.order_status(order, now)
    if status not in ("issued", "expired"):
        raise invalid_request(
            "order_not_renewable",
            f"Order {order.id} has status {status}; only issued or expired orders can be renewed.",
        )


def renew_order_directly(
    state: SimulatorState,
    order: Order,
    now: datetime,
    common_name: str | None = None,
    dns_names: list[str] | None = None,
    csr: str | None = None,
) -> Submission:
    """Renew an order as if a user did it in the CertCentral console (admin route).

    Without a CSR the new primary certificate gets a fresh key, which is discarded.
    """
    account = state.accounts[order.account_id]
    primary = state.primary_certificate(order)
    if csr is None:
        csr = _throwaway_csr(common_name or primary.common_name)
    body = OrderBody(
        certificate=CertificateFields(
            common_name=common_name or primary.common_name,
            dns_names=dns_names if dns_names is not None else primary.dns_names,
            csr=csr,
            signature_hash=primary.signature_hash,
        ),
        organization=IdReference(id=order.organization_id),
        renewal_of_order_id=order.id,
    )
    return place_order(state, account, order.product_name_id, body, now)


def _throwaway_csr(common_name: str) -> str:
    return build_csr(generate_private_key("ecdsa-p256"), common_name)


def _approve(state: SimulatorState, request: Request, now: datetime, comment: str) -> None:
    certificate = state.certificates[request.certificate_id]
    order = state.orders[request.order_id]
    _, public_key = parse_csr(certificate.csr)
    if certificate.kind == "duplicate":
        _sign_duplicate(state, certificate, public_key, now)
    else:
        _sign(state, order, certificate, public_key, now - BACKDATE, now + order.validity, now)
        order.status = "issued"
    request.status = "approved"
    request.date_processed = now
    request.processor_comment = comment


def _reject(state: SimulatorState, request: Request, now: datetime, comment: str) -> None:
    certificate = state.certificates[request.certificate_id]
    order = state.orders[request.order_id]
    certificate.status = "rejected"
    if certificate.kind == "primary":
        order.status = "rejected"
        # A rejected renewal no longer renews the old order, so the old order can be renewed again.
        if order.renewal_of_order_id is not None:
            old_order = state.orders.get(order.renewal_of_order_id)
            if old_order is not None and old_order.renewed_order_id == order.id:
                old_order.renewed_order_id = 0
    request.status = "rejected"
    request.date_processed = now
    request.processor_comment = comment


def update_request_status(
    state: SimulatorState, request: Request, status: RequestStatus, comment: str, now: datetime
) -> None:
    """Apply `PUT /request/{id}/status`: approving issues the certificate, rejecting drops it."""
    if not _request_is_open(request):
        if request.status == status:
            return
        raise invalid_request(
            "request_already_processed",
            f"Request {request.id} is already {request.status}; it cannot become {status}.",
        )
    if status == "approved":
        _approve(state, request, now, comment)
    elif status == "rejected":
        _reject(state, request, now, comment)
    else:
        request.status = status


def find_request(state: SimulatorState, account: Account, request_id: int) -> Request:
    """Return a request of the account or raise a 404."""
    request = state.requests.get(request_id)
    if request is None or state.orders[request.order_id].account_id != account.id:
        raise not_found("request", request_id)
    return request
