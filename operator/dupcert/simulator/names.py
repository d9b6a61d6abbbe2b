"""Name rules: which common names and SANs a duplicate or a new order may carry."""

from __future__ import annotations

import re

from dupcert.simulator.errors import ApiError, invalid_request

_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_MAX_NAME_LENGTH = 253


def _invalid_names(message: str) -> ApiError:
    return invalid_request("invalid_dns_names", message)


def check_name_syntax(name: str, wildcard_allowed: bool) -> None:
    """Raise `invalid_dns_names` unless `name` is a DNS name, or `*.` and one when allowed."""
    labels = name.split(".")
    if labels[0] == "*":
        if not wildcard_allowed:
            raise _invalid_names(
                f"The name {name!r} is a wildcard, which this product does not allow."
            )
        labels = labels[1:]
    if len(name) > _MAX_NAME_LENGTH or len(labels) < 2:
        raise _invalid_names(f"The name {name!r} is not a valid DNS name.")
    for label in labels:
        if not _LABEL.match(label):
            raise _invalid_names(f"The name {name!r} is not a valid DNS name.")


def wildcard_covers(wildcard: str, name: str) -> bool:
    """Return True when `*.base` covers `name`, which must be one label directly under `base`."""
    # NOTE: DigiCert allows extra SANs "if they are subdomains of the wildcard" without saying how
    # deep. One label is what a TLS client accepts for `*.base` (RFC 6125, section 6.4.3).
    if not wildcard.startswith("*."):
        return False
    base = wildcard[2:]
    head, dot, rest = name.partition(".")
    return bool(dot) and rest == base and head != "*" and bool(_LABEL.match(head))


def check_duplicate_names(
    order_names: list[str], requested_names: list[str], wildcard_product: bool
) -> None:
    """Raise `invalid_dns_names` unless a duplicate may carry `requested_names`.

    A duplicate keeps the order's names: any of them may be left out, and a SAN may become the
    common name. On SSL Wildcard and Private SSL Wildcard orders a duplicate may also add names
    that one of the order's wildcards covers.
    """
    order_set = set(order_names)
    wildcards = [name for name in order_names if name.startswith("*.")]
    for name in requested_names:
        check_name_syntax(name, wildcard_allowed=True)
        if name in order_set:
            continue
        if wildcard_product and any(wildcard_covers(wildcard, name) for wildcard in wildcards):
            continue
        if wildcard_product:
            raise _invalid_names(
                f"The name {name!r} is not on the order and no wildcard of the order covers it."
            )
        raise _invalid_names(
            f"The name {name!r} is not on the order; a duplicate may only use the order's names."
        )
