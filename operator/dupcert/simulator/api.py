"""Services API (v2) routes: the part of CertCentral that the operator uses."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from dupcert.simulator.bodies import DuplicateBody, OrderBody, RequestStatusBody, read_body
from dupcert.simulator.ca import format_serial_number, thumbprint
from dupcert.simulator.errors import ApiError, invalid_request, not_found
from dupcert.simulator.listing import (
    page_envelope,
    parse_filters,
    parse_page,
    sort_items,
    split_values,
    text_matcher,
)
from dupcert.simulator.model import SIMULATOR_USER, Account, Certificate, Order, Request
from dupcert.simulator.operations import (
    find_request,
    place_order,
    request_duplicate,
    update_request_status,
)
from dupcert.simulator.order_filters import ORDER_FILTERS, order_predicates
from dupcert.simulator.render import (
    chain_entries,
    pem_text,
    render_account,
    render_chain,
    render_duplicate,
    render_order,
    render_order_list_item,
    render_product,
    render_request,
    render_request_list_item,
    render_submission,
)
from dupcert.simulator.state import SimulatorState, utc_now

STATE_KEY = web.AppKey("simulator_state", SimulatorState)
ACCOUNT_KEY = web.RequestKey("simulator_account", Account)
PEM_CONTENT_TYPE = "application/x-pem-file"
P7B_CONTENT_TYPE = "application/x-pkcs7-certificates"

REQUEST_FILTERS = ("status", "type", "search")


def json_response(body: Any, status: int = 200) -> web.Response:
    """Send JSON with `Content-Type: application/json` exactly, as CertCentral does."""
    return web.Response(
        status=status,
        body=json.dumps(body, separators=(",", ":")).encode(),
        content_type="application/json",
        headers={"Cache-Control": "private,no-cache"},
    )


def _state(request: web.Request) -> SimulatorState:
    return request.app[STATE_KEY]


def _account(request: web.Request) -> Account:
    return request[ACCOUNT_KEY]


def _int_param(request: web.Request, name: str, kind: str) -> int:
    raw = request.match_info[name]
    try:
        return int(raw)
    except ValueError:
        raise not_found(kind, raw) from None


def _find_order(state: SimulatorState, account: Account, identifier: str) -> Order:
    """Find an order by id, or by the thumbprint or serial number of its primary certificate."""
    order: Order | None = None
    if identifier.isdigit():
        order = state.orders.get(int(identifier))
    else:
        wanted = identifier.upper()
        for candidate in state.orders.values():
            primary = state.primary_certificate(candidate)
            if primary.x509 is None:
                continue
            serial = format_serial_number(primary.x509.serial_number)
            if wanted in (thumbprint(primary.x509), serial, serial.lstrip("0")):
                order = candidate
                break
    if order is None or order.account_id != account.id:
        raise not_found("order", identifier)
    return order


def _find_certificate(state: SimulatorState, account: Account, certificate_id: int) -> Certificate:
    certificate = state.certificates.get(certificate_id)
    if certificate is None or state.orders[certificate.order_id].account_id != account.id:
        raise not_found("certificate", certificate_id)
    return certificate


async def get_account(request: web.Request) -> web.Response:
    """`GET /account`: the account the API key belongs to."""
    return json_response(render_account(_state(request), _account(request)))


async def list_orders(request: web.Request) -> web.Response:
    """`GET /order/certificate`: filter, sort and page the account's orders."""
    state = _state(request)
    account = _account(request)
    now = utc_now()
    filters = parse_filters(request.query, ORDER_FILTERS)
    page = parse_page(request.query)
    predicates = order_predicates(state, filters, now)
    orders = [
        order
        for order in state.orders.values()
        if order.account_id == account.id and all(check(order) for check in predicates)
    ]
    sort_keys: dict[str, Any] = {
        "id": lambda order: order.id,
        "order_id": lambda order: order.id,
        "date_created": lambda order: order.date_created,
        "valid_till": lambda order: state.primary_certificate(order).valid_till,
        "common_name": lambda order: state.primary_certificate(order).common_name,
        "status": lambda order: state.order_status(order, now),
        "product_name_id": lambda order: order.product_name_id,
        "organization_id": lambda order: order.organization_id,
    }
    orders = sort_items(orders, request.query.get("sort"), sort_keys, default="id")
    selected = orders[page.offset : page.offset + page.limit]
    items = [render_order_list_item(state, order, now) for order in selected]
    return json_response(page_envelope("orders", items, len(orders), page, state.omit_empty_lists))


