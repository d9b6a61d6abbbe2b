"""Renewal-time duplication with short-lived orders: the real operator and API server."""

from __future__ import annotations

import secrets
import time
from typing import Any

import pytest

from tests.plugins.operator import Scenario

pytestmark = [pytest.mark.slow]

DUPLICATE_POST = "POST /order/certificate/{order_id}/duplicate"
RENEWAL_POST = "POST /order/certificate/{product_name_id}"


def unique_names() -> list[str]:
    """Names no other order has, so only the orders a test seeds can match."""
    base = f"r{secrets.token_hex(3)}.example.com"
    return [base, f"www.{base}"]


def seed_order(scenario: Scenario, names: list[str], valid_for: str) -> int:
    created = scenario.admin_call(
        "POST",
        "/orders",
        {
            "organization_id": scenario.simulator.organization_id,
            "product_name_id": "ssl_plus",
            "common_name": names[0],
            "dns_names": names,
            "status": "issued",
            "valid_for": valid_for,
        },
    )
    return int(created["id"])


def spec_for(names: list[str], secret_name: str, **extra: Any) -> dict[str, Any]:
    return {
        "commonName": names[0],
        "dnsNames": names,
        "secretName": secret_name,
        "privateKey": {"algorithm": "ECDSA", "size": 256},
        **extra,
    }


