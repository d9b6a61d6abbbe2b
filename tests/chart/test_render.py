"""The chart rendered with `helm template`: workload settings, CRDs, sandbox, values schema."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.chart.support import (
    CHART_DIR,
    COMBINATIONS,
    RELEASE,
    RELEASE_NAMESPACE,
    REPO_ROOT,
    find,
    find_one,
    render,
    run_helm,
)

CRD_DIR = REPO_ROOT / "crds"
KEEP_POLICY = "helm.sh/resource-policy"
# Labels and annotations the chart adds to each CRD on top of the file in crds/.
CHART_LABELS = {
    "helm.sh/chart",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/managed-by",
}


def operator_deployment(*value_args: str) -> dict[str, Any]:
    return find_one(render(*value_args), "Deployment", RELEASE)


def operator_container(*value_args: str) -> dict[str, Any]:
    containers = operator_deployment(*value_args)["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["operator"]
    container: dict[str, Any] = containers[0]
    return container


def helm_template_error(*value_args: str) -> str:
    result = run_helm("template", RELEASE, str(CHART_DIR), *value_args)
    assert result.returncode != 0, f"helm template {value_args} should fail but rendered"
    return result.stderr


@pytest.mark.parametrize("name", sorted(COMBINATIONS))
def test_combination_renders(name: str) -> None:
    manifests = render(*COMBINATIONS[name])
    assert find(manifests, "Deployment")
    for doc in manifests:
        assert doc["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"


def test_chart_app_version_matches_package() -> None:
    chart = yaml.safe_load((CHART_DIR / "Chart.yaml").read_text())
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert chart["appVersion"] == project["version"]
    assert chart["apiVersion"] == "v2"


def test_default_image_is_app_version() -> None:
    container = operator_container()
    assert container["image"] == "dupcert:0.1.0"
    assert container["imagePullPolicy"] == "IfNotPresent"


def test_image_digest_replaces_tag() -> None:
    digest = "sha256:" + "a" * 64
    container = operator_container("--set", f"image.tag=ignored,image.digest={digest}")
    assert container["image"] == f"dupcert@{digest}"


def test_single_replica_recreate_strategy() -> None:
    spec = operator_deployment()["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}


def test_operator_arguments_default() -> None:
    args = operator_container()["args"]
    assert args[0] == "run"
    assert "--standalone" in args
    assert "--liveness=http://0.0.0.0:8080/healthz" in args
    assert "--log-format=full" in args
    assert "--verbose" not in args
    assert not [arg for arg in args if arg.startswith("--namespace")]


def test_operator_arguments_configured() -> None:
    args = operator_container(
        "--set",
        "watchNamespaces={team-a,team-b},logLevel=debug,logFormat=json",
        "--set-json",
        'extraArgs=["--kubeconfig=/etc/extra", "two words"]',
    )["args"]
    assert "--namespace=team-a" in args
    assert "--namespace=team-b" in args
    assert "--verbose" in args
    assert "--log-format=json" in args
    assert args[-2:] == ["--kubeconfig=/etc/extra", "two words"]


def test_operator_namespace_from_downward_api() -> None:
    env = operator_container(
        "--set-json", 'extraEnv=[{"name":"DUPCERT_RESYNC_SECONDS","value":"60"}]'
    )["env"]
    assert env[0] == {
        "name": "DUPCERT_OPERATOR_NAMESPACE",
        "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}},
    }
    assert env[1] == {"name": "DUPCERT_RESYNC_SECONDS", "value": "60"}


def test_probes_call_liveness_endpoint() -> None:
    container = operator_container("--set", "healthPort=9090")
    assert container["ports"] == [{"name": "health", "containerPort": 9090, "protocol": "TCP"}]
    assert "--liveness=http://0.0.0.0:9090/healthz" in container["args"]
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "health"}
        assert "enabled" not in container[probe]


def test_probes_can_be_disabled() -> None:
    container = operator_container(
        "--set", "livenessProbe.enabled=false,readinessProbe.enabled=false"
    )
    assert "livenessProbe" not in container
    assert "readinessProbe" not in container


def test_pod_security_context_restricted() -> None:
    pod = operator_deployment()["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 65532
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}


def test_container_security_context_restricted() -> None:
    context = operator_container()["securityContext"]
    assert context["allowPrivilegeEscalation"] is False
    assert context["readOnlyRootFilesystem"] is True
    assert context["capabilities"] == {"drop": ["ALL"]}


def test_writable_tmp_is_empty_dir() -> None:
    pod = operator_deployment()["spec"]["template"]["spec"]
    assert operator_container()["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    assert "emptyDir" in volumes["tmp"]


def test_scheduling_values_reach_pod() -> None:
    pod = operator_deployment(
        "--set",
        "priorityClassName=high,nodeSelector.pool=ops",
        "--set-json",
        'tolerations=[{"key":"ops","operator":"Exists"}]',
        "--set-json",
        'affinity={"nodeAffinity":{}}',
        "--set-json",
        'imagePullSecrets=[{"name":"registry"}]',
    )["spec"]["template"]["spec"]
    assert pod["priorityClassName"] == "high"
    assert pod["nodeSelector"] == {"kubernetes.io/os": "linux", "pool": "ops"}
    assert pod["tolerations"] == [{"key": "ops", "operator": "Exists"}]
    assert pod["affinity"] == {"nodeAffinity": {}}
    assert pod["imagePullSecrets"] == [{"name": "registry"}]


def test_pod_labels_keep_selector() -> None:
    deployment = operator_deployment(
        "--set", "podLabels.team=ops,podLabels.app\\.kubernetes\\.io/component=other"
    )
    selector = deployment["spec"]["selector"]["matchLabels"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert labels["team"] == "ops"
    for key, value in selector.items():
        assert labels[key] == value


def test_pod_annotations_reach_pod() -> None:
    metadata = operator_deployment("--set", "podAnnotations.note=hello")["spec"]["template"][
        "metadata"
    ]
    assert metadata["annotations"] == {"note": "hello"}


def test_service_account_annotations() -> None:
    account = find_one(
        render("--set", "serviceAccount.annotations.role=arn"), "ServiceAccount", RELEASE
    )
    assert account["metadata"]["annotations"] == {"role": "arn"}
    assert account["automountServiceAccountToken"] is True


def load_crd_files() -> dict[str, dict[str, Any]]:
    crds = {}
    for path in sorted(CRD_DIR.glob("*.yaml")):
        document = yaml.safe_load(path.read_text())
        crds[document["metadata"]["name"]] = document
    return crds


def without_chart_metadata(crd: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of a rendered CRD without the labels and annotations the chart adds."""
    metadata = dict(crd["metadata"])
    metadata["labels"] = {k: v for k, v in metadata["labels"].items() if k not in CHART_LABELS}
    annotations = {k: v for k, v in metadata.get("annotations", {}).items() if k != KEEP_POLICY}
    metadata.pop("annotations", None)
    if annotations:
        metadata["annotations"] = annotations
    return {**crd, "metadata": metadata}