async def get_order(request: web.Request) -> web.Response:
    """`GET /order/certificate/{order_id}` (the id may also be a primary thumbprint or serial)."""
    state = _state(request)
    order = _find_order(state, _account(request), request.match_info["order_id"])
    return json_response(render_order(state, order, utc_now()))


async def create_order(request: web.Request) -> web.Response:
    """`POST /order/certificate/{product_name_id}`: a new order, or a renewal of an order."""
    state = _state(request)
    account = _account(request)
    body = await read_body(request, OrderBody)
    submission = place_order(state, account, request.match_info["product_name_id"], body, utc_now())
    return json_response(render_submission(state, submission, account), status=201)


async def create_duplicate(request: web.Request) -> web.Response:
    """`POST /order/certificate/{order_id}/duplicate`."""
    state = _state(request)
    account = _account(request)
    order = _find_order(state, account, request.match_info["order_id"])
    body = await read_body(request, DuplicateBody)
    submission = request_duplicate(state, account, order, body.certificate, utc_now())
    return json_response(render_submission(state, submission, account), status=201)


async def list_duplicates(request: web.Request) -> web.Response:
    """`GET /order/certificate/{order_id}/duplicate`: the order's duplicates, oldest first."""
    state = _state(request)
    order = _find_order(state, _account(request), request.match_info["order_id"])
    now = utc_now()
    show_archived = request.query.get("show_archived", "").lower() in ("1", "true")
    certificates = [
        certificate
        for certificate in state.duplicates_of(order)
        if show_archived or not certificate.archived
    ]
    items = [render_duplicate(state, certificate, now) for certificate in certificates]
    if state.quirks.primary_in_duplicate_list:
        primary = state.primary_certificate(order)
        if primary.is_issued:
            items.insert(0, render_duplicate(state, primary, now))
    if not items and state.quirks.empty_duplicate_list_as_object:
        return json_response({})
    return json_response({"certificates": items})


async def get_product(request: web.Request) -> web.Response:
    """`GET /product/{name_id}`."""
    state = _state(request)
    product = state.products.get(request.match_info["name_id"])
    if product is None:
        raise not_found("product", request.match_info["name_id"])
    return json_response(render_product(state, product))


async def get_request(request: web.Request) -> web.Response:
    """`GET /request/{request_id}`."""
    state = _state(request)
    request_id = _int_param(request, "request_id", "request")
    found = find_request(state, _account(request), request_id)
    return json_response(render_request(state, found, utc_now()))


async def list_requests(request: web.Request) -> web.Response:
    """`GET /request`: filter by status and type, sort and page."""
    state = _state(request)
    account = _account(request)
    filters = parse_filters(request.query, REQUEST_FILTERS)
    page = parse_page(request.query)

    found: list[Request] = [
        item
        for item in state.requests.values()
        if state.orders[item.order_id].account_id == account.id
    ]
    if "status" in filters:
        statuses = set(split_values(filters["status"]))
        found = [item for item in found if item.status in statuses]
    if "type" in filters:
        types = set(split_values(filters["type"]))
        found = [item for item in found if item.type in types]
    if "search" in filters:
        # As on the order list, `search` matches the common name or the requester's email.
        match = text_matcher(filters["search"])
        found = [
            item
            for item in found
            if match(state.certificates[item.certificate_id].common_name)
            or match(SIMULATOR_USER.email)
        ]

    sort_keys: dict[str, Any] = {
        "id": lambda item: item.id,
        "date": lambda item: item.date,
        "status": lambda item: item.status,
        "type": lambda item: item.type,
    }
    found = sort_items(found, request.query.get("sort"), sort_keys, default="id")
    selected = found[page.offset : page.offset + page.limit]
    items = [render_request_list_item(state, item) for item in selected]
    return json_response(page_envelope("requests", items, len(found), page, state.omit_empty_lists))


