"""Client-side rate limiting for CertCentral, per API key.

DigiCert documents that CertCentral counts requests per API key in two rolling windows, 100 per
5 seconds and 1000 per 3 minutes, and that these limits may change without notice. Exceeding
either blocks the key for a while with HTTP 429. The defaults here keep a margin below both
(90 per 5 s, 950 per 180 s), because other tools may share the key and the server's window
edges need not line up with ours.
"""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from time import monotonic


@dataclass(frozen=True)
class Window:
    """At most `limit` requests in any rolling period of `period` seconds."""

    limit: int
    period: float


DEFAULT_WINDOWS = (Window(limit=90, period=5.0), Window(limit=950, period=180.0))


class SlidingWindowLimiter:
    """Delay requests so that no rolling window's limit is exceeded.

    `acquire()` waits instead of failing. The limiter is safe for any number of tasks in one
    event loop. It keeps no state bound to a loop, so one instance may serve several loops in
    turn.
    """

    def __init__(
        self,
        windows: Sequence[Window] = DEFAULT_WINDOWS,
        *,
        clock: Callable[[], float] = monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not windows:
            raise ValueError("a rate limiter needs at least one window")
        for window in windows:
            if window.limit < 1 or window.period <= 0:
                raise ValueError(
                    f"invalid rate-limit window {window}: limit and period must be > 0"
                )
        self.windows = tuple(windows)
        self._clock = clock
        self._sleep = sleep
        self._max_period = max(window.period for window in self.windows)
        # Start times of recent requests, ascending, kept for the longest period.
        self._starts: list[float] = []

    async def acquire(self) -> None:
        """Wait until one more request fits in every window, then count it."""
        while True:
            now = self._clock()
            delay = self._delay_at(now)
            if delay <= 0:
                self._starts.append(now)
                return
            await self._sleep(delay)

    def _delay_at(self, now: float) -> float:
        """Return the seconds until a request at `now` fits every window (0 if it fits now)."""
        expired = bisect.bisect_right(self._starts, now - self._max_period)
        if expired:
            del self._starts[:expired]

        delay = 0.0
        for window in self.windows:
            first_in_window = bisect.bisect_right(self._starts, now - window.period)
            in_window = len(self._starts) - first_in_window
            if in_window >= window.limit:
                # The request fits once the oldest start that keeps the window full drops out.
                blocking_start = self._starts[len(self._starts) - window.limit]
                delay = max(delay, blocking_start + window.period - now)
        return delay


_registry: dict[str, SlidingWindowLimiter] = {}
_registry_lock = threading.Lock()


def limiter_for_key(api_key: str) -> SlidingWindowLimiter:
    """Return the process-wide limiter for an API key, creating it on first use.

    The registry is keyed by the SHA-256 of the key, so the key itself is never stored here.
    """
    key_hash = hashlib.sha256(api_key.encode()).hexdigest()
    with _registry_lock:
        limiter = _registry.get(key_hash)
        if limiter is None:
            limiter = SlidingWindowLimiter()
            _registry[key_hash] = limiter
        return limiter