def test_crd_source_links_to_crds() -> None:
    source = CHART_DIR / "crds-src"
    assert source.is_symlink()
    assert source.resolve() == CRD_DIR.resolve()
    assert not (CHART_DIR / "crds").exists(), "Helm never upgrades CRDs from a crds/ folder"


def test_rendered_crds_equal_crd_files() -> None:
    rendered = {
        doc["metadata"]["name"]: without_chart_metadata(doc)
        for doc in find(render(), "CustomResourceDefinition")
    }
    files = load_crd_files()
    assert sorted(rendered) == sorted(files)
    for name, crd in files.items():
        assert rendered[name] == crd, f"rendered CRD {name} differs from crds/"


def test_crds_kept_by_default() -> None:
    crds = find(render(), "CustomResourceDefinition")
    assert len(crds) == 3
    for crd in crds:
        assert crd["metadata"]["annotations"][KEEP_POLICY] == "keep"


def test_crds_keep_false_drops_policy() -> None:
    crds = find(render("--set", "crds.keep=false"), "CustomResourceDefinition")
    assert len(crds) == 3
    for crd in crds:
        assert KEEP_POLICY not in crd["metadata"].get("annotations", {})


def test_crds_disabled_renders_none() -> None:
    assert not find(render("--set", "crds.enabled=false"), "CustomResourceDefinition")


