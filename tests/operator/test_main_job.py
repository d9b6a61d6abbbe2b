"""The main job end to end: the real operator, the real kube-apiserver and the simulator."""

from __future__ import annotations

import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from dupcert.pki import certificate_names, is_ca, load_pem_chain, public_key_der
from tests.plugins.operator import Scenario

pytestmark = [pytest.mark.slow]

NAMES = ["demo.example.com", "www.demo.example.com"]
DUPLICATE_POST = "POST /order/certificate/{order_id}/duplicate"


def ecdsa_spec(**extra: object) -> dict[str, object]:
    return {
        "commonName": "demo.example.com",
        "dnsNames": NAMES,
        "secretName": "web-tls",
        "privateKey": {"algorithm": "ECDSA", "size": 256},
        **extra,
    }


def test_happy_path_writes_valid_secret(scenario: Scenario) -> None:
    scenario.create_issuer()
    scenario.create_duplicate_certificate("web", ecdsa_spec())
    scenario.start_operator()

    resource = scenario.wait_for_condition("web")
    status = resource["status"]
    secret = scenario.secret("web-tls")
    assert secret.type == "kubernetes.io/tls"
    chain = load_pem_chain(scenario.secret_bytes("web-tls", "tls.crt").decode())
    key = serialization.load_pem_private_key(
        scenario.secret_bytes("web-tls", "tls.key"), password=None
    )
    root = x509.load_pem_x509_certificate(scenario.secret_bytes("web-tls", "ca.crt"))

    leaf = chain[0]
    assert not is_ca(leaf)
    assert public_key_der(leaf) == public_key_der(key)  # type: ignore[arg-type]
    assert sorted(certificate_names(leaf)) == sorted(NAMES)
    leaf.verify_directly_issued_by(chain[1])
    chain[1].verify_directly_issued_by(root)
    assert root not in chain
    assert scenario.secret_bytes("web-tls", "tls.key").startswith(b"-----BEGIN PRIVATE KEY-----")

    annotations = secret.metadata.annotations
    assert annotations["dupcert.io/order-id"] == str(status["orderId"])
    assert annotations["dupcert.io/certificate-id"] == str(status["certificateId"])
    assert annotations["dupcert.io/serial"] == status["serialNumber"]
    assert status["requestId"] > 0
    assert status["notAfter"] == annotations["dupcert.io/not-after"]
    scenario.wait_for_event("web", "Issued")
    assert scenario.counts().get(DUPLICATE_POST) == 1
    # Ready only once: the issuer's condition is reported too.
    issuer = scenario.wait_for_condition("certcentral", getter=scenario.get_issuer)
    assert scenario.condition(issuer, "Ready")["reason"] == "CredentialsValid"  # type: ignore[index]


@pytest.mark.cluster
def test_kubectl_wait_and_columns(cluster_scenario: Scenario, kubectl: object) -> None:
    scenario = cluster_scenario
    scenario.create_issuer()
    scenario.create_duplicate_certificate("web", ecdsa_spec())
    scenario.start_operator()

    waited = kubectl(  # type: ignore[operator]
        "wait", "--for=condition=Ready", "dupcert/web", "-n", scenario.namespace, "--timeout=60s"
    )
    assert waited.returncode == 0, waited.stderr
    table = kubectl("get", "dupcert", "-n", scenario.namespace)  # type: ignore[operator]
    header, row = table.stdout.splitlines()[:2]
    assert header.split() == ["NAME", "READY", "SECRET", "ORDER", "EXPIRES", "AGE"]
    order_id = str(scenario.get("web")["status"]["orderId"])
    assert row.split()[:4] == ["web", "True", "web-tls", order_id]


def test_approval_pending_then_approved(scenario: Scenario) -> None:
    scenario.set_account(skip_approval=False)
    scenario.create_issuer()
    scenario.create_duplicate_certificate("web", ecdsa_spec())
    scenario.start_operator()

    pending = scenario.wait_for_condition("web", "Issuing", "True", "PendingApproval")
    assert scenario.condition(pending, "Ready")["status"] == "False"  # type: ignore[index]
    request_id = pending["status"]["requestId"]
    time.sleep(2)  # a few approval polls pass without a second request
    assert scenario.counts().get(DUPLICATE_POST) == 1

    scenario.admin_call("POST", f"/requests/{request_id}/approve")
    ready = scenario.wait_for_condition("web")
    assert ready["status"]["requestId"] == request_id
    assert scenario.counts().get(DUPLICATE_POST) == 1


