"""RBAC rendered by the chart: exactly the verbs the operator uses, in the right scope.

The expected grants are written out here, apart from the templates, so a rule added to or
dropped from a template fails a test. What the operator calls:
- Kopf lists, watches and patches (finalizer, dupcert.io annotations) the three kinds;
  the handlers read them by name and write their status.
- Kopf watches CustomResourceDefinitions, and namespaces when it runs for listed
  namespaces; it posts core v1 Events.
- The handlers read API key and CA bundle Secrets. They create, replace and delete TLS
  and next-private-key Secrets.
- Renewal takes Leases in the operator's namespace with get, create and update.
"""

from __future__ import annotations

import pytest

from tests.chart.support import (
    RELEASE,
    RELEASE_NAMESPACE,
    Grants,
    find,
    find_one,
    grants_of,
    merge_grants,
    operator_grants,
    render,
)

NAMESPACED: Grants = {
    ("dupcert.io", "duplicatecertificates"): {"get", "list", "watch", "patch"},
    ("dupcert.io", "certcentralissuers"): {"get", "list", "watch", "patch"},
    ("dupcert.io", "duplicatecertificates/status"): {"get", "patch", "update"},
    ("dupcert.io", "certcentralissuers/status"): {"get", "patch", "update"},
    ("", "secrets"): {"get", "list", "watch", "create", "update", "patch", "delete"},
    ("", "events"): {"create", "patch"},
    ("events.k8s.io", "events"): {"create", "patch"},
}
CLUSTER_SCOPED: Grants = {
    ("apiextensions.k8s.io", "customresourcedefinitions"): {"get", "list", "watch"},
    ("dupcert.io", "clustercertcentralissuers"): {"get", "list", "watch", "patch"},
    ("dupcert.io", "clustercertcentralissuers/status"): {"get", "patch", "update"},
}
NAMESPACE_WATCH: Grants = {("", "namespaces"): {"list", "watch"}}
LEASES: Grants = {("coordination.k8s.io", "leases"): {"get", "create", "update"}}
# With listed namespaces, the operator's own namespace also serves ClusterCertCentralIssuer
# Secrets and the Events of cluster-scoped objects.
OWN_NAMESPACE_EXTRA: Grants = {("", "secrets"): {"get"}, ("", "events"): {"create", "patch"}}

SERVICE_ACCOUNT = RELEASE


def test_all_namespaces_cluster_role_grants() -> None:
    cluster, per_namespace = operator_grants(render(), SERVICE_ACCOUNT, RELEASE_NAMESPACE)
    assert cluster == merge_grants(CLUSTER_SCOPED, NAMESPACED)
    assert per_namespace == {RELEASE_NAMESPACE: LEASES}


def test_watched_namespaces_get_roles() -> None:
    manifests = render("--set", "watchNamespaces={team-a,team-b}")
    cluster, per_namespace = operator_grants(manifests, SERVICE_ACCOUNT, RELEASE_NAMESPACE)
    assert cluster == merge_grants(CLUSTER_SCOPED, NAMESPACE_WATCH)
    assert set(per_namespace) == {"team-a", "team-b", RELEASE_NAMESPACE}
    assert per_namespace["team-a"] == NAMESPACED
    assert per_namespace["team-b"] == NAMESPACED
    assert per_namespace[RELEASE_NAMESPACE] == merge_grants(LEASES, OWN_NAMESPACE_EXTRA)


def test_watched_namespaces_roles_placed_exactly() -> None:
    manifests = render("--set", "watchNamespaces={team-a,team-b}")
    role_namespaces = sorted(doc["metadata"]["namespace"] for doc in find(manifests, "Role"))
    assert role_namespaces == sorted(["team-a", "team-b", RELEASE_NAMESPACE])
    binding_namespaces = sorted(
        doc["metadata"]["namespace"] for doc in find(manifests, "RoleBinding")
    )
    assert binding_namespaces == role_namespaces


