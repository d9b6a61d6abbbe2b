"""The built-in product catalogue, keyed by CertCentral's product name ids."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Product:
    """A CertCentral product as `GET /product/{name_id}` describes it."""

    name_id: str
    name: str
    type: str
    validation_type: str
    duplicates_allowed: bool
    is_wildcard: bool = False
    additional_dns_names_allowed: bool = True


_VALIDATION_NAMES = {
    "ov": ("OV", "Normal Organization Validation"),
    "ev": ("EV", "Extended Organization Validation (EV)"),
    "dv": ("DV", "Domain Validation"),
    "private": ("Private", "Private CA, no public validation"),
}


def validation_name(validation_type: str) -> tuple[str, str]:
    """Return the short name and the description of a validation type."""
    return _VALIDATION_NAMES.get(validation_type, (validation_type.upper(), validation_type))


def default_catalogue() -> dict[str, Product]:
    """Build a fresh copy of the default catalogue.

    DigiCert documents that DV products do not allow duplicates, and that extra SANs on a
    duplicate are allowed only for SSL Wildcard and Private SSL Wildcard. An older product-info
    example shows `ssl_plus` with `duplicates_allowed: false`. The simulator allows them, so
    that the demo order can be duplicated, and admins can switch any product off.
    """
    products = [
        Product("ssl_plus", "Standard SSL", "ssl_certificate", "ov", True, False, False),
        Product("ssl_basic", "Basic OV", "ssl_certificate", "ov", True),
        Product("ssl_multi_domain", "Multi-Domain SSL", "ssl_certificate", "ov", True),
        Product("ssl_wildcard", "Wildcard SSL", "ssl_certificate", "ov", True, True),
        Product("ssl_ev_plus", "EV SSL", "ssl_certificate", "ev", True, False, False),
        Product("ssl_ev_multi_domain", "EV Multi-Domain SSL", "ssl_certificate", "ev", True),
        Product("ssl_securesite_flex", "Secure Site OV", "ssl_certificate", "ov", True),
        Product(
            "private_ssl_plus", "Private SSL", "ssl_certificate", "private", True, False, False
        ),
        Product(
            "private_ssl_multi_domain",
            "Private SSL Multi-Domain",
            "ssl_certificate",
            "private",
            True,
        ),
        Product(
            "private_ssl_wildcard", "Private SSL Wildcard", "ssl_certificate", "private", True, True
        ),
        Product(
            "ssl_dv_geotrust",
            "GeoTrust Standard DV",
            "dv_ssl_certificate",
            "dv",
            False,
            False,
            False,
        ),
        Product(
            "ssl_dv_rapidssl",
            "RapidSSL Standard DV",
            "dv_ssl_certificate",
            "dv",
            False,
            False,
            False,
        ),
    ]
    return {product.name_id: product for product in products}
