"""Fixtures for the operator tier: the real operator process, a simulator and a scenario.

The operator runs as `python -m dupcert run` in its own process, talking HTTP to the
Kubernetes API under test and to the CertCentral simulator, so a test can kill it at any
moment and start it again.
"""

from __future__ import annotations

import base64
import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import kubernetes
import pytest

from dupcert.resources import GROUP, VERSION
from dupcert.simulator.server import SimulatorServer, ThreadedSimulator

REPO_ROOT = Path(__file__).resolve().parents[2]

# Fast retries so failure scenarios show their second attempt within a test.
OPERATOR_TEST_ENVIRONMENT = {
    "DUPCERT_RETRY_BASE_SECONDS": "2",
    "DUPCERT_RETRY_MAX_SECONDS": "10",
    "DUPCERT_APPROVAL_POLL_SECONDS": "1",
    "DUPCERT_RENEWAL_RECHECK_SECONDS": "2",
    "DUPCERT_RENEWAL_LEASE_SECONDS": "30",
}


class OperatorProcess:
    """One `dupcert run` process with its log file."""

    def __init__(
        self, kubeconfig: str, namespace: str, log_path: Path, environment: dict[str, str]
    ) -> None:
        self.kubeconfig = kubeconfig
        self.namespace = namespace
        self.log_path = log_path
        self.environment = environment
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> OperatorProcess:
        command = [sys.executable, "-m", "dupcert", "run", "--kubeconfig", self.kubeconfig]
        command += ["--standalone", "-n", self.namespace, "--log-format", "plain", "--verbose"]
        environment = {
            **os.environ,
            **OPERATOR_TEST_ENVIRONMENT,
            "DUPCERT_OPERATOR_NAMESPACE": self.namespace,
            **self.environment,
        }
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=environment, cwd=REPO_ROOT
            )
        return self

    def kill(self) -> None:
        """Kill the operator at once, as a crash or an OOM kill would."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    @property
    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class Scenario:
    """A namespace with an API key Secret, a CA bundle and an issuer pointing at a simulator."""

    def __init__(
        self,
        kubeconfig: str,
        namespace: str,
        simulator: ThreadedSimulator,
        start_operator: Callable[..., OperatorProcess],
    ) -> None:
        self.kubeconfig = kubeconfig
        self.namespace = namespace
        self.simulator = simulator
        self._start_operator = start_operator
        configuration = kubernetes.client.Configuration()
        kubernetes.config.load_kube_config(
            config_file=kubeconfig, client_configuration=configuration
        )
        self.api = kubernetes.client.ApiClient(configuration)
        self.core: Any = kubernetes.client.CoreV1Api(self.api)
        self.custom: Any = kubernetes.client.CustomObjectsApi(self.api)
        trust = ssl.create_default_context(cadata=simulator.ca_bundle_pem)
        self.admin = httpx.Client(base_url=simulator.admin_url, verify=trust, timeout=30)
        self.operators: list[OperatorProcess] = []

    def close(self) -> None:
        self.admin.close()
        self.api.close()

    # Setup

    def create_issuer(
        self,
        name: str = "certcentral",
        *,
        api_key: str | None = None,
        product_name_id: str = "ssl_plus",
        organization_id: int | None = None,
    ) -> None:
        self.put_secret(
            "certcentral-api-key", {"api-key": api_key or self.simulator.api_key}, "Opaque"
        )
        self.put_secret("certcentral-ca-bundle", {"ca.crt": self.simulator.ca_bundle_pem}, "Opaque")
        issuer = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "CertCentralIssuer",
            "metadata": {"name": name, "namespace": self.namespace},
            "spec": {
                "url": self.simulator.base_url,
                "apiKeySecretRef": {"name": "certcentral-api-key", "key": "api-key"},
                "organizationId": organization_id or self.simulator.organization_id,
                "productNameId": product_name_id,
                "caBundleSecretRef": {"name": "certcentral-ca-bundle", "key": "ca.crt"},
            },
        }
        self.custom.create_namespaced_custom_object(
            GROUP, VERSION, self.namespace, "certcentralissuers", issuer
        )

    def put_secret(self, name: str, data: dict[str, str], secret_type: str) -> None:
        body = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": self.namespace},
            "type": secret_type,
            "stringData": data,
        }
        try:
            self.core.create_namespaced_secret(self.namespace, body)
        except kubernetes.client.ApiException as error:
            if error.status != 409:
                raise
            self.core.replace_namespaced_secret(name, self.namespace, body)

    def create_duplicate_certificate(self, name: str, spec: dict[str, Any]) -> None:
        body = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "DuplicateCertificate",
            "metadata": {"name": name, "namespace": self.namespace},
            "spec": {"issuerRef": {"name": "certcentral"}, **spec},
        }
        self.custom.create_namespaced_custom_object(
            GROUP, VERSION, self.namespace, "duplicatecertificates", body
        )

    def start_operator(self, **environment: str) -> OperatorProcess:
        operator = self._start_operator(self.namespace, environment)
        self.operators.append(operator)
        return operator

    # Reading

    def get(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self.custom.get_namespaced_custom_object(
            GROUP, VERSION, self.namespace, "duplicatecertificates", name
        )
        return result

    def get_issuer(self, name: str = "certcentral") -> dict[str, Any]:
        result: dict[str, Any] = self.custom.get_namespaced_custom_object(
            GROUP, VERSION, self.namespace, "certcentralissuers", name
        )
        return result

    def condition(self, obj: dict[str, Any], kind: str) -> dict[str, Any] | None:
        conditions = (obj.get("status") or {}).get("conditions") or []
        return next((c for c in conditions if c.get("type") == kind), None)

    def wait_for_condition(
        self,
        name: str,
        kind: str = "Ready",
        status: str = "True",
        reason: str | None = None,
        timeout: float = 60.0,
        getter: Callable[[str], dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Poll until the condition has the status (and reason); fail with the last state."""
        read = getter or self.get
        deadline = time.monotonic() + timeout
        last: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            obj = read(name)
            last = self.condition(obj, kind)
            if (
                last is not None
                and last.get("status") == status
                and (reason is None or last.get("reason") == reason)
            ):
                return obj
            time.sleep(0.2)
        logs = "\n".join(op.logs[-3000:] for op in self.operators)
        raise AssertionError(
            f"{name}: condition {kind} never became {status}/{reason}; last: {last}\n{logs}"
        )

    def secret(self, name: str) -> Any:
        return self.core.read_namespaced_secret(name, self.namespace)

    def secret_bytes(self, name: str, key: str) -> bytes:
        return base64.b64decode(self.secret(name).data[key])

    def events(self) -> list[Any]:
        return list(self.core.list_namespaced_event(self.namespace).items)

    def event_reasons(self, involved_name: str) -> list[str]:
        return [e.reason for e in self.events() if e.involved_object.name == involved_name]

    def wait_for_event(self, involved_name: str, reason: str, timeout: float = 15.0) -> None:
        """Wait for an Event: Kopf posts them from a queue, shortly after the status."""
        deadline = time.monotonic() + timeout
        while reason not in self.event_reasons(involved_name):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"no {reason} Event for {involved_name}; "
                    f"seen: {self.event_reasons(involved_name)}"
                )
            time.sleep(0.2)

    # Simulator admin

    def admin_call(self, method: str, path: str, body: Any = None) -> Any:
        response = self.admin.request(method, path, json=body)
        response.raise_for_status()
        return response.json() if response.content else None

    def counts(self) -> dict[str, int]:
        result: dict[str, int] = self.admin_call("GET", "/counts")
        return result

    def account_id(self) -> int:
        state = self.admin_call("GET", "/state")
        return int(state["accounts"][0]["id"])

    def set_account(self, **settings: Any) -> None:
        self.admin_call("PATCH", f"/accounts/{self.account_id()}", settings)


