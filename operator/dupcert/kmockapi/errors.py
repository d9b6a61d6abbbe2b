"""API errors of the emulator, rendered as the Status objects the API server returns."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A request the API server would reject, with its HTTP code and Status reason."""

    def __init__(
        self, code: int, reason: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def to_status(self) -> dict[str, Any]:
        """Return the error as a ``v1`` Status object."""
        status: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details is not None:
            status["details"] = self.details
        return status


def _details(qualified_plural: str, name: str | None) -> dict[str, Any]:
    plural, _, group = qualified_plural.partition(".")
    details: dict[str, Any] = {"group": group, "kind": plural}
    if name is not None:
        details["name"] = name
    return details


def not_found(qualified_plural: str, name: str) -> ApiError:
    return ApiError(
        404, "NotFound", f'{qualified_plural} "{name}" not found', _details(qualified_plural, name)
    )


def resource_not_found() -> ApiError:
    """Return the error for a URL that names no served resource."""
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def already_exists(qualified_plural: str, name: str) -> ApiError:
    return ApiError(
        409,
        "AlreadyExists",
        f'{qualified_plural} "{name}" already exists',
        _details(qualified_plural, name),
    )


def conflict(qualified_plural: str, name: str, cause: str) -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {qualified_plural} "{name}": {cause}',
        _details(qualified_plural, name),
    )


def stale_resource_version(qualified_plural: str, name: str) -> ApiError:
    return conflict(
        qualified_plural,
        name,
        "the object has been modified; please apply your changes to the latest version"
        " and try again",
    )


def invalid(qualified_plural: str, name: str | None, message: str) -> ApiError:
    subject = f'{qualified_plural} "{name}"' if name else qualified_plural
    return ApiError(
        422, "Invalid", f"{subject} is invalid: {message}", _details(qualified_plural, name)
    )


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def method_not_allowed() -> ApiError:
    return ApiError(
        405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
    )


def unsupported_media_type(content_type: str, accepted: list[str]) -> ApiError:
    return ApiError(
        415,
        "UnsupportedMediaType",
        f"the body of the request was in an unknown format ({content_type or 'no content type'})"
        f" - accepted media types include: {', '.join(accepted)}",
    )


def expired(since: int, oldest: int) -> ApiError:
    """Return the error a watch gets when its resourceVersion is older than the event history."""
    return ApiError(410, "Expired", f"too old resource version: {since} ({oldest})")
