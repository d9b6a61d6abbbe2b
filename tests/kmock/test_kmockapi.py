"""Tests of the kmock Kubernetes API emulator through the `kubernetes` client, raw HTTP and Kopf."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import kubernetes
import pytest
import yaml
from kubernetes.client.exceptions import ApiException

from dupcert.kmockapi import KmockKubernetes

GROUP = "dupcert.io"
VERSION = "v1alpha1"
PLURAL = "duplicatecertificates"
REPO_ROOT = Path(__file__).resolve().parents[2]
DUPCERT = Path(sys.executable).parent / "dupcert"
# How long to wait for the operator to react to a new object, in seconds.
OPERATOR_TIMEOUT = 60.0


def secret_body(name: str, **data: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "type": "Opaque", "stringData": data}


def lease_body(name: str, holder: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"holderIdentity": holder}}


def certificate_body(name: str) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "DuplicateCertificate",
        "metadata": {"name": name},
        "spec": {
            "issuerRef": {"name": "missing-issuer"},
            "dnsNames": ["www.example.com"],
            "secretName": f"{name}-tls",
        },
    }


def error_body(error: ApiException) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(error.body)
    return body


@pytest.fixture
def core(kmock_api_client: kubernetes.client.ApiClient) -> kubernetes.client.CoreV1Api:
    return kubernetes.client.CoreV1Api(kmock_api_client)


@pytest.fixture
def custom(kmock_api_client: kubernetes.client.ApiClient) -> kubernetes.client.CustomObjectsApi:
    return kubernetes.client.CustomObjectsApi(kmock_api_client)


@pytest.fixture
def http(kmock_kubernetes: KmockKubernetes) -> Iterator[httpx.Client]:
    """A raw HTTP client of the session's emulator, for what the `kubernetes` client hides."""
    with httpx.Client(base_url=kmock_kubernetes.url, timeout=30) as client:
        yield client


def read_watch(
    client: httpx.Client, path: str, params: dict[str, str], count: int
) -> list[dict[str, Any]]:
    """Read ``count`` events of a watch (fewer if the server ends the stream) and close it."""
    events: list[dict[str, Any]] = []
    with client.stream("GET", path, params={"watch": "true", **params}) as response:
        assert response.status_code == 200, response.read()
        for line in response.iter_lines():
            if line.strip():
                events.append(json.loads(line))
            if len(events) == count:
                break
    return events


# Secrets


def test_secret_create_read_replace_delete(
    core: kubernetes.client.CoreV1Api, kmock_namespace: str
) -> None:
    created = core.create_namespaced_secret(kmock_namespace, secret_body("app", password="one"))
    assert created.metadata.uid
    assert created.metadata.creation_timestamp is not None
    assert created.data == {"password": "b25l"}  # stringData is merged into data.

    read = core.read_namespaced_secret("app", kmock_namespace)
    assert read.metadata.resource_version == created.metadata.resource_version

    body = secret_body("app", password="two")
    body["metadata"]["resourceVersion"] = read.metadata.resource_version
    replaced = core.replace_namespaced_secret("app", kmock_namespace, body)
    assert replaced.data == {"password": "dHdv"}
    assert replaced.metadata.uid == created.metadata.uid
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)

    core.delete_namespaced_secret("app", kmock_namespace)
    with pytest.raises(ApiException) as raised:
        core.read_namespaced_secret("app", kmock_namespace)
    assert raised.value.status == 404


def test_secret_create_existing_conflicts(
    core: kubernetes.client.CoreV1Api, kmock_namespace: str
) -> None:
    core.create_namespaced_secret(kmock_namespace, secret_body("app", key="one"))
    with pytest.raises(ApiException) as raised:
        core.create_namespaced_secret(kmock_namespace, secret_body("app", key="two"))
    assert raised.value.status == 409
    assert error_body(raised.value)["reason"] == "AlreadyExists"
    assert core.read_namespaced_secret("app", kmock_namespace).data == {"key": "b25l"}


