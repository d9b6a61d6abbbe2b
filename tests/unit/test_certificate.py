"""Tests of the renewal time, the issuance hash and reading the current certificate."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from dupcert.certificate import (
    RenewBeforeTooLongError,
    issuance_hash,
    read_current_certificate,
    renewal_time,
)
from dupcert.pki import private_key_to_pem, public_key_der
from dupcert.storage.secrets import ANNOTATION_ORDER_ID
from dupcert.validation import parse_spec
from tests.unit.certs import make_intermediate, make_leaf, make_root, new_key, to_pem

START = datetime(2025, 1, 1, tzinfo=UTC)
END = START + timedelta(days=90)

BASE: dict[str, Any] = {
    "issuerRef": {"name": "digicert"},
    "dnsNames": ["www.example.com", "api.example.com"],
    "secretName": "www-tls",
}


def test_default_renewal_one_third() -> None:
    assert renewal_time(START, END, None) == START + timedelta(days=60)


def test_explicit_renew_before_used() -> None:
    assert renewal_time(START, END, timedelta(days=30)) == END - timedelta(days=30)


@pytest.mark.parametrize("renew_before", [timedelta(days=90), timedelta(days=91)])
def test_renew_before_too_long(renew_before: timedelta) -> None:
    with pytest.raises(RenewBeforeTooLongError, match=r"spec\.renewBefore"):
        renewal_time(START, END, renew_before)


def test_renewal_time_whole_seconds() -> None:
    # A lifetime of 100 s gives a third of 33.333 s; the result drops the fraction.
    end = START + timedelta(seconds=100)

    due = renewal_time(START, end, None)

    assert due == START + timedelta(seconds=66)
    assert due.microsecond == 0


def test_renewal_time_drops_leaf_fraction() -> None:
    end = END + timedelta(microseconds=700000)

    assert renewal_time(START, end, timedelta(hours=1)).microsecond == 0


def spec_hash(**changes: Any) -> str:
    return issuance_hash(parse_spec({**BASE, **changes}))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("dnsNames", ["www.example.com"]),
        ("dnsNames", ["www.example.com", "mail.example.com"]),
        ("commonName", "api.example.com"),
        ("privateKey", {"algorithm": "ECDSA"}),
        ("privateKey", {"size": 4096}),
        ("issuerRef", {"name": "other"}),
        ("issuerRef", {"name": "digicert", "kind": "ClusterCertCentralIssuer"}),
        ("signatureHash", "sha384"),
        ("orderId", 42),
        ("serverPlatformId", 45),
    ],
)
def test_issuance_hash_changes_with(field: str, value: Any) -> None:
    assert spec_hash(**{field: value}) != spec_hash()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("secretTemplate", {"labels": {"team": "web"}, "annotations": {"a": "b"}}),
        ("renewBefore", "720h"),
        ("autoRenew", False),
        ("privateKey", {"rotationPolicy": "Never"}),
        ("privateKey", {"algorithm": "RSA", "size": 2048}),
        ("dnsNames", ["WWW.Example.com.", "api.example.com"]),
        ("commonName", "www.example.com"),
        ("issuerRef", {"name": "digicert", "kind": "CertCentralIssuer"}),
    ],
)
def test_issuance_hash_ignores(field: str, value: Any) -> None:
    assert spec_hash(**{field: value}) == spec_hash()


def test_issuance_hash_ignores_san_order() -> None:
    reordered = spec_hash(
        commonName="www.example.com", dnsNames=["api.example.com", "www.example.com"]
    )

    assert reordered == spec_hash()


def test_issuance_hash_default_cn_follows_order() -> None:
    # Without spec.commonName the first name is the common name, so the order matters.
    assert spec_hash(dnsNames=["api.example.com", "www.example.com"]) != spec_hash()


def tls_secret(
    crt: str | None, key: ec.EllipticCurvePrivateKey | None, order_id: str | None = "1001"
) -> dict[str, Any]:
    data: dict[str, str] = {}
    if crt is not None:
        data["tls.crt"] = base64.b64encode(crt.encode()).decode()
    if key is not None:
        data["tls.key"] = base64.b64encode(private_key_to_pem(key)).decode()
    annotations = {ANNOTATION_ORDER_ID: order_id} if order_id is not None else {}
    return {"metadata": {"name": "www-tls", "annotations": annotations}, "data": data}


@pytest.fixture(scope="module")
def issued() -> tuple[str, ec.EllipticCurvePrivateKey]:
    intermediate = make_intermediate(make_root())
    key = new_key()
    leaf = make_leaf(intermediate, key, ["www.example.com"], not_before=START, not_after=END)
    return to_pem(leaf, intermediate.certificate), key


def test_current_certificate_read(issued: tuple[str, ec.EllipticCurvePrivateKey]) -> None:
    crt, key = issued

    current = read_current_certificate(tls_secret(crt, key))

    assert current is not None
    assert current.order_id == 1001
    assert current.names == ["www.example.com"]
    assert current.not_before == START
    assert current.not_after == END
    assert public_key_der(current.key) == public_key_der(key)


@pytest.mark.parametrize("order_id", [None, "", "abc", "-1"])
def test_unknown_order_annotation_ignored(
    issued: tuple[str, ec.EllipticCurvePrivateKey], order_id: str | None
) -> None:
    crt, key = issued

    current = read_current_certificate(tls_secret(crt, key, order_id))

    assert current is not None
    assert current.order_id is None


def test_secret_without_key_ignored(issued: tuple[str, ec.EllipticCurvePrivateKey]) -> None:
    assert read_current_certificate(tls_secret(issued[0], None)) is None


def test_secret_without_certificate_ignored() -> None:
    assert read_current_certificate(tls_secret(None, new_key())) is None


def test_mismatched_key_ignored(issued: tuple[str, ec.EllipticCurvePrivateKey]) -> None:
    assert read_current_certificate(tls_secret(issued[0], new_key())) is None


def test_garbage_certificate_ignored() -> None:
    assert read_current_certificate(tls_secret("not a certificate", new_key())) is None


def test_secret_without_data_ignored() -> None:
    assert read_current_certificate({"metadata": {"name": "www-tls"}}) is None


def test_too_long_message_uses_go_durations() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(RenewBeforeTooLongError) as caught:
        renewal_time(start, start + timedelta(hours=90), timedelta(hours=99999))
    assert "spec.renewBefore (99999h0m0s)" in str(caught.value)
    assert "lifetime (90h0m0s)" in str(caught.value)
