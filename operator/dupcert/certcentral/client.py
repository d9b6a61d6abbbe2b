"""Async client for the DigiCert CertCentral Services API v2.

Every request first waits for the per-key rate limiter. GET requests are retried on HTTP 429,
5xx, timeouts and connection errors with capped exponential backoff and jitter. POST and PUT
requests are never retried here: a repeated POST could create a second duplicate or order, so
the caller decides after checking what exists.

Logging: one DEBUG line per request with the method, the path template, the status and the
duration. Bodies and headers are never logged. Importing this module sets the `httpx` and
`httpcore` loggers to WARNING unless a level was already set, because their INFO and DEBUG
lines describe every request.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
from collections.abc import Awaitable, Callable, Generator, Mapping
from time import monotonic
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import httpx
import pydantic

from dupcert import __version__
from dupcert.certcentral.errors import (
    CertCentralError,
    CertCentralUnavailableError,
    ErrorDetail,
    ResponseFormatError,
    TLSVerificationError,
    error_from_status,
)
from dupcert.certcentral.models import (
    Account,
    CertCentralModel,
    DuplicateCertificate,
    DuplicateCreated,
    DuplicateList,
    ErrorBody,
    Order,
    OrderCreated,
    OrderList,
    OrderSummary,
    Product,
    Request,
)
from dupcert.certcentral.pem import normalize_newlines
from dupcert.certcentral.ratelimit import SlidingWindowLimiter, limiter_for_key

logger = logging.getLogger(__name__)

for _noisy_logger in ("httpx", "httpcore"):
    if logging.getLogger(_noisy_logger).level == logging.NOTSET:
        logging.getLogger(_noisy_logger).setLevel(logging.WARNING)

API_KEY_HEADER = "X-DC-DEVKEY"

# Download formats whose body is PEM text. The other formats are zip or PKCS#7 binaries.
PEM_FORMATS = frozenset({"pem_all", "pem_noroot", "pem_nointermediate"})

_REDACTED = "[redacted]"

# Downloads return `application/x-pem-file`, so they send `Accept: */*` in place of JSON.
_DOWNLOAD_HEADERS = {"Accept": "*/*"}

ModelT = TypeVar("ModelT", bound=CertCentralModel)


class _DevKeyAuth(httpx.Auth):
    """Adds the `X-DC-DEVKEY` header to each request, so the key is not a default header."""

    def __init__(self, api_key: pydantic.SecretStr) -> None:
        self._api_key = api_key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[API_KEY_HEADER] = self._api_key.get_secret_value()
        yield request


def _path_segment(value: str | int) -> str:
    return quote(str(value), safe="")


class CertCentralClient:
    """Client for one CertCentral account (one API key). Use it as an async context manager.

    `base_url` ends in `/services/v2`, for example `https://www.digicert.com/services/v2`.
    `limiter` defaults to the process-wide limiter of the key. `max_get_retries` is the number
    of retries after the first attempt of a GET. `sleep` waits between retries; tests replace it.
    """

    def __init__(
        self,
        base_url: str,
        api_key: pydantic.SecretStr,
        *,
        verify: ssl.SSLContext | bool = True,
        timeout: float = 30.0,
        limiter: SlidingWindowLimiter | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        max_get_retries: int = 3,
        backoff_base: float = 0.5,
        backoff_cap: float = 10.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if max_get_retries < 0:
            raise ValueError(f"max_get_retries must be >= 0, got {max_get_retries}")
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._limiter = (
            limiter if limiter is not None else limiter_for_key(api_key.get_secret_value())
        )
        self._max_get_retries = max_get_retries
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._sleep = sleep
        # Jitter only spreads retries out; it needs no cryptographic randomness.
        self._random = random.Random()  # noqa: S311
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            auth=_DevKeyAuth(api_key),
            headers={
                "User-Agent": f"dupcert/{__version__}",
                "Accept": "application/json",
            },
            verify=verify,
            timeout=httpx.Timeout(timeout),
            transport=transport,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    # Account and products

    async def get_account(self) -> Account:
        """Fetch the account of the API key. This is also a cheap check that the key is valid."""
        response = await self._request("GET", "/account")
        return self._parse(Account, response)

    async def get_product(self, name_id: str) -> Product:
        """Fetch a product, for example to read `duplicates_allowed`."""
        response = await self._request("GET", "/product/{name_id}", name_id=name_id)
        return self._parse(Product, response)

    # Orders

    async def list_orders(
        self,
        *,
        organization_id: int,
        product_name_id: str,
        status: str = "issued",
        domain_name: str | None = None,
        page_size: int = 1000,
    ) -> list[OrderSummary]:
        """List every matching order, newest first, reading all pages.

        CertCentral's `issued` filter also matches orders whose certificate has expired.
        `domain_name` matches the common name or any DNS name. Orders of another organization
        or product are dropped even if the server ignored a filter, and orders repeated across
        pages (when new orders shift the offsets) are returned once.
        """
        if page_size < 1:
            raise ValueError(f"page_size must be >= 1, got {page_size}")
        filters: dict[str, str | int] = {
            "filters[organization_id]": organization_id,
            "filters[product_name_id]": product_name_id,
            "filters[status]": status,
        }
        if domain_name is not None:
            filters["filters[domain_name]"] = domain_name

        orders: dict[int, OrderSummary] = {}
        offset = 0
        while True:
            params = {**filters, "sort": "-date_created", "offset": offset, "limit": page_size}
            response = await self._request("GET", "/order/certificate", params=params)
            page = self._parse(OrderList, response)
            for order in page.orders:
                orders.setdefault(order.id, order)

            offset += len(page.orders)
            if not page.orders or page.page is None or offset >= page.page.total:
                break

        matching = [
            order
            for order in orders.values()
            if order.organization.id in (None, organization_id)
            and order.product.name_id in (None, product_name_id)
        ]
        return _sort_newest_first(matching)

    async def get_order(self, order_id: int) -> Order:
        """Fetch the details of an order."""
        response = await self._request("GET", "/order/certificate/{order_id}", order_id=order_id)
        return self._parse(Order, response)

    async def renew_order(self, order: Order, *, csr_pem: str, signature_hash: str) -> OrderCreated:
        """Place a one-year renewal order for `order` with its names and organization.

        CertCentral has no renew endpoint: a renewal is a new order of the same product with
        `renewal_of_order_id` set, and it gets a new order id. Never retried (see module doc).
        """
        product_name_id = order.product.name_id
        organization_id = order.organization.id
        common_name = order.certificate.common_name
        if not product_name_id or organization_id is None or not common_name:
            raise ValueError(
                f"order {order.id} is missing its product, organization id or common name. "
                "Fetch it with get_order() before renewing"
            )
        body = {
            "certificate": {
                "common_name": common_name,
                "dns_names": list(order.certificate.dns_names),
                "csr": _normalize_pem_text(csr_pem),
                "signature_hash": signature_hash,
            },
            "organization": {"id": organization_id},
            "order_validity": {"years": 1},
            "renewal_of_order_id": order.id,
        }
        response = await self._request(
            "POST",
            "/order/certificate/{product_name_id}",
            json=body,
            product_name_id=product_name_id,
        )
        return self._parse(OrderCreated, response)

    # Duplicates

    async def request_duplicate(
        self,
        order_id: int,
        *,
        common_name: str,
        dns_names: list[str],
        csr_pem: str,
        signature_hash: str,
        server_platform_id: int | None = None,
    ) -> DuplicateCreated:
        """Request a duplicate certificate on an order. Never retried (see module doc).

        The response carries the order id and the approval request. `certificate_id` and
        `certificate_chain` are present only when CertCentral issued the duplicate at once.
        """
        certificate: dict[str, Any] = {
            "common_name": common_name,
            "dns_names": list(dns_names),
            "csr": _normalize_pem_text(csr_pem),
            "signature_hash": signature_hash,
        }
        if server_platform_id is not None:
            certificate["server_platform"] = {"id": server_platform_id}
        response = await self._request(
            "POST",
            "/order/certificate/{order_id}/duplicate",
            json={"certificate": certificate},
            order_id=order_id,
        )
        return self._parse(DuplicateCreated, response)

    async def list_duplicates(self, order_id: int) -> list[DuplicateCertificate]:
        """List the duplicate certificates of an order, without archived ones.

        NOTE: CertCentral does not document how this list is sorted. It has been seen to include
        the primary certificate or repeated entries, so match by CSR or serial number.
        """
        response = await self._request(
            "GET", "/order/certificate/{order_id}/duplicate", order_id=order_id
        )
        return self._parse(DuplicateList, response).certificates

    # Requests

    async def get_request(self, request_id: int) -> Request:
        """Fetch an approval request."""
        response = await self._request("GET", "/request/{request_id}", request_id=request_id)
        return self._parse(Request, response)

    async def update_request_status(
        self, request_id: int, status: str, comment: str | None = None
    ) -> None:
        """Approve or reject a request (`status` "approved" or "rejected"). Never retried."""
        body: dict[str, str] = {"status": status}
        if comment is not None:
            body["processor_comment"] = comment
        await self._request("PUT", "/request/{request_id}/status", json=body, request_id=request_id)

    # Downloads

    async def download_certificate(self, certificate_id: int, fmt: str = "pem_all") -> str:
        """Download a certificate (primary or duplicate) as PEM text with LF line endings.

        `pem_all` is leaf, intermediates, root. `pem_noroot` drops the root, and
        `pem_nointermediate` is the leaf only.
        """
        _check_pem_format(fmt)
        response = await self._request(
            "GET",
            "/certificate/{certificate_id}/download/format/{fmt}",
            headers=_DOWNLOAD_HEADERS,
            certificate_id=certificate_id,
            fmt=fmt,
        )
        return _normalize_pem_text(response.text)

    async def download_order_certificate(self, order_id: int, fmt: str = "pem_all") -> str:
        """Download the primary certificate of an order as PEM text (never a duplicate)."""
        _check_pem_format(fmt)
        response = await self._request(
            "GET",
            "/certificate/download/order/{order_id}/format/{fmt}",
            headers=_DOWNLOAD_HEADERS,
            order_id=order_id,
            fmt=fmt,
        )
        return _normalize_pem_text(response.text)

    # Transport

    async def _request(
        self,
        method: str,
        path_template: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        **path_params: str | int,
    ) -> httpx.Response:
        """Send one API request and return its 2xx response, or raise a CertCentralError."""
        path = path_template.format(
            **{name: _path_segment(value) for name, value in path_params.items()}
        )
        attempts = 1 + (self._max_get_retries if method == "GET" else 0)

        for attempt in range(1, attempts + 1):
            await self._limiter.acquire()
            started = monotonic()
            try:
                response = await self._http.request(
                    method, path, params=params, json=json, headers=headers
                )
            except httpx.RequestError as exc:
                logger.debug(
                    "%s %s failed after %.3f s: %s",
                    method,
                    path_template,
                    monotonic() - started,
                    type(exc).__name__,
                )
                error: CertCentralError = self._unavailable_error(method, path, exc)
                retry_after = None
            else:
                logger.debug(
                    "%s %s -> %d in %.3f s",
                    method,
                    path_template,
                    response.status_code,
                    monotonic() - started,
                )
                if response.is_success:
                    return response
                error = self._error_from_response(method, path, response)
                retry_after = _retry_after_seconds(response)

            if not error.retryable or attempt == attempts:
                raise error
            delay = self._backoff_delay(attempt, retry_after)
            logger.info(
                "Retrying %s %s in %.1f s (attempt %d of %d failed: %s)",
                method,
                path_template,
                delay,
                attempt,
                attempts,
                type(error).__name__,
            )
            await self._sleep(delay)

        raise AssertionError("unreachable: the last attempt returns or raises")

    def _backoff_delay(self, attempt: int, retry_after: float | None) -> float:
        """Return the seconds to wait before retry `attempt`.

        Half of the capped exponential delay is fixed and half is random jitter.
        """
        ceiling = min(self._backoff_cap, self._backoff_base * 2.0 ** (attempt - 1))
        delay = ceiling / 2 + self._random.uniform(0, ceiling / 2)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self._backoff_cap))
        return delay

    def _unavailable_error(
        self, method: str, path: str, exc: httpx.RequestError
    ) -> CertCentralUnavailableError:
        kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
        detail = self._scrub(str(exc)) or type(exc).__name__
        message = f"CertCentral request {method} {path} {kind}: {detail}"
        error = (
            TLSVerificationError(message)
            if _caused_by_certificate_verification(exc)
            else CertCentralUnavailableError(message)
        )
        error.__cause__ = exc
        return error

    def _error_from_response(
        self, method: str, path: str, response: httpx.Response
    ) -> CertCentralError:
        details = [
            ErrorDetail(
                code=self._scrub(entry.code) if entry.code is not None else None,
                message=self._scrub(entry.message),
            )
            for entry in _parse_error_body(response)
        ]
        summary = (
            "; ".join(
                f"{detail.code}: {detail.message}" if detail.code else detail.message
                for detail in details
            )
            or response.reason_phrase
            or "no error details"
        )
        message = f"CertCentral returned HTTP {response.status_code} for {method} {path}: {summary}"
        return error_from_status(response.status_code, self._scrub(message), details)

    def _parse(self, model: type[ModelT], response: httpx.Response) -> ModelT:
        """Validate a 2xx JSON body into `model`. An empty body counts as `{}`."""
        request = response.request
        where = f"{request.method} {request.url.path}"
        try:
            data = response.json() if response.content.strip() else {}
        except ValueError as exc:
            raise ResponseFormatError(
                f"CertCentral returned a body that is not JSON for {where}",
                status_code=response.status_code,
            ) from exc
        try:
            return model.model_validate(data)
        except pydantic.ValidationError as exc:
            first = exc.errors()[0]
            location = ".".join(str(part) for part in first["loc"]) or "body"
            raise ResponseFormatError(
                self._scrub(
                    f"CertCentral returned an unexpected {model.__name__} for {where}: "
                    f"{location}: {first['msg']} ({exc.error_count()} errors)"
                ),
                status_code=response.status_code,
            ) from exc

    def _scrub(self, text: str) -> str:
        secret = self._api_key.get_secret_value()
        if secret and secret in text:
            return text.replace(secret, _REDACTED)
        return text


def _parse_error_body(response: httpx.Response) -> list[ErrorDetail]:
    """Read the `errors` list of an error response. A body that is not JSON gives []."""
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        return []
    try:
        body = ErrorBody.model_validate(response.json())
    except (ValueError, pydantic.ValidationError):
        return []
    return [ErrorDetail(code=entry.code, message=entry.message) for entry in body.errors]


def _retry_after_seconds(response: httpx.Response) -> float | None:
    """Read a numeric `Retry-After` header.

    CertCentral documents no such header, but the client honours one if it is sent.
    """
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _caused_by_certificate_verification(error: BaseException) -> bool:
    """Tell whether a failed certificate verification is somewhere in the cause chain."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLCertVerificationError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _check_pem_format(fmt: str) -> None:
    if fmt not in PEM_FORMATS:
        raise ValueError(f"unsupported download format {fmt!r}: use one of {sorted(PEM_FORMATS)}")


def _normalize_pem_text(text: str) -> str:
    """Return PEM text with LF line endings, no surrounding blank lines and a final newline."""
    stripped = normalize_newlines(text).strip()
    return stripped + "\n" if stripped else ""


def _sort_newest_first(orders: list[OrderSummary]) -> list[OrderSummary]:
    """Sort by `date_created` descending, then by id descending. Orders without a date go last."""

    def sort_key(order: OrderSummary) -> tuple[bool, float, int]:
        created = order.date_created
        return (created is not None, created.timestamp() if created else 0.0, order.id)

    return sorted(orders, key=sort_key, reverse=True)