def test_secret_stale_replace_conflicts(
    core: kubernetes.client.CoreV1Api, kmock_namespace: str
) -> None:
    created = core.create_namespaced_secret(kmock_namespace, secret_body("app", key="one"))
    newer = secret_body("app", key="two")
    newer["metadata"]["resourceVersion"] = created.metadata.resource_version
    core.replace_namespaced_secret("app", kmock_namespace, newer)

    stale = secret_body("app", key="three")
    stale["metadata"]["resourceVersion"] = created.metadata.resource_version
    with pytest.raises(ApiException) as raised:
        core.replace_namespaced_secret("app", kmock_namespace, stale)
    assert raised.value.status == 409
    assert error_body(raised.value)["reason"] == "Conflict"
    assert core.read_namespaced_secret("app", kmock_namespace).data == {"key": "dHdv"}


def test_secret_replace_missing_is_404(
    core: kubernetes.client.CoreV1Api, kmock_namespace: str
) -> None:
    with pytest.raises(ApiException) as raised:
        core.replace_namespaced_secret("absent", kmock_namespace, secret_body("absent", k="v"))
    assert raised.value.status == 404


def test_create_in_missing_namespace_fails(core: kubernetes.client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as raised:
        core.create_namespaced_secret("no-such-namespace", secret_body("app", key="one"))
    assert raised.value.status == 404
    assert "namespaces" in error_body(raised.value)["message"]


def test_namespace_delete_removes_secrets(core: kubernetes.client.CoreV1Api) -> None:
    core.create_namespace({"metadata": {"name": "short-lived"}})
    core.create_namespaced_secret("short-lived", secret_body("app", key="one"))
    core.delete_namespace("short-lived")
    assert core.list_namespaced_secret("short-lived").items == []
    with pytest.raises(ApiException) as raised:
        core.read_namespace("short-lived")
    assert raised.value.status == 404


# Leases


def test_lease_create_read_replace(
    kmock_api_client: kubernetes.client.ApiClient, kmock_namespace: str
) -> None:
    leases = kubernetes.client.CoordinationV1Api(kmock_api_client)
    created = leases.create_namespaced_lease(kmock_namespace, lease_body("renewal", "pod-a"))
    read = leases.read_namespaced_lease("renewal", kmock_namespace)
    assert read.spec.holder_identity == "pod-a"

    body = lease_body("renewal", "pod-b")
    body["metadata"]["resourceVersion"] = read.metadata.resource_version
    replaced = leases.replace_namespaced_lease("renewal", kmock_namespace, body)
    assert replaced.spec.holder_identity == "pod-b"

    stale = lease_body("renewal", "pod-c")
    stale["metadata"]["resourceVersion"] = created.metadata.resource_version
    with pytest.raises(ApiException) as raised:
        leases.replace_namespaced_lease("renewal", kmock_namespace, stale)
    assert raised.value.status == 409
    assert leases.read_namespaced_lease("renewal", kmock_namespace).spec.holder_identity == "pod-b"


# Custom resources


def test_custom_object_gets_server_fields(
    custom: kubernetes.client.CustomObjectsApi, kmock_namespace: str
) -> None:
    body = certificate_body("web")
    body["status"] = {"orderId": 1}  # The status subresource drops status on create.
    created = custom.create_namespaced_custom_object(GROUP, VERSION, kmock_namespace, PLURAL, body)
    metadata = created["metadata"]
    assert metadata["uid"]
    assert metadata["creationTimestamp"].endswith("Z")
    assert metadata["resourceVersion"]
    assert metadata["generation"] == 1
    assert "status" not in created
    # Defaults of the CRD schema, as the API server applies them.
    assert created["spec"]["privateKey"] == {"algorithm": "RSA", "rotationPolicy": "Always"}
    assert created["spec"]["autoRenew"] is True

    read = custom.get_namespaced_custom_object(GROUP, VERSION, kmock_namespace, PLURAL, "web")
    assert read == created


def test_status_patch_leaves_spec_alone(
    custom: kubernetes.client.CustomObjectsApi, kmock_namespace: str
) -> None:
    custom.create_namespaced_custom_object(
        GROUP, VERSION, kmock_namespace, PLURAL, certificate_body("web")
    )
    patch = {"status": {"orderId": 42, "notAfter": "2030-01-01T00:00:00Z"}, "spec": {"orderId": 7}}
    patched = custom.patch_namespaced_custom_object_status(
        GROUP, VERSION, kmock_namespace, PLURAL, "web", patch
    )
    assert patched["status"] == {"orderId": 42, "notAfter": "2030-01-01T00:00:00Z"}
    assert "orderId" not in patched["spec"]
    assert patched["metadata"]["generation"] == 1

    # In a merge patch, null deletes a key.
    cleared = custom.patch_namespaced_custom_object_status(
        GROUP, VERSION, kmock_namespace, PLURAL, "web", {"status": {"notAfter": None}}
    )
    assert cleared["status"] == {"orderId": 42}


def test_main_patch_ignores_status(
    custom: kubernetes.client.CustomObjectsApi, kmock_namespace: str
) -> None:
    custom.create_namespaced_custom_object(
        GROUP, VERSION, kmock_namespace, PLURAL, certificate_body("web")
    )
    patched = custom.patch_namespaced_custom_object(
        GROUP, VERSION, kmock_namespace, PLURAL, "web", {"status": {"orderId": 42}}
    )
    assert "status" not in patched


def test_spec_change_bumps_generation(
    custom: kubernetes.client.CustomObjectsApi, kmock_namespace: str
) -> None:
    created = custom.create_namespaced_custom_object(
        GROUP, VERSION, kmock_namespace, PLURAL, certificate_body("web")
    )
    relabelled = custom.patch_namespaced_custom_object(
        GROUP, VERSION, kmock_namespace, PLURAL, "web", {"metadata": {"labels": {"team": "a"}}}
    )
    assert relabelled["metadata"]["generation"] == 1

    changed = custom.patch_namespaced_custom_object(
        GROUP, VERSION, kmock_namespace, PLURAL, "web", {"spec": {"orderId": 7}}
    )
    assert changed["metadata"]["generation"] == 2
    assert changed["spec"]["orderId"] == 7
    assert changed["spec"]["dnsNames"] == created["spec"]["dnsNames"]


def test_noop_patch_keeps_resource_version(
    custom: kubernetes.client.CustomObjectsApi, kmock_namespace: str
) -> None:
    created = custom.create_namespaced_custom_object(
        GROUP, VERSION, kmock_namespace, PLURAL, certificate_body("web")
    )
    same = custom.patch_namespaced_custom_object(
        GROUP, VERSION, kmock_namespace, PLURAL, "web", {"spec": {"secretName": "web-tls"}}
    )
    assert same["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


def test_unknown_status_fields_are_pruned(
    custom: kubernetes.client.CustomObjectsApi, kmock_namespace: str
) -> None:
    custom.create_namespaced_custom_object(
        GROUP, VERSION, kmock_namespace, PLURAL, certificate_body("web")
    )
    patched = custom.patch_namespaced_custom_object_status(
        GROUP, VERSION, kmock_namespace, PLURAL, "web", {"status": {"orderId": 1, "typo": 2}}
    )
    assert patched["status"] == {"orderId": 1}


def test_custom_replace_needs_resource_version(
    custom: kubernetes.client.CustomObjectsApi, kmock_namespace: str
) -> None:
    custom.create_namespaced_custom_object(
        GROUP, VERSION, kmock_namespace, PLURAL, certificate_body("web")
    )
    with pytest.raises(ApiException) as raised:
        custom.replace_namespaced_custom_object(
            GROUP, VERSION, kmock_namespace, PLURAL, "web", certificate_body("web")
        )
    assert raised.value.status == 422


def test_failed_json_patch_test_is_422(
    custom: kubernetes.client.CustomObjectsApi, http: httpx.Client, kmock_namespace: str
) -> None:
    custom.create_namespaced_custom_object(
        GROUP, VERSION, kmock_namespace, PLURAL, certificate_body("web")
    )
    path = f"/apis/{GROUP}/{VERSION}/namespaces/{kmock_namespace}/{PLURAL}/web"
    operations = [
        {"op": "test", "path": "/metadata/resourceVersion", "value": "0"},
        {"op": "add", "path": "/metadata/finalizers", "value": ["example.com/hold"]},
    ]
    response = http.patch(
        path, json=operations, headers={"Content-Type": "application/json-patch+json"}
    )
    assert response.status_code == 422
    assert "finalizers" not in http.get(path).json()["metadata"]


def test_finalizer_holds_deletion_until_removed(
    custom: kubernetes.client.CustomObjectsApi, kmock_namespace: str
) -> None:
    body = certificate_body("web")
    body["metadata"]["finalizers"] = ["example.com/hold"]
    custom.create_namespaced_custom_object(GROUP, VERSION, kmock_namespace, PLURAL, body)

    custom.delete_namespaced_custom_object(GROUP, VERSION, kmock_namespace, PLURAL, "web")
    marked = custom.get_namespaced_custom_object(GROUP, VERSION, kmock_namespace, PLURAL, "web")
    assert marked["metadata"]["deletionTimestamp"]

    custom.patch_namespaced_custom_object(
        GROUP, VERSION, kmock_namespace, PLURAL, "web", {"metadata": {"finalizers": None}}
    )
    with pytest.raises(ApiException) as raised:
        custom.get_namespaced_custom_object(GROUP, VERSION, kmock_namespace, PLURAL, "web")
    assert raised.value.status == 404


def test_crd_created_through_api_is_served(
    kmock_api_client: kubernetes.client.ApiClient, http: httpx.Client
) -> None:
    extensions = kubernetes.client.ApiextensionsV1Api(kmock_api_client)
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Cluster",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                }
            ],
        },
    }
    created = extensions.create_custom_resource_definition(crd)
    established = {c.type: c.status for c in created.status.conditions}
    assert established["Established"] == "True"

    custom = kubernetes.client.CustomObjectsApi(kmock_api_client)
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert custom.create_cluster_custom_object("example.com", "v1", "widgets", widget)
    assert http.get("/apis/example.com/v1").status_code == 200

    extensions.delete_custom_resource_definition("widgets.example.com")
    assert http.get("/apis/example.com/v1/widgets").status_code == 404
    assert http.get("/apis/example.com/v1").status_code == 404


