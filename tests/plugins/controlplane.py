"""Fixtures for the controlplane tier: a real etcd and kube-apiserver on 127.0.0.1.

One control plane runs per test session. Tests get a fresh random namespace each, and the
CRDs from `crds/` are applied once. Mark such tests with `@pytest.mark.cluster`.

When the binaries in `.bin/` are missing the tests are skipped, unless
DUPCERT_REQUIRE_CONTROL_PLANE is set (as `make test` does), in which case they fail.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from dupcert.controlplane import ControlPlane

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN_DIR = REPO_ROOT / ".bin"
CRD_DIR = REPO_ROOT / "crds"
DUPCERT_GROUP = "dupcert.io"
DUPCERT_VERSION = "v1alpha1"
CRD_ESTABLISHED_TIMEOUT = "60s"
OPENAPI_TIMEOUT_SECONDS = 60


class Kubectl:
    """Runs `.bin/kubectl` against one control plane and returns the CompletedProcess."""

    def __init__(self, control_plane: ControlPlane) -> None:
        self.control_plane = control_plane

    def __call__(
        self, *args: str, input: str | None = None, check: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """Run kubectl with `args`; with `check`, raise when it exits non-zero."""
        result = subprocess.run(
            [
                str(BIN_DIR / "kubectl"),
                "--kubeconfig",
                str(self.control_plane.kubeconfig_path),
                # kubectl caches discovery per host and port under ~/.kube/cache, and a later
                # control plane on a reused port would read the earlier one's cache.
                f"--cache-dir={self.control_plane.directory / 'kubectl-cache'}",
                *args,
            ],
            input=input,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} exited with {result.returncode}:\n{result.stderr}"
            )
        return result

    def apply(
        self, manifest: str, namespace: str | None = None, check: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """Apply a YAML manifest from a string; the result shows what the user would see."""
        args = ["apply", "-f", "-"]
        if namespace is not None:
            args += ["--namespace", namespace]
        return self(*args, input=manifest, check=check)

    def get_json(self, *args: str) -> dict[str, object]:
        """Run `kubectl get ... -o json` and return the parsed object."""
        result = self("get", *args, "-o", "json", check=True)
        parsed: dict[str, object] = json.loads(result.stdout)
        return parsed


@pytest.fixture(scope="session")
def control_plane() -> Iterator[ControlPlane]:
    """etcd, kube-apiserver and, when built, kube-controller-manager for the whole session."""
    if not ControlPlane.binaries_available(BIN_DIR):
        reason = f"control plane binaries missing in {BIN_DIR}; run `make control-plane`"
        if os.environ.get("DUPCERT_REQUIRE_CONTROL_PLANE"):
            pytest.fail(f"{reason} (DUPCERT_REQUIRE_CONTROL_PLANE is set)", pytrace=False)
        pytest.skip(reason)
    with ControlPlane(bin_dir=BIN_DIR) as plane:
        yield plane


@pytest.fixture(scope="session")
def kubectl(control_plane: ControlPlane) -> Kubectl:
    """Runs kubectl as the admin user of the session's control plane."""
    return Kubectl(control_plane)


@pytest.fixture(scope="session")
def installed_crds(kubectl: Kubectl) -> list[str]:
    """Apply every CRD in `crds/` once and wait until each is Established; return the names."""
    names = []
    kinds = set()
    for path in sorted(CRD_DIR.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document and document.get("kind") == "CustomResourceDefinition":
                names.append(document["metadata"]["name"])
                kinds.add(document["spec"]["names"]["kind"])
    assert names, f"no CustomResourceDefinition found in {CRD_DIR}"

    kubectl("apply", "--server-side", "-f", str(CRD_DIR), check=True)
    kubectl(
        "wait",
        "--for=condition=Established",
        f"--timeout={CRD_ESTABLISHED_TIMEOUT}",
        *[f"crd/{name}" for name in names],
        check=True,
    )
    _wait_for_openapi(kubectl, kinds)
    return names


def _wait_for_openapi(kubectl: Kubectl, kinds: set[str]) -> None:
    """Wait until the OpenAPI v3 document, which `kubectl explain` reads, lists every kind.

    The API server publishes it a moment after the CRDs become Established.
    """
    path = f"/openapi/v3/apis/{DUPCERT_GROUP}/{DUPCERT_VERSION}"
    deadline = time.monotonic() + OPENAPI_TIMEOUT_SECONDS
    while True:
        result = kubectl("get", "--raw", path)
        published = _published_kinds(result.stdout) if result.returncode == 0 else set()
        if kinds <= published:
            return
        assert time.monotonic() < deadline, (
            f"GET {path} did not list {sorted(kinds - published)} within"
            f" {OPENAPI_TIMEOUT_SECONDS} s: {result.stderr}"
        )
        time.sleep(0.5)


def _published_kinds(openapi_document: str) -> set[str]:
    schemas = json.loads(openapi_document).get("components", {}).get("schemas", {})
    kinds = set()
    for schema in schemas.values():
        for group_version_kind in schema.get("x-kubernetes-group-version-kind", []):
            if group_version_kind.get("group") == DUPCERT_GROUP:
                kinds.add(group_version_kind["kind"])
    return kinds


@pytest.fixture
def namespace(control_plane: ControlPlane, kubectl: Kubectl) -> Iterator[str]:
    """A new namespace for one test; the test's objects in it are deleted afterwards.

    The namespace itself is deleted only when kube-controller-manager runs, because without
    its namespace controller a deleted namespace stays Terminating forever.
    """
    name = f"test-{secrets.token_hex(4)}"
    kubectl("create", "namespace", name, check=True)
    yield name
    _delete_namespace_objects(kubectl, name)
    if control_plane.has_controller_manager:
        kubectl("delete", "namespace", name, "--wait=false", check=True)


def _delete_namespace_objects(kubectl: Kubectl, namespace: str) -> None:
    resources = kubectl(
        "api-resources", "--namespaced=true", "--verbs=delete,list", "-o", "name", check=True
    ).stdout.split()
    # Events are records of what happened and need no cleanup.
    resources = [r for r in resources if r not in {"events", "events.events.k8s.io"}]
    kubectl(
        "delete",
        ",".join(resources),
        "--all",
        "--namespace",
        namespace,
        "--wait=false",
        "--ignore-not-found",
        check=True,
    )

    # No operator runs after the test, so finalizers it added would keep objects forever.
    dupcert_resources = [r for r in resources if r.endswith(f".{DUPCERT_GROUP}")]
    if not dupcert_resources:
        return
    leftovers = kubectl.get_json(",".join(dupcert_resources), "--namespace", namespace)
    items = leftovers.get("items", [])
    assert isinstance(items, list)
    for item in items:
        if not item["metadata"].get("finalizers"):
            continue
        kubectl(
            "patch",
            f"{item['kind'].lower()}.{DUPCERT_GROUP}/{item['metadata']['name']}",
            "--namespace",
            namespace,
            "--type=merge",
            "--patch",
            '{"metadata":{"finalizers":null}}',
        )
