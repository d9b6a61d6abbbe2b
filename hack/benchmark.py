"""Measure dupcert's design targets on the local stack and print them as a table.

Run it from anywhere with the project's virtualenv:

    .venv/bin/python hack/benchmark.py [--resources N] [--quick] [--write]

It starts the local control plane (etcd and kube-apiserver from `.bin/`, built by
`make control-plane`), the CertCentral simulator in a thread, and the operator as a
subprocess, all on 127.0.0.1. Then it measures:

1. CertCentral calls per issuance, from the simulator's `GET /_admin/counts`;
2. apply to Ready for ECDSA P-256 resources created one after another, then in a burst;
3. the operator's peak RSS (VmHWM) with no DuplicateCertificate and with N Ready;
4. the operator's CPU time over an idle window with N Ready resources whose renewal is
   months away.

`--write` adds the run to BENCHMARKS.md, replacing an earlier run of the same commit.
Every process it starts is stopped at the end, also after a failure or Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import math
import os
import platform
import re
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import kubernetes
import yaml

import dupcert
from dupcert.controlplane import ControlPlane
from dupcert.demo import apply_documents, wait_for_crds
from dupcert.resources import (
    CLUSTER_ISSUER_PLURAL,
    DUPLICATE_CERTIFICATE_PLURAL,
    GROUP,
    ISSUER_PLURAL,
    VERSION,
)
from dupcert.simulator.server import SimulatorServer, ThreadedSimulator

REPO_ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS_PATH = REPO_ROOT / "BENCHMARKS.md"
# BENCHMARKS.md keeps its prose above this line; runs are written below it, newest first.
RESULTS_MARKER = "<!-- Runs below are written by `hack/benchmark.py --write`, newest first. -->"
RUN_HEADING = "### Run of "

NAMESPACE = "dupcert-bench"
ISSUER_NAME = "certcentral"
# Names of the simulator's default-seed ssl_plus order, so every resource duplicates it.
COMMON_NAME = "demo.example.com"
DNS_NAMES = ["demo.example.com", "www.demo.example.com"]

# Design targets of dupcert that this script checks.
MAX_CALLS_PER_ISSUANCE = 3.0
MAX_APPLY_TO_READY_SECONDS = 2.0
# "Near zero" idle CPU, read as under 1% of one core.
MAX_IDLE_CPU_SHARE = 0.01

# The whole run should end within about 5 minutes; every wait takes from this budget.
DEFAULT_BUDGET_SECONDS = 300.0
# Quiet time after a phase so that trailing passes and status writes land in its counts.
SETTLE_SECONDS = 3.0
# The shortest window of the operator's own CertCentral rate limiter (90 calls in 5 s). The
# burst starts after this much quiet, so the sequential phase's calls cannot delay it.
OPERATOR_RATE_WINDOW_SECONDS = 5.0


def say(message: str) -> None:
    print(f"bench: {message}", flush=True)


# Settings


@dataclass(frozen=True)
class Plan:
    """How many resources each phase uses and how long the idle window is."""

    sequential: int
    burst: int
    resources: int
    idle_seconds: float

    @classmethod
    def from_arguments(cls, args: argparse.Namespace) -> Plan:
        sequential, burst, idle = (5, 5, 10.0) if args.quick else (20, 20, 30.0)
        resources = 20 if args.quick else 100
        if args.resources is not None:
            resources = args.resources
        if args.idle_seconds is not None:
            idle = args.idle_seconds
        return cls(sequential, burst, max(resources, sequential + burst), idle)


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Measure dupcert's design targets on the local control plane and simulator.",
    )
    parser.add_argument(
        "--resources",
        type=int,
        metavar="N",
        help="DuplicateCertificates Ready for the memory and idle CPU measures "
        "(default: 100, or 20 with --quick; at least the sequential and burst counts)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="5 sequential, 5 in the burst, 20 resources and a 10 s idle window "
        "(default: 20, 20, 100 and 30 s)",
    )
    parser.add_argument(
        "--idle-seconds",
        type=float,
        help="length of the idle CPU window in seconds (default: 30, or 10 with --quick)",
    )
    parser.add_argument(
        "--write",
        action="store_true",
        help="add this run to BENCHMARKS.md (replacing an earlier run of the same commit)",
    )
    parser.add_argument(
        "--bin-dir",
        type=Path,
        default=REPO_ROOT / ".bin",
        help="folder with etcd and kube-apiserver (default: .bin of the repository)",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=DEFAULT_BUDGET_SECONDS,
        help="seconds the whole run may take before it stops "
        f"(default: {DEFAULT_BUDGET_SECONDS:.0f})",
    )
    args = parser.parse_args(argv)
    if args.resources is not None and args.resources < 1:
        parser.error("--resources must be at least 1")
    if args.idle_seconds is not None and args.idle_seconds <= 0:
        parser.error("--idle-seconds must be positive")
    return args


class Budget:
    """A deadline for the whole run, shared by every wait."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.seconds = seconds

    def require(self, seconds: float, purpose: str) -> None:
        left = self.deadline - time.monotonic()
        if left < seconds:
            raise TimeoutError(f"only {left:.0f} s of the budget are left for {purpose}")

    def remaining(self, cap: float | None = None) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"the benchmark ran out of its {self.seconds:.0f} s budget")
        return left if cap is None else min(left, cap)


