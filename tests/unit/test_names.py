"""Tests of DNS name checks, normalisation and CertCentral's duplicate name rules."""

from __future__ import annotations

import pytest

from dupcert.names import (
    dns_name_problem,
    name_is_covered,
    names_not_allowed,
    normalize_name,
    requested_names,
    wildcard_covers,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("WWW.Example.COM", "www.example.com"),
        ("www.example.com.", "www.example.com"),
        ("  www.example.com ", "www.example.com"),
        ("*.Example.com.", "*.example.com"),
    ],
)
def test_normalize_name_forms(name: str, expected: str) -> None:
    assert normalize_name(name) == expected


@pytest.mark.parametrize(
    "name",
    [
        "www.example.com",
        "example.com",
        "*.example.com",
        "a-b.example.com",
        "xn--bcher-kva.example",
        "a.b.c.d.example.com",
        "WWW.EXAMPLE.COM.",
        f"{'a' * 63}.example.com",
        "3com.example.com",
    ],
)
def test_valid_dns_names_accepted(name: str) -> None:
    assert dns_name_problem(name) is None


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        (".", "is empty"),
        (".".join(["a" * 60] * 5), "253"),
        ("*", "fully qualified"),
        ("*.com", "fully qualified"),
        ("localhost", "fully qualified"),
        ("a.*.example.com", "left-most label"),
        ("w*.example.com", "left-most label"),
        ("*.*.example.com", "left-most label"),
        ("a..example.com", "''"),
        ("-a.example.com", "'-a'"),
        ("a-.example.com", "'a-'"),
        ("under_score.example.com", "'under_score'"),
        (f"{'a' * 64}.example.com", "'" + "a" * 64 + "'"),
        ("1.2.3.4", "IP address"),
        ("www.example.123", "IP address"),
        ("bücher.example", "'bücher'"),
    ],
)
def test_invalid_dns_name_problem(name: str, fragment: str) -> None:
    problem = dns_name_problem(name)

    assert problem is not None
    assert fragment in problem


@pytest.mark.parametrize(
    "name",
    [
        "",
        ".".join(["a" * 60] * 5),
        "localhost",
        "a.*.example.com",
        "-a.example.com",
        f"{'a' * 64}.example.com",
        "1.2.3.4",
    ],
)
def test_dns_name_problem_suggests_fix(name: str) -> None:
    problem = dns_name_problem(name)

    assert problem is not None
    assert "use " in problem


def test_invalid_label_message_states_rules() -> None:
    problem = dns_name_problem("a-.example.com")

    assert problem is not None
    assert "63" in problem
    assert "start or end" in problem


def test_requested_names_default_common_name() -> None:
    common_name, sans = requested_names(None, ["www.example.com", "api.example.com"])

    assert common_name == "www.example.com"
    assert sans == ["www.example.com", "api.example.com"]


def test_requested_names_adds_common_name() -> None:
    common_name, sans = requested_names("Example.com", ["www.example.com"])

    assert common_name == "example.com"
    assert sans == ["example.com", "www.example.com"]


def test_requested_names_keeps_listed_common_name() -> None:
    common_name, sans = requested_names("api.example.com", ["www.example.com", "API.example.com"])

    assert common_name == "api.example.com"
    assert sans == ["www.example.com", "api.example.com"]


def test_requested_names_drops_normalised_repeats() -> None:
    _, sans = requested_names(None, ["WWW.example.com", "www.example.com.", "api.example.com"])

    assert sans == ["www.example.com", "api.example.com"]


@pytest.mark.parametrize(
    ("wildcard", "name", "expected"),
    [
        ("*.example.com", "www.example.com", True),
        ("*.example.com", "api.example.com", True),
        ("*.example.com", "a.b.example.com", False),
        ("*.example.com", "example.com", False),
        ("*.example.com", ".example.com", False),
        ("*.example.com", "*.example.com", False),
        ("*.example.com", "www.example.org", False),
        ("*.example.com", "www.notexample.com", False),
        ("www.example.com", "www.example.com", False),
    ],
)
def test_wildcard_covers_one_label(wildcard: str, name: str, expected: bool) -> None:
    assert wildcard_covers(wildcard, name) is expected


def test_names_subset_of_order_allowed() -> None:
    order = ["example.com", "www.example.com", "api.example.com"]

    assert names_not_allowed(["api.example.com"], order, "ssl_multi_domain") == []


def test_common_name_moved_from_san_allowed() -> None:
    # The order's common name is example.com, and the duplicate requests a SAN as its common name.
    common_name, sans = requested_names("www.example.com", ["example.com"])

    assert names_not_allowed(sans, ["example.com", "www.example.com"], "ssl_plus") == []
    assert common_name == "www.example.com"


def test_extra_san_rejected_non_wildcard() -> None:
    order = ["*.example.com", "example.com"]

    assert names_not_allowed(["www.example.com"], order, "ssl_multi_domain") == ["www.example.com"]


@pytest.mark.parametrize("product", ["ssl_wildcard", "private_ssl_wildcard"])
def test_wildcard_product_allows_covered_sans(product: str) -> None:
    order = ["*.example.com"]

    assert (
        names_not_allowed(["*.example.com", "a.example.com", "b.example.com"], order, product) == []
    )


@pytest.mark.parametrize(
    "name", ["a.b.example.com", "example.com", "www.example.org", "*.sub.example.com"]
)
def test_wildcard_product_rejects_uncovered_sans(name: str) -> None:
    assert names_not_allowed([name], ["*.example.com"], "ssl_wildcard") == [name]


def test_wildcard_product_base_in_order() -> None:
    order = ["*.example.com", "example.com"]

    assert names_not_allowed(["example.com", "www.example.com"], order, "ssl_wildcard") == []


def test_order_names_compared_normalised() -> None:
    order = ["WWW.Example.com.", "*.Example.COM"]

    assert names_not_allowed(["www.example.com", "a.example.com"], order, "ssl_wildcard") == []


def test_requested_names_compared_normalised() -> None:
    assert names_not_allowed(["WWW.example.com."], ["www.example.com"], "ssl_plus") == []


@pytest.mark.parametrize(
    ("sans", "name", "expected"),
    [
        (["www.example.com"], "www.example.com", True),
        (["WWW.Example.com"], "www.example.com", True),
        (["*.example.com"], "www.example.com", True),
        (["*.example.com"], "example.com", False),
        (["*.example.com"], "a.b.example.com", False),
        ([], "www.example.com", False),
    ],
)
def test_name_is_covered_by_sans(sans: list[str], name: str, expected: bool) -> None:
    assert name_is_covered(sans, name) is expected
