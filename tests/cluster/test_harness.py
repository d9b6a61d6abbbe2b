"""The local control plane harness: versions, credentials, and cleanup on every exit path."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
from pathlib import Path

import kubernetes
import pytest

from dupcert.controlplane import (
    BinariesMissingError,
    ControlPlane,
    ControlPlaneStartError,
    binaries_available,
)
from tests.plugins.controlplane import BIN_DIR, REPO_ROOT, Kubectl

pytestmark = pytest.mark.cluster

KUBE_TOOLS_GO_MOD = REPO_ROOT / "hack" / "tools" / "kube-apiserver" / "go.mod"


def pinned_kubernetes_version() -> str:
    match = re.search(r"^\s*k8s\.io/kubernetes (v\S+)", KUBE_TOOLS_GO_MOD.read_text(), re.M)
    assert match, f"{KUBE_TOOLS_GO_MOD} does not require k8s.io/kubernetes"
    return match.group(1)


def port_is_listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def processes_with_argument(argument: str) -> list[int]:
    """Return the pids whose command line contains `argument`."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argument.encode() in cmdline:
            pids.append(int(entry.name))
    return pids


def test_version_reports_pinned_release(control_plane: ControlPlane) -> None:
    version = control_plane.version()
    pinned = pinned_kubernetes_version()

    assert version.git_version == pinned
    assert version.major == "1"
    assert version.minor == pinned.split(".")[1]
    assert version.git_tree_state == "clean"


def test_kubectl_reports_server_version(control_plane: ControlPlane, kubectl: Kubectl) -> None:
    result = kubectl("version", "-o", "json", check=True)

    assert f'"gitVersion": "{pinned_kubernetes_version()}"' in result.stdout


def test_kubernetes_client_uses_kubeconfig(control_plane: ControlPlane) -> None:
    api_client = kubernetes.config.new_client_from_config(
        config_file=str(control_plane.kubeconfig_path)
    )
    with api_client:
        namespace = kubernetes.client.CoreV1Api(api_client).read_namespace("default")

    assert namespace.metadata.name == "default"


def test_helm_uses_kubeconfig(control_plane: ControlPlane) -> None:
    result = subprocess.run(
        [str(BIN_DIR / "helm"), "list", "--all-namespaces"],
        env=control_plane.kubeconfig_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("NAME")


def test_admin_is_in_system_masters(kubectl: Kubectl) -> None:
    result = kubectl("auth", "can-i", "*", "*", "--all-namespaces")

    assert result.stdout.strip() == "yes"


def test_rbac_denies_unbound_user(kubectl: Kubectl) -> None:
    result = kubectl("auth", "can-i", "list", "secrets", "--as=nobody", "--namespace=default")

    assert result.stdout.strip() == "no"


def test_missing_binaries_raise_clear_error(tmp_path: Path) -> None:
    plane = ControlPlane(bin_dir=tmp_path)

    assert not binaries_available(tmp_path)
    assert not ControlPlane.binaries_available(tmp_path)
    with pytest.raises(BinariesMissingError, match="run `make control-plane`"):
        plane.start()


def test_stop_leaves_nothing_behind(control_plane: ControlPlane) -> None:
    plane = ControlPlane(bin_dir=BIN_DIR)
    plane.start()
    pids, ports, directory = plane.pids, plane.ports, plane.directory
    assert all(process_exists(pid) for pid in pids)
    assert port_is_listening(ports[-1])

    plane.stop()

    assert [pid for pid in pids if process_exists(pid)] == []
    assert [port for port in ports if port_is_listening(port)] == []
    assert not directory.exists()


def test_context_exit_after_error_cleans_up(control_plane: ControlPlane) -> None:
    pids: list[int] = []
    ports: list[int] = []
    directories: list[Path] = []

    def fail_inside_context() -> None:
        with ControlPlane(BIN_DIR) as plane:
            pids.extend(plane.pids)
            ports.extend(plane.ports)
            directories.append(plane.directory)
            raise RuntimeError("test body failed")

    with pytest.raises(RuntimeError, match="test body failed"):
        fail_inside_context()

    assert len(pids) == 3 if control_plane.has_controller_manager else 2
    assert [pid for pid in pids if process_exists(pid)] == []
    assert [port for port in ports if port_is_listening(port)] == []
    assert not directories[0].exists()


def test_failed_start_stops_etcd(control_plane: ControlPlane, tmp_path: Path) -> None:
    (tmp_path / "etcd").symlink_to((BIN_DIR / "etcd").resolve())
    broken_apiserver = tmp_path / "kube-apiserver"
    broken_apiserver.write_text("#!/bin/sh\necho 'simulated start failure' >&2\nexit 3\n")
    broken_apiserver.chmod(0o755)
    plane = ControlPlane(bin_dir=tmp_path)

    with pytest.raises(ControlPlaneStartError, match="exited with code 3") as error:
        plane.start()

    assert "simulated start failure" in str(error.value)
    etcd_client_url = f"--listen-client-urls={plane.etcd_url}"
    assert processes_with_argument(etcd_client_url) == []
    assert [port for port in plane.ports if port_is_listening(port)] == []


def test_controller_manager_runs_when_built(control_plane: ControlPlane) -> None:
    built = (BIN_DIR / "kube-controller-manager").exists()

    assert control_plane.has_controller_manager == built
    assert len(control_plane.pids) == (3 if built else 2)


def test_controller_manager_can_be_left_out(control_plane: ControlPlane) -> None:
    with ControlPlane(BIN_DIR, controller_manager=False) as plane:
        assert not plane.has_controller_manager
        assert len(plane.pids) == 2


def test_garbage_collector_deletes_dependents(
    control_plane: ControlPlane, kubectl: Kubectl, namespace: str
) -> None:
    if not control_plane.has_controller_manager:
        pytest.skip("kube-controller-manager is not built")
    kubectl("create", "configmap", "owner", "--namespace", namespace, check=True)
    owner_uid = kubectl(
        "get", "configmap/owner", "--namespace", namespace, "-o", "jsonpath={.metadata.uid}"
    ).stdout
    dependent = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "dependent",
            "ownerReferences": [
                {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner_uid}
            ],
        },
    }
    kubectl.apply(json.dumps(dependent), namespace=namespace, check=True)

    kubectl("delete", "configmap/owner", "--namespace", namespace, check=True)
    result = kubectl(
        "wait", "--for=delete", "configmap/dependent", "--namespace", namespace, "--timeout=60s"
    )

    assert result.returncode == 0, result.stderr


def test_deleted_namespace_goes_away(control_plane: ControlPlane, kubectl: Kubectl) -> None:
    if not control_plane.has_controller_manager:
        pytest.skip("kube-controller-manager is not built")
    name = f"test-delete-{os.getpid()}"
    kubectl("create", "namespace", name, check=True)
    kubectl("create", "configmap", "content", "--namespace", name, check=True)

    kubectl("delete", "namespace", name, "--wait=false", check=True)
    result = kubectl("wait", "--for=delete", f"namespace/{name}", "--timeout=60s")

    assert result.returncode == 0, result.stderr