def test_simulator_off_by_default() -> None:
    manifests = render()
    assert [doc["metadata"]["name"] for doc in find(manifests, "Deployment")] == [RELEASE]
    assert not find(manifests, "ClusterCertCentralIssuer")
    assert not find(manifests, "Secret")


def test_simulator_sandbox_resources() -> None:
    manifests = render("--set", "simulator.enabled=true")
    name = f"{RELEASE}-simulator"
    deployment = find_one(manifests, "Deployment", name)
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "dupcert:0.1.0"
    assert container["args"] == ["simulator", "--host=0.0.0.0", "--port=8443", "--no-tls"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    service = find_one(manifests, "Service", name)
    assert service["spec"]["ports"][0]["port"] == 8443
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]


def test_simulator_issuer_points_at_service() -> None:
    manifests = render("--set", "simulator.enabled=true")
    issuer = find_one(manifests, "ClusterCertCentralIssuer", "certcentral-simulator")
    secret = find_one(manifests, "Secret", "certcentral-simulator-api-key")
    url = f"http://{RELEASE}-simulator.{RELEASE_NAMESPACE}.svc:8443/services/v2"
    assert issuer["spec"]["url"] == url
    assert issuer["spec"]["apiKeySecretRef"] == {
        "name": "certcentral-simulator-api-key",
        "key": "api-key",
    }
    assert secret["metadata"]["namespace"] == RELEASE_NAMESPACE
    assert secret["stringData"]["api-key"] == "sim-demo-key-0000000000000000"
    # A post-install hook, because Helm cannot map a kind whose CRD the same release creates.
    assert issuer["metadata"]["annotations"]["helm.sh/hook"] == "post-install,post-upgrade"


def test_simulator_seed_matches_issuer() -> None:
    seed_path = REPO_ROOT / "operator" / "dupcert" / "simulator" / "default-seed.yaml"
    seed = yaml.safe_load(seed_path.read_text())
    issuer = find_one(
        render("--set", "simulator.enabled=true"),
        "ClusterCertCentralIssuer",
        "certcentral-simulator",
    )
    assert "sim-demo-key-0000000000000000" in [account["api_key"] for account in seed["accounts"]]
    orders = [(order["organization_id"], order["product_name_id"]) for order in seed["orders"]]
    assert (issuer["spec"]["organizationId"], issuer["spec"]["productNameId"]) in orders


def test_network_policy_allows_needed_egress() -> None:
    manifests = render("--set", "networkPolicy.enabled=true,simulator.enabled=true")
    policy = find_one(manifests, "NetworkPolicy", RELEASE)
    deployment = find_one(manifests, "Deployment", RELEASE)
    assert (
        policy["spec"]["podSelector"]["matchLabels"]
        == (deployment["spec"]["selector"]["matchLabels"])
    )
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    egress_ports = [
        {(port["protocol"], port["port"]) for port in rule["ports"]}
        for rule in policy["spec"]["egress"]
    ]
    assert egress_ports == [
        {("UDP", 53), ("TCP", 53)},
        {("TCP", 443), ("TCP", 6443)},
        {("TCP", 443)},
        {("TCP", 8443)},
    ]


def test_network_policy_off_by_default() -> None:
    assert not find(render(), "NetworkPolicy")


