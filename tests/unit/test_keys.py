"""Tests of the next private key: kept in a Secret, reused, replaced or refused."""

from __future__ import annotations

import base64
from typing import Any, cast

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from dupcert.keys import NextKey, NextKeyConflictError, delete_next_key, ensure_next_key
from dupcert.pki import (
    PrivateKey,
    build_csr,
    generate_private_key,
    private_key_to_pem,
    public_key_der,
)
from dupcert.resources import DuplicateCertificateSpec, KeyAlgorithm
from dupcert.storage.kube import ConflictError, Kube
from dupcert.storage.secrets import (
    ANNOTATION_CERTIFICATE_NAME,
    LABEL_MANAGED_BY,
    LABEL_NEXT_PRIVATE_KEY,
    NEXT_CSR_DATA_KEY,
    NEXT_KEY_DATA_KEY,
    build_next_key_secret,
    next_key_secret_name,
)
from dupcert.validation import parse_spec
from tests.unit.fakes import FakeKube

NAMESPACE = "web"
CERTIFICATE = "www"
SECRET = next_key_secret_name(CERTIFICATE)
CN = "www.example.com"
NAMES = ["www.example.com", "api.example.com"]


def make_spec(**private_key: Any) -> DuplicateCertificateSpec:
    key_settings = {"algorithm": "ECDSA", "size": 256, **private_key}
    return parse_spec(
        {
            "issuerRef": {"name": "digicert"},
            "dnsNames": NAMES,
            "secretName": "www-tls",
            "privateKey": key_settings,
        }
    )


async def ensure(
    kube: FakeKube,
    spec: DuplicateCertificateSpec,
    names: list[str] = NAMES,
    current_key: PrivateKey | None = None,
) -> NextKey:
    return await ensure_next_key(
        cast(Kube, kube), NAMESPACE, CERTIFICATE, spec, CN, names, current_key
    )


def stored(kube: FakeKube) -> dict[str, Any]:
    return kube.secrets[(NAMESPACE, SECRET)]


async def test_new_key_stored_with_csr() -> None:
    kube = FakeKube()

    next_key = await ensure(kube, make_spec())

    secret = stored(kube)
    csr = x509.load_pem_x509_csr(next_key.csr_pem.encode())
    sans = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert next_key.reused is False
    assert next_key.secret_name == SECRET
    assert isinstance(next_key.key, ec.EllipticCurvePrivateKey)
    assert next_key.key.curve.key_size == 256
    assert base64.b64decode(secret["data"][NEXT_KEY_DATA_KEY]) == next_key.key_pem
    assert base64.b64decode(secret["data"][NEXT_CSR_DATA_KEY]).decode() == next_key.csr_pem
    assert secret["metadata"]["labels"][LABEL_NEXT_PRIVATE_KEY] == "true"
    assert secret["metadata"]["annotations"][ANNOTATION_CERTIFICATE_NAME] == CERTIFICATE
    assert sans.get_values_for_type(x509.DNSName) == NAMES
    assert public_key_der(csr) == public_key_der(next_key.key)


async def test_matching_stored_key_reused() -> None:
    kube = FakeKube()
    first = await ensure(kube, make_spec())

    second = await ensure(kube, make_spec())

    assert second.reused is True
    assert second.key_pem == first.key_pem
    assert second.csr_pem == first.csr_pem
    assert kube.calls.count(f"create {SECRET}") == 1


@pytest.mark.parametrize(
    "changed",
    [{"size": 384}, {"algorithm": "RSA", "size": 2048}],
    ids=["size", "algorithm"],
)
async def test_key_settings_change_regenerates(changed: dict[str, Any]) -> None:
    kube = FakeKube()
    first = await ensure(kube, make_spec())

    second = await ensure(kube, make_spec(**changed))

    assert second.reused is False
    assert second.key_pem != first.key_pem
    assert base64.b64decode(stored(kube)["data"][NEXT_KEY_DATA_KEY]) == second.key_pem