def test_release_namespace_also_watched() -> None:
    manifests = render("--set", f"watchNamespaces={{{RELEASE_NAMESPACE}}}")
    _, per_namespace = operator_grants(manifests, SERVICE_ACCOUNT, RELEASE_NAMESPACE)
    assert set(per_namespace) == {RELEASE_NAMESPACE}
    assert per_namespace[RELEASE_NAMESPACE] == merge_grants(NAMESPACED, LEASES, OWN_NAMESPACE_EXTRA)


def test_no_role_grants_pods_or_wildcards() -> None:
    manifests = render("--set", "watchNamespaces={team-a}")
    for role in find(manifests, "Role") + find(manifests, "ClusterRole"):
        grants = grants_of(role)
        assert ("", "pods") not in grants
        for verbs in grants.values():
            assert "*" not in verbs
            assert "escalate" not in verbs
            assert "bind" not in verbs
            assert "impersonate" not in verbs


def test_aggregated_roles_carry_labels() -> None:
    manifests = render()
    view = find_one(manifests, "ClusterRole", f"{RELEASE}-view")
    edit = find_one(manifests, "ClusterRole", f"{RELEASE}-edit")
    cluster_view = find_one(manifests, "ClusterRole", f"{RELEASE}-cluster-view")
    prefix = "rbac.authorization.k8s.io/aggregate-to-"
    for role_name in ("view", "edit", "admin"):
        assert view["metadata"]["labels"][f"{prefix}{role_name}"] == "true"
    for role_name in ("edit", "admin"):
        assert edit["metadata"]["labels"][f"{prefix}{role_name}"] == "true"
    assert f"{prefix}view" not in edit["metadata"]["labels"]
    assert cluster_view["metadata"]["labels"][f"{prefix}cluster-reader"] == "true"


def test_aggregated_roles_verbs() -> None:
    manifests = render()
    kinds = ("duplicatecertificates", "certcentralissuers")
    view = grants_of(find_one(manifests, "ClusterRole", f"{RELEASE}-view"))
    edit = grants_of(find_one(manifests, "ClusterRole", f"{RELEASE}-edit"))
    cluster_view = grants_of(find_one(manifests, "ClusterRole", f"{RELEASE}-cluster-view"))
    assert view == {("dupcert.io", kind): {"get", "list", "watch"} for kind in kinds}
    writes = {"create", "update", "patch", "delete", "deletecollection"}
    assert edit == {("dupcert.io", kind): writes for kind in kinds}
    assert cluster_view == {("dupcert.io", "clustercertcentralissuers"): {"get", "list", "watch"}}


def test_aggregated_roles_not_bound() -> None:
    manifests = render()
    bound = {doc["roleRef"]["name"] for doc in find(manifests, "ClusterRoleBinding")}
    assert bound == {RELEASE}


def test_aggregated_roles_can_be_disabled() -> None:
    manifests = render("--set", "rbac.aggregateClusterRoles=false")
    names = {doc["metadata"]["name"] for doc in find(manifests, "ClusterRole")}
    assert names == {RELEASE}


@pytest.mark.parametrize("scope", [[], ["--set", "watchNamespaces={team-a}"]])
def test_rbac_create_false_renders_none(scope: list[str]) -> None:
    manifests = render("--set", "rbac.create=false", *scope)
    kinds = {doc["kind"] for doc in manifests}
    assert "Role" not in kinds
    assert "RoleBinding" not in kinds
    assert "ClusterRoleBinding" not in kinds


def test_existing_service_account_is_bound() -> None:
    manifests = render("--set", "serviceAccount.create=false,serviceAccount.name=shared-sa")
    assert not find(manifests, "ServiceAccount")
    cluster, _ = operator_grants(manifests, "shared-sa", RELEASE_NAMESPACE)
    assert cluster == merge_grants(CLUSTER_SCOPED, NAMESPACED)
    deployment = find_one(manifests, "Deployment", RELEASE)
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == "shared-sa"
