"""The simulator's HTTP server: middleware, the aiohttp application and `SimulatorServer`."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import Self

from aiohttp import web

from dupcert.simulator import admin, api
from dupcert.simulator.errors import (
    ApiError,
    access_denied,
    error_response,
    rate_limited,
    route_not_found,
)
from dupcert.simulator.faults import FaultRule
from dupcert.simulator.seed import Seed, resolve_seed
from dupcert.simulator.state import SimulatorState
from dupcert.simulator.tls import ServingIdentity

SERVICES_PREFIX = "/services/v2"
ADMIN_PREFIX = "/_admin"
API_KEY_HEADER = "X-DC-DEVKEY"

logger = logging.getLogger("dupcert.simulator")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Status of the placeholder response for a client that went away. It is never sent; aiohttp drops
# it when it finds the connection closed. nginx logs 499 for the same case.
CLIENT_CLOSED_REQUEST = 499


class ClientDisconnected(Exception):
    """The client closed the connection before the simulator sent its response."""


def _client_is_connected(request: web.Request) -> bool:
    transport = request.transport
    return transport is not None and not transport.is_closing()


def _route_template(request: web.Request) -> str | None:
    """Return the matched route's path template, e.g. `/services/v2/request/{request_id}`."""
    info = request.match_info
    if info.http_exception is not None:
        return None
    resource = info.route.resource
    return resource.canonical if resource is not None else None


def _is_loopback(request: web.Request) -> bool:
    try:
        return request.remote is not None and ipaddress.ip_address(request.remote).is_loopback
    except ValueError:
        return False


async def _serve_services(
    request: web.Request, handler: Handler, state: SimulatorState, template: str | None
) -> web.StreamResponse:
    if template is None:
        raise route_not_found()
    state.counts[f"{request.method} {template[len(SERVICES_PREFIX) :]}"] += 1

    late_fault: FaultRule | None = None
    for fault in state.faults:
        if fault.take(request.method, request.path):
            if fault.rule.after_processing:
                late_fault = fault.rule
                break
            injected = await _apply_fault(request, fault.rule)
            if injected is not None:
                return injected
            break

    if late_fault is None:
        return await _authorize_and_handle(request, handler, state)
    # The late fault applies to whatever the request produced, an error response included, so a
    # fault with `times` is never used up without taking effect.
    try:
        response = await _authorize_and_handle(request, handler, state)
    except (ApiError, web.HTTPException) as error:
        response = _error_to_response(error)
    injected = await _apply_fault(request, late_fault)
    return injected if injected is not None else response


async def _authorize_and_handle(
    request: web.Request, handler: Handler, state: SimulatorState
) -> web.StreamResponse:
    api_key = request.headers.get(API_KEY_HEADER, "")
    account = state.account_for_key(api_key) if api_key else None
    if account is None:
        raise access_denied()
    if account.rate_limit_enabled and not state.rate_limiter.allow(account.id):
        raise rate_limited()
    request[api.ACCOUNT_KEY] = account
    return await handler(request)


def _error_to_response(error: ApiError | web.HTTPException) -> web.Response:
    if isinstance(error, ApiError):
        return error.to_response()
    return error_response(error.status, "invalid_request", error.reason)


async def _apply_fault(request: web.Request, rule: FaultRule) -> web.StreamResponse | None:
    """Wait the rule's delay; return its error response, or None to carry on normally.

    Raises ClientDisconnected when the client closed the connection during the delay, so a
    request whose client went away is not carried out after the delay.
    """
    if rule.delay_seconds:
        await asyncio.sleep(rule.delay_seconds)
        if not _client_is_connected(request):
            raise ClientDisconnected()
    if rule.status is None:
        return None
    if rule.body is not None:
        return web.Response(
            status=rule.status,
            body=rule.body.encode(),
            headers={"Content-Type": rule.content_type},
        )
    return error_response(rule.status, rule.code, rule.message)


def _build_middleware(state: SimulatorState) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.monotonic()
        template = _route_template(request)
        response: web.StreamResponse
        try:
            if request.path == SERVICES_PREFIX or request.path.startswith(SERVICES_PREFIX + "/"):
                response = await _serve_services(request, handler, state, template)
            elif request.path.startswith(ADMIN_PREFIX + "/"):
                if not _is_loopback(request):
                    raise ApiError(
                        403,
                        "access_denied|admin",
                        "Admin routes accept requests from loopback addresses only.",
                    )
                if template is None:
                    raise route_not_found()
                response = await handler(request)
            else:
                raise route_not_found()
        except (ApiError, web.HTTPException) as error:
            response = _error_to_response(error)
        except (ClientDisconnected, ConnectionResetError):
            # aiohttp raises ConnectionResetError when a request body is read from a closed
            # connection. The client is gone, so this is no simulator failure.
            logger.info(
                "%s %s client disconnected after %.1fms",
                request.method,
                template or request.path,
                (time.monotonic() - started) * 1000,
            )
            return web.Response(status=CLIENT_CLOSED_REQUEST)
        except asyncio.CancelledError:
            # aiohttp cancels the handler when the client disconnects (handler_cancellation) and
            # when the server stops with requests still running.
            logger.info(
                "%s %s cancelled after %.1fms: client disconnected or simulator stopping",
                request.method,
                template or request.path,
                (time.monotonic() - started) * 1000,
            )
            raise
        except Exception:
            # The client gets a CertCentral-shaped 500; the traceback goes to the log only.
            logger.exception("request %s %s failed", request.method, template or request.path)
            response = error_response(500, "internal_error", "The simulator failed unexpectedly.")
        elapsed_ms = (time.monotonic() - started) * 1000
        logger.info(
            "%s %s %d %.1fms", request.method, template or request.path, response.status, elapsed_ms
        )
        return response

    return middleware