# Discovery


def test_discovery_lists_crd_resources(http: httpx.Client) -> None:
    groups = {group["name"] for group in http.get("/apis").json()["groups"]}
    assert {GROUP, "coordination.k8s.io", "apiextensions.k8s.io"} <= groups

    listing = http.get(f"/apis/{GROUP}/{VERSION}").json()
    resources = {resource["name"]: resource for resource in listing["resources"]}
    certificates = resources[PLURAL]
    assert certificates["kind"] == "DuplicateCertificate"
    assert certificates["namespaced"] is True
    assert {"create", "get", "list", "watch", "patch", "update", "delete"} <= set(
        certificates["verbs"]
    )
    assert resources[f"{PLURAL}/status"]["verbs"] == ["get", "patch", "update"]
    assert resources["clustercertcentralissuers"]["namespaced"] is False


def test_discovery_lists_builtin_resources(http: httpx.Client) -> None:
    core = {resource["name"] for resource in http.get("/api/v1").json()["resources"]}
    assert {"namespaces", "secrets", "events"} <= core
    coordination = http.get("/apis/coordination.k8s.io/v1").json()["resources"]
    assert [resource["name"] for resource in coordination] == ["leases"]


# Lists and watches


def test_list_filters_by_label_selector(
    core: kubernetes.client.CoreV1Api, kmock_namespace: str
) -> None:
    for name, tier in (("a", "web"), ("b", "db"), ("c", None)):
        body = secret_body(name, key="v")
        if tier:
            body["metadata"]["labels"] = {"tier": tier}
        core.create_namespaced_secret(kmock_namespace, body)

    def names(selector: str) -> list[str]:
        secrets = core.list_namespaced_secret(kmock_namespace, label_selector=selector)
        return [secret.metadata.name for secret in secrets.items]

    assert names("tier=web") == ["a"]
    assert names("tier!=web") == ["b", "c"]
    assert names("tier in (web, db)") == ["a", "b"]
    assert names("!tier") == ["c"]