@pytest.mark.parametrize(
    ("value_args", "message"),
    [
        (["--set", "foo=bar"], "additional properties 'foo' not allowed"),
        (["--set", "image.registry=ghcr.io"], "additional properties 'registry' not allowed"),
        (["--set", "replicaCount=two"], "/replicaCount"),
        (["--set", "replicaCount=2"], "/replicaCount"),
        (["--set", "crds.enabled=yes"], "/crds/enabled"),
        (["--set", "crds.keep=1"], "/crds/keep"),
        (["--set", "watchNamespaces=team-a"], "/watchNamespaces"),
        (["--set", "watchNamespaces={Team_A}"], "/watchNamespaces/0"),
        (["--set", "logLevel=trace"], "/logLevel"),
        (["--set", "logFormat=xml"], "/logFormat"),
        (["--set", "image.pullPolicy=Sometimes"], "/image/pullPolicy"),
        (["--set", "simulator.port=0"], "/simulator/port"),
        (["--set", "networkPolicy.enabled=on"], "/networkPolicy/enabled"),
    ],
)
def test_schema_rejects_invalid_values(value_args: list[str], message: str) -> None:
    assert message in helm_template_error(*value_args)


def test_existing_service_account_requires_name() -> None:
    error = helm_template_error("--set", "serviceAccount.create=false")
    assert "serviceAccount.name is required" in error


def schema_node(schema: dict[str, Any], path: list[str]) -> dict[str, Any] | None:
    """Return the schema of a values path, or None inside a free-form object."""
    node = schema
    for key in path:
        properties = node.get("properties")
        if properties is None:
            return None
        node = properties[key]
    return node


def values_keys_without_comment(values_path: Path, schema: dict[str, Any]) -> list[str]:
    """Return the values whose line in values.yaml has no comment line right above it.

    Groups with their own properties (such as `image`) are not values, and keys inside a
    free-form object (such as `resources`) are described by that object's comment.
    """
    missing = []
    lines = values_path.read_text().splitlines()
    key_line = re.compile(r"^(\s*)([A-Za-z][\w./-]*):")
    parents: list[tuple[int, str]] = []
    for index, line in enumerate(lines):
        match = key_line.match(line)
        if not match:
            continue
        indent = len(match.group(1))
        while parents and parents[-1][0] >= indent:
            parents.pop()
        path = [key for _, key in parents] + [match.group(2)]
        parents.append((indent, match.group(2)))
        parent = schema_node(schema, path[:-1])
        if parent is None or "properties" not in parent:
            continue
        if "properties" in parent["properties"][path[-1]]:
            continue
        if not lines[index - 1].strip().startswith("#"):
            missing.append(f"line {index + 1}: {'.'.join(path)}")
    return missing


def load_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((CHART_DIR / "values.schema.json").read_text())
    return schema


def test_every_value_has_comment() -> None:
    missing = values_keys_without_comment(CHART_DIR / "values.yaml", load_schema())
    assert missing == []


def test_schema_covers_every_value() -> None:
    schema = load_schema()
    values = yaml.safe_load((CHART_DIR / "values.yaml").read_text())
    assert schema["additionalProperties"] is False
    assert sorted(schema["properties"]) == sorted(values)


def test_helpers_are_prefixed() -> None:
    names = []
    for path in (CHART_DIR / "templates").iterdir():
        names += re.findall(r'define\s+"([^"]+)"', path.read_text())
    assert names
    assert [name for name in names if not name.startswith("dupcert.")] == []


def test_no_old_hook_annotations() -> None:
    text = "\n".join(path.read_text() for path in (CHART_DIR / "templates").iterdir())
    assert "crd-install" not in text
    manifests = render("--set", "simulator.enabled=true")
    hooked = [
        doc["kind"] for doc in manifests if "helm.sh/hook" in doc["metadata"].get("annotations", {})
    ]
    assert hooked == ["ClusterCertCentralIssuer"]
