"""Helpers for the chart tests: run `.bin/helm`, render the chart and read RBAC out of it."""

from __future__ import annotations

import functools
import subprocess
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
HELM = REPO_ROOT / ".bin" / "helm"
CHART_DIR = REPO_ROOT / "charts" / "dupcert"
RELEASE = "dupcert"
RELEASE_NAMESPACE = "dupcert-system"

# The value combinations documented in values.yaml and docs/install.md.
COMBINATIONS: dict[str, list[str]] = {
    "defaults": [],
    "all-namespaces": ["--set-json", "watchNamespaces=[]"],
    "two-namespaces": ["--set", "watchNamespaces={team-a,team-b}"],
    "crds-disabled": ["--set", "crds.enabled=false"],
    "crds-not-kept": ["--set", "crds.keep=false"],
    "simulator": ["--set", "simulator.enabled=true"],
    "network-policy": ["--set", "networkPolicy.enabled=true"],
    "everything": [
        "--set",
        "watchNamespaces={team-a},simulator.enabled=true,networkPolicy.enabled=true",
        "--set",
        "logLevel=debug,logFormat=json,priorityClassName=high",
    ],
}

# (API group, resource) -> verbs.
Grants = dict[tuple[str, str], set[str]]


def helm_path() -> Path:
    """Return `.bin/helm`, or fail the test with the command that installs it."""
    if not HELM.exists():
        pytest.fail(f"{HELM} is missing; run `make control-plane` to install helm", pytrace=False)
    return HELM


def run_helm(*args: str, kubeconfig: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run helm with `args` and return the finished process without checking its exit code."""
    command = [str(helm_path()), *args]
    if kubeconfig is not None:
        command += ["--kubeconfig", str(kubeconfig)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


@functools.cache
def render_text(*value_args: str) -> str:
    """Return the `helm template` output of the chart rendered with --set style `value_args`."""
    result = run_helm(
        "template", RELEASE, str(CHART_DIR), "--namespace", RELEASE_NAMESPACE, *value_args
    )
    if result.returncode != 0:
        raise AssertionError(f"helm template {' '.join(value_args)} failed:\n{result.stderr}")
    return result.stdout


def render(*value_args: str) -> list[dict[str, Any]]:
    """Return the rendered manifests as parsed YAML documents, empty documents left out."""
    return [doc for doc in yaml.safe_load_all(render_text(*value_args)) if doc]


def find(manifests: Iterable[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in manifests if doc["kind"] == kind]


def find_one(manifests: Iterable[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [doc for doc in find(manifests, kind) if doc["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]


def merge_grants(*grants: Grants) -> Grants:
    """Return the union of several grants, joining the verbs of a shared resource."""
    merged: Grants = defaultdict(set)
    for grant in grants:
        for key, verbs in grant.items():
            merged[key].update(verbs)
    return dict(merged)


def grants_of(role: dict[str, Any]) -> Grants:
    """Flatten a Role's or ClusterRole's rules into verbs per (group, resource).

    Wildcards, resourceNames and nonResourceURLs fail the test: the chart grants none.
    """
    grants: Grants = defaultdict(set)
    for rule in role.get("rules", []):
        assert "resourceNames" not in rule, f"{role['metadata']['name']}: resourceNames in {rule}"
        assert "nonResourceURLs" not in rule, f"{role['metadata']['name']}: URLs in {rule}"
        for field in ("apiGroups", "resources", "verbs"):
            assert "*" not in rule[field], f"{role['metadata']['name']}: wildcard in {rule}"
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                grants[(group, resource)].update(rule["verbs"])
    return dict(grants)


def operator_grants(
    manifests: list[dict[str, Any]], service_account: str, namespace: str
) -> tuple[Grants, dict[str, Grants]]:
    """Return what the chart binds to one ServiceAccount: cluster-wide grants and grants
    per namespace, following every ClusterRoleBinding and RoleBinding to its role."""
    roles = {
        (doc["kind"], doc["metadata"].get("namespace"), doc["metadata"]["name"]): doc
        for doc in manifests
        if doc["kind"] in ("Role", "ClusterRole")
    }
    cluster: Grants = defaultdict(set)
    per_namespace: dict[str, Grants] = defaultdict(lambda: defaultdict(set))
    for binding in manifests:
        if binding["kind"] not in ("RoleBinding", "ClusterRoleBinding"):
            continue
        subject = {"kind": "ServiceAccount", "name": service_account, "namespace": namespace}
        if subject not in binding["subjects"]:
            continue
        ref = binding["roleRef"]
        binding_namespace = binding["metadata"].get("namespace")
        role_namespace = binding_namespace if ref["kind"] == "Role" else None
        role = roles[(ref["kind"], role_namespace, ref["name"])]
        target = cluster if binding["kind"] == "ClusterRoleBinding" else None
        if target is None:
            target = per_namespace[binding_namespace]
        for key, verbs in grants_of(role).items():
            target[key].update(verbs)
    return (
        {key: set(verbs) for key, verbs in cluster.items()},
        {ns: {key: set(verbs) for key, verbs in g.items()} for ns, g in per_namespace.items()},
    )
