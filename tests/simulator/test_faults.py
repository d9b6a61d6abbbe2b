"""Fault timing: faults applied after processing, and clients that disconnect during a delay."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from aiohttp import web

from dupcert.simulator.faults import ActiveFault, FaultRule
from dupcert.simulator.seed import resolve_seed
from dupcert.simulator.server import SimulatorServer, build_application
from dupcert.simulator.state import SimulatorState
from tests.plugins.simulator import SimulatorFactory, simulator_admin_client, simulator_client
from tests.simulator.support import DEMO_KEY, duplicate_body, make_csr

PLUS_ORDER = 100001
DUPLICATE_PATH = f"/order/certificate/{PLUS_ORDER}/duplicate"
DUPLICATE_ROUTE = "POST /order/certificate/{order_id}/duplicate"
# A delay that no test waits out: a request with it ends early only when the simulator cancels it.
LONG_DELAY = 30.0
# Upper bound for waiting on the simulator in a test; reaching it fails the test.
WAIT_SECONDS = 10.0


async def wait_until(condition: Callable[[], bool], description: str) -> None:
    """Poll `condition` until it is true; fail the test after WAIT_SECONDS.

    The conditions read simulator state and log records, which signal no event, so the helper polls.
    """
    try:
        async with asyncio.timeout(WAIT_SECONDS):
            while not condition():  # noqa: ASYNC110 - nothing to await but a poll
                await asyncio.sleep(0.01)
    except TimeoutError:
        pytest.fail(f"timed out after {WAIT_SECONDS}s waiting for {description}")


async def send_and_disconnect(port: int, state: SimulatorState, path: str, body: bytes) -> None:
    """POST over plain HTTP and close the connection once the simulator has counted the request."""
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        f"POST /services/v2{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-DC-DEVKEY: {DEMO_KEY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    writer.write(head.encode() + body)
    await writer.drain()
    await wait_until(lambda: state.counts[DUPLICATE_ROUTE] == 1, "the request to arrive")
    writer.close()
    await writer.wait_closed()


def disconnect_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "client disconnected" in r.getMessage()]


def duplicate_body_bytes() -> bytes:
    _, csr = make_csr()
    return json.dumps(duplicate_body(csr, "demo.example.com")).encode()


@pytest.fixture
async def plain_simulator(simulator_factory: SimulatorFactory) -> SimulatorServer:
    return await simulator_factory(tls=False)


@pytest.fixture
async def uncancelled_app() -> AsyncIterator[tuple[SimulatorState, int]]:
    """The simulator's application under a default AppRunner, which never cancels handlers."""
    state = SimulatorState(resolve_seed(None))
    runner = web.AppRunner(build_application(state), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield state, int(runner.addresses[0][1])
    finally:
        await runner.cleanup()


async def test_late_fault_keeps_the_duplicate(
    simulator: SimulatorServer, sim_client: httpx.AsyncClient, sim_admin: httpx.AsyncClient
) -> None:
    await sim_admin.post(
        "/faults",
        json={
            "method": "POST",
            "path": "/order/certificate/*/duplicate",
            "status": 503,
            "code": "service_unavailable",
            "times": 1,
            "after_processing": True,
        },
    )
    _, csr = make_csr()

    failed = await sim_client.post(DUPLICATE_PATH, json=duplicate_body(csr, "demo.example.com"))
    listing = await sim_client.get(DUPLICATE_PATH)
    stats = await sim_admin.get(f"/orders/{PLUS_ORDER}/stats")

    assert failed.status_code == 503
    assert failed.json()["errors"][0]["code"] == "service_unavailable"
    certificates = listing.json()["certificates"]
    assert len(certificates) == 1
    assert certificates[0]["csr"] == csr
    assert certificates[0]["status"] == "issued"
    assert stats.json() == {"duplicates": 1, "renewals": 0}


async def test_late_fault_covers_error_responses(
    sim_client: httpx.AsyncClient, sim_admin: httpx.AsyncClient
) -> None:
    await sim_admin.post(
        "/faults",
        json={
            "path": "/order/certificate/*/duplicate",
            "status": 502,
            "times": 1,
            "after_processing": True,
        },
    )
    _, csr = make_csr()

    invalid = await sim_client.post(DUPLICATE_PATH, json={"certificate": {}})
    valid = await sim_client.post(DUPLICATE_PATH, json=duplicate_body(csr, "demo.example.com"))

    assert invalid.status_code == 502
    assert valid.status_code == 201


async def test_late_delay_follows_the_effect(simulator: SimulatorServer) -> None:
    order = simulator.state.orders[PLUS_ORDER]
    async with simulator_admin_client(simulator) as admin, simulator_client(simulator) as client:
        await admin.post(
            "/faults",
            json={
                "path": "/order/certificate/*/duplicate",
                "delay_seconds": LONG_DELAY,
                "after_processing": True,
            },
        )
        posting = asyncio.create_task(
            client.post(DUPLICATE_PATH, json=json.loads(duplicate_body_bytes()))
        )
        await wait_until(lambda: len(order.duplicate_certificate_ids) == 1, "the duplicate")
        response_pending = not posting.done()
        posting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await posting

    assert response_pending


async def test_early_delay_precedes_the_effect(simulator: SimulatorServer) -> None:
    order = simulator.state.orders[PLUS_ORDER]
    state = simulator.state
    async with simulator_admin_client(simulator) as admin, simulator_client(simulator) as client:
        await admin.post(
            "/faults",
            json={"path": "/order/certificate/*/duplicate", "delay_seconds": LONG_DELAY},
        )
        posting = asyncio.create_task(
            client.post(DUPLICATE_PATH, json=json.loads(duplicate_body_bytes()))
        )
        await wait_until(lambda: state.counts[DUPLICATE_ROUTE] == 1, "the request to arrive")
        duplicates_during_delay = list(order.duplicate_certificate_ids)
        posting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await posting

    assert duplicates_during_delay == []


async def test_disconnect_during_delay_logged_quietly(
    plain_simulator: SimulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dupcert.simulator")
    state = plain_simulator.state
    state.faults.append(ActiveFault(FaultRule(path=DUPLICATE_PATH, delay_seconds=LONG_DELAY)))

    await send_and_disconnect(plain_simulator.port, state, DUPLICATE_PATH, duplicate_body_bytes())
    await wait_until(lambda: bool(disconnect_records(caplog)), "the disconnect log line")

    assert len(disconnect_records(caplog)) == 1
    assert disconnect_records(caplog)[0].levelno == logging.INFO
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert not any(r.exc_info for r in caplog.records)
    assert not any(" 500 " in r.getMessage() for r in caplog.records)
    assert state.orders[PLUS_ORDER].duplicate_certificate_ids == []


async def test_disconnect_after_processing_keeps_effect(
    plain_simulator: SimulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dupcert.simulator")
    state = plain_simulator.state
    state.faults.append(
        ActiveFault(
            FaultRule(
                path=DUPLICATE_PATH, status=503, delay_seconds=LONG_DELAY, after_processing=True
            )
        )
    )

    await send_and_disconnect(plain_simulator.port, state, DUPLICATE_PATH, duplicate_body_bytes())
    await wait_until(lambda: bool(disconnect_records(caplog)), "the disconnect log line")

    assert len(state.orders[PLUS_ORDER].duplicate_certificate_ids) == 1
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert not any(r.exc_info for r in caplog.records)


async def test_disconnect_without_handler_cancellation(
    uncancelled_app: tuple[SimulatorState, int], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dupcert.simulator")
    state, port = uncancelled_app
    # Without handler cancellation the simulator notices the disconnect only when the delay ends.
    state.faults.append(ActiveFault(FaultRule(path=DUPLICATE_PATH, delay_seconds=0.2)))

    await send_and_disconnect(port, state, DUPLICATE_PATH, duplicate_body_bytes())
    await wait_until(lambda: bool(disconnect_records(caplog)), "the disconnect log line")

    assert len(disconnect_records(caplog)) == 1
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert not any(r.exc_info for r in caplog.records)
    assert not any(" 500 " in r.getMessage() for r in caplog.records)
    assert state.orders[PLUS_ORDER].duplicate_certificate_ids == []
