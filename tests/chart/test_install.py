"""`helm install` into the local API server, and what the chart's ServiceAccount may do.

No pods run on the local control plane (there is no scheduler or kubelet), so the releases
are installed without --wait and the checks ask the RBAC authorizer with
`kubectl auth can-i --as=system:serviceaccount:NAMESPACE:NAME`. The CRDs come from the
session's `installed_crds` fixture, so the releases set crds.enabled=false. One test runs
the real operator with the ServiceAccount's token, so a missing rule fails a real call.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest
import yaml

from dupcert.controlplane import ControlPlane
from tests.chart.support import CHART_DIR, run_helm
from tests.plugins.controlplane import Kubectl
from tests.plugins.operator import OperatorProcess, Scenario

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("installed_crds")]


@dataclass
class Release:
    name: str
    namespace: str
    kubectl: Kubectl

    @property
    def service_account(self) -> str:
        return f"system:serviceaccount:{self.namespace}:{self.name}-dupcert"

    def can(self, verb: str, resource: str, namespace: str | None = None) -> bool:
        """Ask the API server whether the release's ServiceAccount may do `verb`."""
        args = [*can_i_args(verb, resource), f"--as={self.service_account}"]
        args += ["--namespace", namespace] if namespace else ["--all-namespaces"]
        result = self.kubectl(*args)
        answer = result.stdout.strip()
        assert answer in ("yes", "no"), f"kubectl {' '.join(args)}: {result.stderr}"
        return answer == "yes"


class Install(Protocol):
    def __call__(self, *value_args: str) -> Release: ...


def can_i_args(verb: str, resource: str) -> list[str]:
    """Return `kubectl auth can-i` arguments. A resource such as "kind/status" names a
    subresource, which kubectl takes as --subresource."""
    kind, _, subresource = resource.partition("/")
    args = ["auth", "can-i", verb, kind]
    if subresource:
        args.append(f"--subresource={subresource}")
    return args


@pytest.fixture
def create_namespace(control_plane: ControlPlane, kubectl: Kubectl) -> Iterator[Callable[[], str]]:
    """Create extra namespaces for one test.

    They are deleted afterwards only when kube-controller-manager runs, as the `namespace`
    fixture does, because without its namespace controller they would stay Terminating.
    """
    names: list[str] = []

    def create() -> str:
        name = f"chart-{secrets.token_hex(4)}"
        kubectl("create", "namespace", name, check=True)
        names.append(name)
        return name

    yield create
    if control_plane.has_controller_manager:
        for name in names:
            kubectl("delete", "namespace", name, "--wait=false", check=True)


@pytest.fixture
def install(control_plane: ControlPlane, kubectl: Kubectl, namespace: str) -> Iterator[Install]:
    """Install the chart with extra --set arguments. Every release is uninstalled afterwards."""
    releases: list[Release] = []

    def install_release(*value_args: str) -> Release:
        release = Release(f"r{secrets.token_hex(3)}", namespace, kubectl)
        result = run_helm(
            "install",
            release.name,
            str(CHART_DIR),
            "--namespace",
            namespace,
            "--set",
            "crds.enabled=false",
            *value_args,
            kubeconfig=control_plane.kubeconfig_path,
        )
        assert result.returncode == 0, result.stderr
        releases.append(release)
        return release

    yield install_release
    for release in releases:
        run_helm(
            "uninstall",
            release.name,
            "--namespace",
            release.namespace,
            kubeconfig=control_plane.kubeconfig_path,
        )


def test_all_namespaces_install_permissions(
    install: Install, create_namespace: Callable[[], str]
) -> None:
    release = install()
    elsewhere = create_namespace()

    assert release.can("create", "secrets", elsewhere)
    assert release.can("delete", "secrets", elsewhere)
    assert release.can("watch", "duplicatecertificates.dupcert.io")
    assert release.can("patch", "duplicatecertificates.dupcert.io", elsewhere)
    assert release.can("patch", "certcentralissuers.dupcert.io/status", elsewhere)
    assert release.can("patch", "clustercertcentralissuers.dupcert.io")
    assert release.can("create", "events", elsewhere)
    assert release.can("watch", "customresourcedefinitions.apiextensions.k8s.io")
    assert release.can("create", "leases.coordination.k8s.io", release.namespace)

    assert not release.can("create", "leases.coordination.k8s.io", elsewhere)
    assert not release.can("delete", "duplicatecertificates.dupcert.io", elsewhere)
    assert not release.can("create", "duplicatecertificates.dupcert.io", elsewhere)
    assert not release.can("delete", "customresourcedefinitions.apiextensions.k8s.io")
    assert not release.can("get", "pods", elsewhere)
    assert not release.can("list", "namespaces")
    assert not release.can("get", "configmaps", elsewhere)


