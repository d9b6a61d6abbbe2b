"""Tests of the custom resource models and the Go duration parser."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from dupcert.resources import (
    IssuerSpec,
    KeyAlgorithm,
    PrivateKeySpec,
    RotationPolicy,
    parse_go_duration,
)

ISSUER = {
    "apiKeySecretRef": {"name": "certcentral"},
    "organizationId": 12345,
    "productNameId": "ssl_plus",
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("720h", timedelta(hours=720)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("90s", timedelta(seconds=90)),
        ("1.5h", timedelta(minutes=90)),
        ("500ms", timedelta(milliseconds=500)),
        ("1m5s", timedelta(minutes=1, seconds=5)),
        ("2h45m30.5s", timedelta(hours=2, minutes=45, seconds=30.5)),
        ("1500us", timedelta(microseconds=1500)),
        ("1500µs", timedelta(microseconds=1500)),
    ],
)
def test_go_duration_parses(text: str, expected: timedelta) -> None:
    assert parse_go_duration(text) == expected


@pytest.mark.parametrize("text", ["", "30d", "h", "1h 30m", "1H", "-1h", "1.5.5h", "720"])
def test_go_duration_rejects_text(text: str) -> None:
    with pytest.raises(ValueError, match="use a Go duration such as 720h"):
        parse_go_duration(text)


@pytest.mark.parametrize("text", ["2562048h", "99999999999h", f"{'9' * 400}h"])
def test_go_duration_rejects_huge_value(text: str) -> None:
    with pytest.raises(ValueError, match="too long"):
        parse_go_duration(text)


def test_go_duration_accepts_go_maximum() -> None:
    assert parse_go_duration("2562047h") == timedelta(hours=2562047)


def test_issuer_spec_defaults_filled() -> None:
    spec = IssuerSpec.model_validate({**ISSUER, "caBundleSecretRef": {"name": "ca"}})

    assert spec.url == "https://www.digicert.com/services/v2"
    assert spec.api_key_secret_ref.key == "api-key"
    assert spec.ca_bundle_secret_ref is not None
    assert spec.ca_bundle_secret_ref.key == "ca.crt"


def test_issuer_url_trailing_slash_removed() -> None:
    spec = IssuerSpec.model_validate({**ISSUER, "url": "https://127.0.0.1:8443/services/v2/"})

    assert spec.url == "https://127.0.0.1:8443/services/v2"


@pytest.mark.parametrize("url", ["ftp://example.com", "www.digicert.com", "https://a b"])
def test_issuer_url_must_be_http(url: str) -> None:
    with pytest.raises(ValidationError, match="http"):
        IssuerSpec.model_validate({**ISSUER, "url": url})


def test_issuer_unknown_field_rejected() -> None:
    with pytest.raises(ValidationError, match="productNameID"):
        IssuerSpec.model_validate({**ISSUER, "productNameID": "ssl_plus"})


def test_issuer_organization_id_positive() -> None:
    with pytest.raises(ValidationError, match="organizationId"):
        IssuerSpec.model_validate({**ISSUER, "organizationId": 0})


@pytest.mark.parametrize(
    ("algorithm", "expected"), [(KeyAlgorithm.RSA, 2048), (KeyAlgorithm.ECDSA, 256)]
)
def test_private_key_default_size(algorithm: KeyAlgorithm, expected: int) -> None:
    spec = PrivateKeySpec.model_validate({"algorithm": algorithm.value})

    assert spec.effective_size == expected
    assert spec.rotation_policy is RotationPolicy.ALWAYS


def test_private_key_explicit_size_kept() -> None:
    spec = PrivateKeySpec.model_validate({"algorithm": "ECDSA", "size": 384})

    assert spec.effective_size == 384
