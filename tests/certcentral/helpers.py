"""Shared helpers for the CertCentral client unit tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pydantic

from dupcert.certcentral.client import CertCentralClient
from dupcert.certcentral.ratelimit import SlidingWindowLimiter

API_KEY = "TESTKEY-4f1c9b2e7d6a5c3b"
BASE_URL = "https://certcentral.test/services/v2"

Handler = Callable[[httpx.Request], httpx.Response]


class RecordedSleeps:
    """A fake `asyncio.sleep` that records the requested delays and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def make_client(
    handler: Handler, *, sleeps: RecordedSleeps | None = None, **kwargs: Any
) -> CertCentralClient:
    """Build a client over `httpx.MockTransport` with its own limiter and a fake sleep."""
    kwargs.setdefault("limiter", SlidingWindowLimiter())
    return CertCentralClient(
        BASE_URL,
        pydantic.SecretStr(API_KEY),
        transport=httpx.MockTransport(handler),
        sleep=sleeps if sleeps is not None else RecordedSleeps(),
        **kwargs,
    )


def error_response(status: int, code: str, message: str) -> httpx.Response:
    """Build a CertCentral error response with a JSON body."""
    return httpx.Response(status, json={"errors": [{"code": code, "message": message}]})


def order_summary(order_id: int, date_created: str, **fields: Any) -> dict[str, Any]:
    """Build one order of a list response."""
    order: dict[str, Any] = {
        "id": order_id,
        "status": "issued",
        "date_created": date_created,
        "certificate": {
            "id": order_id * 10,
            "common_name": "www.example.com",
            "dns_names": ["www.example.com"],
            "valid_till": "2026-01-31",
        },
        "organization": {"id": 7, "name": "Example Org"},
        "product": {"name_id": "ssl_basic", "name": "Basic OV", "type": "ssl_certificate"},
        "is_renewed": False,
    }
    order.update(fields)
    return order
