"""Run a real, throwaway Kubernetes control plane (etcd and kube-apiserver) on 127.0.0.1.

This is the same idea as controller-runtime's envtest: the real API server with its admission,
CRD validation (OpenAPI schema and CEL) and RBAC, but no scheduler and no kubelet, so no pod
ever runs. When kube-controller-manager is in the binary directory it runs too, with only the
garbage collector and the namespace, service account and root CA publisher controllers.
Without it nothing deletes dependents of a deleted owner and namespaces stay Terminating.
`hack/build-control-plane.sh` puts the binaries into `.bin/`.

Each `ControlPlane` gets its own temporary directory, its own CA and serving certificate,
free ports and a random admin token (a member of `system:masters`), and writes a kubeconfig
that Kopf, the `kubernetes` client, kubectl and helm can use.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import datetime
import ipaddress
import logging
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import httpx
import pydantic
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

logger = logging.getLogger(__name__)

REQUIRED_BINARIES = ("etcd", "kube-apiserver")
CONTROLLER_MANAGER = "kube-controller-manager"
# Only the controllers that work without nodes and that tests notice when missing.
CONTROLLERS = (
    "garbage-collector-controller",
    "namespace-controller",
    "serviceaccount-controller",
    "root-ca-certificate-publisher-controller",
)
ADMIN_USER = "dupcert-admin"
ADMIN_GROUP = "system:masters"

# Upper bounds for one start on a slow machine; a 2-core machine needs a few seconds.
READY_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 15.0
# A free port found by binding port 0 can be taken by another process before etcd or
# kube-apiserver binds it, so a start that fails on a port conflict is retried with new ports.
START_ATTEMPTS = 3


class ControlPlaneError(Exception):
    """Base class for errors of the local control plane."""


class BinariesMissingError(ControlPlaneError):
    """etcd, kube-apiserver or a required kube-controller-manager is not in the binary directory."""


class ControlPlaneStartError(ControlPlaneError):
    """A process exited or did not become ready in time."""


class KubeVersion(pydantic.BaseModel):
    """Response of the API server's `/version` endpoint."""

    model_config = pydantic.ConfigDict(populate_by_name=True, extra="ignore")

    major: str
    minor: str
    git_version: str = pydantic.Field(alias="gitVersion")
    git_tree_state: str = pydantic.Field(alias="gitTreeState")
    go_version: str = pydantic.Field(alias="goVersion")
    platform: str


def binaries_available(bin_dir: Path) -> bool:
    """Return whether `bin_dir` contains executable etcd and kube-apiserver binaries."""
    return all(os.access(bin_dir / name, os.X_OK) for name in REQUIRED_BINARIES)


def find_free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class _Pki:
    """A throwaway CA, the API server's serving certificate and the service-account key."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        now = datetime.datetime.now(datetime.UTC)
        not_before = now - datetime.timedelta(minutes=5)
        not_after = now + datetime.timedelta(days=2)

        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dupcert-test-ca")])
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(ca_key, hashes.SHA256())
        )

        serving_key = ec.generate_private_key(ec.SECP256R1())
        serving_cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
            .issuer_name(ca_name)
            .public_key(serving_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(
                x509.SubjectAlternativeName(
                    [
                        x509.DNSName("localhost"),
                        x509.DNSName("kubernetes.default.svc"),
                        x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")),
                    ]
                ),
                critical=False,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256())
        )

        self.ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
        self.ca_path = directory / "ca.crt"
        self.serving_cert_path = directory / "apiserver.crt"
        self.serving_key_path = directory / "apiserver.key"
        # The API server signs service-account tokens with the private key and verifies them
        # with the public key, which it cannot read from the PKCS #8 private key file.
        self.service_account_key_path = directory / "service-account.key"
        self.service_account_public_key_path = directory / "service-account.pub"

        self.ca_path.write_bytes(self.ca_pem)
        self.serving_cert_path.write_bytes(serving_cert.public_bytes(serialization.Encoding.PEM))
        _write_private_key(self.serving_key_path, serving_key)
        service_account_key = ec.generate_private_key(ec.SECP256R1())
        _write_private_key(self.service_account_key_path, service_account_key)
        self.service_account_public_key_path.write_bytes(
            service_account_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )


def _write_private_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.touch(mode=0o600)
    path.write_bytes(pem)


class _Process:
    """A child process in its own process group, with its output in a log file."""

    def __init__(self, name: str, argv: Sequence[str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        with log_path.open("wb") as log_file:
            self.popen = subprocess.Popen(  # noqa: S603 (argv is built here, not from input)
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        logger.debug("started %s, pid %d", name, self.popen.pid)

    def exited(self) -> bool:
        return self.popen.poll() is not None

    def log_tail(self, lines: int = 25) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Stop the whole process group: SIGTERM, then SIGKILL after the stop timeout."""
        pgid = self.popen.pid
        if self.popen.poll() is None:
            _signal_group(pgid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                logger.warning("%s did not stop after SIGTERM; sending SIGKILL", self.name)
        # Also reap children that the main process may have left in the group.
        _signal_group(pgid, signal.SIGKILL)
        self.popen.wait()
        logger.debug("stopped %s, exit code %s", self.name, self.popen.returncode)


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)


