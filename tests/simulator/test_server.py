"""SimulatorServer lifecycle: threads, ports, properties and the CLI parser."""

from __future__ import annotations

import argparse
import signal
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from dupcert.simulator.cli import add_arguments
from dupcert.simulator.server import SimulatorServer


def port_is_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_thread_handle_serves_and_stops() -> None:
    handle = SimulatorServer().start_in_thread()
    try:
        context = ssl.create_default_context(cadata=handle.ca_bundle_pem)
        response = httpx.get(
            handle.base_url + "/account",
            headers={"X-DC-DEVKEY": handle.api_key},
            verify=context,
        )
        port = handle.server.port
        assert response.status_code == 200
        assert port_is_open(port)
    finally:
        handle.stop()
    assert not port_is_open(port)


async def test_async_server_closes_port() -> None:
    async with SimulatorServer() as sim:
        port = sim.port
        assert port != 0
        assert port_is_open(port)
    assert not port_is_open(port)


async def test_server_properties(simulator: SimulatorServer) -> None:
    assert simulator.base_url == f"https://127.0.0.1:{simulator.port}/services/v2"
    assert simulator.admin_url == f"https://127.0.0.1:{simulator.port}/_admin"
    assert simulator.api_key == "sim-demo-key-0000000000000000"
    assert simulator.organization_id == 112233
    assert simulator.ca_bundle_pem.startswith("-----BEGIN CERTIFICATE-----")
    assert simulator.issuing_root_pem != simulator.ca_bundle_pem


async def test_serving_certificate_names(simulator: SimulatorServer) -> None:
    context = ssl.create_default_context(cadata=simulator.ca_bundle_pem)
    url = f"https://localhost:{simulator.port}/services/v2/account"
    async with httpx.AsyncClient(verify=context) as client:
        response = await client.get(url, headers={"X-DC-DEVKEY": simulator.api_key})
    assert response.status_code == 200


async def test_untrusted_client_fails_tls(simulator: SimulatorServer) -> None:
    async with httpx.AsyncClient(verify=ssl.create_default_context()) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(simulator.base_url + "/account")


def test_cli_defaults() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args([])
    assert args.host == "127.0.0.1"
    assert args.port == 8443
    assert args.tls is True
    assert args.seed is None
    assert args.write_ca_bundle is None


def test_cli_options() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(
        ["--port", "0", "--no-tls", "--seed", "s.yaml", "--write-ca-bundle", "ca.pem"]
    )
    assert args.port == 0
    assert args.tls is False
    assert str(args.seed) == "s.yaml"
    assert str(args.write_ca_bundle) == "ca.pem"


def test_cli_serves_until_sigterm(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dupcert.simulator.cli",
            "--port",
            "0",
            "--write-ca-bundle",
            str(bundle),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline()
        base_url = first_line.split(": ", 1)[1].strip()
        context = ssl.create_default_context(cafile=str(bundle))
        response = httpx.get(
            base_url + "/account",
            headers={"X-DC-DEVKEY": "sim-demo-key-0000000000000000"},
            verify=context,
        )
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert first_line.startswith("CertCentral simulator: https://127.0.0.1:")
    assert response.status_code == 200
    assert process.returncode == 0
    assert "GET /services/v2/account 200" in stderr
    assert "sim-demo-key" not in stderr


def test_cli_reports_bad_seed(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text("accounts: []\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "dupcert.simulator.cli", "--port", "0", "--seed", str(seed)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "accounts" in result.stderr
    assert str(seed) in result.stderr
