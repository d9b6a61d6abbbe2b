"""`helm lint --strict` and Kubernetes schema validation of every documented combination."""

from __future__ import annotations

from typing import Any

import jsonschema  # type: ignore[import-untyped]
import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from tests.chart.support import CHART_DIR, COMBINATIONS, REPO_ROOT, find, render, run_helm

KUBERNETES_VERSION = "1.37.0"
# Kinds that no built-in schema describes, so they are checked against their CRD instead.
CUSTOM_KINDS = {"ClusterCertCentralIssuer"}


@pytest.mark.parametrize("name", sorted(COMBINATIONS))
def test_helm_lint_strict_passes(name: str) -> None:
    result = run_helm("lint", "--strict", str(CHART_DIR), *COMBINATIONS[name])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("name", sorted(COMBINATIONS))
def test_manifests_match_kubernetes_schemas(name: str) -> None:
    checked = 0
    for manifest in render(*COMBINATIONS[name]):
        if manifest["kind"] in CUSTOM_KINDS:
            continue
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
        checked += 1
    assert checked > 0


def crd_schema(kind: str) -> dict[str, Any]:
    for path in (REPO_ROOT / "crds").glob("*.yaml"):
        crd = yaml.safe_load(path.read_text())
        if crd["spec"]["names"]["kind"] == kind:
            schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
            return schema
    raise AssertionError(f"no CRD in crds/ defines {kind}")


def test_simulator_issuer_matches_crd() -> None:
    issuers = find(render("--set", "simulator.enabled=true"), "ClusterCertCentralIssuer")
    assert len(issuers) == 1
    # The CRD schema is OpenAPI v3. jsonschema ignores its x-kubernetes-* keys and still
    # checks the types, patterns and required fields.
    jsonschema.validate(issuers[0], crd_schema("ClusterCertCentralIssuer"))