@pytest.fixture
def threaded_simulator() -> Iterator[ThreadedSimulator]:
    """A CertCentral simulator in its own thread (default seed, TLS, free port)."""
    with SimulatorServer(tls=True).start_in_thread() as simulator:
        yield simulator


@pytest.fixture
def operator_starter(tmp_path: Path) -> Iterator[Callable[[str], Any]]:
    """Return a function that starts operators for a kubeconfig; all are stopped afterwards."""
    started: list[OperatorProcess] = []

    def starter(kubeconfig: str) -> Callable[..., OperatorProcess]:
        def start(namespace: str, environment: dict[str, str]) -> OperatorProcess:
            log_path = tmp_path / f"operator-{len(started)}.log"
            operator = OperatorProcess(kubeconfig, namespace, log_path, environment).start()
            started.append(operator)
            return operator

        return start

    yield starter
    for operator in started:
        operator.stop()


def assert_no_secrets_leaked(scenario: Scenario) -> None:
    """Check logs and Events for the API key and any private key material."""
    api_key = scenario.simulator.api_key
    texts = [op.logs for op in scenario.operators]
    texts += [f"{e.reason} {e.message}" for e in scenario.events()]
    for secret in scenario.core.list_namespaced_secret(scenario.namespace).items:
        for key, value in (secret.data or {}).items():
            if key == "tls.key":
                key_text = base64.b64decode(value).decode(errors="replace")
                body = "".join(key_text.splitlines()[1:-1])
                if len(body) < 64:
                    continue  # not a PEM key (a test's placeholder)
                for text in texts:
                    assert body[:64] not in text.replace("\n", "")
    for text in texts:
        assert api_key not in text
        assert "PRIVATE KEY" not in text


def _finish(scenario: Scenario) -> None:
    try:
        assert_no_secrets_leaked(scenario)
    finally:
        for operator in scenario.operators:
            operator.stop()
        scenario.close()


@pytest.fixture(params=[pytest.param("cluster", marks=pytest.mark.cluster), "kmock"])
def scenario(
    request: pytest.FixtureRequest,
    threaded_simulator: ThreadedSimulator,
    operator_starter: Callable[[str], Callable[..., OperatorProcess]],
) -> Iterator[Scenario]:
    """A scenario on each Kubernetes API: the real kube-apiserver, then the kmock emulator."""
    if request.param == "cluster":
        control_plane = request.getfixturevalue("control_plane")
        request.getfixturevalue("installed_crds")
        kubeconfig = str(control_plane.kubeconfig_path)
        namespace = request.getfixturevalue("namespace")
    else:
        kubeconfig = str(request.getfixturevalue("kmock_kubeconfig"))
        namespace = request.getfixturevalue("kmock_namespace")
    started = Scenario(kubeconfig, namespace, threaded_simulator, operator_starter(kubeconfig))
    yield started
    _finish(started)


@pytest.fixture
def cluster_scenario(
    control_plane: Any,
    installed_crds: list[str],
    namespace: str,
    threaded_simulator: ThreadedSimulator,
    operator_starter: Callable[[str], Callable[..., OperatorProcess]],
) -> Iterator[Scenario]:
    """A scenario on the local control plane only, for what needs kubectl or admission."""
    kubeconfig = str(control_plane.kubeconfig_path)
    scenario = Scenario(kubeconfig, namespace, threaded_simulator, operator_starter(kubeconfig))
    yield scenario
    _finish(scenario)