class ControlPlane:
    """etcd, kube-apiserver and optionally kube-controller-manager on 127.0.0.1.

    `start()` starts them and `stop()` stops them and removes their directory.

    Use it as a context manager. `stop()` also runs at interpreter exit, so an aborted test
    session leaves no process or directory behind (except after SIGKILL of Python itself).
    """

    def __init__(
        self, bin_dir: Path = Path(".bin"), controller_manager: bool | None = None
    ) -> None:
        """Prepare a control plane that runs the binaries in `bin_dir`.

        `controller_manager` selects kube-controller-manager: True requires it, False leaves it
        out, and None (the default) starts it when `bin_dir` contains it.
        """
        self.bin_dir = bin_dir.resolve()
        if controller_manager is None:
            controller_manager = os.access(self.bin_dir / CONTROLLER_MANAGER, os.X_OK)
        self.has_controller_manager = controller_manager
        self.admin_token = secrets.token_urlsafe(32)
        self.etcd_url = ""
        self.server_url = ""
        self.ca_pem = b""
        self._directory: Path | None = None
        self._processes: list[_Process] = []
        self._kubeconfig_path: Path | None = None
        self._ports: list[int] = []

    @classmethod
    def binaries_available(cls, bin_dir: Path = Path(".bin")) -> bool:
        """Return whether `bin_dir` contains executable etcd and kube-apiserver binaries."""
        return binaries_available(bin_dir)

    @property
    def kubeconfig_path(self) -> Path:
        """Kubeconfig with the admin token, the CA and the server URL; valid after `start()`."""
        if self._kubeconfig_path is None:
            raise ControlPlaneError("the control plane is not started")
        return self._kubeconfig_path

    @property
    def directory(self) -> Path:
        """Temporary directory holding the certificates, etcd's data and the process logs."""
        if self._directory is None:
            raise ControlPlaneError("the control plane is not started")
        return self._directory

    @property
    def ports(self) -> list[int]:
        """TCP ports on 127.0.0.1 that this control plane listens on."""
        return list(self._ports)

    @property
    def pids(self) -> list[int]:
        """Process ids of the running processes, which are also their process group ids."""
        return [process.popen.pid for process in self._processes]

    def __enter__(self) -> ControlPlane:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start etcd and kube-apiserver and wait until the API server is ready.

        Raises BinariesMissingError without starting anything, and ControlPlaneStartError
        (after stopping whatever did start) when a process fails or the wait times out.
        """
        if self._directory is not None:
            raise ControlPlaneError("the control plane is already started")
        required = [
            *REQUIRED_BINARIES,
            *([CONTROLLER_MANAGER] if self.has_controller_manager else []),
        ]
        missing = [name for name in required if not os.access(self.bin_dir / name, os.X_OK)]
        if missing:
            raise BinariesMissingError(
                f"{', '.join(missing)} not found in {self.bin_dir}; run `make control-plane`"
            )

        self._directory = Path(tempfile.mkdtemp(prefix="dupcert-control-plane-"))
        atexit.register(self.stop)
        started = time.monotonic()
        try:
            self._start_with_retries()
        except BaseException:
            self.stop()
            raise
        logger.info(
            "control plane ready at %s after %.1f s (directory %s)",
            self.server_url,
            time.monotonic() - started,
            self._directory,
        )

    def stop(self) -> None:
        """Stop both processes and remove the directory; safe to call more than once."""
        atexit.unregister(self.stop)
        self._stop_processes()
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None
        self._kubeconfig_path = None

    def version(self) -> KubeVersion:
        """Fetch the API server's `/version`."""
        with self._client() as client:
            response = client.get("/version")
            response.raise_for_status()
            return KubeVersion.model_validate(response.json())

    def kubeconfig_env(self) -> dict[str, str]:
        """Return a copy of `os.environ` with KUBECONFIG pointing at this control plane."""
        return {**os.environ, "KUBECONFIG": str(self.kubeconfig_path)}

    def _start_with_retries(self) -> None:
        pki = _Pki(self.directory / "pki")
        self.ca_pem = pki.ca_pem
        tokens_path = self.directory / "tokens.csv"
        tokens_path.touch(mode=0o600)
        tokens_path.write_text(f'{self.admin_token},{ADMIN_USER},{ADMIN_USER},"{ADMIN_GROUP}"\n')

        for attempt in range(1, START_ATTEMPTS + 1):
            try:
                self._start_processes(pki, tokens_path, attempt)
                return
            except _PortConflictError as error:
                logger.warning("%s; retrying with new ports (attempt %d)", error, attempt)
                self._stop_processes()
        raise ControlPlaneStartError(f"no free ports after {START_ATTEMPTS} attempts")

    def _start_processes(self, pki: _Pki, tokens_path: Path, attempt: int) -> None:
        etcd_client_port, etcd_peer_port, apiserver_port = _distinct_free_ports(3)
        self._ports = [etcd_client_port, etcd_peer_port, apiserver_port]
        self.etcd_url = f"http://127.0.0.1:{etcd_client_port}"
        self.server_url = f"https://127.0.0.1:{apiserver_port}"
        etcd_peer_url = f"http://127.0.0.1:{etcd_peer_port}"
        logs = self.directory / "logs"
        logs.mkdir(exist_ok=True)

        etcd = _Process(
            "etcd",
            [
                str(self.bin_dir / "etcd"),
                "--name=default",
                f"--data-dir={self.directory / f'etcd-{attempt}'}",
                f"--listen-client-urls={self.etcd_url}",
                f"--advertise-client-urls={self.etcd_url}",
                f"--listen-peer-urls={etcd_peer_url}",
                f"--initial-advertise-peer-urls={etcd_peer_url}",
                f"--initial-cluster=default={etcd_peer_url}",
                "--unsafe-no-fsync=true",
                "--log-level=warn",
            ],
            logs / f"etcd-{attempt}.log",
        )
        self._processes.append(etcd)
        self._wait_for_etcd(etcd)

        apiserver = _Process(
            "kube-apiserver",
            [
                str(self.bin_dir / "kube-apiserver"),
                f"--etcd-servers={self.etcd_url}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={apiserver_port}",
                f"--cert-dir={self.directory / 'pki'}",
                f"--tls-cert-file={pki.serving_cert_path}",
                f"--tls-private-key-file={pki.serving_key_path}",
                f"--service-account-issuer={self.server_url}",
                f"--service-account-key-file={pki.service_account_public_key_path}",
                f"--service-account-signing-key-file={pki.service_account_key_path}",
                f"--token-auth-file={tokens_path}",
                "--authorization-mode=RBAC",
                "--service-cluster-ip-range=10.0.0.0/24",
                "--allow-privileged=true",
                # Without a controller-manager no ServiceAccount exists, so this admission
                # plugin would reject every pod.
                "--disable-admission-plugins=ServiceAccount",
                # One API server on loopback: no endpoint lease, no flow control, no profiling.
                "--endpoint-reconciler-type=none",
                "--enable-priority-and-fairness=false",
                "--profiling=false",
            ],
            logs / f"kube-apiserver-{attempt}.log",
        )
        self._processes.append(apiserver)
        # /readyz covers etcd, the post-start hooks and the namespace bootstrap, but the check
        # on `default` keeps tests from racing its creation on a slow machine.
        self._wait_for_api(apiserver, ["/readyz", "/api/v1/namespaces/default"])
        self._kubeconfig_path = self._write_kubeconfig()

        if self.has_controller_manager:
            self._start_controller_manager(pki, logs / f"kube-controller-manager-{attempt}.log")

    def _start_controller_manager(self, pki: _Pki, log_path: Path) -> None:
        controller_manager = _Process(
            CONTROLLER_MANAGER,
            [
                str(self.bin_dir / CONTROLLER_MANAGER),
                f"--kubeconfig={self.kubeconfig_path}",
                "--leader-elect=false",
                # Port 0 turns its HTTPS endpoint (health and metrics) off: nothing listens.
                "--bind-address=127.0.0.1",
                "--secure-port=0",
                f"--controllers={','.join(CONTROLLERS)}",
                f"--root-ca-file={pki.ca_path}",
            ],
            log_path,
        )
        self._processes.append(controller_manager)
        # The serviceaccount controller creates this account once its informers run.
        self._wait_for_api(
            controller_manager, ["/api/v1/namespaces/default/serviceaccounts/default"]
        )

    def _wait_for_etcd(self, etcd: _Process) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        with httpx.Client(base_url=self.etcd_url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                self._raise_if_exited(etcd)
                try:
                    if client.get("/health").status_code == httpx.codes.OK:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        raise self._start_error(etcd, f"not healthy after {READY_TIMEOUT_SECONDS:.0f} s")

    def _wait_for_api(self, process: _Process, paths: Sequence[str]) -> None:
        """Wait until each API path returns 200 in turn, while `process` keeps running."""
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        last_status = "no response"
        with self._client(timeout=5.0) as client:
            for path in paths:
                while True:
                    self._raise_if_exited(process)
                    if time.monotonic() > deadline:
                        raise self._start_error(
                            process,
                            f"is not ready: GET {path} did not return 200 within"
                            f" {READY_TIMEOUT_SECONDS:.0f} s (last: {last_status})",
                        )
                    try:
                        response = client.get(path)
                    except httpx.TransportError as error:
                        last_status = type(error).__name__
                    else:
                        if response.status_code == httpx.codes.OK:
                            break
                        last_status = f"HTTP {response.status_code}"
                    time.sleep(0.2)

    def _raise_if_exited(self, process: _Process) -> None:
        if not process.exited():
            return
        tail = process.log_tail()
        if "address already in use" in tail:
            raise _PortConflictError(f"{process.name} could not bind its port")
        raise self._start_error(process, f"exited with code {process.popen.returncode}")

    def _start_error(self, process: _Process, problem: str) -> ControlPlaneStartError:
        return ControlPlaneStartError(
            f"{process.name} {problem}; last lines of its output:\n{process.log_tail()}"
        )

    def _client(self, timeout: float = 10.0) -> httpx.Client:
        context = ssl.create_default_context(cadata=self.ca_pem.decode())
        return httpx.Client(
            base_url=self.server_url,
            verify=context,
            headers={"Authorization": f"Bearer {self.admin_token}"},
            timeout=timeout,
        )

    def _write_kubeconfig(self) -> Path:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "dupcert-test",
                    "cluster": {
                        "server": self.server_url,
                        "certificate-authority-data": base64.b64encode(self.ca_pem).decode(),
                    },
                }
            ],
            "users": [{"name": ADMIN_USER, "user": {"token": self.admin_token}}],
            "contexts": [
                {
                    "name": "dupcert-test",
                    "context": {
                        "cluster": "dupcert-test",
                        "user": ADMIN_USER,
                        "namespace": "default",
                    },
                }
            ],
            "current-context": "dupcert-test",
        }
        path = self.directory / "kubeconfig"
        path.touch(mode=0o600)
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return path

    def _stop_processes(self) -> None:
        # In reverse start order, so no process logs a storm of errors about a stopped one.
        for process in reversed(self._processes):
            process.stop()
        self._processes.clear()


class _PortConflictError(ControlPlaneError):
    """A process could not bind a port that was free when it was chosen."""


def _distinct_free_ports(count: int) -> list[int]:
    ports: set[int] = set()
    while len(ports) < count:
        ports.add(find_free_port())
    return sorted(ports)
