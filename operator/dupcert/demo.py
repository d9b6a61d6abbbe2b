"""``dupcert demo``: the main job end to end on this machine.

It starts the CertCentral simulator with its default seed and a Kubernetes API: the local
control plane when its binaries are built, the kmock emulator otherwise, or a cluster given
with ``--kubeconfig``. It applies the CRDs and the examples, runs the operator and waits for
Ready. Then it prints the resource's status and a summary of its Secret, never the key.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import kubernetes
import yaml
from cryptography import x509

from dupcert.pki import certificate_names, is_ca, load_pem_chain, serial_to_hex
from dupcert.resources import DUPLICATE_CERTIFICATE_PLURAL, GROUP, VERSION

DEMO_NAMESPACE = "dupcert-demo"
OPERATOR_NAMESPACE = "dupcert-system"
PREFERRED_SIMULATOR_PORT = 8443


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--kubeconfig",
        help="run against this existing cluster instead of starting a local Kubernetes API",
    )
    parser.add_argument(
        "--emulator",
        action="store_true",
        help="use the in-process kmock emulator even when the local control plane is built",
    )
    parser.add_argument(
        "--bin-dir",
        default=".bin",
        help="folder with kube-apiserver, etcd and kubectl (default: .bin)",
    )
    parser.add_argument(
        "--skip-renewal",
        action="store_true",
        help="stop after Ready instead of also showing a renewal with a short-lived order",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        help="seconds to wait for Ready (default: 120)",
    )


def say(message: str) -> None:
    print(f"demo: {message}", flush=True)


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@contextlib.contextmanager
def _kubernetes_api(args: argparse.Namespace, workdir: Path) -> Iterator[tuple[str, str]]:
    """Yield a kubeconfig path and a description of the Kubernetes API behind it."""
    if args.kubeconfig:
        yield args.kubeconfig, f"the cluster of {args.kubeconfig}"
        return
    from dupcert.controlplane import ControlPlane

    bin_dir = Path(args.bin_dir)
    if not args.emulator and ControlPlane.binaries_available(bin_dir):
        with ControlPlane(bin_dir) as control_plane:
            version = control_plane.version().git_version
            yield (
                str(control_plane.kubeconfig_path),
                f"the local control plane (kube-apiserver {version} and etcd on 127.0.0.1)",
            )
        return
    from dupcert.kmockapi import KmockKubernetes

    reason = "requested" if args.emulator else f"no control plane binaries in {bin_dir}"
    with KmockKubernetes() as emulator:
        kubeconfig = workdir / "kmock.kubeconfig"
        emulator.write_kubeconfig(kubeconfig)
        emulator.apply_crds(Path("crds"))
        yield str(kubeconfig), f"the in-process kmock emulator ({reason})"


def _api_client(kubeconfig: str) -> kubernetes.client.ApiClient:
    configuration = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(  # type: ignore[no-untyped-call]
        config_file=kubeconfig, client_configuration=configuration
    )
    return kubernetes.client.ApiClient(configuration)


def apply_documents(api: kubernetes.client.ApiClient, documents: list[dict[str, Any]]) -> None:
    """Create or update Namespaces, Secrets, CRDs and dupcert.io objects."""
    # Plain dicts go through the typed API classes, which accept them at run time.
    core: Any = kubernetes.client.CoreV1Api(api)
    extensions: Any = kubernetes.client.ApiextensionsV1Api(api)
    custom: Any = kubernetes.client.CustomObjectsApi(api)
    for document in documents:
        kind = document["kind"]
        name = document["metadata"]["name"]
        namespace = document["metadata"].get("namespace")
        if kind == "Namespace":
            with contextlib.suppress(kubernetes.client.ApiException):
                core.create_namespace(document)
        elif kind == "Secret":
            try:
                core.create_namespaced_secret(namespace, document)
            except kubernetes.client.ApiException as error:
                if error.status != 409:
                    raise
                core.replace_namespaced_secret(name, namespace, document)
        elif kind == "CustomResourceDefinition":
            try:
                extensions.create_custom_resource_definition(document)
            except kubernetes.client.ApiException as error:
                if error.status != 409:
                    raise
                current = extensions.read_custom_resource_definition(name)
                document["metadata"]["resourceVersion"] = current.metadata.resource_version
                extensions.replace_custom_resource_definition(name, document)
        elif document["apiVersion"].startswith(f"{GROUP}/"):
            plural = kind.lower() + "s"
            try:
                if namespace:
                    custom.create_namespaced_custom_object(
                        GROUP, VERSION, namespace, plural, document
                    )
                else:
                    custom.create_cluster_custom_object(GROUP, VERSION, plural, document)
            except kubernetes.client.ApiException as error:
                if error.status != 409:
                    raise
        else:
            raise ValueError(f"the demo cannot apply a {kind}")


def wait_for_crds(api: kubernetes.client.ApiClient, timeout: float) -> None:
    extensions = kubernetes.client.ApiextensionsV1Api(api)
    deadline = time.monotonic() + timeout
    for path in sorted(Path("crds").glob("*.yaml")):
        name = yaml.safe_load(path.read_text())["metadata"]["name"]
        while True:
            crd = extensions.read_custom_resource_definition(name)
            conditions = (crd.status.conditions if crd.status else None) or []
            if any(c.type == "Established" and c.status == "True" for c in conditions):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"CRD {name} did not become Established")
            time.sleep(0.2)


def load_examples(simulator_url: str) -> list[dict[str, Any]]:
    """Read examples/, pointing the issuer at the running simulator in the demo namespace."""
    documents = []
    for path in sorted(Path("examples").glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if not document:
                continue
            document["metadata"]["namespace"] = DEMO_NAMESPACE
            if document["kind"] == "CertCentralIssuer":
                document["spec"]["url"] = simulator_url
            documents.append(document)
    return documents


def _ready_condition(resource: dict[str, Any]) -> dict[str, Any] | None:
    conditions = (resource.get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c.get("type") == "Ready"), None)


def wait_for_ready(
    api: kubernetes.client.ApiClient, name: str, timeout: float, operator: subprocess.Popen[bytes]
) -> dict[str, Any]:
    custom: Any = kubernetes.client.CustomObjectsApi(api)
    deadline = time.monotonic() + timeout
    last_message = None
    while True:
        resource = custom.get_namespaced_custom_object(
            GROUP, VERSION, DEMO_NAMESPACE, DUPLICATE_CERTIFICATE_PLURAL, name
        )
        ready = _ready_condition(resource)
        if ready is not None and ready.get("message") != last_message:
            last_message = ready.get("message")
            say(f"Ready={ready.get('status')} ({ready.get('reason')}): {last_message}")
        if ready is not None and ready.get("status") == "True":
            assert isinstance(resource, dict)
            return resource
        if operator.poll() is not None:
            raise RuntimeError(f"the operator exited with code {operator.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"DuplicateCertificate {name} was not Ready after {timeout:.0f} s")
        time.sleep(0.2)


def describe_secret(api: kubernetes.client.ApiClient, name: str) -> list[str]:
    """Summarise the TLS Secret: subject, SANs, serial, issuer, notAfter, order id. No key."""
    core: Any = kubernetes.client.CoreV1Api(api)
    secret = core.read_namespaced_secret(name, DEMO_NAMESPACE)
    chain = load_pem_chain(base64.b64decode(secret.data["tls.crt"]).decode())
    leaf: x509.Certificate = next(c for c in chain if not is_ca(c))
    annotations = secret.metadata.annotations or {}
    return [
        f"Secret {DEMO_NAMESPACE}/{name} ({secret.type}), keys: {', '.join(sorted(secret.data))}",
        f"  subject:   {leaf.subject.rfc4514_string()}",
        f"  SANs:      {', '.join(certificate_names(leaf))}",
        f"  serial:    {serial_to_hex(leaf.serial_number)}",
        f"  issuer:    {leaf.issuer.rfc4514_string()}",
        f"  notAfter:  {leaf.not_valid_after_utc.isoformat()}",
        f"  order id:  {annotations.get('dupcert.io/order-id')}",
        f"  chain:     {len(chain)} certificates in tls.crt (leaf and intermediates)",
    ]


def _kubectl(kubeconfig: str, bin_dir: str) -> list[str] | None:
    for candidate in (Path(bin_dir) / "kubectl", Path(sys.prefix) / "bin" / "kubectl"):
        if candidate.exists():
            return [str(candidate), "--kubeconfig", kubeconfig, "-n", DEMO_NAMESPACE]
    found = shutil.which("kubectl")
    return [found, "--kubeconfig", kubeconfig, "-n", DEMO_NAMESPACE] if found else None


def _show_with_kubectl(kubectl: list[str], name: str) -> None:
    for arguments in (
        ["wait", "--for=condition=Ready", f"dupcert/{name}", "--timeout=30s"],
        ["get", "dupcert", "-o", "wide"],
    ):
        say(f"$ kubectl {' '.join(arguments)}")
        result = subprocess.run(  # noqa: S603  (our own kubectl, fixed arguments)
            [*kubectl, *arguments], capture_output=True, text=True, timeout=60, check=False
        )
        print(result.stdout.rstrip() or result.stderr.rstrip(), flush=True)


def main(args: argparse.Namespace) -> int:
    from dupcert.simulator.server import SimulatorServer

    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="dupcert-demo-")))
        port = PREFERRED_SIMULATOR_PORT if _port_is_free(PREFERRED_SIMULATOR_PORT) else 0
        simulator = stack.enter_context(SimulatorServer(port=port).start_in_thread())
        say(f"CertCentral simulator at {simulator.base_url} (sandbox account, default seed)")

        kubeconfig, description = stack.enter_context(_kubernetes_api(args, workdir))
        say(f"Kubernetes API: {description}")
        api = _api_client(kubeconfig)
        stack.callback(api.close)

        crds = [yaml.safe_load(p.read_text()) for p in sorted(Path("crds").glob("*.yaml"))]
        apply_documents(api, crds)
        wait_for_crds(api, 60)
        namespaces = [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}}
            for n in (DEMO_NAMESPACE, OPERATOR_NAMESPACE)
        ]
        ca_bundle = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "certcentral-ca-bundle", "namespace": DEMO_NAMESPACE},
            "type": "Opaque",
            "stringData": {"ca.crt": simulator.ca_bundle_pem},
        }
        examples = load_examples(simulator.base_url)
        apply_documents(api, [*namespaces, ca_bundle, *examples])
        say(f"Applied crds/ and examples/ in namespace {DEMO_NAMESPACE}")

        log_path = workdir / "operator.log"
        log_file = stack.enter_context(log_path.open("wb"))
        environment = {**os.environ, "DUPCERT_OPERATOR_NAMESPACE": OPERATOR_NAMESPACE}
        command = [sys.executable, "-m", "dupcert", "run", "--kubeconfig", kubeconfig]
        command += ["--standalone", "-n", DEMO_NAMESPACE, "--log-format", "plain"]
        operator = subprocess.Popen(  # noqa: S603  (this Python, fixed arguments)
            command, stdout=log_file, stderr=subprocess.STDOUT, env=environment
        )
        stack.callback(_stop, operator)
        say(f"Operator started (pid {operator.pid}); log: {log_path}")

        name = next(d for d in examples if d["kind"] == "DuplicateCertificate")["metadata"]["name"]
        started = time.monotonic()
        try:
            resource = wait_for_ready(api, name, args.timeout, operator)
        except (TimeoutError, RuntimeError) as error:
            say(f"FAILED: {error}")
            print(log_path.read_text()[-4000:], flush=True)
            return 1
        say(
            f"DuplicateCertificate {DEMO_NAMESPACE}/{name} is Ready after "
            f"{time.monotonic() - started:.1f} s"
        )

        kubectl = _kubectl(kubeconfig, args.bin_dir)
        if kubectl is not None and "kmock" not in description:
            _show_with_kubectl(kubectl, name)
        say("status:")
        print(yaml.safe_dump(resource.get("status"), sort_keys=False).rstrip(), flush=True)
        for line in describe_secret(api, resource["spec"]["secretName"]):
            say(line)
        say("Ready")
        if args.skip_renewal:
            return 0
        try:
            show_renewal(api, simulator, args.timeout, operator)
        except (TimeoutError, RuntimeError) as error:
            say(f"FAILED: {error}")
            print(log_path.read_text()[-4000:], flush=True)
            return 1
    return 0


def show_renewal(
    api: kubernetes.client.ApiClient,
    simulator: Any,
    timeout: float,
    operator: subprocess.Popen[bytes],
) -> None:
    """Shorten time: a 40-second order is renewed, and its duplicate follows the new order."""
    names = ["short.demo.example.com", "www.short.demo.example.com"]
    trust = ssl.create_default_context(cadata=simulator.ca_bundle_pem)
    with httpx.Client(base_url=simulator.admin_url, verify=trust, timeout=30) as admin:
        created = admin.post(
            "/orders",
            json={
                "organization_id": simulator.organization_id,
                "product_name_id": "ssl_plus",
                "common_name": names[0],
                "dns_names": names,
                "status": "issued",
                "valid_for": "40s",
            },
        )
        created.raise_for_status()
        old_order = int(created.json()["id"])
        say(f"Renewal: seeded order {old_order} for {names[0]}, valid for 40 s")
        resource = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "DuplicateCertificate",
            "metadata": {"name": "short", "namespace": DEMO_NAMESPACE},
            "spec": {
                "issuerRef": {"name": "certcentral"},
                "commonName": names[0],
                "dnsNames": names,
                "secretName": "short-tls",
                "privateKey": {"algorithm": "ECDSA", "size": 256},
            },
        }
        apply_documents(api, [resource])
        ready = wait_for_ready(api, "short", timeout, operator)
        say(
            f"Renewal: duplicate of order {ready['status']['orderId']} until "
            f"{ready['status']['notAfter']}, renewal at {ready['status']['renewalTime']}"
        )
        renewed = admin.post(f"/orders/{old_order}/renew", json={})
        renewed.raise_for_status()
        new_order = int(renewed.json()["id"])
        say(f"Renewal: order {old_order} renewed in CertCentral as order {new_order}")

    custom: Any = kubernetes.client.CustomObjectsApi(api)
    deadline = time.monotonic() + timeout
    while True:
        current = custom.get_namespaced_custom_object(
            GROUP, VERSION, DEMO_NAMESPACE, DUPLICATE_CERTIFICATE_PLURAL, "short"
        )
        status = current.get("status") or {}
        if status.get("orderId") == new_order:
            break
        if operator.poll() is not None:
            raise RuntimeError(f"the operator exited with code {operator.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"the duplicate did not move to order {new_order}")
        time.sleep(0.5)
    say(
        f"Renewal: at its renewal time the duplicate moved from order {old_order} to the "
        f"renewed order {new_order}, without renewing anything itself"
    )
    for line in describe_secret(api, "short-tls"):
        say(line)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
