"""Tests of the Secret bodies the operator writes and how it recognises its own."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from dupcert.pki import VerifiedChain, private_key_to_pem, verify_chain
from dupcert.resources import SecretTemplate
from dupcert.storage.secrets import (
    ANNOTATION_CERTIFICATE_ID,
    ANNOTATION_CERTIFICATE_NAME,
    ANNOTATION_KEY_ALGORITHM,
    ANNOTATION_KEY_SIZE,
    ANNOTATION_NOT_AFTER,
    ANNOTATION_ORDER_ID,
    ANNOTATION_SERIAL,
    LABEL_MANAGED_BY,
    IssuedCertificate,
    apply_secret_template,
    build_next_key_secret,
    build_tls_secret,
    decode,
    next_key_secret_name,
    owner_of,
)
from tests.unit.certs import NOW, make_intermediate, make_leaf, make_root, new_key

# A DNS subdomain name as Kubernetes requires for Secret names.
SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?")


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return new_key()


def make_chain(key: ec.EllipticCurvePrivateKey, with_root: bool) -> VerifiedChain:
    root = make_root()
    intermediate = make_intermediate(root)
    leaf = make_leaf(intermediate, key, ["www.example.com"])
    certificates = [leaf, intermediate.certificate]
    if with_root:
        certificates.append(root.certificate)
    return verify_chain(certificates, key, ["www.example.com"], NOW)


def build(
    key: ec.EllipticCurvePrivateKey,
    *,
    existing: dict[str, Any] | None = None,
    template: SecretTemplate | None = None,
    certificate_id: int | None = 5001,
    with_root: bool = True,
) -> tuple[dict[str, Any], VerifiedChain]:
    chain = make_chain(key, with_root)
    body = build_tls_secret(
        name="www-tls",
        namespace="web",
        certificate_name="www",
        chain=chain,
        key_pem=private_key_to_pem(key),
        issued=IssuedCertificate(order_id=1001, certificate_id=certificate_id),
        template=template or SecretTemplate(),
        existing=existing,
    )
    return body, chain


def test_tls_secret_new_body(key: ec.EllipticCurvePrivateKey) -> None:
    body, chain = build(key)

    metadata = body["metadata"]
    annotations = metadata["annotations"]
    assert body["type"] == "kubernetes.io/tls"
    assert metadata["name"] == "www-tls"
    assert metadata["namespace"] == "web"
    assert "resourceVersion" not in metadata
    assert metadata["labels"] == {LABEL_MANAGED_BY: "dupcert"}
    assert annotations[ANNOTATION_CERTIFICATE_NAME] == "www"
    assert annotations[ANNOTATION_ORDER_ID] == "1001"
    assert annotations[ANNOTATION_CERTIFICATE_ID] == "5001"
    assert annotations[ANNOTATION_SERIAL] == chain.serial_hex
    assert annotations[ANNOTATION_NOT_AFTER] == chain.not_after.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert decode(body, "tls.crt") == chain.tls_crt
    assert decode(body, "tls.key") == private_key_to_pem(key)
    assert decode(body, "ca.crt") == chain.ca_crt


def test_tls_secret_without_root(key: ec.EllipticCurvePrivateKey) -> None:
    body, _ = build(key, with_root=False)

    assert "ca.crt" not in body["data"]


def test_tls_secret_keeps_foreign_metadata(key: ec.EllipticCurvePrivateKey) -> None:
    existing = {
        "metadata": {
            "name": "www-tls",
            "resourceVersion": "77",
            "labels": {"backup": "daily", LABEL_MANAGED_BY: "dupcert"},
            "annotations": {"reflector/enabled": "true", ANNOTATION_CERTIFICATE_ID: "4000"},
        },
        "type": "kubernetes.io/tls",
        "data": {"ca.crt": "b2xk"},
    }

    body, _ = build(key, existing=existing, certificate_id=None, with_root=False)

    metadata = body["metadata"]
    assert metadata["resourceVersion"] == "77"
    assert metadata["labels"]["backup"] == "daily"
    assert metadata["annotations"]["reflector/enabled"] == "true"
    assert ANNOTATION_CERTIFICATE_ID not in metadata["annotations"]
    assert "ca.crt" not in body["data"]


def test_template_cannot_override_ownership(key: ec.EllipticCurvePrivateKey) -> None:
    template = SecretTemplate(
        labels={"team": "web", LABEL_MANAGED_BY: "helm"},
        annotations={"note": "x", ANNOTATION_ORDER_ID: "1", ANNOTATION_CERTIFICATE_NAME: "evil"},
    )

    body, _ = build(key, template=template)

    metadata = body["metadata"]
    assert metadata["labels"]["team"] == "web"
    assert metadata["labels"][LABEL_MANAGED_BY] == "dupcert"
    assert metadata["annotations"]["note"] == "x"
    assert metadata["annotations"][ANNOTATION_ORDER_ID] == "1001"
    assert metadata["annotations"][ANNOTATION_CERTIFICATE_NAME] == "www"


def test_template_merged_into_metadata() -> None:
    labels = {LABEL_MANAGED_BY: "dupcert", "backup": "daily"}
    annotations = {ANNOTATION_ORDER_ID: "1001", "note": "old"}
    template = SecretTemplate(
        labels={"team": "web", LABEL_MANAGED_BY: "helm"},
        annotations={"note": "new", ANNOTATION_ORDER_ID: "1"},
    )

    merged_labels, merged_annotations = apply_secret_template(labels, annotations, template)

    assert merged_labels == {LABEL_MANAGED_BY: "dupcert", "backup": "daily", "team": "web"}
    assert merged_annotations == {ANNOTATION_ORDER_ID: "1001", "note": "new"}
    assert labels == {LABEL_MANAGED_BY: "dupcert", "backup": "daily"}
    assert annotations == {ANNOTATION_ORDER_ID: "1001", "note": "old"}


def test_template_keeps_secret_owned() -> None:
    template = SecretTemplate(labels={LABEL_MANAGED_BY: "helm"})
    labels, annotations = apply_secret_template({}, {ANNOTATION_CERTIFICATE_NAME: "www"}, template)

    assert owner_of({"metadata": {"labels": labels, "annotations": annotations}}) == "www"


def test_next_key_secret_body() -> None:
    body = build_next_key_secret(
        namespace="web",
        certificate_name="www",
        key_pem=b"KEY",
        csr_pem="CSR",
        algorithm="ECDSA",
        size=256,
    )

    annotations = body["metadata"]["annotations"]
    assert body["metadata"]["name"] == "www-dupcert-next-key"
    assert body["type"] == "Opaque"
    assert owner_of(body) == "www"
    assert annotations[ANNOTATION_KEY_ALGORITHM] == "ECDSA"
    assert annotations[ANNOTATION_KEY_SIZE] == "256"
    assert decode(body, "tls.key") == b"KEY"
    assert decode(body, "csr.pem") == b"CSR"


@pytest.mark.parametrize(
    "metadata",
    [
        {},
        {"labels": None, "annotations": None},
        {"annotations": {ANNOTATION_CERTIFICATE_NAME: "www"}},
        {
            "labels": {LABEL_MANAGED_BY: "cert-manager"},
            "annotations": {ANNOTATION_CERTIFICATE_NAME: "www"},
        },
        {"labels": {LABEL_MANAGED_BY: "dupcert"}},
    ],
    ids=["bare", "null maps", "no label", "other manager", "no owner annotation"],
)
def test_foreign_secret_has_no_owner(metadata: dict[str, Any]) -> None:
    assert owner_of({"metadata": metadata}) is None


def test_decode_missing_value_none() -> None:
    secret = {"data": {"tls.crt": base64.b64encode(b"x").decode(), "empty": ""}}

    assert decode(secret, "tls.crt") == b"x"
    assert decode(secret, "empty") is None
    assert decode(secret, "tls.key") is None
    assert decode({"data": None}, "tls.key") is None


@pytest.mark.parametrize("length", [200, 236, 237, 244, 245, 252, 253])
def test_next_key_name_valid(length: int) -> None:
    name = next_key_secret_name("a" * (length - 1) + "b")

    assert len(name) <= 253
    assert SUBDOMAIN.fullmatch(name), name


def test_long_next_key_names_distinct() -> None:
    first = next_key_secret_name("a" * 240 + "-one")
    second = next_key_secret_name("a" * 240 + "-two")

    assert first != second


def test_longest_name_not_reused() -> None:
    # At 253 characters the suffix no longer fits. The next key Secret must still get a name
    # of its own, because the TLS Secret may carry the resource's name.
    name = "a" * 253

    assert next_key_secret_name(name) != name
