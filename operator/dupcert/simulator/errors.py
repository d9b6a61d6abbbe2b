"""Errors in CertCentral's wire shape: `{"errors":[{"code": ..., "message": ...}]}`."""

from __future__ import annotations

import json

from aiohttp import web

JSON_CONTENT_TYPE = "application/json"


class ApiError(Exception):
    """An error response: HTTP status, CertCentral error code and a human message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message

    def to_response(self) -> web.Response:
        """Render the error as CertCentral does, with `Content-Type: application/json` exactly."""
        return error_response(self.status, self.code, self.message)


def error_response(status: int, code: str, message: str) -> web.Response:
    """Build a CertCentral error response."""
    body = {"errors": [{"code": code, "message": message}]}
    return web.Response(
        status=status,
        body=json.dumps(body, separators=(",", ":")).encode(),
        content_type=JSON_CONTENT_TYPE,
        headers={"Cache-Control": "private,no-cache"},
    )


def access_denied() -> ApiError:
    """Return the 403 that CertCentral sends for a missing or unknown API key."""
    return ApiError(
        403,
        "access_denied|access_denied_invalid_key",
        "Access denied due to access_denied_invalid_key.",
    )


def route_not_found() -> ApiError:
    """Return the 404 for a path (or method) that no route serves."""
    return ApiError(404, "not_found|route", "The specified route was not found.")


def not_found(kind: str, identifier: object) -> ApiError:
    """Return a 404 for an object of `kind` that does not exist in the caller's account."""
    return ApiError(404, f"not_found|{kind}", f"The {kind} {identifier} was not found.")


def rate_limited() -> ApiError:
    """Return the documented 429 for a key over either rate-limit window."""
    return ApiError(
        429, "request_limit_exceeded", "Service unavailable, please limit request volume"
    )


def invalid_request(code: str, message: str) -> ApiError:
    """Return a 400 with the given code."""
    return ApiError(400, code, message)
