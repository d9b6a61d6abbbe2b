"""Seed file parsing and validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from dupcert.simulator.seed import (
    SeedError,
    load_default_seed,
    load_seed_file,
    load_seed_text,
)

VALID_SEED = """
accounts:
  - api_key: seed-test-key-000000
organizations:
  - id: 1
    name: Org
orders:
  - organization_id: 1
    product_name_id: ssl_plus
    common_name: a.example.com
    valid_for: 10m
"""


def test_default_seed_loads() -> None:
    seed = load_default_seed()
    assert seed.accounts[0].api_key.get_secret_value() == "sim-demo-key-0000000000000000"
    assert seed.organizations[0].id == 112233
    assert [order.product_name_id for order in seed.orders] == ["ssl_plus", "ssl_wildcard"]


def test_valid_seed_parses_duration() -> None:
    seed = load_seed_text(VALID_SEED)
    assert seed.orders[0].valid_for is not None
    assert seed.orders[0].valid_for.total_seconds() == 600


def test_api_key_hidden_in_repr() -> None:
    seed = load_seed_text(VALID_SEED)
    assert "seed-test-key-000000" not in repr(seed)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("accounts: []", "accounts"),
        ("accounts:\n  - name: no key", "accounts.0.api_key"),
        (VALID_SEED.replace("valid_for: 10m", "valid_for: ten minutes"), "orders.0.valid_for"),
        (VALID_SEED.replace("valid_for: 10m", "valid_for: 0s"), "orders.0.valid_for"),
        (VALID_SEED.replace("ssl_plus", "ssl_imaginary"), "orders.0.product_name_id"),
        (
            VALID_SEED.replace("organization_id: 1", "organization_id: 5"),
            "orders.0.organization_id",
        ),
        (
            VALID_SEED.replace("common_name: a", "colour: red\n    common_name: a"),
            "orders.0.colour",
        ),
        (VALID_SEED + "    status: sleeping\n", "orders.0.status"),
        (VALID_SEED + "    key_algorithm: dsa-1024\n", "orders.0.key_algorithm"),
        (VALID_SEED + "    valid_till: 2030-01-01\n", "valid_for or valid_till"),
        (VALID_SEED + "    renewal_of_order_id: 99\n", "orders.0.renewal_of_order_id"),
        ("accounts: {not: [a list", "not valid YAML"),
    ],
)
def test_invalid_seed_names_field(text: str, fragment: str) -> None:
    with pytest.raises(SeedError) as caught:
        load_seed_text(text, "test.yaml")
    assert fragment in str(caught.value)
    assert "test.yaml" in str(caught.value)


def test_duplicate_api_keys_rejected() -> None:
    text = "accounts:\n  - api_key: same-key-00000\n  - api_key: same-key-00000\n"
    with pytest.raises(SeedError) as caught:
        load_seed_text(text)
    assert "same api_key" in str(caught.value)
    assert "same-key-00000" not in str(caught.value)


def test_missing_seed_file(tmp_path: Path) -> None:
    with pytest.raises(SeedError) as caught:
        load_seed_file(tmp_path / "absent.yaml")
    assert "absent.yaml" in str(caught.value)


def test_seed_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text(VALID_SEED, encoding="utf-8")
    assert load_seed_file(path).orders[0].common_name == "a.example.com"