async def update_request(request: web.Request) -> web.Response:
    """`PUT /request/{request_id}/status`: approve or reject; 204 with an empty body."""
    state = _state(request)
    request_id = _int_param(request, "request_id", "request")
    found = find_request(state, _account(request), request_id)
    body = await read_body(request, RequestStatusBody)
    update_request_status(state, found, body.status, body.processor_comment or "", utc_now())
    return web.Response(status=204)


def _require_issued(certificate: Certificate) -> None:
    if not certificate.is_issued:
        raise invalid_request(
            "certificate_not_issued",
            f"Certificate {certificate.id} is {certificate.status} and has not been issued.",
        )


def _download(state: SimulatorState, certificate: Certificate, format_type: str) -> web.Response:
    _require_issued(certificate)
    entries = chain_entries(state, certificate)
    if format_type == "pem_all":
        pems = [entry.pem for entry in entries]
    elif format_type == "pem_noroot":
        pems = [entry.pem for entry in entries[:-1]]
    elif format_type == "pem_nointermediate":
        pems = [entries[0].pem]
    elif format_type in ("p7b", "cer"):
        assert certificate.x509 is not None
        certificates = [certificate.x509, state.ca.intermediate, state.ca.root]
        body = pkcs7.serialize_certificates(certificates, serialization.Encoding.DER)
        return web.Response(body=body, content_type=P7B_CONTENT_TYPE)
    else:
        raise invalid_request(
            "invalid_format",
            f"The format {format_type!r} is not supported by the simulator; "
            "use pem_all, pem_noroot, pem_nointermediate, p7b or cer.",
        )
    text = pem_text(state, "".join(pems))
    return web.Response(body=text.encode("ascii"), content_type=PEM_CONTENT_TYPE)


async def download_certificate(request: web.Request) -> web.Response:
    """`GET /certificate/{certificate_id}/download/format/{format_type}`."""
    state = _state(request)
    certificate_id = _int_param(request, "certificate_id", "certificate")
    certificate = _find_certificate(state, _account(request), certificate_id)
    return _download(state, certificate, request.match_info["format_type"])


async def download_order_certificate(request: web.Request) -> web.Response:
    """`GET /certificate/download/order/{order_id}/format/{format_type}`: the primary only."""
    state = _state(request)
    order = _find_order(state, _account(request), request.match_info["order_id"])
    return _download(state, state.primary_certificate(order), request.match_info["format_type"])


async def get_chain(request: web.Request) -> web.Response:
    """`GET /certificate/{certificate_id}/chain`: leaf first, then intermediate, then root."""
    state = _state(request)
    certificate_id = _int_param(request, "certificate_id", "certificate")
    certificate = _find_certificate(state, _account(request), certificate_id)
    _require_issued(certificate)
    return json_response({"intermediates": render_chain(state, certificate)})


def add_routes(app: web.Application, prefix: str) -> None:
    """Register the Services API routes under `prefix` (normally `/services/v2`)."""
    routes: list[tuple[str, str, Any]] = [
        ("GET", "/account", get_account),
        ("GET", "/order/certificate", list_orders),
        ("GET", "/order/certificate/{order_id}", get_order),
        ("POST", "/order/certificate/{product_name_id}", create_order),
        ("GET", "/order/certificate/{order_id}/duplicate", list_duplicates),
        ("POST", "/order/certificate/{order_id}/duplicate", create_duplicate),
        ("GET", "/product/{name_id}", get_product),
        ("GET", "/request", list_requests),
        ("GET", "/request/{request_id}", get_request),
        ("PUT", "/request/{request_id}/status", update_request),
        (
            "GET",
            "/certificate/{certificate_id}/download/format/{format_type}",
            download_certificate,
        ),
        (
            "GET",
            "/certificate/download/order/{order_id}/format/{format_type}",
            download_order_certificate,
        ),
        ("GET", "/certificate/{certificate_id}/chain", get_chain),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, prefix + path, handler)


__all__ = ["ACCOUNT_KEY", "STATE_KEY", "ApiError", "add_routes", "json_response"]