def test_duplicates_disabled_reports_condition(scenario: Scenario) -> None:
    scenario.set_account(duplicates_enabled=False)
    scenario.create_issuer()
    scenario.create_duplicate_certificate("web", ecdsa_spec())
    scenario.start_operator()

    failed = scenario.wait_for_condition("web", "Ready", "False", "DuplicatesNotAllowed")
    message = scenario.condition(failed, "Ready")["message"]  # type: ignore[index]
    assert "administrator" in message
    assert failed["status"]["failedIssuanceAttempts"] >= 1
    scenario.wait_for_event("web", "DuplicatesNotAllowed")


def test_invalid_api_key_reports_credentials(scenario: Scenario) -> None:
    scenario.create_issuer(api_key="not-a-valid-key-123")
    scenario.create_duplicate_certificate("web", ecdsa_spec())
    scenario.start_operator()

    failed = scenario.wait_for_condition("web", "Ready", "False", "CredentialsInvalid")
    assert "spec.apiKeySecretRef" in scenario.condition(failed, "Ready")["message"]  # type: ignore[index]
    issuer = scenario.wait_for_condition(
        "certcentral", "Ready", "False", "CredentialsInvalid", getter=scenario.get_issuer
    )
    assert issuer["status"]["conditions"][0]["reason"] == "CredentialsInvalid"
    scenario.wait_for_event("web", "CredentialsInvalid")
    for operator in scenario.operators:
        assert "not-a-valid-key-123" not in operator.logs


def test_no_matching_order_retries(scenario: Scenario) -> None:
    scenario.create_issuer()
    scenario.create_duplicate_certificate(
        "web", ecdsa_spec(commonName="other.example.com", dnsNames=["other.example.com"])
    )
    scenario.start_operator()

    failed = scenario.wait_for_condition("web", "Ready", "False", "OrderNotFound")
    message = scenario.condition(failed, "Ready")["message"]  # type: ignore[index]
    assert "other.example.com" in message
    assert "ssl_plus" in message
    # Backoff: a second attempt comes, and it is counted.
    deadline = time.monotonic() + 20
    while scenario.get("web")["status"].get("failedIssuanceAttempts", 0) < 2:
        assert time.monotonic() < deadline, "no retry after OrderNotFound"
        time.sleep(0.5)
    assert scenario.counts().get(DUPLICATE_POST, 0) == 0


def test_foreign_secret_left_untouched(scenario: Scenario) -> None:
    scenario.put_secret("web-tls", {"tls.crt": "mine", "tls.key": "mine"}, "kubernetes.io/tls")
    before = scenario.secret("web-tls")
    scenario.create_issuer()
    scenario.create_duplicate_certificate("web", ecdsa_spec())
    scenario.start_operator()

    failed = scenario.wait_for_condition("web", "Ready", "False", "SecretConflict")
    assert "spec.secretName" in scenario.condition(failed, "Ready")["message"]  # type: ignore[index]
    after = scenario.secret("web-tls")
    assert after.data == before.data
    assert after.metadata.resource_version == before.metadata.resource_version
    assert scenario.counts().get(DUPLICATE_POST, 0) == 0


def test_invalid_names_report_invalid_spec(scenario: Scenario) -> None:
    scenario.create_issuer()
    # Distinct strings for the API server's set, the same name for DNS.
    scenario.create_duplicate_certificate(
        "web", ecdsa_spec(dnsNames=["demo.example.com", "DEMO.example.com"])
    )
    scenario.start_operator()

    failed = scenario.wait_for_condition("web", "Ready", "False", "InvalidSpec")
    message = scenario.condition(failed, "Ready")["message"]  # type: ignore[index]
    assert "spec.dnsNames[1]" in message
    assert "list each name once" in message
    scenario.wait_for_event("web", "InvalidSpec")
    assert scenario.counts().get("GET /order/certificate", 0) == 0


