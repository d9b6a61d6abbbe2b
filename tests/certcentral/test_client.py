"""Unit tests of CertCentralClient over httpx.MockTransport."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest

from dupcert import __version__
from dupcert.certcentral.errors import (
    AccessDeniedError,
    CertCentralError,
    CertCentralUnavailableError,
    CredentialsInvalidError,
    DuplicatesNotAllowedError,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
    ResponseFormatError,
    ServerError,
)
from dupcert.certcentral.models import Order
from dupcert.certcentral.ratelimit import SlidingWindowLimiter
from tests.certcentral.helpers import (
    API_KEY,
    RecordedSleeps,
    error_response,
    make_client,
    order_summary,
)

ACCOUNT = {"id": 1234, "primary_organization_id": 7}

CSR_PEM = "-----BEGIN CERTIFICATE REQUEST-----\r\nMIIBfake\r\n-----END CERTIFICATE REQUEST-----\r\n"


async def test_request_sends_key_and_headers() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=ACCOUNT)

    async with make_client(handler) as client:
        account = await client.get_account()

    assert account.id == 1234
    assert account.primary_organization_id == 7
    request = seen[0]
    assert request.url.path == "/services/v2/account"
    assert request.headers["X-DC-DEVKEY"] == API_KEY
    assert request.headers["User-Agent"] == f"dupcert/{__version__}"
    assert request.headers["Accept"] == "application/json"


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (401, "unauthorized", CredentialsInvalidError),
        (403, "access_denied|access_denied_invalid_key", CredentialsInvalidError),
        (403, "access_denied|invalid_approver", AccessDeniedError),
        (400, "duplicates_not_allowed", DuplicatesNotAllowedError),
        (403, "access_denied|duplicates_not_allowed", DuplicatesNotAllowedError),
        (404, "not_found|route", NotFoundError),
        (400, "invalid_csr", InvalidRequestError),
        (409, "conflict", InvalidRequestError),
        (429, "request_limit_exceeded", RateLimitedError),
        (500, "internal_error", ServerError),
        (503, "service_unavailable", ServerError),
    ],
)
async def test_error_status_maps_to_class(
    status: int, code: str, expected: type[CertCentralError]
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return error_response(status, code, "Something went wrong.")

    async with make_client(handler, max_get_retries=0) as client:
        with pytest.raises(CertCentralError) as caught:
            await client.get_order(42)

    error = caught.value
    assert type(error) is expected
    assert error.status_code == status
    assert error.code == code
    assert error.retryable is (expected in (RateLimitedError, ServerError))
    assert "GET /order/certificate/42" in error.message
    assert "Something went wrong." in error.message


async def test_invalid_request_keeps_every_error() -> None:
    body = {
        "errors": [
            {"code": "invalid_dns_name", "message": "a.example.com is not allowed."},
            {"code": "invalid_csr", "message": "The CSR is invalid."},
        ]
    }

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json=body)

    async with make_client(handler) as client:
        with pytest.raises(InvalidRequestError) as caught:
            await client.request_duplicate(
                42,
                common_name="a.example.com",
                dns_names=[],
                csr_pem=CSR_PEM,
                signature_hash="sha256",
            )

    codes = [detail.code for detail in caught.value.errors]
    assert codes == ["invalid_dns_name", "invalid_csr"]
    assert caught.value.code == "invalid_dns_name"
    assert "The CSR is invalid." in caught.value.message


async def test_non_json_error_body_not_parsed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            502,
            text='{"errors":[{"code":"x","message":"y"}]}',
            headers={"content-type": "text/html"},
        )

    async with make_client(handler, max_get_retries=0) as client:
        with pytest.raises(ServerError) as caught:
            await client.get_account()

    assert caught.value.code is None
    assert caught.value.errors == ()
    assert "HTTP 502" in caught.value.message


async def test_error_message_cut_to_limit() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return error_response(400, "invalid", "x" * 5000)

    async with make_client(handler) as client:
        with pytest.raises(InvalidRequestError) as caught:
            await client.get_account()

    assert len(caught.value.message) <= 256


async def test_connection_error_becomes_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with make_client(handler, max_get_retries=0) as client:
        with pytest.raises(CertCentralUnavailableError) as caught:
            await client.get_account()

    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert caught.value.retryable is True
    assert caught.value.status_code is None
    assert "failed" in caught.value.message


async def test_timeout_becomes_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("read timed out", request=request)

    async with make_client(handler, max_get_retries=0) as client:
        with pytest.raises(CertCentralUnavailableError) as caught:
            await client.get_account()

    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)
    assert "timed out" in caught.value.message


async def test_success_body_not_json() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>maintenance</html>")

    async with make_client(handler) as client:
        with pytest.raises(ResponseFormatError):
            await client.get_account()


async def test_success_body_wrong_shape() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"id": "not-a-number"})

    async with make_client(handler) as client:
        with pytest.raises(ResponseFormatError) as caught:
            await client.get_account()

    assert "Account" in caught.value.message
    assert "id" in caught.value.message


# Retries


def scripted(responses: list[httpx.Response | Exception]) -> Any:
    """Return a handler that returns or raises `responses` in turn and counts the requests."""
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        outcome = responses[min(len(calls), len(responses)) - 1]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    handler.calls = calls  # type: ignore[attr-defined]
    return handler


@pytest.mark.parametrize(
    "failure",
    [
        error_response(503, "unavailable", "down"),
        error_response(500, "internal", "oops"),
        error_response(429, "request_limit_exceeded", "slow down"),
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
    ],
    ids=["503", "500", "429", "connect", "timeout"],
)
async def test_get_retried_after_failure(failure: httpx.Response | Exception) -> None:
    handler = scripted([failure, failure, httpx.Response(200, json=ACCOUNT)])
    sleeps = RecordedSleeps()

    async with make_client(handler, sleeps=sleeps) as client:
        account = await client.get_account()

    assert account.id == 1234
    assert len(handler.calls) == 3
    assert len(sleeps.delays) == 2


async def test_get_retries_are_bounded() -> None:
    handler = scripted([error_response(503, "unavailable", "down")])
    sleeps = RecordedSleeps()

    async with make_client(handler, sleeps=sleeps, max_get_retries=2) as client:
        with pytest.raises(ServerError):
            await client.get_account()

    assert len(handler.calls) == 3
    assert len(sleeps.delays) == 2


async def test_get_not_retried_on_404() -> None:
    handler = scripted([error_response(404, "not_found", "no such order")])
    sleeps = RecordedSleeps()

    async with make_client(handler, sleeps=sleeps) as client:
        with pytest.raises(NotFoundError):
            await client.get_order(1)

    assert len(handler.calls) == 1
    assert sleeps.delays == []


async def test_backoff_grows_and_is_capped() -> None:
    handler = scripted([error_response(503, "unavailable", "down")])
    sleeps = RecordedSleeps()

    async with make_client(
        handler, sleeps=sleeps, max_get_retries=6, backoff_base=1.0, backoff_cap=4.0
    ) as client:
        with pytest.raises(ServerError):
            await client.get_account()

    ceilings = [1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    assert len(sleeps.delays) == len(ceilings)
    for delay, ceiling in zip(sleeps.delays, ceilings, strict=True):
        assert ceiling / 2 <= delay <= ceiling


async def test_retry_after_header_is_honoured() -> None:
    limited = httpx.Response(
        429,
        json={"errors": [{"code": "request_limit_exceeded", "message": "slow down"}]},
        headers={"Retry-After": "3"},
    )
    handler = scripted([limited, httpx.Response(200, json=ACCOUNT)])
    sleeps = RecordedSleeps()

    async with make_client(handler, sleeps=sleeps, backoff_base=0.1) as client:
        await client.get_account()

    assert sleeps.delays == [3.0]


@pytest.mark.parametrize(
    "failure",
    [
        error_response(503, "unavailable", "down"),
        error_response(429, "request_limit_exceeded", "slow down"),
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
    ],
    ids=["503", "429", "connect", "timeout"],
)
async def test_post_never_retried(failure: httpx.Response | Exception) -> None:
    handler = scripted([failure, httpx.Response(201, json={"id": 42, "requests": [{"id": 9}]})])
    sleeps = RecordedSleeps()

    async with make_client(handler, sleeps=sleeps) as client:
        with pytest.raises(CertCentralError) as caught:
            await client.request_duplicate(
                42,
                common_name="www.example.com",
                dns_names=["www.example.com"],
                csr_pem=CSR_PEM,
                signature_hash="sha256",
            )

    assert caught.value.retryable is True
    assert len(handler.calls) == 1
    assert sleeps.delays == []


async def test_put_never_retried() -> None:
    handler = scripted([error_response(503, "unavailable", "down"), httpx.Response(204)])

    async with make_client(handler) as client:
        with pytest.raises(ServerError):
            await client.update_request_status(9, "approved")

    assert len(handler.calls) == 1


async def test_every_attempt_awaits_limiter() -> None:
    class CountingLimiter(SlidingWindowLimiter):
        acquired = 0

        async def acquire(self) -> None:
            self.acquired += 1
            await super().acquire()

    limiter = CountingLimiter()
    handler = scripted(
        [error_response(503, "unavailable", "down"), httpx.Response(200, json=ACCOUNT)]
    )

    async with make_client(handler, limiter=limiter) as client:
        await client.get_account()

    assert limiter.acquired == 2


# Secrets


async def test_api_key_scrubbed_from_errors() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return error_response(
            403, "access_denied|access_denied_invalid_key", f"Key {API_KEY} is not valid."
        )

    async with make_client(handler) as client:
        with pytest.raises(CredentialsInvalidError) as caught:
            await client.get_account()
        client_repr = repr(client)

    error = caught.value
    assert API_KEY not in error.message
    assert API_KEY not in str(error)
    assert API_KEY not in repr(error)
    assert all(API_KEY not in detail.message for detail in error.errors)
    assert "[redacted]" in error.message
    assert API_KEY not in client_repr


async def test_api_key_scrubbed_from_transport_errors() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"proxy rejected header {API_KEY}", request=request)

    async with make_client(handler, max_get_retries=0) as client:
        with pytest.raises(CertCentralUnavailableError) as caught:
            await client.get_account()

    assert API_KEY not in caught.value.message
    assert API_KEY not in repr(caught.value)


# Orders


async def test_list_orders_reads_every_page() -> None:
    all_orders = [
        order_summary(1, "2024-01-01T10:00:00+00:00"),
        order_summary(2, "2024-03-01T10:00:00+00:00"),
        order_summary(3, "2024-02-01T10:00:00+00:00"),
        order_summary(4, "2024-05-01T10:00:00+00:00"),
        order_summary(5, "2024-04-01T10:00:00+00:00"),
    ]
    queries: list[httpx.QueryParams] = []

    def handler(request: httpx.Request) -> httpx.Response:
        queries.append(request.url.params)
        offset = int(request.url.params["offset"])
        limit = int(request.url.params["limit"])
        page = {"total": len(all_orders), "limit": limit, "offset": offset}
        return httpx.Response(
            200, json={"orders": all_orders[offset : offset + limit], "page": page}
        )

    async with make_client(handler) as client:
        orders = await client.list_orders(
            organization_id=7,
            product_name_id="ssl_basic",
            domain_name="www.example.com",
            page_size=2,
        )

    assert [order.id for order in orders] == [4, 5, 2, 3, 1]
    assert [query["offset"] for query in queries] == ["0", "2", "4"]
    first = queries[0]
    assert first["filters[organization_id]"] == "7"
    assert first["filters[product_name_id]"] == "ssl_basic"
    assert first["filters[status]"] == "issued"
    assert first["filters[domain_name]"] == "www.example.com"
    assert first["sort"] == "-date_created"
    assert first["limit"] == "2"


async def test_list_orders_drops_repeats_and_strangers() -> None:
    pages = [
        [order_summary(1, "2024-01-01"), order_summary(2, "2024-02-01")],
        [
            order_summary(2, "2024-02-01"),
            order_summary(3, "2024-03-01", organization={"id": 8, "name": "Other"}),
            order_summary(4, "2024-04-01", product={"name_id": "ssl_plus"}),
            order_summary(5, "2024-05-01", organization=[]),
        ],
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        items = pages[0] if offset == 0 else pages[1]
        return httpx.Response(
            200, json={"orders": items, "page": {"total": 6, "limit": 4, "offset": offset}}
        )

    async with make_client(handler) as client:
        orders = await client.list_orders(organization_id=7, product_name_id="ssl_basic")

    assert [order.id for order in orders] == [5, 2, 1]
    assert orders[0].organization.id is None


async def test_list_orders_stops_on_empty_page() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(int(request.url.params["offset"]))
        return httpx.Response(
            200, json={"orders": [], "page": {"total": 99, "limit": 10, "offset": 0}}
        )

    async with make_client(handler) as client:
        orders = await client.list_orders(organization_id=7, product_name_id="ssl_basic")

    assert orders == []
    assert calls == [0]


ORDER_INFO: dict[str, Any] = {
    "id": 42,
    "status": "issued",
    "date_created": "2024-01-02T03:04:05+00:00",
    "certificate": {
        "id": 420,
        "common_name": "www.example.com",
        "dns_names": ["www.example.com", "example.com"],
        "valid_till": "2025-01-31",
        "signature_hash": "sha256",
    },
    "product": {"name_id": "ssl_basic", "name": "Basic OV", "type": "ssl_certificate"},
    "organization": {"id": 7, "name": "Example Org"},
    "is_renewal": False,
    "is_renewed": False,
    "renewed_order_id": 0,
    "allow_duplicates": True,
    "requests": [
        {"id": 9, "date": "2024-01-02T03:04:05+00:00", "type": "new_request", "status": "approved"}
    ],
}


async def test_get_order_parses_details() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/services/v2/order/certificate/42"
        return httpx.Response(200, json=ORDER_INFO)

    async with make_client(handler) as client:
        order = await client.get_order(42)

    assert order.id == 42
    assert order.certificate.id == 420
    assert order.product.name_id == "ssl_basic"
    assert order.organization.id == 7
    assert order.renewed_order_id is None
    assert order.allow_duplicates is True
    assert order.date_created is not None
    assert order.date_created.year == 2024
    assert order.requests[0].status == "approved"


async def test_renew_order_sends_names() -> None:
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.method == "POST"
        assert request.url.path == "/services/v2/order/certificate/ssl_basic"
        bodies.append(json.loads(request.content))
        return httpx.Response(201, json={"id": 43, "requests": [{"id": 10, "status": "pending"}]})

    async with make_client(handler) as client:
        created = await client.renew_order(
            Order.model_validate(ORDER_INFO), csr_pem=CSR_PEM, signature_hash="sha256"
        )

    assert created.id == 43
    assert created.requests[0].status == "pending"
    assert created.certificate_id is None
    body = bodies[0]
    assert body["renewal_of_order_id"] == 42
    assert body["organization"] == {"id": 7}
    assert body["order_validity"] == {"years": 1}
    assert body["certificate"]["common_name"] == "www.example.com"
    assert body["certificate"]["dns_names"] == ["www.example.com", "example.com"]
    assert body["certificate"]["signature_hash"] == "sha256"
    assert "\r" not in body["certificate"]["csr"]


async def test_renew_order_needs_product() -> None:
    order = Order.model_validate({**ORDER_INFO, "product": []})

    async with make_client(scripted([httpx.Response(500)])) as client:
        with pytest.raises(ValueError, match="order 42"):
            await client.renew_order(order, csr_pem=CSR_PEM, signature_hash="sha256")


async def test_get_product_reads_duplicates_flag() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/services/v2/product/ssl_basic"
        return httpx.Response(
            200, json={"name_id": "ssl_basic", "name": "Basic OV", "duplicates_allowed": True}
        )

    async with make_client(handler) as client:
        product = await client.get_product("ssl_basic")

    assert product.duplicates_allowed is True


async def test_path_segments_are_escaped() -> None:
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.raw_path.decode())
        return httpx.Response(200, json={"name_id": "x"})

    async with make_client(handler) as client:
        await client.get_product("../account")

    assert paths == ["/services/v2/product/..%2Faccount"]


# Duplicates


async def test_request_duplicate_sends_certificate() -> None:
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.method == "POST"
        assert request.url.path == "/services/v2/order/certificate/42/duplicate"
        bodies.append(json.loads(request.content))
        return httpx.Response(
            201,
            json={
                "id": 42,
                "requests": [{"id": 11, "status": "approved"}],
                "certificate_id": 4201,
                "certificate_chain": [
                    {"subject_common_name": "www.example.com", "pem": "-----BEGIN..."},
                    {"subject_common_name": "Intermediate CA", "pem": "-----BEGIN..."},
                ],
            },
        )

    async with make_client(handler) as client:
        created = await client.request_duplicate(
            42,
            common_name="www.example.com",
            dns_names=["www.example.com"],
            csr_pem=CSR_PEM,
            signature_hash="sha256",
            server_platform_id=45,
        )

    assert created.id == 42
    assert created.requests[0].id == 11
    assert created.certificate_id == 4201
    assert created.certificate_chain is not None
    assert created.certificate_chain[0].subject_common_name == "www.example.com"
    certificate = bodies[0]["certificate"]
    assert certificate["common_name"] == "www.example.com"
    assert certificate["dns_names"] == ["www.example.com"]
    assert certificate["signature_hash"] == "sha256"
    assert certificate["server_platform"] == {"id": 45}
    assert certificate["csr"] == CSR_PEM.replace("\r\n", "\n")


async def test_request_duplicate_omits_platform() -> None:
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(201, json={"id": 42, "requests": [{"id": 11}]})

    async with make_client(handler) as client:
        created = await client.request_duplicate(
            42,
            common_name="www.example.com",
            dns_names=[],
            csr_pem=CSR_PEM,
            signature_hash="sha256",
        )

    assert "server_platform" not in bodies[0]["certificate"]
    assert created.requests[0].status is None
    assert created.certificate_chain is None


@pytest.mark.parametrize("body", [{}, [], ""], ids=["object", "array", "empty"])
async def test_empty_duplicate_list_accepted(body: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if body == "":
            return httpx.Response(200, content=b"")
        return httpx.Response(200, json=body)

    async with make_client(handler) as client:
        duplicates = await client.list_duplicates(42)

    assert duplicates == []


async def test_list_duplicates_parses_items() -> None:
    item = {
        "id": 4201,
        "thumbprint": "ABCDEF",
        "serial_number": "0A1B",
        "common_name": "www.example.com",
        "dns_names": ["www.example.com"],
        "status": "issued",
        "date_created": "2016-03-25T21:01:40+00:00",
        "valid_from": "2016-03-25",
        "valid_till": "2017-03-30",
        "csr": "-----BEGIN CERTIFICATE REQUEST-----...",
        "sub_id": 2,
        "archived": "1",
        "ca_cert_id": 112,
        "unknown_field": {"nested": True},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/services/v2/order/certificate/42/duplicate"
        return httpx.Response(200, json={"certificates": [item]})

    async with make_client(handler) as client:
        duplicates = await client.list_duplicates(42)

    duplicate = duplicates[0]
    assert duplicate.id == 4201
    assert duplicate.sub_id == "2"
    assert duplicate.ca_cert_id == "112"
    assert duplicate.archived is True
    assert duplicate.valid_till is not None
    assert duplicate.valid_till.isoformat() == "2017-03-30"
    assert duplicate.date_created is not None
    assert duplicate.date_created.utcoffset() is not None


# Requests


async def test_get_request_parses_order() -> None:
    body = {
        "id": 11,
        "date": "2024-01-02T03:04:05+00:00",
        "type": "duplicate",
        "status": "pending",
        "order": {"id": 42, "status": "needs_approval", "certificate": {"common_name": "a"}},
        "comments": None,
    }

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/services/v2/request/11"
        return httpx.Response(200, json=body)

    async with make_client(handler) as client:
        request = await client.get_request(11)

    assert request.status == "pending"
    assert request.type == "duplicate"
    assert request.order.id == 42


async def test_update_request_status_sends_body() -> None:
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.method == "PUT"
        assert request.url.path == "/services/v2/request/11/status"
        bodies.append(json.loads(request.content))
        return httpx.Response(204)

    async with make_client(handler) as client:
        await client.update_request_status(11, "approved", "approved by dupcert")
        await client.update_request_status(11, "rejected")

    assert bodies[0] == {"status": "approved", "processor_comment": "approved by dupcert"}
    assert bodies[1] == {"status": "rejected"}


# Downloads


async def test_download_normalises_line_endings() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/services/v2/certificate/4201/download/format/pem_all"
        assert request.headers["Accept"] == "*/*"
        return httpx.Response(
            200,
            content=b"-----BEGIN CERTIFICATE-----\r\nAAAA\r\n-----END CERTIFICATE-----\r\n",
            headers={"content-type": "application/x-pem-file"},
        )

    async with make_client(handler) as client:
        text = await client.download_certificate(4201)

    assert text == "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"


async def test_download_order_certificate_path() -> None:
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        return httpx.Response(
            200, text="-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"
        )

    async with make_client(handler) as client:
        text = await client.download_order_certificate(42, fmt="pem_noroot")

    assert paths == ["/services/v2/certificate/download/order/42/format/pem_noroot"]
    assert text.endswith("-----END CERTIFICATE-----\n")


async def test_download_rejects_binary_format() -> None:
    async with make_client(scripted([httpx.Response(200)])) as client:
        with pytest.raises(ValueError, match="p7b"):
            await client.download_certificate(4201, fmt="p7b")


# Logging


async def test_one_debug_line_per_request(caplog: pytest.LogCaptureFixture) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"id": 42, "status": "issued", "secret": API_KEY})

    caplog.set_level(logging.DEBUG)
    async with make_client(handler) as client:
        await client.get_order(42)

    client_records = [r for r in caplog.records if r.name == "dupcert.certcentral.client"]
    assert len(client_records) == 1
    line = client_records[0].getMessage()
    assert client_records[0].levelno == logging.DEBUG
    assert line.startswith("GET /order/certificate/{order_id} -> 200 in ")
    assert all(API_KEY not in record.getMessage() for record in caplog.records)


async def test_retry_logged_without_key(caplog: pytest.LogCaptureFixture) -> None:
    handler = scripted(
        [
            error_response(503, "unavailable", f"echo {API_KEY}"),
            httpx.Response(200, json=ACCOUNT),
        ]
    )

    caplog.set_level(logging.DEBUG)
    async with make_client(handler) as client:
        await client.get_account()

    retries = [r for r in caplog.records if r.getMessage().startswith("Retrying GET /account")]
    assert len(retries) == 1
    assert "ServerError" in retries[0].getMessage()
    assert all(API_KEY not in record.getMessage() for record in caplog.records)


def test_http_library_loggers_quieted() -> None:
    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING
    assert logging.getLogger("httpcore").getEffectiveLevel() >= logging.WARNING
