"""The CRDs in crds/ on the real API server: acceptance, explain, admission checks, columns.

Each rejection case applies a manifest with `kubectl apply` and checks the message kubectl
prints, so a schema or CEL rule that stops rejecting, or starts rejecting valid input, fails here.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
import yaml

from tests.plugins.controlplane import CRD_DIR, REPO_ROOT, Kubectl

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("installed_crds")]

API_VERSION = "dupcert.io/v1alpha1"
EXAMPLES = REPO_ROOT / "examples"
SERVER_DESCRIBED_FIELDS = {"apiVersion", "kind", "metadata"}

VALID_DUPLICATE: dict[str, Any] = {
    "apiVersion": API_VERSION,
    "kind": "DuplicateCertificate",
    "metadata": {"name": "web"},
    "spec": {
        "issuerRef": {"name": "certcentral"},
        "dnsNames": ["demo.example.com", "www.demo.example.com"],
        "secretName": "web-tls",
    },
}

VALID_ISSUER: dict[str, Any] = {
    "apiVersion": API_VERSION,
    "kind": "CertCentralIssuer",
    "metadata": {"name": "certcentral"},
    "spec": {
        "apiKeySecretRef": {"name": "certcentral-api-key"},
        "organizationId": 112233,
        "productNameId": "ssl_plus",
    },
}


def with_spec(base: dict[str, Any], **changes: Any) -> str:
    """Return `base` as YAML with top-level spec keys replaced (None removes a key)."""
    manifest = copy.deepcopy(base)
    for key, value in changes.items():
        if value is None:
            manifest["spec"].pop(key, None)
        else:
            manifest["spec"][key] = value
    return yaml.safe_dump(manifest)


def normalize_space(text: str) -> str:
    return " ".join(text.split())


def crd_documents() -> list[dict[str, Any]]:
    documents = []
    for path in sorted(CRD_DIR.glob("*.yaml")):
        documents.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    return documents


def crd_ids() -> list[str]:
    return [doc["spec"]["names"]["kind"] for doc in crd_documents()]


def test_every_crd_is_established(kubectl: Kubectl, installed_crds: list[str]) -> None:
    assert len(installed_crds) == len(crd_documents())
    for name in installed_crds:
        crd = kubectl.get_json(f"crd/{name}")
        conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}  # type: ignore[index]

        assert conditions.get("Established") == "True", f"{name}: {conditions}"
        assert conditions.get("NamesAccepted") == "True", f"{name}: {conditions}"


def test_api_resources_list_the_kinds(kubectl: Kubectl) -> None:
    result = kubectl("api-resources", f"--api-group={API_VERSION.split('/')[0]}", check=True)
    lines = result.stdout.splitlines()

    for kind in ("DuplicateCertificate", "CertCentralIssuer", "ClusterCertCentralIssuer"):
        assert any(line.split()[-1] == kind for line in lines[1:]), result.stdout
    assert any(line.startswith("duplicatecertificates ") and "dupcert" in line for line in lines)


@pytest.mark.parametrize("crd", crd_documents(), ids=crd_ids())
def test_explain_shows_crd_descriptions(kubectl: Kubectl, crd: dict[str, Any]) -> None:
    plural = crd["spec"]["names"]["plural"]
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]

    for field_path, field_schema in [
        ("", schema),
        (".spec", schema["properties"]["spec"]),
        (".status", schema["properties"]["status"]),
    ]:
        result = kubectl("explain", f"{plural}{field_path}", f"--api-version={API_VERSION}")

        assert result.returncode == 0, result.stderr
        assert normalize_space(field_schema["description"]) in normalize_space(result.stdout)
        for name, child in field_schema.get("properties", {}).items():
            assert re.search(rf"^\s+{name}\s", result.stdout, re.M), f"{plural}{field_path}.{name}"
            # The API server publishes its own descriptions for these and ignores the CRD's.
            if field_path == "" and name in SERVER_DESCRIBED_FIELDS:
                continue
            if "description" in child:
                first_words = " ".join(child["description"].split()[:6])
                assert first_words in normalize_space(result.stdout), f"{field_path}.{name}"


def test_explain_shows_nested_field(kubectl: Kubectl) -> None:
    result = kubectl(
        "explain",
        "duplicatecertificates.spec.privateKey.algorithm",
        f"--api-version={API_VERSION}",
        check=True,
    )

    assert "Key algorithm, RSA or ECDSA." in result.stdout
    assert "ENUM" in result.stdout


def test_examples_are_accepted(kubectl: Kubectl, namespace: str) -> None:
    result = kubectl("apply", "--namespace", namespace, "-f", str(EXAMPLES))
    assert result.returncode == 0, result.stderr

    duplicate = kubectl.get_json("duplicatecertificate/web", "--namespace", namespace)
    spec: dict[str, Any] = duplicate["spec"]  # type: ignore[assignment]
    assert spec["privateKey"] == {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"}
    assert spec["issuerRef"] == {"name": "certcentral", "kind": "CertCentralIssuer"}
    assert spec["signatureHash"] == "sha256"
    assert spec["autoRenew"] is True

    issuer = kubectl.get_json("certcentralissuer/certcentral", "--namespace", namespace)
    issuer_spec: dict[str, Any] = issuer["spec"]  # type: ignore[assignment]
    assert issuer_spec["apiKeySecretRef"] == {"name": "certcentral-api-key", "key": "api-key"}


def test_defaults_fill_private_key(kubectl: Kubectl, namespace: str) -> None:
    result = kubectl.apply(with_spec(VALID_DUPLICATE), namespace=namespace)
    assert result.returncode == 0, result.stderr

    duplicate = kubectl.get_json("dupcert/web", "--namespace", namespace)
    spec: dict[str, Any] = duplicate["spec"]  # type: ignore[assignment]
    assert spec["privateKey"] == {"algorithm": "RSA", "rotationPolicy": "Always"}


def test_issuer_url_defaults_to_digicert(kubectl: Kubectl, namespace: str) -> None:
    result = kubectl.apply(with_spec(VALID_ISSUER, url=None), namespace=namespace)
    assert result.returncode == 0, result.stderr

    issuer = kubectl.get_json("certcentralissuer/certcentral", "--namespace", namespace)
    spec: dict[str, Any] = issuer["spec"]  # type: ignore[assignment]
    assert spec["url"] == "https://www.digicert.com/services/v2"
    assert spec["apiKeySecretRef"] == {"name": "certcentral-api-key", "key": "api-key"}


ACCEPTED_DUPLICATES = [
    pytest.param({"dnsNames": ["*.example.com"]}, id="wildcard-left-most"),
    pytest.param({"dnsNames": ["*.example.com", "example.com"]}, id="wildcard-and-apex"),
    pytest.param({"commonName": "*.example.com", "dnsNames": ["*.example.com"]}, id="wildcard-cn"),
    pytest.param({"privateKey": {"algorithm": "RSA", "size": 2048}}, id="rsa-2048"),
    pytest.param({"privateKey": {"algorithm": "RSA", "size": 4096}}, id="rsa-4096"),
    pytest.param({"privateKey": {"algorithm": "ECDSA"}}, id="ecdsa-default-size"),
    pytest.param({"privateKey": {"algorithm": "ECDSA", "size": 384}}, id="ecdsa-384"),
    pytest.param({"renewBefore": "720h"}, id="renew-before-hours"),
    pytest.param({"orderId": 1}, id="order-id"),
    pytest.param(
        {"issuerRef": {"name": "global", "kind": "ClusterCertCentralIssuer"}}, id="cluster-issuer"
    ),
]


@pytest.mark.parametrize("changes", ACCEPTED_DUPLICATES)
def test_valid_duplicate_is_accepted(
    kubectl: Kubectl, namespace: str, changes: dict[str, Any]
) -> None:
    result = kubectl.apply(with_spec(VALID_DUPLICATE, **changes), namespace=namespace)

    assert result.returncode == 0, result.stderr


REJECTED_DUPLICATES = [
    pytest.param(
        {"dnsNames": []}, "spec.dnsNames in body should have at least 1 items", id="empty-dns-names"
    ),
    pytest.param({"dnsNames": None}, "spec.dnsNames: Required value", id="missing-dns-names"),
    pytest.param(
        {"dnsNames": ["www.*.example.com"]},
        "a wildcard '*' is allowed only as the whole left-most label, as in *.example.com",
        id="wildcard-inner-label",
    ),
    pytest.param(
        {"dnsNames": ["w*.example.com"]},
        "a wildcard '*' is allowed only as the whole left-most label, as in *.example.com",
        id="wildcard-partial-label",
    ),
    pytest.param(
        {"dnsNames": ["*.*.example.com"]},
        "a wildcard '*' is allowed only as the whole left-most label, as in *.example.com",
        id="wildcard-two-labels",
    ),
    pytest.param(
        {"commonName": "www.*.example.com"},
        "a wildcard '*' is allowed only as the whole left-most label, as in *.example.com",
        id="wildcard-common-name",
    ),
    pytest.param(
        {"dnsNames": ["bad_name.example.com"]},
        "must be a fully qualified DNS name such as www.example.com",
        id="underscore-dns-name",
    ),
    pytest.param(
        {"dnsNames": ["localhost"]},
        "must be a fully qualified DNS name such as www.example.com",
        id="single-label-dns-name",
    ),
    pytest.param(
        {"dnsNames": ["a.example.com", "a.example.com"]},
        'spec.dnsNames[1]: Duplicate value: "a.example.com"',
        id="duplicate-dns-names",
    ),
    pytest.param(
        {"privateKey": {"algorithm": "DSA"}},
        'spec.privateKey.algorithm: Unsupported value: "DSA": supported values: "RSA", "ECDSA"',
        id="unknown-key-algorithm",
    ),
    pytest.param(
        {"privateKey": {"algorithm": "RSA", "size": 1024}},
        "RSA key size must be 2048, 3072, 4096 or 8192",
        id="rsa-below-2048",
    ),
    pytest.param(
        {"privateKey": {"size": 1024}},
        "RSA key size must be 2048, 3072, 4096 or 8192",
        id="default-rsa-below-2048",
    ),
    pytest.param(
        {"privateKey": {"algorithm": "ECDSA", "size": 2048}},
        "ECDSA key size must be 256 or 384",
        id="ecdsa-rsa-size",
    ),
    pytest.param({"unknownKey": "x"}, 'unknown field "spec.unknownKey"', id="unknown-spec-field"),
    pytest.param(
        {"privateKey": {"algorithm": "RSA", "bits": 2048}},
        'unknown field "spec.privateKey.bits"',
        id="unknown-nested-field",
    ),
    pytest.param(
        {"secretName": "Web_TLS"}, "spec.secretName in body should match", id="invalid-secret-name"
    ),
    pytest.param(
        {"issuerRef": {"name": "x", "kind": "Issuer"}},
        'spec.issuerRef.kind: Unsupported value: "Issuer"',
        id="unknown-issuer-kind",
    ),
    pytest.param(
        {"orderId": 0},
        "spec.orderId in body should be greater than or equal to 1",
        id="order-id-zero",
    ),
    pytest.param(
        {"renewBefore": "30 days"},
        "spec.renewBefore in body should match",
        id="renew-before-not-duration",
    ),
    pytest.param(
        {"renewBefore": "0s"},
        'spec.renewBefore: Invalid value: "0s": must be longer than zero',
        id="renew-before-zero",
    ),
    pytest.param(
        {"commonName": "not a dns name!"},
        'spec.commonName: Invalid value: "not a dns name!": must be a fully qualified DNS name',
        id="common-name-not-dns",
    ),
    pytest.param(
        {"secretTemplate": {"annotations": {"dupcert.io/order-id": "1"}}},
        "annotations with the dupcert.io/ prefix are set by the operator",
        id="template-own-annotation",
    ),
    pytest.param(
        {"secretTemplate": {"labels": {"app.kubernetes.io/managed-by": "helm"}}},
        "the label app.kubernetes.io/managed-by is set by the operator",
        id="template-managed-by-label",
    ),
]


@pytest.mark.parametrize(("changes", "message"), REJECTED_DUPLICATES)
def test_invalid_duplicate_is_rejected(
    kubectl: Kubectl, namespace: str, changes: dict[str, Any], message: str
) -> None:
    result = kubectl.apply(with_spec(VALID_DUPLICATE, **changes), namespace=namespace)

    assert result.returncode != 0, result.stdout
    assert message in result.stderr
    assert kubectl("get", "dupcert/web", "--namespace", namespace).returncode != 0


REJECTED_ISSUERS = [
    pytest.param(
        {"organizationId": 0},
        "spec.organizationId in body should be greater than or equal to 1",
        id="organization-zero",
    ),
    pytest.param(
        {"productNameId": "SSL Plus"},
        "spec.productNameId in body should match",
        id="product-pattern",
    ),
    pytest.param(
        {"apiKeySecretRef": None}, "spec.apiKeySecretRef: Required value", id="missing-api-key"
    ),
    pytest.param({"url": "ftp://example.com"}, "spec.url in body should match", id="url-not-http"),
    pytest.param({"apiKey": "inline"}, 'unknown field "spec.apiKey"', id="inline-api-key"),
]


@pytest.mark.parametrize(("changes", "message"), REJECTED_ISSUERS)
@pytest.mark.parametrize("kind", ["CertCentralIssuer", "ClusterCertCentralIssuer"])
def test_invalid_issuer_is_rejected(
    kubectl: Kubectl, namespace: str, kind: str, changes: dict[str, Any], message: str
) -> None:
    issuer = {**VALID_ISSUER, "kind": kind, "metadata": {"name": f"invalid-{namespace}"}}

    result = kubectl.apply(with_spec(issuer, **changes), namespace=namespace)

    assert result.returncode != 0, result.stdout
    assert message in result.stderr


def test_printer_columns_show_status(kubectl: Kubectl, namespace: str) -> None:
    kubectl.apply(with_spec(VALID_DUPLICATE, orderId=1), namespace=namespace, check=True)
    status = {
        "orderId": 4242,
        "notAfter": "2099-01-01T00:00:00Z",
        "renewalTime": "2098-09-01T00:00:00Z",
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "reason": "Issued",
                "message": "certificate is current",
                "lastTransitionTime": "2026-01-01T00:00:00Z",
            }
        ],
    }
    kubectl(
        "patch",
        "dupcert/web",
        "--namespace",
        namespace,
        "--subresource=status",
        "--type=merge",
        f"--patch={json.dumps({'status': status})}",
        check=True,
    )

    table = kubectl("get", "dupcerts", "--namespace", namespace, check=True).stdout.splitlines()
    wide = kubectl("get", "dupcerts", "-o", "wide", "--namespace", namespace, check=True)
    wide_table = wide.stdout.splitlines()

    assert table[0].split() == ["NAME", "READY", "SECRET", "ORDER", "EXPIRES", "AGE"]
    assert table[1].split()[:4] == ["web", "True", "web-tls", "4242"]
    assert wide_table[0].split()[-3:] == ["ISSUER", "RENEWAL", "STATUS"]
    assert "certcentral" in wide_table[1].split()
    assert wide_table[1].endswith("certificate is current")


def test_issuer_printer_columns(kubectl: Kubectl, namespace: str) -> None:
    kubectl.apply(with_spec(VALID_ISSUER), namespace=namespace, check=True)

    table = kubectl("get", "certcentralissuers", "--namespace", namespace, check=True)
    header, row = table.stdout.splitlines()[:2]

    assert header.split() == ["NAME", "READY", "ORGANIZATION", "PRODUCT", "AGE"]
    assert row.split()[0] == "certcentral"
    assert "112233" in row.split()
    assert "ssl_plus" in row.split()


def test_short_name_lists_only_duplicates(kubectl: Kubectl, namespace: str) -> None:
    kubectl.apply(with_spec(VALID_ISSUER), namespace=namespace, check=True)
    kubectl.apply(with_spec(VALID_DUPLICATE), namespace=namespace, check=True)

    table = kubectl("get", "dupcert", "--namespace", namespace, check=True).stdout.splitlines()

    assert table[0].split() == ["NAME", "READY", "SECRET", "ORDER", "EXPIRES", "AGE"]
    assert [line.split()[0] for line in table[1:] if line.strip()] == ["web"]


def test_category_lists_every_kind(kubectl: Kubectl, namespace: str) -> None:
    kubectl.apply(with_spec(VALID_ISSUER), namespace=namespace, check=True)
    kubectl.apply(with_spec(VALID_DUPLICATE), namespace=namespace, check=True)

    result = kubectl("get", "dupcert-all", "--namespace", namespace, "-o", "name", check=True)

    assert sorted(result.stdout.split()) == [
        "certcentralissuer.dupcert.io/certcentral",
        "duplicatecertificate.dupcert.io/web",
    ]
