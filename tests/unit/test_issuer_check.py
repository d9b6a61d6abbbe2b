"""Tests of the issuer check: each Ready outcome, TLS failure messages and the retry delay."""

from __future__ import annotations

import base64
import ssl
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, cast

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from pydantic import SecretStr

from dupcert.certcentral.client import CertCentralClient
from dupcert.certcentral.errors import (
    AccessDeniedError,
    CertCentralError,
    CertCentralUnavailableError,
    CredentialsInvalidError,
    NotFoundError,
    ServerError,
)
from dupcert.certcentral.models import Account, Product
from dupcert.certcentral.ratelimit import SlidingWindowLimiter
from dupcert.conditions import Reason
from dupcert.issuer_check import (
    IssuerCheck,
    check_issuer,
    describe_tls_failure,
    probe_certcentral,
    readiness_changed,
    retry_delay,
)
from dupcert.issuers import ClientCache
from dupcert.resources import IssuerKind, IssuerSpec
from dupcert.settings import OperatorSettings
from dupcert.simulator.server import SimulatorServer
from dupcert.storage.kube import Kube
from tests.unit.certs import make_root
from tests.unit.fakes import FakeKube

URL = "https://certcentral.test/services/v2"
NAMESPACE = "team-a"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


class FakeReadinessClient:
    """The two calls of an issuer check, each returning its data or raising its error."""

    def __init__(
        self,
        account: Account | CertCentralError | None = None,
        product: Product | CertCentralError | None = None,
    ) -> None:
        self.account = account or Account(id=5001)
        self.product = product or Product(name_id="ssl_plus", duplicates_allowed=True)
        self.calls: list[str] = []

    async def get_account(self) -> Account:
        self.calls.append("account")
        if isinstance(self.account, CertCentralError):
            raise self.account
        return self.account

    async def get_product(self, name_id: str) -> Product:
        self.calls.append(f"product {name_id}")
        if isinstance(self.product, CertCentralError):
            raise self.product
        return self.product


def issuer_spec(*, ca_bundle: bool = True, product: str = "ssl_plus") -> IssuerSpec:
    raw: dict[str, Any] = {
        "url": URL,
        "apiKeySecretRef": {"name": "certcentral-api-key"},
        "organizationId": 12345,
        "productNameId": product,
    }
    if ca_bundle:
        raw["caBundleSecretRef"] = {"name": "certcentral-ca-bundle"}
    return IssuerSpec.model_validate(raw)


def verification_error(code: int, message: str) -> ssl.SSLCertVerificationError:
    """Build the error OpenSSL raises for a failed certificate verification."""
    error = ssl.SSLCertVerificationError(1, f"[SSL: CERTIFICATE_VERIFY_FAILED] {message}")
    error.verify_code = code
    error.verify_message = message
    return error


def unavailable_from(cause: BaseException) -> CertCentralUnavailableError:
    """Chain a client error from ``cause`` the way the client and httpx do."""
    connect_error = httpx.ConnectError(str(cause))
    connect_error.__cause__ = cause
    error = CertCentralUnavailableError(f"CertCentral request GET /account failed: {cause}")
    error.__cause__ = connect_error
    return error


def untrusted_issuer() -> CertCentralUnavailableError:
    return unavailable_from(verification_error(20, "unable to get local issuer certificate"))


def secret(data: dict[str, str]) -> dict[str, Any]:
    encoded = {key: base64.b64encode(value.encode()).decode() for key, value in data.items()}
    return {"metadata": {"name": "unused"}, "data": encoded}


def issuer_body(url: str, *, ca_bundle: bool = True) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "url": url,
        "apiKeySecretRef": {"name": "certcentral-api-key", "key": "api-key"},
        "organizationId": 12345,
        "productNameId": "ssl_plus",
    }
    if ca_bundle:
        spec["caBundleSecretRef"] = {"name": "certcentral-ca-bundle", "key": "ca.crt"}
    return {
        "metadata": {"name": "certcentral", "namespace": NAMESPACE, "generation": 3},
        "spec": spec,
    }


def other_ca_pem() -> str:
    certificate = make_root("Some Other Root CA").certificate
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture
async def clients() -> AsyncIterator[ClientCache]:
    cache = ClientCache()
    yield cache
    await cache.close()


def ready_condition(check: IssuerCheck) -> dict[str, Any]:
    conditions: list[dict[str, Any]] = check.status["conditions"]
    return next(c for c in conditions if c["type"] == "Ready")


# describe_tls_failure


def test_tls_failure_names_ca_bundle() -> None:
    message = describe_tls_failure(untrusted_issuer(), URL, ca_bundle_set=True)

    assert message is not None
    assert message.startswith("spec.caBundleSecretRef: ")
    assert f"does not verify {URL}'s certificate" in message
    assert "unable to get local issuer certificate" in message
    assert "put the CA that signed it in the Secret" in message


def test_tls_failure_suggests_setting_bundle() -> None:
    message = describe_tls_failure(untrusted_issuer(), URL, ca_bundle_set=False)

    assert message is not None
    assert "system CAs do not verify" in message
    assert "set spec.caBundleSecretRef" in message