def test_watched_namespaces_install_permissions(
    install: Install, create_namespace: Callable[[], str]
) -> None:
    watched = create_namespace()
    other = create_namespace()
    release = install("--set", f"watchNamespaces={{{watched}}}")

    assert release.can("create", "secrets", watched)
    assert release.can("update", "secrets", watched)
    assert release.can("watch", "duplicatecertificates.dupcert.io", watched)
    assert release.can("update", "duplicatecertificates.dupcert.io/status", watched)
    assert release.can("list", "namespaces")
    assert release.can("watch", "clustercertcentralissuers.dupcert.io")
    # ClusterCertCentralIssuer Secrets and renewal Leases in the operator's namespace.
    assert release.can("get", "secrets", release.namespace)
    assert release.can("update", "leases.coordination.k8s.io", release.namespace)

    assert not release.can("create", "secrets", other)
    assert not release.can("get", "secrets", other)
    assert not release.can("watch", "duplicatecertificates.dupcert.io", other)
    assert not release.can("create", "secrets", release.namespace)
    assert not release.can("list", "secrets", release.namespace)
    assert not release.can("create", "leases.coordination.k8s.io", watched)
    assert not release.can("delete", "customresourcedefinitions.apiextensions.k8s.io")
    assert not release.can("get", "pods", watched)


def test_simulator_install_creates_issuer(install: Install, kubectl: Kubectl) -> None:
    issuer_name = f"simulator-{secrets.token_hex(3)}"
    release = install("--set", f"simulator.enabled=true,simulator.issuerName={issuer_name}")
    try:
        issuer = kubectl.get_json(f"clustercertcentralissuer/{issuer_name}")
        spec = issuer["spec"]
        assert isinstance(spec, dict)
        assert spec["url"] == (
            f"http://{release.name}-dupcert-simulator.{release.namespace}.svc:8443/services/v2"
        )
        secret = kubectl.get_json(
            "secret", "certcentral-simulator-api-key", "-n", release.namespace
        )
        assert secret["type"] == "Opaque"
        service = kubectl.get_json(
            "service", f"{release.name}-dupcert-simulator", "-n", release.namespace
        )
        assert service["kind"] == "Service"
    finally:
        # Helm leaves hook resources behind on uninstall.
        kubectl("delete", "clustercertcentralissuer", issuer_name, "--ignore-not-found")


def test_aggregated_roles_grant_users(install: Install, kubectl: Kubectl) -> None:
    release = install()
    # The test control plane runs no clusterrole-aggregation controller, so nothing merges
    # rules into the built-in view and edit roles, and the test binds the chart's roles.
    user = f"user-{secrets.token_hex(3)}"
    for role in ("view", "edit"):
        kubectl(
            "create",
            "rolebinding",
            f"{user}-{role}",
            f"--clusterrole={release.name}-dupcert-{role}",
            f"--user={user}",
            "--namespace",
            release.namespace,
            check=True,
        )

    def user_can(verb: str, resource: str) -> bool:
        args = [*can_i_args(verb, resource), f"--as={user}", "--namespace", release.namespace]
        result = kubectl(*args)
        return result.stdout.strip() == "yes"

    assert user_can("list", "duplicatecertificates.dupcert.io")
    assert user_can("create", "certcentralissuers.dupcert.io")
    assert not user_can("patch", "duplicatecertificates.dupcert.io/status")
    assert not user_can("get", "secrets")


def service_account_kubeconfig(
    control_plane: ControlPlane, kubectl: Kubectl, release: Release, path: Path
) -> Path:
    """Write a kubeconfig that authenticates as the release's ServiceAccount."""
    account = release.service_account.rsplit(":", 1)[1]
    token = kubectl(
        "create", "token", account, "--namespace", release.namespace, "--duration=1h", check=True
    ).stdout.strip()
    config = yaml.safe_load(control_plane.kubeconfig_path.read_text())
    config["users"] = [{"name": account, "user": {"token": token}}]
    for context in config["contexts"]:
        context["context"]["user"] = account
        context["context"]["namespace"] = release.namespace
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path


@pytest.mark.slow
def test_operator_works_with_chart_rbac(
    install: Install,
    control_plane: ControlPlane,
    kubectl: Kubectl,
    cluster_scenario: Scenario,
    operator_starter: Callable[[str], Callable[..., OperatorProcess]],
    tmp_path: Path,
) -> None:
    """The real operator, as the chart's ServiceAccount, issues a certificate end to end."""
    namespace = cluster_scenario.namespace
    release = install("--set", f"watchNamespaces={{{namespace}}}")
    kubeconfig = service_account_kubeconfig(
        control_plane, kubectl, release, tmp_path / "operator.kubeconfig"
    )
    operator = operator_starter(str(kubeconfig))(namespace, {})
    cluster_scenario.operators.append(operator)

    cluster_scenario.create_issuer()
    cluster_scenario.wait_for_condition("certcentral", getter=cluster_scenario.get_issuer)
    cluster_scenario.create_duplicate_certificate(
        "web", {"dnsNames": ["demo.example.com"], "secretName": "web-tls"}
    )
    cluster_scenario.wait_for_condition("web")

    assert cluster_scenario.secret("web-tls").type == "kubernetes.io/tls"
    # The operator posted Events with its own identity.
    assert cluster_scenario.event_reasons("web")
    for marker in ("Forbidden", "forbidden", "Not enough permissions", "Failed to post an event"):
        assert marker not in operator.logs, f"operator log contains {marker!r}"