def test_watch_resumes_from_list_version(
    custom: kubernetes.client.CustomObjectsApi, http: httpx.Client, kmock_namespace: str
) -> None:
    custom.create_namespaced_custom_object(
        GROUP, VERSION, kmock_namespace, PLURAL, certificate_body("old")
    )
    listing = custom.list_namespaced_custom_object(GROUP, VERSION, kmock_namespace, PLURAL)
    custom.create_namespaced_custom_object(
        GROUP, VERSION, kmock_namespace, PLURAL, certificate_body("web")
    )
    custom.patch_namespaced_custom_object_status(
        GROUP, VERSION, kmock_namespace, PLURAL, "web", {"status": {"orderId": 1}}
    )
    custom.delete_namespaced_custom_object(GROUP, VERSION, kmock_namespace, PLURAL, "web")

    path = f"/apis/{GROUP}/{VERSION}/namespaces/{kmock_namespace}/{PLURAL}"
    since = listing["metadata"]["resourceVersion"]
    events = read_watch(http, path, {"resourceVersion": since}, count=3)
    assert [event["type"] for event in events] == ["ADDED", "MODIFIED", "DELETED"]
    assert {event["object"]["metadata"]["name"] for event in events} == {"web"}
    assert events[1]["object"]["status"] == {"orderId": 1}


