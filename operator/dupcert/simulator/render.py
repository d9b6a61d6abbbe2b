"""JSON shapes of the Services API, built from the simulator's records."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dupcert.simulator.ca import (
    ChainEntry,
    format_serial_number,
    subject_common_name,
    thumbprint,
)
from dupcert.simulator.model import SIMULATOR_USER, Account, Certificate, Order, Request, User
from dupcert.simulator.operations import Submission
from dupcert.simulator.products import Product, validation_name
from dupcert.simulator.state import SimulatorState

JsonObject = dict[str, Any]

_CONTACT: JsonObject = {
    "first_name": SIMULATOR_USER.first_name,
    "last_name": SIMULATOR_USER.last_name,
    "email": SIMULATOR_USER.email,
    "telephone": "5555550100",
}
_SERVER_PLATFORMS = {-1: "OTHER", 2: "Apache", 45: "nginx"}


def iso_timestamp(value: datetime) -> str:
    """Format a timestamp as CertCentral does, e.g. `2018-10-16T17:29:56+00:00`."""
    return value.astimezone(UTC).isoformat(timespec="seconds")


def iso_day(value: datetime) -> str:
    """Format the UTC day of a timestamp as `yyyy-MM-dd`."""
    return value.astimezone(UTC).date().isoformat()


def days_remaining(certificate: Certificate, now: datetime) -> int:
    """Return whole days until notAfter, 0 once the certificate has expired."""
    valid_till = certificate.valid_till
    if valid_till is None:
        return 0
    return max(0, (valid_till - now).days)


def pem_text(state: SimulatorState, pem: str) -> str:
    """Return PEM text with CRLF line endings when the `crlf_pem` quirk is on."""
    return pem.replace("\n", "\r\n") if state.quirks.crlf_pem else pem


def _server_platform(platform_id: int) -> JsonObject:
    return {
        "id": platform_id,
        "name": _SERVER_PLATFORMS.get(platform_id, f"Platform {platform_id}"),
        "install_url": "",
        "csr_url": "",
    }


def _user(user: User) -> JsonObject:
    return {
        "id": user.id,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
    }


def _container(account: Account) -> JsonObject:
    return {"id": account.id, "name": account.name}


def _product_summary(product: Product) -> JsonObject:
    return {"name_id": product.name_id, "name": product.name, "type": product.type}


def _product_with_validation(product: Product) -> JsonObject:
    short_name, description = validation_name(product.validation_type)
    return {
        **_product_summary(product),
        "validation_type": product.validation_type,
        "validation_name": short_name,
        "validation_description": description,
    }


def _organization(state: SimulatorState, order: Order) -> JsonObject:
    organization = state.organizations[order.organization_id]
    return {"id": organization.id, "name": organization.name}


def chain_entries(state: SimulatorState, certificate: Certificate) -> list[ChainEntry]:
    """Return leaf, intermediate and root of an issued certificate."""
    assert certificate.x509 is not None
    leaf = ChainEntry(subject_common_name(certificate.x509), certificate.pem)
    return [leaf, *state.ca.issuer_chain()]


def render_chain(state: SimulatorState, certificate: Certificate) -> list[JsonObject]:
    """Render `certificate_chain` / `intermediates`: leaf first, then intermediate, then root."""
    return [
        {"subject_common_name": entry.subject_common_name, "pem": pem_text(state, entry.pem)}
        for entry in chain_entries(state, certificate)
    ]


def render_order_list_item(state: SimulatorState, order: Order, now: datetime) -> JsonObject:
    """Render one order of `GET /order/certificate`."""
    primary = state.primary_certificate(order)
    certificate: JsonObject = {
        "id": primary.id,
        "common_name": primary.common_name,
        "dns_names": list(primary.dns_names),
        "signature_hash": primary.signature_hash,
    }
    if primary.valid_till is not None:
        certificate["valid_till"] = iso_day(primary.valid_till)
        certificate["days_remaining"] = days_remaining(primary, now)
    product = state.products[order.product_name_id]
    return {
        "id": order.id,
        "certificate": certificate,
        "status": state.order_status(order, now),
        "is_renewed": order.is_renewed,
        "date_created": iso_timestamp(order.date_created),
        "organization": _organization(state, order),
        "validity_years": 1,
        "disable_renewal_notifications": order.disable_renewal_notifications,
        "container": _container(state.accounts[order.account_id]),
        "product": _product_summary(product),
        "has_duplicates": bool(order.duplicate_certificate_ids),
        "price": 0,
        "product_name_id": product.name_id,
    }


def _certificate_details(
    state: SimulatorState, certificate: Certificate, now: datetime
) -> JsonObject:
    order = state.orders[certificate.order_id]
    details: JsonObject = {
        "id": certificate.id,
        "common_name": certificate.common_name,
        "dns_names": list(certificate.dns_names),
        "date_created": iso_timestamp(certificate.date_created),
        "csr": certificate.csr,
        "organization": {"id": order.organization_id},
        "organization_units": [],
        "server_platform": _server_platform(certificate.server_platform_id),
        "signature_hash": certificate.signature_hash,
        "key_size": certificate.key_size,
        "ca_cert": {"id": state.ca.ca_cert_id, "name": state.ca.ca_cert_name},
        "cert_validity": {"days": order.validity.days},
    }
    if certificate.x509 is not None and certificate.valid_from and certificate.valid_till:
        details["thumbprint"] = thumbprint(certificate.x509)
        details["serial_number"] = format_serial_number(certificate.x509.serial_number)
        details["valid_from"] = iso_day(certificate.valid_from)
        details["valid_till"] = iso_day(certificate.valid_till)
        details["days_remaining"] = days_remaining(certificate, now)
        if certificate.date_issued is not None:
            details["date_issued"] = iso_timestamp(certificate.date_issued)
    return details


def _order_request_summary(request: Request) -> JsonObject:
    return {
        "id": request.id,
        "date": iso_timestamp(request.date),
        "type": request.type,
        "status": request.status,
        "comments": request.comments,
    }


def render_order(state: SimulatorState, order: Order, now: datetime) -> JsonObject:
    """Render `GET /order/certificate/{order_id}`."""
    primary = state.primary_certificate(order)
    product = state.products[order.product_name_id]
    account = state.accounts[order.account_id]
    organization = state.organizations[order.organization_id]
    body: JsonObject = {
        "id": order.id,
        "certificate": _certificate_details(state, primary, now),
        "status": state.order_status(order, now),
        "is_renewal": order.is_renewal,
        "is_renewed": order.is_renewed,
        "renewed_order_id": order.renewed_order_id,
        "date_created": iso_timestamp(order.date_created),
        "organization": {
            "id": organization.id,
            "name": organization.name,
            "display_name": organization.name,
            "is_active": True,
        },
        "disable_renewal_notifications": order.disable_renewal_notifications,
        "container": _container(account),
        "product": _product_with_validation(product),
        "organization_contact": dict(_CONTACT),
        "technical_contact": dict(_CONTACT),
        "user": _user(SIMULATOR_USER),
        "requests": [_order_request_summary(state.requests[rid]) for rid in order.request_ids],
        "receipt_id": order.id,
        "cs_provisioning_method": "none",
        "public_id": f"SIM{order.id:012d}",
        "allow_duplicates": state.order_allows_duplicates(order),
        "user_assignments": [_user(SIMULATOR_USER)],
        "payment_method": "balance",
        "disable_ct": False,
        "validity_years": 1,
        "notes": [],
        "send_minus_90": True,
        "send_minus_60": True,
        "send_minus_30": True,
        "send_minus_7": True,
        "send_minus_3": True,
        "send_plus_7": True,
        "price": 0,
    }
    if primary.valid_till is not None:
        body["order_valid_till"] = iso_day(primary.valid_till)
    # Only a renewal order carries `renewal_of_order_id`; the field is absent on other orders.
    if order.renewal_of_order_id is not None:
        body["renewal_of_order_id"] = order.renewal_of_order_id
    return body


def _duplicate_status(state: SimulatorState, certificate: Certificate) -> str:
    if certificate.status == "issued" and state.quirks.issued_duplicate_status_approved:
        return "approved"
    return certificate.status


def render_duplicate(state: SimulatorState, certificate: Certificate, now: datetime) -> JsonObject:
    """Render one certificate of `GET /order/certificate/{order_id}/duplicate`."""
    item: JsonObject = {
        "id": certificate.id,
        "common_name": certificate.common_name,
        "dns_names": list(certificate.dns_names),
        "status": _duplicate_status(state, certificate),
        "date_created": iso_timestamp(certificate.date_created),
        "csr": certificate.csr,
        "server_platform": _server_platform(certificate.server_platform_id),
        "signature_hash": certificate.signature_hash,
        "key_size": certificate.key_size,
        "ca_cert_id": state.ca.ca_cert_id,
        "sub_id": certificate.sub_id or "000",
        "public_id": f"SIMD{certificate.id:012d}",
        "archived": "1" if certificate.archived else "0",
        "user_id": SIMULATOR_USER.id,
        "firstname": SIMULATOR_USER.first_name,
        "lastname": SIMULATOR_USER.last_name,
    }
    if certificate.x509 is not None and certificate.valid_from and certificate.valid_till:
        item["thumbprint"] = thumbprint(certificate.x509)
        item["serial_number"] = format_serial_number(certificate.x509.serial_number)
        item["valid_from"] = iso_day(certificate.valid_from)
        item["valid_till"] = iso_day(certificate.valid_till)
        item["days_remaining"] = days_remaining(certificate, now)
    return item


def _request_view_status(state: SimulatorState, request: Request) -> tuple[str, str | None]:
    """Return the request status and, with the stale quirk, the order status to show instead."""
    if state.quirks.stale_request_status and request.status == "approved":
        return "pending", "needs_approval"
    return request.status, None


def render_request(state: SimulatorState, request: Request, now: datetime) -> JsonObject:
    """Render `GET /request/{request_id}`."""
    order = state.orders[request.order_id]
    certificate = state.certificates[request.certificate_id]
    organization = _organization(state, order)
    status, stale_order_status = _request_view_status(state, request)
    order_view: JsonObject = {
        "id": order.id,
        "certificate": {
            "common_name": certificate.common_name,
            "dns_names": list(certificate.dns_names),
            "date_created": iso_timestamp(certificate.date_created),
            "csr": certificate.csr,
            "organization": dict(organization),
            "server_platform": _server_platform(certificate.server_platform_id),
            "signature_hash": certificate.signature_hash,
            "key_size": certificate.key_size,
            "ca_cert": {"id": state.ca.ca_cert_id, "name": state.ca.ca_cert_name},
        },
        "status": stale_order_status or state.order_status(order, now),
        "is_renewal": order.is_renewal,
        "date_created": iso_timestamp(order.date_created),
        "organization": dict(organization),
        "validity_years": 1,
        "disable_renewal_notifications": order.disable_renewal_notifications,
        "container": _container(state.accounts[order.account_id]),
        "product": _product_with_validation(state.products[order.product_name_id]),
        "user": _user(SIMULATOR_USER),
    }
    if order.renewal_of_order_id is not None:
        old_order = state.orders.get(order.renewal_of_order_id)
        old_till = state.primary_certificate(old_order).valid_till if old_order else None
        if old_till is not None:
            order_view["renewal_of_order_valid_till"] = iso_day(old_till)
    body: JsonObject = {
        "id": request.id,
        "date": iso_timestamp(request.date),
        "type": request.type,
        "status": status,
        "requester": _user(SIMULATOR_USER),
        "order": order_view,
        "comments": request.comments,
    }
    if request.date_processed is not None and stale_order_status is None:
        body["date_processed"] = iso_timestamp(request.date_processed)
        body["processor"] = _user(SIMULATOR_USER)
        body["processor_comment"] = request.processor_comment
    return body


def render_request_list_item(state: SimulatorState, request: Request) -> JsonObject:
    """Render one request of `GET /request`."""
    order = state.orders[request.order_id]
    certificate = state.certificates[request.certificate_id]
    status, _ = _request_view_status(state, request)
    item: JsonObject = {
        "id": request.id,
        "date": iso_timestamp(request.date),
        "type": request.type,
        "status": status,
        "requester": _user(SIMULATOR_USER),
        "order": {
            "id": order.id,
            "certificate": {"common_name": certificate.common_name},
            "organization": _organization(state, order),
            "product": _product_summary(state.products[order.product_name_id]),
        },
    }
    if request.date_processed is not None and status == request.status:
        item["date_processed"] = iso_timestamp(request.date_processed)
    return item


def render_product(state: SimulatorState, product: Product) -> JsonObject:
    """Render `GET /product/{name_id}`."""
    return {
        "group_name": product.type,
        "name_id": product.name_id,
        "name": product.name,
        "type": product.type,
        "validation_type": product.validation_type,
        "duplicates_allowed": product.duplicates_allowed,
        "allowed_validity_years": [1],
        "signature_hash_types": {
            "allowed_hash_types": [
                {"id": "sha256", "name": "SHA-256"},
                {"id": "sha384", "name": "SHA-384"},
                {"id": "sha512", "name": "SHA-512"},
            ],
            "default_hash_type_id": "sha256",
        },
        "allowed_ca_certs": [{"id": state.ca.ca_cert_id, "name": state.ca.ca_cert_name}],
        "default_intermediate": state.ca.ca_cert_id,
        "additional_dns_names_allowed": product.additional_dns_names_allowed,
        "custom_expiration_date_allowed": False,
        "csr_required": True,
        "allow_auto_renew": False,
        "server_platforms": [_server_platform(platform) for platform in _SERVER_PLATFORMS],
    }


def render_account(state: SimulatorState, account: Account) -> JsonObject:
    """Render `GET /account`."""
    organizations = [org for org in state.organizations.values() if org.account_id == account.id]
    body: JsonObject = {
        "id": account.id,
        "name": account.name,
        "make_renewal_calls": True,
        "express_install_enabled": False,
        "root_container_id": account.id,
        "cert_transparency": "embed",
        "cert_central_type": "retail",
        "billing_account_id": account.id,
        "billing_account_name": account.name,
        "migrated": False,
    }
    if organizations:
        body["primary_organization_id"] = organizations[0].id
        body["primary_organization_name"] = organizations[0].name
    return body


def render_submission(
    state: SimulatorState, submission: Submission, account: Account
) -> JsonObject:
    """Render the 201 body of a duplicate or order request."""
    body: JsonObject = {
        "id": submission.order.id,
        "requests": [{"id": submission.request.id, "status": submission.request.status}],
    }
    if submission.certificate.is_issued and account.include_chain_in_response:
        body["certificate_id"] = submission.certificate.id
        body["certificate_chain"] = render_chain(state, submission.certificate)
    return body
