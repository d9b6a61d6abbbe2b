"""Authentication, unknown routes, the rate limit and the per-request log."""

from __future__ import annotations

import logging

import httpx
import pytest

from dupcert.simulator.ratelimit import RateLimiter
from dupcert.simulator.server import SimulatorServer
from tests.plugins.simulator import SimulatorFactory, simulator_client, simulator_ssl_context
from tests.simulator.support import DEMO_KEY

ACCESS_DENIED = {
    "errors": [
        {
            "code": "access_denied|access_denied_invalid_key",
            "message": "Access denied due to access_denied_invalid_key.",
        }
    ]
}


@pytest.mark.parametrize("headers", [{}, {"X-DC-DEVKEY": "wrong-key-123456"}, {"X-DC-DEVKEY": ""}])
async def test_bad_key_returns_403(simulator: SimulatorServer, headers: dict[str, str]) -> None:
    async with httpx.AsyncClient(
        base_url=simulator.base_url,
        verify=simulator_ssl_context(simulator),
        headers=headers,
    ) as client:
        response = await client.get("/account")
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/json"
    assert response.json() == ACCESS_DENIED


async def test_key_never_echoed(simulator: SimulatorServer) -> None:
    async with simulator_client(simulator, api_key="secret-key-never-shown") as client:
        response = await client.get("/account")
    assert "secret-key-never-shown" not in response.text
    assert all("secret-key-never-shown" not in value for value in response.headers.values())


async def test_unknown_route_returns_404(sim_client: httpx.AsyncClient) -> None:
    response = await sim_client.get("/no/such/route")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json()["errors"][0]["code"] == "not_found|route"


async def test_wrong_method_returns_404(sim_client: httpx.AsyncClient) -> None:
    response = await sim_client.delete("/account")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found|route"


async def test_path_outside_api_returns_404(simulator: SimulatorServer) -> None:
    async with simulator_client(simulator) as client:
        response = await client.get(simulator.url + "/index.html")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found|route"


async def test_invalid_json_body(sim_client: httpx.AsyncClient) -> None:
    response = await sim_client.post(
        "/order/certificate/100001/duplicate",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_json"


async def test_rate_limit_returns_429(
    simulator: SimulatorServer, sim_client: httpx.AsyncClient
) -> None:
    # A frozen clock puts every request in the same instant, so the test does not depend on
    # how fast this machine sends 101 requests.
    simulator.state.rate_limiter = RateLimiter(clock=lambda: 1000.0)
    statuses = [(await sim_client.get("/account")).status_code for _ in range(101)]
    limited = await sim_client.get("/account")

    assert statuses[:100] == [200] * 100
    assert statuses[100] == 429
    assert limited.status_code == 429
    assert limited.headers["content-type"] == "application/json"
    assert limited.json()["errors"][0]["code"] == "request_limit_exceeded"


async def test_rate_limit_switched_off(
    simulator: SimulatorServer, sim_client: httpx.AsyncClient, sim_admin: httpx.AsyncClient
) -> None:
    account_id = simulator.state.first_account().id
    await sim_admin.patch(f"/accounts/{account_id}", json={"rate_limit_enabled": False})
    statuses = {(await sim_client.get("/account")).status_code for _ in range(130)}
    assert statuses == {200}


async def test_request_log_line(
    sim_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dupcert.simulator")
    await sim_client.get("/order/certificate/100001")
    lines = [r.getMessage() for r in caplog.records if r.name == "dupcert.simulator"]
    assert any(
        line.startswith("GET /services/v2/order/certificate/{order_id} 200") for line in lines
    )
    assert all(DEMO_KEY not in line for line in lines)


async def test_plain_http_mode(simulator_factory: SimulatorFactory) -> None:
    sim = await simulator_factory(tls=False)
    assert sim.base_url.startswith("http://127.0.0.1:")
    async with simulator_client(sim) as client:
        response = await client.get("/account")
    assert response.status_code == 200


def test_rate_limit_long_window() -> None:
    now = [0.0]
    limiter = RateLimiter(clock=lambda: now[0])
    accepted = 0
    # 0.06 s apart is about 83 requests per 5 s, under the short window, so only the
    # 1000-per-3-minutes window can stop these requests.
    for _ in range(1000):
        accepted += limiter.allow(1)
        now[0] += 0.06
    rejected = limiter.allow(1)
    other_account = limiter.allow(2)
    now[0] += 180.0
    after_window = limiter.allow(1)

    assert accepted == 1000
    assert rejected is False
    assert other_account is True
    assert after_window is True


def test_rate_limit_short_window_recovers() -> None:
    now = [0.0]
    limiter = RateLimiter(clock=lambda: now[0])
    results = [limiter.allow(1) for _ in range(101)]
    now[0] += 5.01
    assert results[:100] == [True] * 100
    assert results[100] is False
    assert limiter.allow(1) is True
