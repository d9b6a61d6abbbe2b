"""Fixtures for the simulator tier: CertCentral simulators on free loopback ports."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from dupcert.simulator.seed import Seed, parse_seed
from dupcert.simulator.server import SimulatorServer

SeedInput = Seed | Path | str | dict[str, Any] | None
SimulatorFactory = Callable[..., Awaitable[SimulatorServer]]


def simulator_ssl_context(sim: SimulatorServer) -> ssl.SSLContext:
    """Return a client SSL context that trusts the simulator's serving CA."""
    return ssl.create_default_context(cadata=sim.ca_bundle_pem)


def simulator_client(sim: SimulatorServer, api_key: str | None = None) -> httpx.AsyncClient:
    """Return an httpx client for the simulator's Services API, sending `X-DC-DEVKEY`."""
    return httpx.AsyncClient(
        base_url=sim.base_url,
        headers={"X-DC-DEVKEY": api_key if api_key is not None else sim.api_key},
        verify=simulator_ssl_context(sim) if sim.tls else False,
    )


def simulator_admin_client(sim: SimulatorServer) -> httpx.AsyncClient:
    """Return an httpx client for the simulator's admin routes."""
    return httpx.AsyncClient(
        base_url=sim.admin_url, verify=simulator_ssl_context(sim) if sim.tls else False
    )


@pytest.fixture
async def simulator() -> AsyncIterator[SimulatorServer]:
    """A simulator with the default seed, TLS on, on a free port of 127.0.0.1."""
    async with SimulatorServer(tls=True) as sim:
        yield sim


@pytest.fixture
async def simulator_factory() -> AsyncIterator[SimulatorFactory]:
    """Start simulators with custom seeds: `await simulator_factory(seed=..., tls=...)`.

    `seed` may be a Seed model, a path, a dict in the seed file's shape, or None for the
    default seed. Every simulator started through the factory stops at the end of the test.
    """
    started: list[SimulatorServer] = []

    async def start(seed: SeedInput = None, tls: bool = True) -> SimulatorServer:
        resolved = parse_seed(seed) if isinstance(seed, dict) else seed
        sim = SimulatorServer(seed=resolved, tls=tls)
        await sim.start()
        started.append(sim)
        return sim

    yield start
    for sim in started:
        await sim.stop()


@pytest.fixture
async def sim_client(simulator: SimulatorServer) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client for the default `simulator`, authenticated with its demo key."""
    async with simulator_client(simulator) as client:
        yield client


@pytest.fixture
async def sim_admin(simulator: SimulatorServer) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client for the default `simulator`'s admin routes."""
    async with simulator_admin_client(simulator) as client:
        yield client
