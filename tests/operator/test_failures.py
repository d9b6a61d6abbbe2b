"""Failure handling of the real operator: expiry during backoff, bad templates, clashes."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from tests.operator.test_renewal import seed_order, spec_for, unique_names, wait_for
from tests.plugins.operator import Scenario

pytestmark = [pytest.mark.slow]

DUPLICATE_POST = "POST /order/certificate/{order_id}/duplicate"
SLOW_RETRIES = {"DUPCERT_RETRY_BASE_SECONDS": "120", "DUPCERT_RETRY_MAX_SECONDS": "600"}


def test_expiry_flips_ready_during_backoff(scenario: Scenario) -> None:
    names = unique_names()
    seed_order(scenario, names, "25s")
    scenario.create_issuer()
    scenario.create_duplicate_certificate("web", spec_for(names, "web-tls"))
    scenario.start_operator(**SLOW_RETRIES)
    ready = scenario.wait_for_condition("web")
    not_after = datetime.fromisoformat(ready["status"]["notAfter"].replace("Z", "+00:00"))

    scenario.admin_call("POST", "/faults", {"method": "*", "path": "*", "status": 503})
    scenario.wait_for_condition("web", "Ready", "False", "Expired", timeout=45)
    # The retry delay is two minutes; the flip still comes right at notAfter.
    assert (datetime.now(UTC) - not_after).total_seconds() < 10


def test_invalid_template_label_rejected(scenario: Scenario) -> None:
    scenario.create_issuer()
    scenario.create_duplicate_certificate(
        "web",
        spec_for(
            ["demo.example.com", "www.demo.example.com"],
            "web-tls",
            secretTemplate={"labels": {"team": "a b"}},
        ),
    )
    scenario.start_operator()

    failed = scenario.wait_for_condition("web", "Ready", "False", "InvalidSpec")
    message = scenario.condition(failed, "Ready")["message"]  # type: ignore[index]
    assert "spec.secretTemplate.labels['team']" in message
    assert scenario.counts().get(DUPLICATE_POST, 0) == 0


def test_shared_secret_name_one_duplicate(scenario: Scenario) -> None:
    scenario.create_issuer()
    names = ["demo.example.com", "www.demo.example.com"]
    scenario.create_duplicate_certificate("first", spec_for(names, "shared-tls"))
    time.sleep(1.1)  # creation timestamps have whole seconds
    scenario.create_duplicate_certificate("second", spec_for(names, "shared-tls"))
    scenario.start_operator()

    scenario.wait_for_condition("first")
    failed = scenario.wait_for_condition("second", "Ready", "False", "SecretConflict")
    assert "first" in scenario.condition(failed, "Ready")["message"]  # type: ignore[index]
    assert scenario.counts().get(DUPLICATE_POST) == 1


def test_delete_removes_next_key(scenario: Scenario) -> None:
    scenario.set_account(skip_approval=False)
    scenario.create_issuer()
    scenario.create_duplicate_certificate(
        "web", spec_for(["demo.example.com", "www.demo.example.com"], "web-tls")
    )
    scenario.start_operator()
    pending = scenario.wait_for_condition("web", "Issuing", "True", "PendingApproval")
    next_key = pending["status"]["nextPrivateKeySecretName"]
    assert scenario.secret(next_key) is not None

    scenario.custom.delete_namespaced_custom_object(
        "dupcert.io", "v1alpha1", scenario.namespace, "duplicatecertificates", "web"
    )

    def secret_names() -> list[str]:
        return [
            s.metadata.name for s in scenario.core.list_namespaced_secret(scenario.namespace).items
        ]

    wait_for(lambda: next_key not in secret_names(), 30, "the next key Secret to go")


def test_annotation_skips_backoff(scenario: Scenario) -> None:
    scenario.create_duplicate_certificate(
        "web", spec_for(["demo.example.com", "www.demo.example.com"], "web-tls")
    )
    scenario.start_operator(**SLOW_RETRIES)
    scenario.wait_for_condition("web", "Ready", "False", "IssuerNotReady")

    scenario.create_issuer()
    scenario.custom.patch_namespaced_custom_object(
        "dupcert.io",
        "v1alpha1",
        scenario.namespace,
        "duplicatecertificates",
        "web",
        {"metadata": {"annotations": {"dupcert.io/renew-requested-at": "retry-1"}}},
    )
    ready = scenario.wait_for_condition("web", timeout=30)
    assert ready["status"]["renewRequestedAt"] == "retry-1"


def other_ca_pem() -> str:
    """A self-signed CA that did not sign the simulator's certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Unrelated CA")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now.replace(year=now.year + 1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def test_wrong_ca_bundle_names_field(scenario: Scenario) -> None:
    scenario.create_issuer()
    scenario.put_secret("certcentral-ca-bundle", {"ca.crt": other_ca_pem()}, "Opaque")
    scenario.create_duplicate_certificate(
        "web", spec_for(["demo.example.com", "www.demo.example.com"], "web-tls")
    )
    scenario.start_operator()

    failed = scenario.wait_for_condition("web", "Ready", "False", "IssuerNotReady")
    assert "spec.caBundleSecretRef" in scenario.condition(failed, "Ready")["message"]  # type: ignore[index]
