"""SimulatorServer lifecycle: threads, ports, properties and the CLI parser."""

from __future__ import annotations

import argparse
import socket
import ssl

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
