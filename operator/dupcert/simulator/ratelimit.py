"""CertCentral's per-key rate limit: 100 requests per 5 seconds and 1000 per 3 minutes."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

# (window length in seconds, requests allowed in that window), as DigiCert documents them.
DEFAULT_WINDOWS: tuple[tuple[float, int], ...] = ((5.0, 100), (180.0, 1000))


class RateLimiter:
    """Rolling-window limiter keyed by account id.

    Rejected requests are not recorded, so a client that backs off regains access as soon as
    the oldest accepted request leaves the window.
    """

    def __init__(
        self,
        windows: tuple[tuple[float, int], ...] = DEFAULT_WINDOWS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.windows = windows
        self._clock = clock
        self._history: dict[int, deque[float]] = {}

    def allow(self, account_id: int) -> bool:
        """Record a request of the account and return False when it is over a limit."""
        now = self._clock()
        longest = max(length for length, _ in self.windows)
        history = self._history.setdefault(account_id, deque())
        while history and history[0] <= now - longest:
            history.popleft()
        for length, limit in self.windows:
            in_window = sum(1 for stamp in history if stamp > now - length)
            if in_window >= limit:
                return False
        history.append(now)
        return True

    def reset(self, account_id: int | None = None) -> None:
        """Forget the request history of one account, or of all accounts."""
        if account_id is None:
            self._history.clear()
        else:
            self._history.pop(account_id, None)
