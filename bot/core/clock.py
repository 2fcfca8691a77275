"""Time as a port: the core never reads the clock, it is handed `now`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock UTC time; optionally running `speed` times faster (sandbox)."""

    def __init__(self, *, speed: float = 1.0) -> None:
        self._speed = speed
        self._origin = datetime.now(UTC)

    def now(self) -> datetime:
        real = datetime.now(UTC)
        if self._speed == 1.0:
            return real
        return self._origin + (real - self._origin) * self._speed


class ManualClock:
    """A clock tests move by hand (like trio's MockClock)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now
