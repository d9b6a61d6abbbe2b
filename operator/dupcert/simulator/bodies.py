"""Request bodies of the Services API routes the simulator serves.

Unknown fields are ignored, because CertCentral accepts many optional fields (and clients send
extra ones such as `skip_approval` on duplicates) that do not change what the simulator does.
"""

from __future__ import annotations

import json
from typing import Literal, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dupcert.simulator.errors import ApiError, invalid_request

SIGNATURE_HASHES = ("sha256", "sha384", "sha512")


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class IdReference(_Body):
    """An `{"id": n}` object such as `server_platform` or `organization`."""

    id: int


class CertificateFields(_Body):
    """The `certificate` object of a duplicate or order request."""

    common_name: str = Field(min_length=1)
    dns_names: list[str] | None = None
    csr: str = Field(min_length=1)
    signature_hash: str
    server_platform: IdReference | None = None
    ca_cert_id: str | None = None


class DuplicateBody(_Body):
    """Body of `POST /order/certificate/{order_id}/duplicate`."""

    certificate: CertificateFields


class OrderBody(_Body):
    """Body of `POST /order/certificate/{product_name_id}` (a new order or a renewal)."""

    certificate: CertificateFields
    organization: IdReference
    renewal_of_order_id: int | None = None
    # Accepted and ignored: the simulator takes the certificate length from the account's
    # `renewal_validity` setting so tests can use short certificates.
    order_validity: dict[str, object] | None = None
    validity_years: int | None = None
    skip_approval: bool = False
    comments: str | None = None
    disable_renewal_notifications: bool = False


class RequestStatusBody(_Body):
    """Body of `PUT /request/{request_id}/status`."""

    status: Literal["submitted", "pending", "approved", "rejected"]
    processor_comment: str | None = None


BodyT = TypeVar("BodyT", bound=BaseModel)


def validation_error(error: ValidationError) -> ApiError:
    """Convert the first pydantic error into a 400 naming the field."""
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"]) or "body"
    if first["type"] == "missing":
        return invalid_request("missing_field", f"The field {location} is required.")
    return invalid_request("invalid_field", f"The field {location} is invalid: {first['msg']}.")


async def read_body(request: web.Request, model: type[BodyT]) -> BodyT:
    """Parse the JSON body into `model`, raising a CertCentral-shaped 400 when it does not fit."""
    raw = await request.read()
    try:
        data = json.loads(raw) if raw.strip() else {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise invalid_request("invalid_json", "The request body is not valid JSON.") from None
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise validation_error(error) from None


def check_signature_hash(value: str) -> str:
    """Raise `invalid_signature_hash` unless the value is sha256, sha384 or sha512."""
    if value not in SIGNATURE_HASHES:
        raise invalid_request(
            "invalid_signature_hash",
            f"The signature hash {value!r} is not supported; use sha256, sha384 or sha512.",
        )
    return value
