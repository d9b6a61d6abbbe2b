"""KmockKubernetes: the emulator on an HTTP port of 127.0.0.1, served from a background thread."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import aiohttp.test_utils
import aiohttp.web
import kmock
import kubernetes
import yaml

from dupcert.kmockapi.emulator import KubernetesApiEmulator
from dupcert.kmockapi.resources import CUSTOM_RESOURCE_DEFINITIONS

logger = logging.getLogger(__name__)

T = TypeVar("T")

# How long start() and each call into the emulator's thread may take, in seconds.
CALL_TIMEOUT = 30.0
# How long stop() may take, in seconds. aiohttp 3.14 waits up to 60 s for open requests.
STOP_TIMEOUT = 75.0


class _QuietTestServer(aiohttp.test_utils.RawTestServer):
    """aiohttp's raw test server without its access log line per request."""

    async def _make_runner(self, debug: bool = True, **kwargs: Any) -> aiohttp.web.ServerRunner:
        return await super()._make_runner(debug=debug, access_log=None, **kwargs)


class KmockKubernetes:
    """A Kubernetes API emulator on ``http://127.0.0.1:<free port>`` without authentication.

    The server runs its own event loop in a daemon thread, so synchronous code and other
    processes (``dupcert run --kubeconfig ...``) can use it. Use it as a context manager, or
    call ``start()`` and ``stop()``.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        bookmark_interval: float = 30.0,
        event_history: int = 10_000,
    ) -> None:
        """Set the seconds between watch bookmarks and the number of watch events kept.

        Watches that resume from a resourceVersion older than the kept events get 410 Expired.
        """
        self._host = host
        self._bookmark_interval = bookmark_interval
        self._event_history = event_history
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._emulator: KubernetesApiEmulator | None = None
        self._server: kmock.Server | None = None
        self._url: str | None = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL, such as ``http://127.0.0.1:40123``."""
        if self._url is None:
            raise RuntimeError("the Kubernetes API emulator is not running. Call start() first.")
        return self._url

    def start(self) -> Self:
        """Start the server and return once it accepts connections."""
        if self._thread is not None:
            raise RuntimeError("the Kubernetes API emulator is already running")
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="kmock-kubernetes", daemon=True)
        thread.start()
        self._loop, self._thread = loop, thread
        try:
            self._url = self._call(self._start_serving)
        except BaseException:
            self.stop()
            raise
        logger.info("Kubernetes API emulator listening on %s", self._url)
        return self

    def stop(self) -> None:
        """Stop the server, end its watches and its thread. Safe to call twice."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            if self._server is not None or self._emulator is not None:
                self._call(self._stop_serving, STOP_TIMEOUT)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(CALL_TIMEOUT)
            if not thread.is_alive():
                loop.close()
            self._loop = self._thread = None
            self._url = None
            logger.info("Kubernetes API emulator stopped")

    def write_kubeconfig(self, path: Path | str) -> Path:
        """Write a kubeconfig for this server (plain HTTP, no credentials) and return its path."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "kmock", "cluster": {"server": self.url}}],
            "users": [{"name": "kmock", "user": {}}],
            "contexts": [
                {
                    "name": "kmock",
                    "context": {"cluster": "kmock", "user": "kmock", "namespace": "default"},
                }
            ],
            "current-context": "kmock",
        }
        target = Path(path)
        target.write_text(yaml.safe_dump(config, sort_keys=False))
        return target

    def client_configuration(self) -> kubernetes.client.Configuration:
        """Return a ``kubernetes`` client configuration for this server."""
        configuration = kubernetes.client.Configuration()
        configuration.host = self.url
        return configuration

    def apply_crds(self, directory: Path | str) -> list[str]:
        """Create or replace every CustomResourceDefinition in ``directory/*.yaml``.

        Return the CRD names. Their resources are served (and listed in discovery) at once.
        """
        documents = []
        for path in sorted(Path(directory).glob("*.yaml")):
            for document in yaml.safe_load_all(path.read_text()):
                if (
                    isinstance(document, dict)
                    and document.get("kind") == "CustomResourceDefinition"
                ):
                    documents.append(document)
        if not documents:
            raise ValueError(f"no CustomResourceDefinition found in {directory}/*.yaml")

        def apply_all() -> list[str]:
            emulator = self._require_emulator()
            names = []
            for document in documents:
                crd = emulator.store.apply(CUSTOM_RESOURCE_DEFINITIONS, "v1", None, document)
                names.append(str(crd["metadata"]["name"]))
            return names

        return self._call(self._in_loop(apply_all))

    # The emulator's thread

    def _require_emulator(self) -> KubernetesApiEmulator:
        if self._emulator is None:
            raise RuntimeError("the Kubernetes API emulator is not running. Call start() first.")
        return self._emulator

    def _call(
        self, function: Callable[[], Coroutine[Any, Any, T]], timeout: float = CALL_TIMEOUT
    ) -> T:
        """Run a coroutine function on the emulator's loop and return its result."""
        if self._loop is None:
            raise RuntimeError("the Kubernetes API emulator is not running. Call start() first.")
        future = asyncio.run_coroutine_threadsafe(function(), self._loop)
        return future.result(timeout)

    @staticmethod
    def _in_loop(function: Callable[[], T]) -> Callable[[], Coroutine[Any, Any, T]]:
        async def run() -> T:
            return function()

        return run

    async def _start_serving(self) -> str:
        # Built inside the loop, because kmock's handler creates asyncio objects and tasks.
        emulator = KubernetesApiEmulator(
            bookmark_interval=self._bookmark_interval, event_history=self._event_history
        )
        await emulator.__aenter__()
        self._emulator = emulator
        server = kmock.Server(emulator, host=self._host, server_cls=_QuietTestServer)
        await server.__aenter__()
        self._server = server
        return str(server.url).rstrip("/")

    async def _stop_serving(self) -> None:
        emulator, server = self._emulator, self._server
        self._emulator = self._server = None
        if emulator is not None:
            emulator.stop_watches()
        if server is not None:
            await _close_server(server)
        if emulator is not None:
            await emulator.__aexit__(None, None, None)

        # Whatever the server left behind (finished handlers, idle connections) ends here.
        current = asyncio.current_task()
        leftovers = [task for task in asyncio.all_tasks() if task is not current]
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)
        await asyncio.get_running_loop().shutdown_asyncgens()


async def _close_server(server: kmock.Server) -> None:
    try:
        await server.__aexit__(None, None, None)
    except RuntimeError as error:
        # kmock.Server replaces aiohttp's host resolver process-wide and can restore it only in
        # the reverse order of starting. When emulators stop in another order it raises before
        # closing anything, so close the client and the listening socket here.
        logger.warning(
            "kmock could not restore aiohttp's resolver (%s). Closing the server anyway.", error
        )
        await server.client.close()
        await server.server.close()