# The operator process


def read_memory_kib(pid: int) -> tuple[int, int]:
    """Read (VmHWM, VmRSS) of a process from /proc/PID/status, in KiB."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            values[key] = int(rest.split()[0])
    return values["VmHWM"], values["VmRSS"]


def read_cpu_seconds(pid: int) -> float:
    """Read user plus system CPU time of a process from /proc/PID/stat, in seconds."""
    text = Path(f"/proc/{pid}/stat").read_text()
    # Fields after the command name, which is in brackets and may contain spaces.
    fields = text[text.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


class Operator:
    """`python -m dupcert run` as a subprocess, logging to a file."""

    def __init__(self, kubeconfig: str, log_path: Path) -> None:
        self.log_path = log_path
        command = [sys.executable, "-m", "dupcert", "run", "--kubeconfig", kubeconfig]
        command += ["--standalone", "-n", NAMESPACE, "--log-format", "plain"]
        environment = {**os.environ, "DUPCERT_OPERATOR_NAMESPACE": NAMESPACE}
        with log_path.open("wb") as log_file:
            self.process = subprocess.Popen(  # noqa: S603  (this Python, fixed arguments)
                command, stdout=log_file, stderr=subprocess.STDOUT, env=environment, cwd=REPO_ROOT
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def check_running(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"the operator exited with code {self.process.returncode}")

    def log_tail(self, characters: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-characters:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# Watching for Ready


def ready_condition(resource: dict[str, Any]) -> dict[str, Any] | None:
    conditions = (resource.get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c.get("type") == "Ready"), None)


def is_ready(resource: dict[str, Any]) -> bool:
    condition = ready_condition(resource)
    return condition is not None and condition.get("status") == "True"


class ReadyWatcher:
    """Record when each DuplicateCertificate of the namespace is first seen Ready.

    A watch delivers the status change within milliseconds of the operator's write, which
    polling at a fixed interval would round up.
    """

    def __init__(self, api: kubernetes.client.ApiClient) -> None:
        self._custom: Any = kubernetes.client.CustomObjectsApi(api)
        self._ready_at: dict[str, float] = {}
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._watch = kubernetes.watch.Watch()  # type: ignore[no-untyped-call]
        self._thread = threading.Thread(target=self._run, name="ready-watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._watch.stop()  # type: ignore[no-untyped-call]
        # The watch request ends within its 5 s server timeout.
        self._thread.join(timeout=10)

    def _observe(self, resource: dict[str, Any]) -> None:
        name = resource["metadata"]["name"]
        if is_ready(resource) and name not in self._ready_at:
            with self._changed:
                self._ready_at[name] = time.monotonic()
                self._changed.notify_all()

    def _list(self) -> str:
        listed = self._custom.list_namespaced_custom_object(
            GROUP, VERSION, NAMESPACE, DUPLICATE_CERTIFICATE_PLURAL
        )
        for resource in listed.get("items", []):
            self._observe(resource)
        return str(listed["metadata"]["resourceVersion"])

    def _run(self) -> None:
        resource_version: str | None = None
        while not self._stopping.is_set():
            try:
                if resource_version is None:
                    resource_version = self._list()
                for event in self._watch.stream(  # type: ignore[no-untyped-call]
                    self._custom.list_namespaced_custom_object,
                    GROUP,
                    VERSION,
                    NAMESPACE,
                    DUPLICATE_CERTIFICATE_PLURAL,
                    resource_version=resource_version,
                    timeout_seconds=5,
                ):
                    resource = event["object"]
                    resource_version = resource["metadata"]["resourceVersion"]
                    if event["type"] in ("ADDED", "MODIFIED"):
                        self._observe(resource)
            except kubernetes.client.ApiException as error:
                # 410 Gone: the resource version is too old, so list again.
                if error.status != 410 and not self._stopping.is_set():
                    say(f"watch failed with HTTP {error.status}; retrying")
                    time.sleep(0.5)
                resource_version = None
            except Exception as error:  # A dropped connection or a bad chunk; the loop retries.
                if not self._stopping.is_set():
                    say(f"watch failed ({type(error).__name__}); retrying")
                    time.sleep(0.5)
                resource_version = None

    def wait_for(
        self, names: list[str], timeout: float, operator: Operator, custom: Any
    ) -> dict[str, float]:
        """Wait until every name is Ready; return the monotonic time each was first seen Ready."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                missing = [name for name in names if name not in self._ready_at]
                if not missing:
                    return {name: self._ready_at[name] for name in names}
                operator.check_running()
                if time.monotonic() > deadline:
                    break
                self._changed.wait(timeout=0.5)
        resource = custom.get_namespaced_custom_object(
            GROUP, VERSION, NAMESPACE, DUPLICATE_CERTIFICATE_PLURAL, missing[0]
        )
        condition = ready_condition(resource) or {}
        raise TimeoutError(
            f"{len(missing)} of {len(names)} DuplicateCertificates were not Ready after "
            f"{timeout:.0f} s; {missing[0]} has Ready={condition.get('status')} "
            f"({condition.get('reason')}): {condition.get('message')}"
        )


