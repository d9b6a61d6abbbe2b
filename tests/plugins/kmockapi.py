"""Fixtures for the kmock tier: the in-process Kubernetes API emulator on 127.0.0.1.

`kmock_kubernetes` is session scoped: one emulator serves the whole session with the CRDs from
`crds/` applied once, so tests that need the CRDs pay for them once. Tests stay apart through
`kmock_namespace`, a new random namespace per test that is deleted afterwards together with
its objects. A test that needs other emulator settings starts its own `KmockKubernetes`.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from pathlib import Path

import kubernetes
import pytest
from kubernetes.client.exceptions import ApiException

from dupcert.kmockapi import KmockKubernetes

REPO_ROOT = Path(__file__).resolve().parents[2]
CRD_DIR = REPO_ROOT / "crds"


@pytest.fixture(scope="session")
def kmock_kubernetes() -> Iterator[KmockKubernetes]:
    """A running Kubernetes API emulator with the dupcert CRDs, for the whole session."""
    with KmockKubernetes() as emulator:
        emulator.apply_crds(CRD_DIR)
        yield emulator


@pytest.fixture(scope="session")
def kmock_kubeconfig(
    kmock_kubernetes: KmockKubernetes, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A kubeconfig file pointing at the session's emulator."""
    return kmock_kubernetes.write_kubeconfig(tmp_path_factory.mktemp("kmock") / "kubeconfig")


@pytest.fixture
def kmock_api_client(kmock_kubernetes: KmockKubernetes) -> Iterator[kubernetes.client.ApiClient]:
    """A `kubernetes` client of the session's emulator, closed after the test."""
    client = kubernetes.client.ApiClient(kmock_kubernetes.client_configuration())
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def kmock_namespace(kmock_api_client: kubernetes.client.ApiClient) -> Iterator[str]:
    """A new namespace in the session's emulator. Deleting it afterwards deletes its objects."""
    core = kubernetes.client.CoreV1Api(kmock_api_client)
    name = f"test-{secrets.token_hex(4)}"
    core.create_namespace({"metadata": {"name": name}})
    yield name
    with contextlib.suppress(ApiException):
        core.delete_namespace(name)