def wait_for(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def on_order(scenario: Scenario, name: str, order_id: int) -> bool:
    resource = scenario.get(name)
    ready = scenario.condition(resource, "Ready")
    return (
        (resource.get("status") or {}).get("orderId") == order_id
        and ready is not None
        and ready["status"] == "True"
    )


def test_renewed_order_is_duplicated(scenario: Scenario) -> None:
    names = unique_names()
    old_order = seed_order(scenario, names, "30s")
    scenario.set_account(renewal_validity="10m")
    scenario.create_issuer()
    scenario.create_duplicate_certificate("web", spec_for(names, "web-tls"))
    scenario.start_operator()
    first = scenario.wait_for_condition("web")
    assert first["status"]["orderId"] == old_order

    # Renewed in CertCentral by someone else before the duplicate is due.
    renewed = scenario.admin_call("POST", f"/orders/{old_order}/renew", {})
    new_order = int(renewed["id"])
    wait_for(lambda: on_order(scenario, "web", new_order), 45, "the move to the renewed order")

    secret = scenario.secret("web-tls")
    assert secret.metadata.annotations["dupcert.io/order-id"] == str(new_order)
    assert scenario.admin_call("GET", f"/orders/{old_order}/stats")["renewals"] == 1
    assert scenario.counts().get(RENEWAL_POST, 0) == 0
    scenario.wait_for_event("web", "RenewedOrderDuplicated")


def test_five_share_one_renewal(scenario: Scenario) -> None:
    names = unique_names()
    old_order = seed_order(scenario, names, "30s")
    scenario.set_account(renewal_validity="10m")
    scenario.create_issuer()
    resources = [f"web-{index}" for index in range(5)]
    for name in resources:
        scenario.create_duplicate_certificate(name, spec_for(names, f"{name}-tls"))
    scenario.start_operator()
    for name in resources:
        scenario.wait_for_condition(name)

    new_order = wait_for(
        lambda: (
            scenario.get(resources[0])["status"]["orderId"] != old_order
            and scenario.get(resources[0])["status"]["orderId"]
        ),
        60,
        "the renewal",
    )
    for name in resources:
        wait_for(lambda name=name: on_order(scenario, name, new_order), 45, f"{name} to move")
    assert scenario.counts().get(RENEWAL_POST) == 1
    assert scenario.admin_call("GET", f"/orders/{old_order}/stats")["renewals"] == 1

    def renewed_events() -> int:
        reasons = [reason for name in resources for reason in scenario.event_reasons(name)]
        return reasons.count("OrderRenewed")

    wait_for(renewed_events, 15, "the OrderRenewed Event")
    assert renewed_events() == 1


def test_kill_during_renewal_one_renewal(scenario: Scenario) -> None:
    names = unique_names()
    old_order = seed_order(scenario, names, "30s")
    scenario.set_account(renewal_validity="10m")
    scenario.create_issuer()
    resources = [f"web-{index}" for index in range(5)]
    for name in resources:
        scenario.create_duplicate_certificate(name, spec_for(names, f"{name}-tls"))
    operator = scenario.start_operator()
    for name in resources:
        scenario.wait_for_condition(name)

    # The renewal is placed, but its response is held back until the operator is dead.
    scenario.admin_call(
        "POST",
        "/faults",
        {
            "method": "POST",
            "path": "/order/certificate/ssl_plus",
            "delay_seconds": 60,
            "after_processing": True,
            "times": 1,
        },
    )
    wait_for(lambda: scenario.counts().get(RENEWAL_POST, 0) >= 1, 60, "the renewal POST")
    operator.kill()
    scenario.admin_call("DELETE", "/faults")

    scenario.start_operator()
    new_order = scenario.admin_call("GET", f"/orders/{old_order}/stats")
    assert new_order["renewals"] == 1
    orders = scenario.admin_call("GET", "/state")["orders"]
    renewed_id = next(o["renewed_order_id"] for o in orders if o["id"] == old_order)
    for name in resources:
        wait_for(lambda name=name: on_order(scenario, name, renewed_id), 60, f"{name} to move")
    assert scenario.counts().get(RENEWAL_POST) == 1


def test_auto_renew_off_waits(scenario: Scenario) -> None:
    names = unique_names()
    old_order = seed_order(scenario, names, "30s")
    scenario.set_account(renewal_validity="10m")
    scenario.create_issuer()
    scenario.create_duplicate_certificate("web", spec_for(names, "web-tls", autoRenew=False))
    scenario.start_operator()
    scenario.wait_for_condition("web")

    waiting = scenario.wait_for_condition(
        "web", "Issuing", "True", "WaitingForRenewedOrder", timeout=45
    )
    message = scenario.condition(waiting, "Issuing")["message"]  # type: ignore[index]
    assert f"renew order {old_order}" in message
    assert scenario.condition(waiting, "Ready")["status"] == "True"  # type: ignore[index]
    assert scenario.counts().get(RENEWAL_POST, 0) == 0

    renewed = scenario.admin_call("POST", f"/orders/{old_order}/renew", {})
    new_order = int(renewed["id"])
    # The re-check interval is 2 s in tests.
    wait_for(lambda: on_order(scenario, "web", new_order), 15, "the duplicate to follow")
    assert scenario.counts().get(RENEWAL_POST, 0) == 0


def test_expired_without_replacement_not_ready(scenario: Scenario) -> None:
    names = unique_names()
    seed_order(scenario, names, "15s")
    scenario.create_issuer()
    scenario.create_duplicate_certificate("web", spec_for(names, "web-tls", autoRenew=False))
    scenario.start_operator()
    scenario.wait_for_condition("web")

    expired = scenario.wait_for_condition("web", "Ready", "False", "Expired", timeout=40)
    assert "expired" in scenario.condition(expired, "Ready")["message"]  # type: ignore[index]


def test_manual_annotation_reissues_once(scenario: Scenario) -> None:
    names = unique_names()
    seed_order(scenario, names, "30d")
    scenario.create_issuer()
    scenario.create_duplicate_certificate("web", spec_for(names, "web-tls"))
    scenario.start_operator()
    first = scenario.wait_for_condition("web")["status"]["serialNumber"]

    scenario.custom.patch_namespaced_custom_object(
        "dupcert.io",
        "v1alpha1",
        scenario.namespace,
        "duplicatecertificates",
        "web",
        {"metadata": {"annotations": {"dupcert.io/renew-requested-at": "2026-12-04T10:00:00Z"}}},
    )
    second = wait_for(
        lambda: (
            scenario.get("web")["status"].get("serialNumber") != first
            and scenario.get("web")["status"]
        ),
        30,
        "the re-issuance",
    )
    assert second["renewRequestedAt"] == "2026-12-04T10:00:00Z"
    time.sleep(3)
    assert scenario.counts().get(DUPLICATE_POST) == 2
    assert scenario.counts().get(RENEWAL_POST, 0) == 0


def test_failed_renewal_keeps_old_secret(scenario: Scenario) -> None:
    names = unique_names()
    seed_order(scenario, names, "30s")
    scenario.create_issuer()
    scenario.create_duplicate_certificate("web", spec_for(names, "web-tls"))
    scenario.start_operator()
    scenario.wait_for_condition("web")
    before = scenario.secret("web-tls")

    scenario.admin_call("POST", "/faults", {"method": "*", "path": "*", "status": 503})
    failed = scenario.wait_for_condition(
        "web", "Issuing", "False", "CertCentralUnavailable", timeout=45
    )
    assert failed["status"]["failedIssuanceAttempts"] >= 1
    assert scenario.condition(failed, "Ready")["status"] == "True"  # type: ignore[index]
    after = scenario.secret("web-tls")
    assert after.data == before.data
    assert after.metadata.resource_version == before.metadata.resource_version


def test_rejected_renewal_renewed_again(scenario: Scenario) -> None:
    names = unique_names()
    old_order = seed_order(scenario, names, "60s")
    scenario.set_account(renewal_validity="10m")
    scenario.create_issuer()
    scenario.create_duplicate_certificate("web", spec_for(names, "web-tls"))
    scenario.start_operator()
    scenario.wait_for_condition("web")

    # The renewal the operator places waits for approval, and an approver rejects it.
    scenario.set_account(skip_approval=False)
    waiting = scenario.wait_for_condition("web", "Issuing", "True", "RenewalInProgress", timeout=60)
    assert "approve its request" in scenario.condition(waiting, "Issuing")["message"]  # type: ignore[index]
    pending = [
        r
        for r in scenario.admin_call("GET", "/state")["requests"]
        if r["type"] == "new_request" and r["status"] == "pending"
    ]
    assert len(pending) == 1
    scenario.set_account(skip_approval=True)
    scenario.admin_call("POST", f"/requests/{pending[0]['id']}/reject")

    scenario.wait_for_event("web", "RequestRejected", timeout=30)
    new_order = wait_for(
        lambda: (
            (scenario.get("web")["status"].get("orderId") or old_order) != old_order
            and scenario.get("web")["status"]["orderId"]
        ),
        45,
        "a second renewal after the rejection",
    )
    assert new_order != old_order
    assert scenario.counts().get(RENEWAL_POST) == 2