# The stack


@dataclass
class Stack:
    """Handles on the running control plane, simulator and operator."""

    api: kubernetes.client.ApiClient
    custom: Any
    admin: httpx.Client
    simulator: ThreadedSimulator
    operator: Operator
    watcher: ReadyWatcher
    budget: Budget
    control_plane: ControlPlane
    kube_apiserver_version: str
    notes: list[str] = field(default_factory=list)

    def create_duplicate_certificate(self, name: str) -> float:
        """Create one ECDSA P-256 DuplicateCertificate; return the monotonic time of the request."""
        body = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "DuplicateCertificate",
            "metadata": {"name": name, "namespace": NAMESPACE},
            "spec": {
                "issuerRef": {"name": ISSUER_NAME},
                "commonName": COMMON_NAME,
                "dnsNames": DNS_NAMES,
                "secretName": f"{name}-tls",
                "privateKey": {"algorithm": "ECDSA", "size": 256},
            },
        }
        started = time.monotonic()
        self.custom.create_namespaced_custom_object(
            GROUP, VERSION, NAMESPACE, DUPLICATE_CERTIFICATE_PLURAL, body
        )
        return started

    def wait_ready(self, names: list[str], cap: float) -> dict[str, float]:
        return self.watcher.wait_for(names, self.budget.remaining(cap), self.operator, self.custom)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time used so far by each part of the stack, in seconds."""
        return {
            "operator": read_cpu_seconds(self.operator.pid),
            "etcd and kube-apiserver": sum(map(read_cpu_seconds, self.control_plane.pids)),
            # The simulator runs in a thread of this process, next to the Ready watch.
            "simulator and benchmark": read_cpu_seconds(os.getpid()),
        }

    def kube_requests(self) -> Counter[str]:
        """Requests the operator made to the API server so far, by verb and resource.

        The API server's `apiserver_request_total` counter has no client label. So this
        counts only the resources the operator reads or writes (Secrets, Events, issuers,
        DuplicateCertificates), and leaves out the benchmark's own creates. Watches and lists
        are left out too, because they are long-lived or made once at start.
        """
        control_plane = self.control_plane
        trust = ssl.create_default_context(cadata=control_plane.ca_pem.decode())
        response = httpx.get(
            f"{control_plane.server_url}/metrics",
            headers={"Authorization": f"Bearer {control_plane.admin_token}"},
            verify=trust,
            timeout=30,
        )
        response.raise_for_status()
        return count_operator_requests(response.text)

    def reset_counts(self) -> None:
        self.admin.delete("/counts").raise_for_status()

    def counts(self) -> dict[str, int]:
        response = self.admin.get("/counts")
        response.raise_for_status()
        return {str(route): int(count) for route, count in response.json().items()}

    def set_rate_limit(self, enabled: bool) -> None:
        state = self.admin.get("/state")
        state.raise_for_status()
        account_id = state.json()["accounts"][0]["id"]
        response = self.admin.patch(f"/accounts/{account_id}", json={"rate_limit_enabled": enabled})
        response.raise_for_status()

    def duplicates_on_order(self, order_id: int) -> int:
        response = self.admin.get(f"/orders/{order_id}/stats")
        response.raise_for_status()
        return int(response.json()["duplicates"])


OPERATOR_RESOURCES = frozenset(
    {
        "secrets",
        "events",
        DUPLICATE_CERTIFICATE_PLURAL,
        ISSUER_PLURAL,
        CLUSTER_ISSUER_PLURAL,
    }
)
METRIC_LABEL = re.compile(r'(\w+)="([^"]*)"')


def count_operator_requests(metrics: str) -> Counter[str]:
    """Sum `apiserver_request_total` by "VERB resource[/subresource]" for OPERATOR_RESOURCES."""
    counts: Counter[str] = Counter()
    for line in metrics.splitlines():
        if not line.startswith("apiserver_request_total{"):
            continue
        labels = dict(METRIC_LABEL.findall(line))
        verb, resource = labels.get("verb", ""), labels.get("resource", "")
        if resource not in OPERATOR_RESOURCES or verb in ("WATCH", "LIST"):
            continue
        if verb == "POST" and resource == DUPLICATE_CERTIFICATE_PLURAL:
            continue
        subresource = labels.get("subresource")
        key = f"{verb} {resource}/{subresource}" if subresource else f"{verb} {resource}"
        counts[key] += int(float(line.rsplit(" ", 1)[1]))
    return counts


def setup_documents(simulator: ThreadedSimulator) -> list[dict[str, Any]]:
    """Build the namespace, the API key and CA bundle Secrets and the issuer."""
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "certcentral-api-key", "namespace": NAMESPACE},
            "type": "Opaque",
            "stringData": {"api-key": simulator.api_key},
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "certcentral-ca-bundle", "namespace": NAMESPACE},
            "type": "Opaque",
            "stringData": {"ca.crt": simulator.ca_bundle_pem},
        },
        {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "CertCentralIssuer",
            "metadata": {"name": ISSUER_NAME, "namespace": NAMESPACE},
            "spec": {
                "url": simulator.base_url,
                "apiKeySecretRef": {"name": "certcentral-api-key", "key": "api-key"},
                "organizationId": simulator.organization_id,
                "productNameId": "ssl_plus",
                "caBundleSecretRef": {"name": "certcentral-ca-bundle", "key": "ca.crt"},
            },
        },
    ]


def wait_for_issuer(stack: Stack, cap: float) -> None:
    deadline = time.monotonic() + stack.budget.remaining(cap)
    while True:
        issuer = stack.custom.get_namespaced_custom_object(
            GROUP, VERSION, NAMESPACE, ISSUER_PLURAL, ISSUER_NAME
        )
        if is_ready(issuer):
            return
        stack.operator.check_running()
        if time.monotonic() > deadline:
            condition = ready_condition(issuer) or {}
            raise TimeoutError(
                f"CertCentralIssuer {ISSUER_NAME} was not Ready after {cap:.0f} s: "
                f"{condition.get('message')}"
            )
        time.sleep(0.2)


@contextlib.contextmanager
def running_stack(args: argparse.Namespace, budget: Budget) -> Iterator[Stack]:
    """Start the control plane, the simulator and the operator; stop them all on exit."""
    with contextlib.ExitStack() as exits:
        workdir = Path(exits.enter_context(tempfile.TemporaryDirectory(prefix="dupcert-bench-")))
        if not ControlPlane.binaries_available(args.bin_dir):
            raise RuntimeError(
                f"etcd or kube-apiserver is missing in {args.bin_dir}; run `make control-plane`"
            )
        # Without kube-controller-manager: nothing here needs it, and it would share the CPUs.
        control_plane = exits.enter_context(ControlPlane(args.bin_dir, controller_manager=False))
        kube_apiserver_version = control_plane.version().git_version
        say(f"control plane: kube-apiserver {kube_apiserver_version} at {control_plane.server_url}")

        simulator = exits.enter_context(SimulatorServer(tls=True, port=0).start_in_thread())
        say(f"CertCentral simulator: {simulator.base_url}")
        trust = ssl.create_default_context(cadata=simulator.ca_bundle_pem)
        admin = exits.enter_context(
            httpx.Client(base_url=simulator.admin_url, verify=trust, timeout=30)
        )

        kubeconfig = str(control_plane.kubeconfig_path)
        configuration = kubernetes.client.Configuration()
        kubernetes.config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=kubeconfig, client_configuration=configuration
        )
        api = kubernetes.client.ApiClient(configuration)
        exits.callback(api.close)
        crds = [yaml.safe_load(p.read_text()) for p in sorted(Path("crds").glob("*.yaml"))]
        apply_documents(api, crds)
        wait_for_crds(api, budget.remaining(60))
        apply_documents(api, setup_documents(simulator))

        operator = Operator(kubeconfig, workdir / "operator.log")
        exits.callback(operator.stop)
        say(f"operator started (pid {operator.pid})")

        watcher = ReadyWatcher(kubernetes.client.ApiClient(configuration))
        watcher.start()
        exits.callback(watcher.stop)

        stack = Stack(
            api=api,
            custom=kubernetes.client.CustomObjectsApi(api),
            admin=admin,
            simulator=simulator,
            operator=operator,
            watcher=watcher,
            budget=budget,
            control_plane=control_plane,
            kube_apiserver_version=kube_apiserver_version,
        )
        try:
            yield stack
        except Exception:
            say("operator log (last lines):")
            print(operator.log_tail(), flush=True)
            raise


# Measures


@dataclass(frozen=True)
class Latencies:
    """Apply-to-Ready times of one phase, in seconds."""

    values: list[float]
    wall_seconds: float

    @property
    def p50(self) -> float:
        return statistics.median(self.values)

    @property
    def p95(self) -> float:
        # Nearest rank: the smallest value with at least 95% of the values at or below it.
        ordered = sorted(self.values)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]

    @property
    def max(self) -> float:
        return max(self.values)

    def describe(self) -> str:
        return f"p50 {self.p50:.2f} s, p95 {self.p95:.2f} s, max {self.max:.2f} s"


@dataclass
class Results:
    """Everything one run measured."""

    plan: Plan
    calls_by_route: dict[str, int] = field(default_factory=dict)
    kube_requests: Counter[str] = field(default_factory=Counter)
    burst_calls: int = 0
    idle_calls: int = 0
    idle_kube_requests: int = 0
    sequential: Latencies | None = None
    burst: Latencies | None = None
    sequential_cpu: dict[str, float] = field(default_factory=dict)
    burst_cpu: dict[str, float] = field(default_factory=dict)
    fill_seconds: float = 0.0
    memory_empty_kib: tuple[int, int] = (0, 0)
    memory_full_kib: tuple[int, int] = (0, 0)
    idle_cpu_seconds: float = 0.0
    duplicates_on_order: int = 0

    @property
    def calls_per_issuance(self) -> float:
        return sum(self.calls_by_route.values()) / self.plan.sequential

    @property
    def kube_requests_per_issuance(self) -> float:
        return sum(self.kube_requests.values()) / self.plan.sequential

    @property
    def idle_cpu_share(self) -> float:
        return self.idle_cpu_seconds / self.plan.idle_seconds


def subtract(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {part: after[part] - before[part] for part in after}


def measure_startup(stack: Stack, results: Results) -> None:
    started = time.monotonic()
    wait_for_issuer(stack, 60)
    say(f"issuer Ready {time.monotonic() - started:.1f} s after the operator started")
    time.sleep(SETTLE_SECONDS)
    results.memory_empty_kib = read_memory_kib(stack.operator.pid)


def measure_sequential(stack: Stack, results: Results) -> None:
    """Create resources one after another, each after the previous one is Ready."""
    stack.reset_counts()
    values = []
    cpu_before = stack.cpu_seconds()
    kube_before = stack.kube_requests()
    phase_started = time.monotonic()
    for index in range(results.plan.sequential):
        name = f"seq-{index:03d}"
        created = stack.create_duplicate_certificate(name)
        ready = stack.wait_ready([name], 30)[name]
        values.append(ready - created)
    results.sequential = Latencies(values, time.monotonic() - phase_started)
    results.sequential_cpu = subtract(stack.cpu_seconds(), cpu_before)
    time.sleep(SETTLE_SECONDS)
    results.calls_by_route = stack.counts()
    results.kube_requests = stack.kube_requests() - kube_before
    say(
        f"one after another: {results.sequential.describe()}; "
        f"{results.calls_per_issuance:.2f} CertCentral calls per issuance"
    )


def measure_burst(stack: Stack, results: Results) -> None:
    """Create resources at once from parallel threads and time each to Ready."""
    stack.set_rate_limit(False)
    stack.notes.append(
        "The simulator's rate limit (100 requests in 5 s per key) was turned off through "
        "`PATCH /_admin/accounts/{id}` before the burst and stayed off for the rest of the run. "
        "The operator's own limiter (90 requests in 5 s) still applied."
    )
    say("simulator rate limit turned off for the burst and the rest of the run")
    time.sleep(OPERATOR_RATE_WINDOW_SECONDS)
    stack.reset_counts()
    names = [f"burst-{index:03d}" for index in range(results.plan.burst)]
    cpu_before = stack.cpu_seconds()
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        created = dict(zip(names, pool.map(stack.create_duplicate_certificate, names), strict=True))
    ready = stack.wait_ready(names, 90)
    results.burst_cpu = subtract(stack.cpu_seconds(), cpu_before)
    values = [ready[name] - created[name] for name in names]
    results.burst = Latencies(values, max(ready.values()) - min(created.values()))
    time.sleep(SETTLE_SECONDS)
    results.burst_calls = sum(stack.counts().values())
    say(f"burst of {len(names)}: {results.burst.describe()}")


def fill_resources(stack: Stack, results: Results) -> None:
    """Bring the namespace up to the planned number of Ready resources."""
    existing = results.plan.sequential + results.plan.burst
    names = [f"fill-{index:03d}" for index in range(results.plan.resources - existing)]
    if names:
        # NOTE: past about 300 issuances in 3 minutes, the operator's own limit of 950
        # CertCentral calls per 180 s slows this fill to minutes, beyond the default budget.
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(stack.create_duplicate_certificate, names))
        stack.wait_ready(names, 180)
        results.fill_seconds = time.monotonic() - started
        say(f"{len(names)} more resources Ready in {results.fill_seconds:.1f} s")
    time.sleep(SETTLE_SECONDS)
    results.memory_full_kib = read_memory_kib(stack.operator.pid)


def measure_idle(stack: Stack, results: Results) -> None:
    """Read the operator's CPU time across a window in which nothing is due."""
    seconds = results.plan.idle_seconds
    stack.budget.require(seconds + 5, "the idle window")
    say(f"idle window of {seconds:.0f} s with {results.plan.resources} Ready resources")
    stack.reset_counts()
    kube_before = stack.kube_requests()
    before = read_cpu_seconds(stack.operator.pid)
    time.sleep(seconds)
    after = read_cpu_seconds(stack.operator.pid)
    stack.operator.check_running()
    results.idle_cpu_seconds = after - before
    results.idle_calls = sum(stack.counts().values())
    results.idle_kube_requests = sum((stack.kube_requests() - kube_before).values())