def test_watch_starts_with_current_objects(
    core: kubernetes.client.CoreV1Api, http: httpx.Client, kmock_namespace: str
) -> None:
    core.create_namespaced_secret(kmock_namespace, secret_body("a", key="v"))
    core.create_namespaced_secret(kmock_namespace, secret_body("b", key="v"))
    events = read_watch(http, f"/api/v1/namespaces/{kmock_namespace}/secrets", {}, count=2)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("ADDED", "a"),
        ("ADDED", "b"),
    ]


def test_watch_ends_after_timeout_seconds(http: httpx.Client, kmock_namespace: str) -> None:
    path = f"/api/v1/namespaces/{kmock_namespace}/secrets"
    events = read_watch(http, path, {"timeoutSeconds": "1"}, count=1)
    assert events == []


def test_kubernetes_watch_sees_changes(
    core: kubernetes.client.CoreV1Api, kmock_namespace: str
) -> None:
    listing = core.list_namespaced_secret(kmock_namespace)
    core.create_namespaced_secret(kmock_namespace, secret_body("app", key="v"))
    watch = kubernetes.watch.Watch()
    stream = watch.stream(
        core.list_namespaced_secret,
        kmock_namespace,
        resource_version=listing.metadata.resource_version,
        timeout_seconds=30,
    )
    event = next(stream)
    watch.stop()
    assert event["type"] == "ADDED"
    assert event["object"].metadata.name == "app"


@pytest.fixture
def quick_emulator() -> Iterator[KmockKubernetes]:
    """An emulator of its own with frequent bookmarks and a two-event history."""
    with KmockKubernetes(bookmark_interval=0.05, event_history=2) as emulator:
        yield emulator


def test_watch_sends_bookmarks(quick_emulator: KmockKubernetes) -> None:
    with httpx.Client(base_url=quick_emulator.url, timeout=30) as client:
        path = "/api/v1/namespaces/default/secrets"
        events = read_watch(client, path, {"allowWatchBookmarks": "true"}, count=1)
    assert events[0]["type"] == "BOOKMARK"
    assert events[0]["object"]["metadata"]["resourceVersion"]


