"""Tests of the rolling-window rate limiter with a fake clock."""

from __future__ import annotations

import pytest

from dupcert.certcentral import ratelimit
from dupcert.certcentral.ratelimit import (
    DEFAULT_WINDOWS,
    SlidingWindowLimiter,
    Window,
    limiter_for_key,
)


class FakeTime:
    """A monotonic clock whose sleep advances it instantly."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        self.now += delay


def make_limiter(fake: FakeTime, *windows: Window) -> SlidingWindowLimiter:
    return SlidingWindowLimiter(windows, clock=fake.clock, sleep=fake.sleep)


async def test_requests_within_limit_pass() -> None:
    fake = FakeTime()
    limiter = make_limiter(fake, Window(limit=3, period=10.0))

    for _ in range(3):
        await limiter.acquire()

    assert fake.sleeps == []


async def test_request_over_limit_waits() -> None:
    fake = FakeTime()
    limiter = make_limiter(fake, Window(limit=3, period=10.0))

    await limiter.acquire()
    fake.now += 4.0
    await limiter.acquire()
    await limiter.acquire()
    await limiter.acquire()

    # The fourth request fits once the first (at t=1000) leaves the window at t=1010.
    assert fake.sleeps == [pytest.approx(6.0)]
    assert fake.now == pytest.approx(1010.0)


async def test_window_rolls_instead_of_resetting() -> None:
    fake = FakeTime()
    limiter = make_limiter(fake, Window(limit=2, period=10.0))

    await limiter.acquire()  # t=1000
    fake.now += 9.0
    await limiter.acquire()  # t=1009
    fake.now += 2.0
    await limiter.acquire()  # t=1011: the first left the window at 1010
    await limiter.acquire()  # waits until the one at 1009 leaves, at 1019

    assert fake.sleeps == [pytest.approx(8.0)]


async def test_longest_wait_of_windows_wins() -> None:
    fake = FakeTime()
    limiter = make_limiter(fake, Window(limit=2, period=1.0), Window(limit=3, period=60.0))

    for _ in range(3):
        await limiter.acquire()
    await limiter.acquire()

    # The 1 s window alone would allow the request after 1 s, the 60 s window after 60 s.
    assert sum(fake.sleeps) == pytest.approx(60.0)
    assert fake.now == pytest.approx(1060.0)


async def test_sustained_load_respects_every_window() -> None:
    fake = FakeTime()
    windows = (Window(limit=5, period=1.0), Window(limit=20, period=30.0))
    limiter = make_limiter(fake, *windows)
    starts: list[float] = []

    for _ in range(60):
        await limiter.acquire()
        starts.append(fake.now)

    for window in windows:
        for index, start in enumerate(starts):
            in_window = [other for other in starts[: index + 1] if other > start - window.period]
            assert len(in_window) <= window.limit


def test_defaults_stay_below_documented_limits() -> None:
    by_period = {window.period: window.limit for window in DEFAULT_WINDOWS}
    assert by_period[5.0] < 100
    assert by_period[180.0] < 1000


@pytest.mark.parametrize(
    "window", [Window(limit=0, period=1.0), Window(limit=1, period=0.0)], ids=["limit", "period"]
)
def test_invalid_window_rejected(window: Window) -> None:
    with pytest.raises(ValueError, match="invalid rate-limit window"):
        SlidingWindowLimiter([window])


def test_registry_shares_limiter_per_key() -> None:
    first = limiter_for_key("registry-test-key-one")
    again = limiter_for_key("registry-test-key-one")
    other = limiter_for_key("registry-test-key-two")

    assert first is again
    assert first is not other


def test_registry_never_stores_key() -> None:
    limiter_for_key("registry-test-key-plain")

    assert all("registry-test-key-plain" not in entry for entry in ratelimit._registry)
    assert all(len(entry) == 64 for entry in ratelimit._registry)