def check_exactly_once(stack: Stack, results: Results) -> None:
    """Compare the duplicates on the order with the number of resources."""
    first = stack.custom.get_namespaced_custom_object(
        GROUP, VERSION, NAMESPACE, DUPLICATE_CERTIFICATE_PLURAL, "seq-000"
    )
    results.duplicates_on_order = stack.duplicates_on_order(int(first["status"]["orderId"]))


def run_benchmark(args: argparse.Namespace, plan: Plan) -> tuple[Results, Stack]:
    budget = Budget(args.budget)
    results = Results(plan)
    with running_stack(args, budget) as stack:
        measure_startup(stack, results)
        measure_sequential(stack, results)
        measure_burst(stack, results)
        fill_resources(stack, results)
        measure_idle(stack, results)
        check_exactly_once(stack, results)
        say("stopping the operator, the simulator and the control plane")
    return results, stack


# Report


@dataclass(frozen=True)
class Environment:
    """The machine and the versions a run used."""

    date: str
    commit: str
    cpus: str
    cpu_model: str
    memory_gib: str
    kernel: str
    versions: str
    load_average: str


def _command_output(command: list[str]) -> str:
    try:
        result = subprocess.run(  # noqa: S603  (fixed local commands)
            command, capture_output=True, text=True, timeout=10, check=True, cwd=REPO_ROOT
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return result.stdout.strip()


def _memory_total_gib() -> str:
    """Read the `total` column of `free -g`, in GiB."""
    for line in _command_output(["free", "-g"]).splitlines():
        if line.startswith("Mem:"):
            return line.split()[1]
    return "unknown"


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.partition(":")[2].strip()
    return platform.processor() or "unknown"


def read_load_average() -> str:
    """Read the 1-minute load average from /proc/loadavg."""
    return Path("/proc/loadavg").read_text().split()[0]


def describe_environment(
    bin_dir: Path, kube_apiserver_version: str, load_at_start: str
) -> Environment:
    commit = _command_output(["git", "rev-parse", "--short", "HEAD"]) or "unknown"
    if _command_output(["git", "status", "--porcelain", "--", "operator"]):
        commit += " with uncommitted changes under operator/"
    etcd = _command_output([str(bin_dir / "etcd"), "--version"]).splitlines()
    etcd_version = etcd[0].removeprefix("etcd Version:").strip() if etcd else "unknown"
    versions = (
        f"dupcert {dupcert.__version__}, Python {platform.python_version()}, "
        f"Kopf {importlib.metadata.version('kopf')}, "
        f"kubernetes client {importlib.metadata.version('kubernetes')}, "
        f"kube-apiserver {kube_apiserver_version}, etcd {etcd_version}"
    )
    return Environment(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        commit=commit,
        cpus=_command_output(["nproc"]) or str(os.cpu_count()),
        cpu_model=_cpu_model(),
        memory_gib=_memory_total_gib(),
        kernel=platform.release(),
        versions=versions,
        load_average=f"{load_at_start} when the run started, {read_load_average()} when it ended",
    )


def _verdict(met: bool, measured: str) -> str:
    return "met" if met else f"MISSED ({measured})"


def _mib(kib: int) -> str:
    return f"{kib / 1024:.0f} MiB"


def result_rows(results: Results) -> list[tuple[str, str, str, str]]:
    """Rows of (measure, target, measured value, verdict)."""
    plan = results.plan
    assert results.sequential is not None
    assert results.burst is not None
    calls = results.calls_per_issuance
    total_calls = sum(results.calls_by_route.values())
    idle_cpu = (
        f"{results.idle_cpu_seconds:.2f} CPU s in {plan.idle_seconds:.0f} s "
        f"({results.idle_cpu_share:.2%} of one core)"
    )
    rows = [
        (
            f"CertCentral calls per issuance ({plan.sequential} one after another)",
            f"at most {MAX_CALLS_PER_ISSUANCE:.0f}",
            f"{calls:.2f} ({total_calls} calls)",
            _verdict(calls <= MAX_CALLS_PER_ISSUANCE, f"{calls:.2f}"),
        ),
        (
            f"Apply to Ready, {plan.sequential} one after another",
            f"under {MAX_APPLY_TO_READY_SECONDS:.0f} s",
            results.sequential.describe(),
            _verdict(
                results.sequential.max < MAX_APPLY_TO_READY_SECONDS,
                f"max {results.sequential.max:.2f} s",
            ),
        ),
        (
            f"Apply to Ready, burst of {plan.burst} at once",
            f"under {MAX_APPLY_TO_READY_SECONDS:.0f} s",
            f"{results.burst.describe()}; all Ready after {results.burst.wall_seconds:.2f} s",
            _verdict(
                results.burst.max < MAX_APPLY_TO_READY_SECONDS,
                f"max {results.burst.max:.2f} s",
            ),
        ),
        (
            "Operator peak RSS (VmHWM), 0 DuplicateCertificates",
            "none set",
            f"{_mib(results.memory_empty_kib[0])} (RSS now {_mib(results.memory_empty_kib[1])})",
            "recorded",
        ),
        (
            f"Operator peak RSS (VmHWM), {plan.resources} Ready",
            "none set",
            f"{_mib(results.memory_full_kib[0])} (RSS now {_mib(results.memory_full_kib[1])})",
            "recorded",
        ),
        (
            f"Operator CPU while idle, {plan.resources} Ready",
            f"near zero (under {MAX_IDLE_CPU_SHARE:.0%} of one core)",
            idle_cpu,
            _verdict(results.idle_cpu_share < MAX_IDLE_CPU_SHARE, idle_cpu),
        ),
    ]
    return rows


def detail_lines(results: Results) -> list[str]:
    plan = results.plan
    routes = ", ".join(
        f"`{route}` {count}" for route, count in sorted(results.calls_by_route.items())
    )
    requests = ", ".join(
        f"`{key}` {count / plan.sequential:.1f}"
        for key, count in results.kube_requests.most_common()
    )
    lines = [
        f"CertCentral calls in the one-after-another phase by route: {routes or 'none'}.",
        "Kubernetes API requests of the operator per issuance in the one-after-another "
        f"phase: {results.kube_requests_per_issuance:.1f}, by verb and resource: {requests} "
        "(from the API server's `apiserver_request_total`, without watches and lists).",
        f"CertCentral calls in the burst: {results.burst_calls} for {plan.burst} issuances.",
        f"CertCentral calls in the idle window: {results.idle_calls}; Kubernetes API requests "
        f"of the operator: {results.idle_kube_requests}.",
        f"Duplicates requested on the order: {results.duplicates_on_order} for "
        f"{plan.resources} DuplicateCertificates (equal numbers mean no duplicate was "
        "requested twice).",
    ]
    for phase, cpu, latencies in (
        ("one-after-another phase", results.sequential_cpu, results.sequential),
        ("burst", results.burst_cpu, results.burst),
    ):
        assert latencies is not None
        used = ", ".join(f"{part} {seconds:.2f} s" for part, seconds in cpu.items())
        lines.append(f"CPU time used in the {phase} ({latencies.wall_seconds:.1f} s): {used}.")
    if results.fill_seconds:
        fill = plan.resources - plan.sequential - plan.burst
        lines.append(
            f"The other {fill} resources were created 8 at a time and were all Ready after "
            f"{results.fill_seconds:.1f} s."
        )
    return lines


def print_table(rows: list[tuple[str, str, str, str]]) -> None:
    header = ("Measure", "Target", "Measured", "Verdict")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


def markdown_section(
    results: Results, environment: Environment, notes: list[str], command: str
) -> str:
    lines = [
        f"{RUN_HEADING}{environment.date}, commit {environment.commit}",
        "",
        f"- Command: `{command}`",
        f"- Machine: {environment.cpus} cores ({environment.cpu_model}), "
        f"{environment.memory_gib} GiB memory (`free -g` total), Linux {environment.kernel}",
        f"- Versions: {environment.versions}",
        f"- Load average (1 min, all processes on the machine): {environment.load_average}",
        "",
        "| Measure | Target | Measured | Verdict |",
        "|---|---|---|---|",
    ]
    lines += [f"| {' | '.join(row)} |" for row in result_rows(results)]
    lines.append("")
    lines += [f"- {line}" for line in detail_lines(results)]
    lines += [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"


def write_benchmarks(section: str, commit: str) -> None:
    """Put the run's section first below the marker, replacing a run of the same commit."""
    text = BENCHMARKS_PATH.read_text() if BENCHMARKS_PATH.exists() else "# Benchmarks\n"
    if RESULTS_MARKER not in text:
        text = text.rstrip("\n") + f"\n\n{RESULTS_MARKER}\n"
    prose, _, runs_text = text.partition(RESULTS_MARKER)
    runs = [
        RUN_HEADING + chunk.strip("\n") + "\n"
        for chunk in ("\n" + runs_text).split("\n" + RUN_HEADING)[1:]
    ]
    heading_end = f", commit {commit}"
    other_runs = [run for run in runs if not run.splitlines()[0].endswith(heading_end)]
    body = "\n".join([section, *other_runs])
    BENCHMARKS_PATH.write_text(f"{prose}{RESULTS_MARKER}\n\n{body}")


# Entry point


def _raise_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    plan = Plan.from_arguments(args)
    # The CRDs and the demo helpers use paths relative to the repository.
    os.chdir(REPO_ROOT)
    signal.signal(signal.SIGTERM, _raise_on_sigterm)
    say(
        f"plan: {plan.sequential} one after another, a burst of {plan.burst}, "
        f"{plan.resources} Ready for memory and an idle window of {plan.idle_seconds:.0f} s"
    )
    started = time.monotonic()
    load_at_start = read_load_average()
    try:
        results, stack = run_benchmark(args, plan)
    except (TimeoutError, RuntimeError, kubernetes.client.ApiException, httpx.HTTPError) as error:
        say(f"FAILED: {error}")
        return 1
    say(f"finished in {time.monotonic() - started:.0f} s")

    environment = describe_environment(args.bin_dir, stack.kube_apiserver_version, load_at_start)
    print()
    print_table(result_rows(results))
    print()
    for line in [*detail_lines(results), *stack.notes]:
        print(f"- {line}")
    print(
        f"- Machine: {environment.cpus} cores, {environment.memory_gib} GiB; {environment.versions}"
    )
    print(f"- Load average (1 min): {environment.load_average}")
    if args.write:
        command = "hack/benchmark.py " + " ".join(argv if argv is not None else sys.argv[1:])
        section = markdown_section(results, environment, stack.notes, command.strip())
        write_benchmarks(section, environment.commit)
        say(f"wrote the run to {BENCHMARKS_PATH.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
