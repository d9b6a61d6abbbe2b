"""DNS names: validation, normalisation and CertCentral's duplicate name rules."""

from __future__ import annotations

import re
from collections.abc import Iterable

WILDCARD_PRODUCTS = frozenset({"ssl_wildcard", "private_ssl_wildcard"})

_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def normalize_name(name: str) -> str:
    """Return the name in the form CertCentral compares: lower case, no trailing dot."""
    return name.strip().lower().removesuffix(".")


def dns_name_problem(name: str) -> str | None:
    """Return why ``name`` is not a valid DNS name for a certificate, or None when it is."""
    normalized = normalize_name(name)
    if not normalized:
        return "is empty; remove it or use a DNS name such as www.example.com"
    if len(normalized) > 253:
        return "is longer than 253 characters; use a shorter name"
    labels = normalized.split(".")
    if "*" in normalized:
        if labels[0] != "*" or "*" in ".".join(labels[1:]):
            return "has a wildcard that is not the whole left-most label (use *.example.com)"
        labels = labels[1:]
    if len(labels) < 2:
        return "is not a fully qualified name (use a name such as www.example.com)"
    for label in labels:
        if not _LABEL.fullmatch(label):
            return (
                f"has an invalid label {label!r}; use labels of 1 to 63 letters, digits and "
                "'-' that do not start or end with '-'"
            )
    if labels[-1].isdigit():
        return (
            "ends in a numeric label, and IP addresses are not supported; use a DNS name "
            "such as www.example.com"
        )
    return None


def requested_names(common_name: str | None, dns_names: Iterable[str]) -> tuple[str, list[str]]:
    """Return the normalised common name and the SANs to request, the common name included.

    The common name defaults to the first DNS name. The SAN list keeps the user's order and
    always contains the common name, as CertCentral's order names do.
    """
    sans: list[str] = []
    for name in dns_names:
        normalized = normalize_name(name)
        if normalized not in sans:
            sans.append(normalized)
    cn = normalize_name(common_name) if common_name else sans[0]
    if cn not in sans:
        sans.insert(0, cn)
    return cn, sans


def wildcard_covers(wildcard: str, name: str) -> bool:
    """Tell whether ``wildcard`` (``*.base``) covers ``name``: exactly one label under base."""
    if not wildcard.startswith("*."):
        return False
    base = wildcard[2:]
    head, dot, rest = name.partition(".")
    return bool(dot) and rest == base and head not in ("", "*")


def names_not_allowed(
    requested: Iterable[str], order_names: Iterable[str], product_name_id: str
) -> list[str]:
    """Return the requested names, normalised, that a duplicate of this order may not carry.

    A duplicate may carry any subset of the order's names. Only wildcard products
    (ssl_wildcard, private_ssl_wildcard) allow extra SANs, and only names that one of the
    order's wildcards covers.
    """
    allowed = {normalize_name(name) for name in order_names}
    wildcards = [name for name in allowed if name.startswith("*.")]
    extras_allowed = product_name_id in WILDCARD_PRODUCTS
    rejected = []
    for name in map(normalize_name, requested):
        if name in allowed:
            continue
        if extras_allowed and any(wildcard_covers(w, name) for w in wildcards):
            continue
        rejected.append(name)
    return rejected


def name_is_covered(certificate_names: Iterable[str], name: str) -> bool:
    """Tell whether a certificate with these SANs is valid for ``name`` (RFC 6125 rules)."""
    for san in certificate_names:
        san = normalize_name(san)
        if san == name or wildcard_covers(san, name):
            return True
    return False
