"""Admin routes under `/_admin/`: seed orders, change settings, inject faults, read counts.

They need no API key and accept requests from loopback addresses only.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from dupcert.simulator.api import STATE_KEY, json_response
from dupcert.simulator.bodies import read_body
from dupcert.simulator.durations import format_duration
from dupcert.simulator.errors import invalid_request, not_found
from dupcert.simulator.faults import ActiveFault, FaultRule
from dupcert.simulator.model import Order, Request
from dupcert.simulator.operations import renew_order_directly, update_request_status
from dupcert.simulator.render import iso_timestamp
from dupcert.simulator.seed import Duration, SeedOrder, SeedQuirks
from dupcert.simulator.state import SimulatorState, StateError, utc_now


class AccountSettings(BaseModel):
    """Body of `PATCH /_admin/accounts/{account_id}`; unset fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    skip_approval: bool | None = None
    duplicates_enabled: bool | None = None
    include_chain_in_response: bool | None = None
    rate_limit_enabled: bool | None = None
    renewal_validity: Duration | None = None


class ProductSettings(BaseModel):
    """Body of `PATCH /_admin/products/{name_id}`."""

    model_config = ConfigDict(extra="forbid")

    duplicates_allowed: bool | None = None


class QuirkSettings(BaseModel):
    """Body of `PATCH /_admin/quirks`; unset fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    primary_in_duplicate_list: bool | None = None
    empty_duplicate_list_as_object: bool | None = None
    crlf_pem: bool | None = None
    stale_request_status: bool | None = None
    issued_duplicate_status_approved: bool | None = None
    omit_empty_lists: bool | None = None


class RenewBody(BaseModel):
    """Body of `POST /_admin/orders/{order_id}/renew`; every field is optional."""

    model_config = ConfigDict(extra="forbid")

    common_name: str | None = None
    dns_names: list[str] | None = None
    csr: str | None = None


class ProcessBody(BaseModel):
    """Optional body of the approve and reject routes."""

    model_config = ConfigDict(extra="forbid")

    processor_comment: str = Field(default="")


def _state(request: web.Request) -> SimulatorState:
    return request.app[STATE_KEY]


def _order(state: SimulatorState, request: web.Request) -> Order:
    raw = request.match_info["order_id"]
    order = state.orders.get(int(raw)) if raw.isdigit() else None
    if order is None:
        raise not_found("order", raw)
    return order


def _request(state: SimulatorState, request: web.Request) -> Request:
    raw = request.match_info["request_id"]
    found = state.requests.get(int(raw)) if raw.isdigit() else None
    if found is None:
        raise not_found("request", raw)
    return found


async def add_order(request: web.Request) -> web.Response:
    """`POST /_admin/orders`: create an order from the seed-order shape; returns its id."""
    state = _state(request)
    seed_order = await read_body(request, SeedOrder)
    try:
        order = state.add_seed_order(seed_order)
    except StateError as error:
        raise invalid_request("invalid_seed_order", str(error)) from None
    return json_response(
        {"id": order.id, "certificate_id": order.primary_certificate_id}, status=201
    )


async def renew_order(request: web.Request) -> web.Response:
    """`POST /_admin/orders/{order_id}/renew`: renew as a console user would."""
    state = _state(request)
    order = _order(state, request)
    body = await read_body(request, RenewBody)
    submission = renew_order_directly(
        state, order, utc_now(), body.common_name, body.dns_names, body.csr
    )
    return json_response(
        {
            "id": submission.order.id,
            "request_id": submission.request.id,
            "request_status": submission.request.status,
        },
        status=201,
    )


async def order_stats(request: web.Request) -> web.Response:
    """`GET /_admin/orders/{order_id}/stats`: how many duplicates and renewals were requested."""
    state = _state(request)
    order = _order(state, request)
    return json_response(
        {"duplicates": len(order.duplicate_certificate_ids), "renewals": order.renewal_count}
    )


async def update_account(request: web.Request) -> web.Response:
    """`PATCH /_admin/accounts/{account_id}`: change account settings."""
    state = _state(request)
    raw = request.match_info["account_id"]
    account = state.accounts.get(int(raw)) if raw.isdigit() else None
    if account is None:
        raise not_found("account", raw)
    settings = await read_body(request, AccountSettings)
    for name, value in settings.model_dump(exclude_none=True).items():
        setattr(account, name, value)
    if settings.rate_limit_enabled is False:
        state.rate_limiter.reset(account.id)
    return json_response(_account_view(state, account.id))


async def update_product(request: web.Request) -> web.Response:
    """`PATCH /_admin/products/{name_id}`: switch `duplicates_allowed`."""
    state = _state(request)
    settings = await read_body(request, ProductSettings)
    try:
        product = state.update_product(
            request.match_info["name_id"], settings.model_dump(exclude_none=True)
        )
    except StateError:
        raise not_found("product", request.match_info["name_id"]) from None
    return json_response(
        {"name_id": product.name_id, "duplicates_allowed": product.duplicates_allowed}
    )


async def update_quirks(request: web.Request) -> web.Response:
    """`PATCH /_admin/quirks`: switch the optional CertCentral quirks."""
    state = _state(request)
    settings = await read_body(request, QuirkSettings)
    changes = settings.model_dump(exclude_none=True)
    if "omit_empty_lists" in changes:
        state.omit_empty_lists = changes.pop("omit_empty_lists")
    state.quirks = SeedQuirks.model_validate({**state.quirks.model_dump(), **changes})
    return json_response(_quirks_view(state))


async def get_quirks(request: web.Request) -> web.Response:
    """`GET /_admin/quirks`."""
    return json_response(_quirks_view(_state(request)))


def _quirks_view(state: SimulatorState) -> dict[str, Any]:
    return {**state.quirks.model_dump(), "omit_empty_lists": state.omit_empty_lists}


async def _process(request: web.Request, status: str) -> web.Response:
    state = _state(request)
    found = _request(state, request)
    body = await read_body(request, ProcessBody)
    update_request_status(
        state,
        found,
        "approved" if status == "approved" else "rejected",
        body.processor_comment,
        utc_now(),
    )
    return json_response({"id": found.id, "status": found.status})


async def approve_request(request: web.Request) -> web.Response:
    """`POST /_admin/requests/{request_id}/approve`."""
    return await _process(request, "approved")


async def reject_request(request: web.Request) -> web.Response:
    """`POST /_admin/requests/{request_id}/reject`."""
    return await _process(request, "rejected")


async def archive_certificate(request: web.Request) -> web.Response:
    """`POST /_admin/certificates/{certificate_id}/archive`: hide a duplicate from the list."""
    state = _state(request)
    raw = request.match_info["certificate_id"]
    certificate = state.certificates.get(int(raw)) if raw.isdigit() else None
    if certificate is None or certificate.kind != "duplicate":
        raise not_found("certificate", raw)
    certificate.archived = True
    return json_response({"id": certificate.id, "archived": "1"})


async def add_fault(request: web.Request) -> web.Response:
    """`POST /_admin/faults`: make matching Services API requests fail or wait."""
    state = _state(request)
    rule = await read_body(request, FaultRule)
    state.faults.append(ActiveFault(rule))
    return json_response({"faults": len(state.faults)}, status=201)


async def clear_faults(request: web.Request) -> web.Response:
    """`DELETE /_admin/faults`."""
    _state(request).faults.clear()
    return web.Response(status=204)


async def get_counts(request: web.Request) -> web.Response:
    """`GET /_admin/counts`: requests per `METHOD /route/template` since the last reset."""
    return json_response(dict(sorted(_state(request).counts.items())))


async def clear_counts(request: web.Request) -> web.Response:
    """`DELETE /_admin/counts`."""
    _state(request).counts.clear()
    return web.Response(status=204)


def _account_view(state: SimulatorState, account_id: int) -> dict[str, Any]:
    account = state.accounts[account_id]
    renewal_validity: timedelta = account.renewal_validity
    return {
        "id": account.id,
        "name": account.name,
        "skip_approval": account.skip_approval,
        "duplicates_enabled": account.duplicates_enabled,
        "include_chain_in_response": account.include_chain_in_response,
        "rate_limit_enabled": account.rate_limit_enabled,
        "renewal_validity": format_duration(renewal_validity),
    }


async def get_state(request: web.Request) -> web.Response:
    """`GET /_admin/state`: a dump for debugging. API keys are left out."""
    state = _state(request)
    orders = []
    for order in state.orders.values():
        primary = state.primary_certificate(order)
        orders.append(
            {
                "id": order.id,
                "account_id": order.account_id,
                "organization_id": order.organization_id,
                "product_name_id": order.product_name_id,
                "status": state.order_status(order, utc_now()),
                "common_name": primary.common_name,
                "dns_names": primary.dns_names,
                "primary_certificate_id": order.primary_certificate_id,
                "valid_till": iso_timestamp(primary.valid_till) if primary.valid_till else None,
                "renewal_of_order_id": order.renewal_of_order_id,
                "renewed_order_id": order.renewed_order_id,
                "duplicate_certificate_ids": order.duplicate_certificate_ids,
                "request_ids": order.request_ids,
            }
        )
    certificates = [
        {
            "id": certificate.id,
            "order_id": certificate.order_id,
            "kind": certificate.kind,
            "status": certificate.status,
            "common_name": certificate.common_name,
            "dns_names": certificate.dns_names,
            "valid_from": iso_timestamp(certificate.valid_from) if certificate.valid_from else None,
            "valid_till": iso_timestamp(certificate.valid_till) if certificate.valid_till else None,
            "archived": certificate.archived,
        }
        for certificate in state.certificates.values()
    ]
    requests = [
        {
            "id": item.id,
            "order_id": item.order_id,
            "type": item.type,
            "status": item.status,
            "certificate_id": item.certificate_id,
        }
        for item in state.requests.values()
    ]
    products = {
        product.name_id: {
            "duplicates_allowed": product.duplicates_allowed,
            "is_wildcard": product.is_wildcard,
        }
        for product in state.products.values()
    }
    return json_response(
        {
            "accounts": [_account_view(state, account_id) for account_id in state.accounts],
            "organizations": [
                {"id": org.id, "name": org.name, "account_id": org.account_id}
                for org in state.organizations.values()
            ],
            "products": products,
            "orders": orders,
            "certificates": certificates,
            "requests": requests,
            "quirks": _quirks_view(state),
            "faults": [
                {**fault.rule.model_dump(), "remaining": fault.remaining} for fault in state.faults
            ],
        }
    )


def add_routes(app: web.Application, prefix: str = "/_admin") -> None:
    """Register the admin routes under `prefix`."""
    routes: list[tuple[str, str, Any]] = [
        ("POST", "/orders", add_order),
        ("POST", "/orders/{order_id}/renew", renew_order),
        ("GET", "/orders/{order_id}/stats", order_stats),
        ("PATCH", "/accounts/{account_id}", update_account),
        ("PATCH", "/products/{name_id}", update_product),
        ("GET", "/quirks", get_quirks),
        ("PATCH", "/quirks", update_quirks),
        ("POST", "/requests/{request_id}/approve", approve_request),
        ("POST", "/requests/{request_id}/reject", reject_request),
        ("POST", "/certificates/{certificate_id}/archive", archive_certificate),
        ("POST", "/faults", add_fault),
        ("DELETE", "/faults", clear_faults),
        ("GET", "/counts", get_counts),
        ("DELETE", "/counts", clear_counts),
        ("GET", "/state", get_state),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, prefix + path, handler)