def build_application(state: SimulatorState) -> web.Application:
    """Create the aiohttp application serving the Services API and the admin routes."""
    app = web.Application(middlewares=[_build_middleware(state)])
    app[api.STATE_KEY] = state
    api.add_routes(app, SERVICES_PREFIX)
    admin.add_routes(app, ADMIN_PREFIX)
    return app


class SimulatorServer:
    """A running CertCentral simulator on a local port.

    Use it as `async with SimulatorServer() as sim:` in async code, or call `start_in_thread()`
    from synchronous code. Port 0 picks a free port, and `base_url` then contains the real one.
    """

    def __init__(
        self,
        seed: str | Path | Seed | None = None,
        tls: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.state = SimulatorState(resolve_seed(seed))
        self.tls = tls
        self.host = host
        self.port = port
        self._identity = ServingIdentity([host])
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """The server root, e.g. `https://127.0.0.1:8443`."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        if ":" in host:
            host = f"[{host}]"
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The Services API base URL, ending in `/services/v2`."""
        return self.url + SERVICES_PREFIX

    @property
    def admin_url(self) -> str:
        """The admin base URL, ending in `/_admin`."""
        return self.url + ADMIN_PREFIX

    @property
    def ca_bundle_pem(self) -> str:
        """PEM of the CA that signed the serving certificate (trust it to connect over TLS)."""
        return self._identity.ca_pem

    @property
    def issuing_root_pem(self) -> str:
        """PEM of the root that issued certificates chain to."""
        return self.state.ca.root_pem

    @property
    def api_key(self) -> str:
        """The API key of the first account in the seed."""
        return self.state.first_account().api_key

    @property
    def organization_id(self) -> int:
        """The id of the first organization of the first account."""
        account = self.state.first_account()
        for organization in self.state.organizations.values():
            if organization.account_id == account.id:
                return organization.id
        raise LookupError("the seed defines no organization for the first account")

    async def start(self) -> None:
        """Bind the port and start serving."""
        if self._runner is not None:
            raise RuntimeError("the simulator is already running")
        # handler_cancellation ends a fault's delay as soon as its client disconnects. Without it
        # the request, and with it the simulator's shutdown, would wait for the whole delay.
        runner = web.AppRunner(
            build_application(self.state),
            access_log=None,
            handle_signals=False,
            handler_cancellation=True,
        )
        await runner.setup()
        ssl_context = self._identity.ssl_context() if self.tls else None
        site = web.TCPSite(runner, self.host, self.port, ssl_context=ssl_context)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        logger.info("simulator listening on %s", self.base_url)

    async def stop(self) -> None:
        """Stop serving and close the port."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            logger.info("simulator stopped")

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    def start_in_thread(self) -> ThreadedSimulator:
        """Run this server on an event loop in a background thread and return its handle."""
        handle = ThreadedSimulator(self)
        handle.start()
        return handle


class ThreadedSimulator:
    """A simulator running in its own thread; `stop()` ends it and closes the port."""

    def __init__(self, server: SimulatorServer) -> None:
        self.server = server
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="dupcert-simulator", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self.server.start())
        except BaseException as error:  # reported to the starting thread by start()
            self._error = error
            self._started.set()
            self._loop.close()
            return
        self._started.set()
        try:
            self._loop.run_forever()
        finally:
            self._loop.run_until_complete(self.server.stop())
            self._loop.close()

    def start(self) -> None:
        """Start the thread and wait until the port is open."""
        self._thread.start()
        self._started.wait()
        if self._error is not None:
            raise RuntimeError(f"the simulator failed to start: {self._error}") from self._error

    def stop(self) -> None:
        """Stop the server and wait for the thread to finish."""
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The Services API base URL."""
        return self.server.base_url

    @property
    def admin_url(self) -> str:
        """The admin base URL."""
        return self.server.admin_url

    @property
    def ca_bundle_pem(self) -> str:
        """PEM of the CA that signed the serving certificate."""
        return self.server.ca_bundle_pem

    @property
    def issuing_root_pem(self) -> str:
        """PEM of the root that issued certificates chain to."""
        return self.server.issuing_root_pem

    @property
    def api_key(self) -> str:
        """The API key of the first account."""
        return self.server.api_key

    @property
    def organization_id(self) -> int:
        """The id of the first organization."""
        return self.server.organization_id

    @property
    def state(self) -> SimulatorState:
        """The simulator's state, for assertions; change it only through the admin routes."""
        return self.server.state