def test_watch_from_expired_version_gets_410(quick_emulator: KmockKubernetes) -> None:
    with httpx.Client(base_url=quick_emulator.url, timeout=30) as client:
        path = "/api/v1/namespaces/default/secrets"
        since = client.get(path).json()["metadata"]["resourceVersion"]
        for name in ("a", "b", "c"):
            response = client.post(path, json=secret_body(name, key="v"))
            assert response.status_code == 201
        events = read_watch(client, path, {"resourceVersion": since}, count=1)
    assert events[0]["type"] == "ERROR"
    assert events[0]["object"]["code"] == 410


# The server


def test_kubeconfig_works_with_kubernetes_client(kmock_kubeconfig: Path) -> None:
    configuration = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(
        config_file=str(kmock_kubeconfig), client_configuration=configuration
    )
    with kubernetes.client.ApiClient(configuration) as client:
        namespaces = kubernetes.client.CoreV1Api(client).list_namespace()
    assert "default" in [namespace.metadata.name for namespace in namespaces.items]
    context = yaml.safe_load(kmock_kubeconfig.read_text())["contexts"][0]["context"]
    assert context["namespace"] == "default"


def _port_is_open(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    with socket.socket() as probe:
        return probe.connect_ex((host, int(port))) == 0


def test_stop_closes_the_port() -> None:
    emulator = KmockKubernetes().start()
    url = emulator.url
    assert _port_is_open(url)
    emulator.stop()
    assert not _port_is_open(url)
    emulator.stop()  # A second stop does nothing.


def test_emulators_stop_in_start_order() -> None:
    first = KmockKubernetes().start()
    second = KmockKubernetes().start()
    urls = [first.url, second.url]
    try:
        first.stop()
        assert httpx.get(f"{second.url}/api").status_code == 200
    finally:
        first.stop()
        second.stop()
    assert not any(_port_is_open(url) for url in urls)


def test_apply_crds_without_crds_fails(kmock_kubernetes: KmockKubernetes, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no CustomResourceDefinition"):
        kmock_kubernetes.apply_crds(tmp_path)


# The operator


@pytest.fixture
def operator_log(tmp_path: Path) -> Path:
    return tmp_path / "operator.log"


@pytest.fixture
def running_operator(
    kmock_kubeconfig: Path, kmock_namespace: str, operator_log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """`dupcert run` against the session's emulator, stopped after the test even on failure."""
    with operator_log.open("wb") as log:
        process = subprocess.Popen(
            [
                str(DUPCERT),
                "run",
                "--kubeconfig",
                str(kmock_kubeconfig),
                "--standalone",
                "-n",
                kmock_namespace,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
        )
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)


@pytest.mark.slow
def test_operator_starts_and_reconciles(
    running_operator: subprocess.Popen[bytes],
    custom: kubernetes.client.CustomObjectsApi,
    kmock_namespace: str,
    operator_log: Path,
) -> None:
    custom.create_namespaced_custom_object(
        GROUP, VERSION, kmock_namespace, PLURAL, certificate_body("web")
    )

    # Without a CertCentralIssuer the operator cannot issue, but it writes why into the status.
    deadline = time.monotonic() + OPERATOR_TIMEOUT
    conditions: list[dict[str, Any]] = []
    while not conditions and running_operator.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
        current = custom.get_namespaced_custom_object(
            GROUP, VERSION, kmock_namespace, PLURAL, "web"
        )
        conditions = current.get("status", {}).get("conditions", [])
    log = operator_log.read_text()
    assert running_operator.poll() is None, f"the operator exited:\n{log}"
    ready = [condition for condition in conditions if condition["type"] == "Ready"]
    assert ready, f"no Ready condition within {OPERATOR_TIMEOUT} s:\n{log}"
    assert ready[0]["status"] == "False"

    current = custom.get_namespaced_custom_object(GROUP, VERSION, kmock_namespace, PLURAL, "web")
    assert "dupcert.io/finalizer" in current["metadata"]["finalizers"]
    assert "Activity 'configure' succeeded" in log
    assert "Initial authentication has finished" in log
    assert "[ERROR" not in log
    assert "Traceback" not in log
