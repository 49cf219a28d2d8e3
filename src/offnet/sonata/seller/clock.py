"""The seller's clock: simulated time that tests and the demo can move forward."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


class SimulatedClock:
    """Time that starts at ``start`` and runs ``rate`` simulated seconds per real second
    (0 = frozen until advanced, 1 = real time); ``advance`` jumps forward."""

    def __init__(
        self,
        start: datetime | None = None,
        rate: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate < 0:
            raise ValueError("clock rate must be >= 0")
        start = start or datetime.now(UTC).replace(microsecond=0)
        if start.tzinfo is None:
            raise ValueError("clock start needs a UTC offset")
        self._start = start
        self._rate = rate
        self._monotonic = monotonic
        self._origin = monotonic()
        self._offset = timedelta(0)

    def __call__(self) -> datetime:
        elapsed = (self._monotonic() - self._origin) * self._rate
        return self._start + self._offset + timedelta(seconds=elapsed)

    def advance(self, seconds: float) -> datetime:
        """Jump forward (never back) and return the new time."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._offset += timedelta(seconds=seconds)
        return self()