def test_kill_after_post_one_duplicate(scenario: Scenario) -> None:
    scenario.create_issuer()
    # The simulator creates the duplicate, then delays the response: the operator is
    # killed while it waits, before it can record anything about the request.
    scenario.admin_call(
        "POST",
        "/faults",
        {
            "method": "POST",
            "path": "/order/certificate/*/duplicate",
            "delay_seconds": 30,
            "after_processing": True,
            "times": 1,
        },
    )
    scenario.create_duplicate_certificate("web", ecdsa_spec())
    operator = scenario.start_operator()

    deadline = time.monotonic() + 30
    while scenario.counts().get(DUPLICATE_POST, 0) < 1:
        assert time.monotonic() < deadline, "the operator never requested the duplicate"
        time.sleep(0.1)
    operator.kill()
    assert scenario.get("web")["status"].get("requestId") is None

    scenario.start_operator()
    ready = scenario.wait_for_condition("web")
    assert scenario.counts().get(DUPLICATE_POST) == 1
    order_id = ready["status"]["orderId"]
    stats = scenario.admin_call("GET", f"/orders/{order_id}/stats")
    assert stats["duplicates"] == 1


def wait_until(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.25)


def test_spec_change_reissues_with_new_key(scenario: Scenario) -> None:
    scenario.create_issuer()
    scenario.create_duplicate_certificate("web", ecdsa_spec())
    scenario.start_operator()
    first = scenario.wait_for_condition("web")["status"]["serialNumber"]

    scenario.custom.patch_namespaced_custom_object(
        "dupcert.io",
        "v1alpha1",
        scenario.namespace,
        "duplicatecertificates",
        "web",
        {"spec": {"privateKey": {"algorithm": "ECDSA", "size": 384}}},
    )
    wait_until(
        lambda: scenario.get("web")["status"].get("serialNumber") != first,
        30,
        "the re-issuance after the key change",
    )
    key = serialization.load_pem_private_key(
        scenario.secret_bytes("web-tls", "tls.key"), password=None
    )
    assert key.key_size == 384  # type: ignore[union-attr]
    assert scenario.counts().get(DUPLICATE_POST) == 2


def test_template_change_updates_secret_only(scenario: Scenario) -> None:
    scenario.create_issuer()
    scenario.create_duplicate_certificate(
        "web", ecdsa_spec(secretTemplate={"labels": {"team": "web"}})
    )
    scenario.start_operator()
    scenario.wait_for_condition("web")
    assert scenario.secret("web-tls").metadata.labels["team"] == "web"

    scenario.custom.patch_namespaced_custom_object(
        "dupcert.io",
        "v1alpha1",
        scenario.namespace,
        "duplicatecertificates",
        "web",
        {"spec": {"secretTemplate": {"annotations": {"owner": "ops"}}}},
    )
    wait_until(
        lambda: (scenario.secret("web-tls").metadata.annotations or {}).get("owner") == "ops",
        30,
        "the template annotation on the Secret",
    )
    assert scenario.counts().get(DUPLICATE_POST) == 1


def test_rotation_never_reissues_same_key(scenario: Scenario) -> None:
    scenario.create_issuer()
    scenario.create_duplicate_certificate(
        "web",
        {
            "commonName": "demo.example.com",
            "dnsNames": NAMES,
            "secretName": "web-tls",
            "privateKey": {"algorithm": "RSA", "size": 2048, "rotationPolicy": "Never"},
        },
    )
    scenario.start_operator()
    first = scenario.wait_for_condition("web")["status"]["serialNumber"]
    first_key = scenario.secret_bytes("web-tls", "tls.key")

    scenario.custom.patch_namespaced_custom_object(
        "dupcert.io",
        "v1alpha1",
        scenario.namespace,
        "duplicatecertificates",
        "web",
        {"metadata": {"annotations": {"dupcert.io/renew-requested-at": "now-1"}}},
    )
    wait_until(
        lambda: scenario.get("web")["status"].get("serialNumber") != first,
        30,
        "a new duplicate with the same key",
    )
    assert scenario.secret_bytes("web-tls", "tls.key") == first_key
    assert scenario.counts().get(DUPLICATE_POST) == 2
