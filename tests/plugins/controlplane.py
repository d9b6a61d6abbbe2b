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
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from dupcert.controlplane import ControlPlane

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN_DIR = REPO_ROOT / ".bin"
CRD_DIR = REPO_ROOT / "crds"
DUPCERT_GROUP = "dupcert.io"
CRD_ESTABLISHED_TIMEOUT = "60s"


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
    """A running etcd and kube-apiserver for the whole test session."""
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
    for path in sorted(CRD_DIR.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document and document.get("kind") == "CustomResourceDefinition":
                names.append(document["metadata"]["name"])
    assert names, f"no CustomResourceDefinition found in {CRD_DIR}"

    kubectl("apply", "--server-side", "-f", str(CRD_DIR), check=True)
    kubectl(
        "wait",
        "--for=condition=Established",
        f"--timeout={CRD_ESTABLISHED_TIMEOUT}",
        *[f"crd/{name}" for name in names],
        check=True,
    )
    return names


@pytest.fixture
def namespace(kubectl: Kubectl) -> Iterator[str]:
    """A new namespace for one test; the test's objects in it are deleted afterwards.

    The namespace itself stays: without a controller-manager a deleted namespace would stay
    Terminating forever.
    """
    name = f"test-{secrets.token_hex(4)}"
    kubectl("create", "namespace", name, check=True)
    yield name
    _delete_namespace_objects(kubectl, name)


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
