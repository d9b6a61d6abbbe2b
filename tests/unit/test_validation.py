"""Tests of DuplicateCertificate spec validation and its messages."""

from __future__ import annotations

from typing import Any

import pytest

from dupcert.resources import KeyAlgorithm, RotationPolicy
from dupcert.validation import InvalidSpecError, parse_spec

MINIMAL: dict[str, Any] = {
    "issuerRef": {"name": "digicert"},
    "dnsNames": ["www.example.com"],
    "secretName": "www-tls",
}


def spec_error(**changes: Any) -> str:
    """Return the InvalidSpecError message for MINIMAL with ``changes`` applied."""
    with pytest.raises(InvalidSpecError) as caught:
        parse_spec({**MINIMAL, **changes})
    return str(caught.value)


def test_minimal_spec_gets_defaults() -> None:
    spec = parse_spec(MINIMAL)

    assert spec.issuer_ref.kind.value == "CertCentralIssuer"
    assert spec.private_key.algorithm is KeyAlgorithm.RSA
    assert spec.private_key.effective_size == 2048
    assert spec.private_key.rotation_policy is RotationPolicy.ALWAYS
    assert spec.signature_hash == "sha256"
    assert spec.auto_renew is True
    assert spec.renew_before_delta is None


def test_unknown_field_named() -> None:
    message = spec_error(dnsname=["www.example.com"])

    assert "spec.dnsname" in message
    assert "is not a known field" in message


def test_unknown_nested_field_named() -> None:
    message = spec_error(privateKey={"algorithm": "RSA", "sise": 2048})

    assert "spec.privateKey.sise" in message
    assert "check its spelling" in message


def test_missing_field_named() -> None:
    raw = {key: value for key, value in MINIMAL.items() if key != "secretName"}

    with pytest.raises(InvalidSpecError, match=r"spec\.secretName: Field required"):
        parse_spec(raw)


def test_empty_dns_names_rejected() -> None:
    assert "spec.dnsNames" in spec_error(dnsNames=[])


@pytest.mark.parametrize(
    ("private_key", "fragment"),
    [
        ({"size": 1024}, "spec.privateKey.size 1024 is not a supported RSA size"),
        ({"size": 2047}, "use 2048, 3072, 4096 or 8192"),
        ({"algorithm": "ECDSA", "size": 2048}, "2048 is not a supported ECDSA size"),
        ({"algorithm": "ECDSA", "size": 512}, "use 256 or 384"),
    ],
)
def test_unsupported_key_size_rejected(private_key: dict[str, Any], fragment: str) -> None:
    assert fragment in spec_error(privateKey=private_key)


@pytest.mark.parametrize("size", [0, -2048])
def test_non_positive_key_size_rejected(size: int) -> None:
    message = spec_error(privateKey={"size": size})

    assert "spec.privateKey.size: must be a positive number of bits" in message


@pytest.mark.parametrize(("algorithm", "size"), [("RSA", 3072), ("RSA", 8192), ("ECDSA", 384)])
def test_supported_key_sizes_accepted(algorithm: str, size: int) -> None:
    spec = parse_spec({**MINIMAL, "privateKey": {"algorithm": algorithm, "size": size}})

    assert spec.private_key.effective_size == size


def test_unknown_key_algorithm_rejected() -> None:
    assert "spec.privateKey.algorithm" in spec_error(privateKey={"algorithm": "rsa"})


@pytest.mark.parametrize(
    ("renew_before", "fragment"),
    [
        ("30d", "'30d' is not a duration"),
        ("720", "use a Go duration such as 720h"),
        ("-1h", "'-1h' is not a duration"),
        ("0s", "must be longer than zero"),
        ("0h0m", "must be longer than zero"),
        ("99999999999h", "is too long"),
    ],
)
def test_bad_renew_before_rejected(renew_before: str, fragment: str) -> None:
    message = spec_error(renewBefore=renew_before)

    assert message.startswith("spec.renewBefore")
    assert fragment in message


def test_renew_before_parsed() -> None:
    spec = parse_spec({**MINIMAL, "renewBefore": "720h"})

    assert spec.renew_before_delta is not None
    assert spec.renew_before_delta.total_seconds() == 720 * 3600


def test_renew_before_number_rejected() -> None:
    assert "spec.renewBefore" in spec_error(renewBefore=720)


def test_dns_name_problem_names_index() -> None:
    message = spec_error(dnsNames=["www.example.com", "a..example.com"])

    assert "spec.dnsNames[1] 'a..example.com' has an invalid label" in message
    assert "spec.dnsNames[0]" not in message