async def test_names_change_regenerates() -> None:
    kube = FakeKube()
    first = await ensure(kube, make_spec())

    second = await ensure(kube, make_spec(), names=[*NAMES, "mail.example.com"])

    assert second.reused is False
    assert second.key_pem != first.key_pem


async def test_unreadable_stored_key_regenerated() -> None:
    kube = FakeKube()
    await ensure(kube, make_spec())
    stored(kube)["data"][NEXT_KEY_DATA_KEY] = base64.b64encode(b"not a key").decode()

    second = await ensure(kube, make_spec())

    assert second.reused is False


@pytest.mark.parametrize(
    "metadata",
    [
        {"name": SECRET},
        {"name": SECRET, "labels": {LABEL_MANAGED_BY: "someone-else"}},
        {
            "name": SECRET,
            "labels": {LABEL_MANAGED_BY: "dupcert"},
            "annotations": {ANNOTATION_CERTIFICATE_NAME: "other"},
        },
    ],
    ids=["unlabelled", "other manager", "other resource"],
)
async def test_foreign_secret_conflicts(metadata: dict[str, Any]) -> None:
    kube = FakeKube()
    foreign = {"metadata": metadata, "data": {"x": "eA=="}}
    kube.secrets[(NAMESPACE, SECRET)] = foreign

    with pytest.raises(NextKeyConflictError, match=f"Secret {NAMESPACE}/{SECRET} exists"):
        await ensure(kube, make_spec())

    assert stored(kube) == foreign


async def test_never_policy_reuses_current_key() -> None:
    kube = FakeKube()
    current = generate_private_key(KeyAlgorithm.ECDSA, 256)

    next_key = await ensure(kube, make_spec(rotationPolicy="Never"), current_key=current)

    assert public_key_der(next_key.key) == public_key_der(current)


async def test_never_policy_size_change_regenerates() -> None:
    kube = FakeKube()
    current = generate_private_key(KeyAlgorithm.ECDSA, 384)

    next_key = await ensure(kube, make_spec(rotationPolicy="Never"), current_key=current)

    assert public_key_der(next_key.key) != public_key_der(current)


async def test_always_policy_ignores_current_key() -> None:
    kube = FakeKube()
    current = generate_private_key(KeyAlgorithm.ECDSA, 256)

    next_key = await ensure(kube, make_spec(), current_key=current)

    assert public_key_der(next_key.key) != public_key_der(current)


async def test_create_race_uses_winner() -> None:
    kube = FakeKube()
    winner_key = generate_private_key(KeyAlgorithm.ECDSA, 256)

    def store_winner(namespace: str, body: dict[str, Any]) -> None:
        # Another pass stores its own fitting key just before this one creates.
        kube.before_create = None
        kube.secrets[(namespace, SECRET)] = build_next_key_secret(
            namespace=namespace,
            certificate_name=CERTIFICATE,
            key_pem=private_key_to_pem(winner_key),
            csr_pem=build_csr(winner_key, CN, NAMES, "sha256"),
            algorithm="ECDSA",
            size=256,
        )

    kube.before_create = store_winner

    next_key = await ensure(kube, make_spec())

    assert next_key.reused is True
    assert public_key_der(next_key.key) == public_key_der(winner_key)


async def test_create_race_unfitting_raises() -> None:
    kube = FakeKube()

    def store_foreign(namespace: str, body: dict[str, Any]) -> None:
        kube.before_create = None
        kube.secrets[(namespace, SECRET)] = {"metadata": {"name": SECRET}, "data": {}}

    kube.before_create = store_foreign

    with pytest.raises(ConflictError):
        await ensure(kube, make_spec())


async def test_delete_next_key_removes_secret() -> None:
    kube = FakeKube()
    await ensure(kube, make_spec())

    await delete_next_key(cast(Kube, kube), NAMESPACE, CERTIFICATE)

    assert (NAMESPACE, SECRET) not in kube.secrets
