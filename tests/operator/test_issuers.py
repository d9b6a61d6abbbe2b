"""Issuer readiness end to end: the real operator, the Kubernetes API and the simulator."""

from __future__ import annotations

import time
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from dupcert.resources import GROUP, VERSION
from tests.plugins.operator import Scenario
from tests.unit.certs import make_root

pytestmark = [pytest.mark.slow]

ISSUER = "certcentral"
ACCOUNT_GET = "GET /account"


def ready_condition(scenario: Scenario, obj: dict[str, Any]) -> dict[str, Any]:
    condition = scenario.condition(obj, "Ready")
    assert condition is not None, obj.get("status")
    return condition


def patch_issuer_spec(scenario: Scenario, spec: dict[str, Any]) -> None:
    scenario.custom.patch_namespaced_custom_object(
        GROUP, VERSION, scenario.namespace, "certcentralissuers", ISSUER, {"spec": spec}
    )


def test_wrong_key_backs_off(scenario: Scenario) -> None:
    scenario.create_issuer(api_key="not-a-valid-key-123")
    # A high cap, so the delays double through the window: 2, 4, 8, 16 s.
    scenario.start_operator(DUPCERT_RETRY_MAX_SECONDS="60")

    failed = scenario.wait_for_condition(
        ISSUER, "Ready", "False", "CredentialsInvalid", getter=scenario.get_issuer
    )
    assert "spec.apiKeySecretRef" in ready_condition(scenario, failed)["message"]
    time.sleep(15)

    # A fixed 2 s delay makes about 8 calls in this window, but the backoff makes 3 or 4.
    calls = scenario.counts().get(ACCOUNT_GET, 0)
    assert calls >= 2, "the issuer was not checked again"
    assert calls <= 5
    assert scenario.event_reasons(ISSUER).count("CredentialsInvalid") == 1


def test_unknown_product_is_invalid(scenario: Scenario) -> None:
    scenario.create_issuer(product_name_id="ssl_nonexistent")
    scenario.start_operator()

    failed = scenario.wait_for_condition(
        ISSUER, "Ready", "False", "InvalidProduct", getter=scenario.get_issuer
    )
    message = ready_condition(scenario, failed)["message"]
    assert message.startswith("spec.productNameId: ")
    assert "'ssl_nonexistent'" in message
    assert failed["status"]["accountId"] > 0
    scenario.wait_for_event(ISSUER, "InvalidProduct")


def test_product_without_duplicates_reported(scenario: Scenario) -> None:
    scenario.admin_call("PATCH", "/products/ssl_plus", {"duplicates_allowed": False})
    scenario.create_issuer()
    scenario.start_operator()

    failed = scenario.wait_for_condition(
        ISSUER, "Ready", "False", "DuplicatesNotAllowed", getter=scenario.get_issuer
    )
    message = ready_condition(scenario, failed)["message"]
    assert "does not allow duplicates for product 'ssl_plus'" in message
    assert "choose a product that allows them" in message
    scenario.wait_for_event(ISSUER, "DuplicatesNotAllowed")


def test_wrong_ca_bundle_names_ref(scenario: Scenario) -> None:
    other_root = make_root("Some Other Root CA").certificate
    scenario.create_issuer()
    scenario.put_secret(
        "certcentral-ca-bundle",
        {"ca.crt": other_root.public_bytes(serialization.Encoding.PEM).decode()},
        "Opaque",
    )
    scenario.start_operator()

    failed = scenario.wait_for_condition(
        ISSUER, "Ready", "False", "IssuerNotReady", getter=scenario.get_issuer
    )
    message = ready_condition(scenario, failed)["message"]
    assert message.startswith("spec.caBundleSecretRef: ")
    assert scenario.simulator.base_url in message
    assert "put the CA that signed it in the Secret" in message
    assert scenario.counts().get(ACCOUNT_GET, 0) == 0


def test_fixed_spec_checked_before_retry(scenario: Scenario) -> None:
    scenario.create_issuer(product_name_id="ssl_nonexistent")
    # The first retry would come only after 120 s, past the wait below.
    scenario.start_operator(DUPCERT_RETRY_BASE_SECONDS="120", DUPCERT_RETRY_MAX_SECONDS="600")
    scenario.wait_for_condition(
        ISSUER, "Ready", "False", "InvalidProduct", getter=scenario.get_issuer
    )

    patch_issuer_spec(scenario, {"productNameId": "ssl_plus"})

    ready = scenario.wait_for_condition(ISSUER, timeout=60, getter=scenario.get_issuer)
    condition = ready_condition(scenario, ready)
    assert condition["reason"] == "CredentialsValid"
    assert condition["observedGeneration"] == ready["metadata"]["generation"]
    scenario.wait_for_event(ISSUER, "CredentialsValid")