def test_every_dns_name_problem_reported() -> None:
    message = spec_error(dnsNames=["", "localhost", "www.example.com", "1.2.3.4"])

    assert "spec.dnsNames[0] '' is empty" in message
    assert "spec.dnsNames[1] 'localhost' is not a fully qualified name" in message
    assert "spec.dnsNames[3] '1.2.3.4' ends in a numeric label" in message
    assert "spec.dnsNames[2]" not in message


def test_dns_name_problems_name_fix() -> None:
    message = spec_error(dnsNames=["", "-a.example.com"])

    for problem in message.split("; spec."):
        assert "use " in problem, problem


def test_repeat_after_normalisation_rejected() -> None:
    message = spec_error(dnsNames=["www.example.com", "api.example.com", "WWW.Example.com."])

    assert (
        "spec.dnsNames[2] 'WWW.Example.com.' repeats spec.dnsNames[0]; list each name once"
        in message
    )


def test_wildcard_name_accepted() -> None:
    spec = parse_spec({**MINIMAL, "dnsNames": ["*.example.com", "example.com"]})

    assert spec.dns_names == ["*.example.com", "example.com"]


@pytest.mark.parametrize("name", ["a.*.example.com", "w*.example.com", "*.com"])
def test_misplaced_wildcard_rejected(name: str) -> None:
    assert f"spec.dnsNames[0] {name!r}" in spec_error(dnsNames=[name])


def test_invalid_common_name_rejected() -> None:
    message = spec_error(commonName="not a name")

    assert message.startswith("spec.commonName 'not a name'")


def test_long_common_name_rejected() -> None:
    name = f"{'a' * 60}.example.com"

    assert "spec.commonName is longer than 64 characters" in spec_error(commonName=name)


def test_problems_joined_in_one_message() -> None:
    message = spec_error(dnsNames=["localhost"], privateKey={"size": 1024}, renewBefore="1d")

    assert message.count("; spec.") == 2


@pytest.mark.parametrize(
    ("field", "value"),
    [("signatureHash", "md5"), ("orderId", 0), ("issuerRef", {"name": ""})],
)
def test_field_value_rejected(field: str, value: Any) -> None:
    assert f"spec.{field}" in spec_error(**{field: value})


def test_list_position_in_brackets() -> None:
    message = spec_error(dnsNames=["www.example.com", 5])

    assert message.startswith("spec.dnsNames[1]: ")


def test_template_owner_label_rejected() -> None:
    message = spec_error(
        secretTemplate={"labels": {"team": "web", "app.kubernetes.io/managed-by": "helm"}}
    )

    assert message.startswith("spec.secretTemplate.labels 'app.kubernetes.io/managed-by'")
    assert "remove it" in message


def test_template_operator_annotation_rejected() -> None:
    message = spec_error(secretTemplate={"annotations": {"dupcert.io/order-id": "1", "a": "b"}})

    assert message.startswith("spec.secretTemplate.annotations 'dupcert.io/order-id'")
    assert "use another prefix" in message


def test_template_other_keys_accepted() -> None:
    template = {"labels": {"team": "web"}, "annotations": {"example.com/owner": "ops"}}

    spec = parse_spec({**MINIMAL, "secretTemplate": template})

    assert spec.secret_template.labels == {"team": "web"}


@pytest.mark.parametrize(
    ("template", "fragment"),
    [
        ({"labels": {"team": "a b"}}, "labels['team'] value 'a b' is not a valid label value"),
        ({"labels": {"team": "x" * 64}}, "is not a valid label value"),
        ({"labels": {"bad key": "x"}}, "labels key 'bad key' is not a valid key"),
        ({"annotations": {"Example.com/x": "1"}}, "has an invalid prefix"),
        ({"annotations": {"-x": "1"}}, "annotations key '-x' is not a valid key"),
    ],
)
def test_invalid_template_metadata_rejected(template: dict[str, Any], fragment: str) -> None:
    assert fragment in spec_error(secretTemplate=template)


def test_valid_template_metadata_accepted() -> None:
    spec = parse_spec(
        {
            **MINIMAL,
            "secretTemplate": {
                "labels": {"example.com/team": "web-1", "empty": ""},
                "annotations": {"note": "any value, with spaces"},
            },
        }
    )
    assert spec.secret_template.labels["example.com/team"] == "web-1"