def test_tls_hostname_mismatch_names_url() -> None:
    cause = verification_error(62, "Hostname mismatch, certificate is not valid for 'x'.")

    message = describe_tls_failure(unavailable_from(cause), URL, ca_bundle_set=True)

    assert message is not None
    assert message.startswith("spec.url: ")
    assert "Hostname mismatch" in message
    assert "caBundleSecretRef" not in message


def test_tls_expired_certificate_names_clock() -> None:
    cause = verification_error(10, "certificate has expired")

    message = describe_tls_failure(unavailable_from(cause), URL, ca_bundle_set=True)

    assert message is not None
    assert "is not valid now (certificate has expired)" in message
    assert "caBundleSecretRef" not in message


def test_tls_failure_ignores_other_errors() -> None:
    refused = unavailable_from(ConnectionRefusedError(111, "Connection refused"))
    wrapped_elsewhere = ServerError("HTTP 502", status_code=502)
    wrapped_elsewhere.__cause__ = verification_error(20, "unable to get local issuer certificate")

    assert describe_tls_failure(refused, URL, ca_bundle_set=True) is None
    assert describe_tls_failure(wrapped_elsewhere, URL, ca_bundle_set=True) is None
    assert describe_tls_failure(ValueError("x"), URL, ca_bundle_set=True) is None


async def test_tls_failure_from_real_handshake(simulator: SimulatorServer) -> None:
    trust = ssl.create_default_context(cadata=other_ca_pem())
    client = CertCentralClient(
        simulator.base_url,
        SecretStr(simulator.api_key),
        verify=trust,
        limiter=SlidingWindowLimiter(),
        max_get_retries=0,
    )
    async with client:
        with pytest.raises(CertCentralUnavailableError) as caught:
            await client.get_account()

    message = describe_tls_failure(caught.value, simulator.base_url, ca_bundle_set=True)

    assert message is not None
    assert message.startswith("spec.caBundleSecretRef: ")
    assert simulator.base_url in message


# probe_certcentral


async def test_probe_ready_with_duplicates() -> None:
    client = FakeReadinessClient()

    readiness = await probe_certcentral(client, issuer_spec())

    assert readiness.ready
    assert readiness.reason == Reason.CREDENTIALS_VALID
    assert readiness.account_id == 5001
    assert "account 5001" in readiness.message
    assert "ssl_plus allows duplicates" in readiness.message
    assert client.calls == ["account", "product ssl_plus"]


async def test_probe_rejected_key_skips_product() -> None:
    client = FakeReadinessClient(account=CredentialsInvalidError("HTTP 403", status_code=403))

    readiness = await probe_certcentral(client, issuer_spec())

    assert not readiness.ready
    assert readiness.reason == Reason.CREDENTIALS_INVALID
    assert "spec.apiKeySecretRef" in readiness.message
    assert readiness.account_id is None
    assert client.calls == ["account"]


async def test_probe_unknown_product_invalid() -> None:
    client = FakeReadinessClient(product=NotFoundError("HTTP 404", status_code=404))

    readiness = await probe_certcentral(client, issuer_spec(product="ssl_nonexistent"))

    assert not readiness.ready
    assert readiness.reason == Reason.INVALID_PRODUCT
    assert readiness.message.startswith("spec.productNameId: ")
    assert "'ssl_nonexistent'" in readiness.message
    assert "product name id of the orders to duplicate" in readiness.message
    assert readiness.account_id == 5001


async def test_probe_product_without_duplicates() -> None:
    product = Product(name_id="ssl_dv_geotrust", duplicates_allowed=False)
    client = FakeReadinessClient(product=product)

    readiness = await probe_certcentral(client, issuer_spec(product="ssl_dv_geotrust"))

    assert not readiness.ready
    assert readiness.reason == Reason.DUPLICATES_NOT_ALLOWED
    assert "does not allow duplicates for product 'ssl_dv_geotrust'" in readiness.message
    assert "choose a product that allows them" in readiness.message
    assert readiness.account_id == 5001


async def test_probe_untrusted_ca_not_ready() -> None:
    client = FakeReadinessClient(account=untrusted_issuer())

    readiness = await probe_certcentral(client, issuer_spec())

    assert not readiness.ready
    assert readiness.reason == Reason.ISSUER_NOT_READY
    assert readiness.message.startswith("spec.caBundleSecretRef: ")
    assert client.calls == ["account"]


async def test_probe_outage_is_unavailable() -> None:
    client = FakeReadinessClient(account=ServerError("HTTP 503", status_code=503))

    readiness = await probe_certcentral(client, issuer_spec())

    assert not readiness.ready
    assert readiness.reason == Reason.CERTCENTRAL_UNAVAILABLE
    assert "HTTP 503" in readiness.message


async def test_probe_product_outage_keeps_account() -> None:
    client = FakeReadinessClient(product=ServerError("HTTP 502", status_code=502))

    readiness = await probe_certcentral(client, issuer_spec())

    assert readiness.reason == Reason.CERTCENTRAL_UNAVAILABLE
    assert readiness.account_id == 5001


async def test_probe_access_denied_request_failed() -> None:
    client = FakeReadinessClient(account=AccessDeniedError("HTTP 403 denied", status_code=403))

    readiness = await probe_certcentral(client, issuer_spec())

    assert not readiness.ready
    assert readiness.reason == Reason.REQUEST_FAILED
    assert "the account check" in readiness.message
    assert "HTTP 403 denied" in readiness.message


# check_issuer, with Secrets in a fake Kubernetes API and the simulator as CertCentral


def store_secrets(kube: FakeKube, simulator: SimulatorServer, **overrides: str) -> None:
    kube.secrets[(NAMESPACE, "certcentral-api-key")] = secret(
        {"api-key": overrides.get("api_key", simulator.api_key)}
    )
    kube.secrets[(NAMESPACE, "certcentral-ca-bundle")] = secret(
        {"ca.crt": overrides.get("ca_bundle", simulator.ca_bundle_pem)}
    )


async def test_check_ready_writes_account(simulator: SimulatorServer, clients: ClientCache) -> None:
    kube = FakeKube()
    store_secrets(kube, simulator)

    check = await check_issuer(
        cast(Kube, kube),
        IssuerKind.ISSUER,
        issuer_body(simulator.base_url),
        OperatorSettings(),
        clients,
        NOW,
    )

    condition = ready_condition(check)
    assert check.ready
    assert condition["status"] == "True"
    assert condition["reason"] == Reason.CREDENTIALS_VALID
    assert condition["observedGeneration"] == 3
    assert check.status["accountId"] == simulator.state.first_account().id


async def test_check_missing_secret_not_ready(clients: ClientCache) -> None:
    check = await check_issuer(
        cast(Kube, FakeKube()),
        IssuerKind.ISSUER,
        issuer_body(URL),
        OperatorSettings(),
        clients,
        NOW,
    )

    condition = ready_condition(check)
    assert not check.ready
    assert condition["reason"] == Reason.ISSUER_NOT_READY
    assert f"Secret {NAMESPACE}/certcentral-api-key" in condition["message"]
    assert "was not found" in condition["message"]
    assert "accountId" not in check.status


async def test_check_empty_key_not_ready(clients: ClientCache) -> None:
    kube = FakeKube()
    kube.secrets[(NAMESPACE, "certcentral-api-key")] = {"data": {"api-key": ""}}

    check = await check_issuer(
        cast(Kube, kube),
        IssuerKind.ISSUER,
        issuer_body(URL, ca_bundle=False),
        OperatorSettings(),
        clients,
        NOW,
    )

    assert check.reason == Reason.ISSUER_NOT_READY
    assert "spec.apiKeySecretRef" in check.message
    assert "is empty" in check.message


async def test_check_wrong_ca_names_secret_ref(
    simulator: SimulatorServer, clients: ClientCache
) -> None:
    kube = FakeKube()
    store_secrets(kube, simulator, ca_bundle=other_ca_pem())

    check = await check_issuer(
        cast(Kube, kube),
        IssuerKind.ISSUER,
        issuer_body(simulator.base_url),
        OperatorSettings(),
        clients,
        NOW,
    )

    assert not check.ready
    assert check.reason == Reason.ISSUER_NOT_READY
    assert check.message.startswith("spec.caBundleSecretRef: ")
    assert "put the CA that signed it in the Secret" in check.message
    assert simulator.state.counts.get("GET /account", 0) == 0


# retry_delay and readiness_changed


@pytest.mark.parametrize(
    ("retry", "expected"),
    [(0, 30.0), (1, 60.0), (2, 120.0), (6, 1920.0), (7, 3600.0), (10_000, 3600.0)],
)
def test_retry_delay_doubles_to_cap(retry: int, expected: float) -> None:
    settings = OperatorSettings(retry_base_seconds=30, retry_max_seconds=3600)

    assert retry_delay(settings, retry) == expected


def failed(reason: str) -> IssuerCheck:
    return IssuerCheck({"conditions": []}, False, reason, "message")


def test_first_result_counts_as_change() -> None:
    assert readiness_changed(None, failed(Reason.CREDENTIALS_INVALID))


def test_same_failure_is_no_change() -> None:
    previous = {"type": "Ready", "status": "False", "reason": Reason.CREDENTIALS_INVALID}

    assert not readiness_changed(previous, failed(Reason.CREDENTIALS_INVALID))


def test_new_reason_or_status_changes() -> None:
    previous = {"type": "Ready", "status": "False", "reason": Reason.CREDENTIALS_INVALID}
    recovered = IssuerCheck({"conditions": []}, True, Reason.CREDENTIALS_VALID, "ok")
    was_ready = {"type": "Ready", "status": "True", "reason": Reason.CREDENTIALS_VALID}

    assert readiness_changed(previous, failed(Reason.INVALID_PRODUCT))
    assert readiness_changed(previous, recovered)
    assert readiness_changed(was_ready, failed(Reason.CREDENTIALS_VALID))
