"""Supervised duties: each of the oracle's jobs runs in its own loop, fails alone, retries with backoff,
and reports when it last succeeded, so /healthz can say which one is stuck.

A duty is an async callable doing one pass of its job. The supervisor runs it every `interval`
seconds (at once again when woken), and after a failure waits `interval * 2^(failures-1)` capped at
`max_backoff` before the next try. Nothing a duty raises ends the oracle; every failure is logged once
per pass with its reason, secrets redacted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from offnet.oracle.redact import redact

log = logging.getLogger("offnet.oracle")

RECENT_ERRORS = 20  # per duty: the error list is bounded


@dataclass
class DutyHealth:
    """What /healthz says about one duty."""

    name: str
    interval: float
    stuck_after: float
    started_at: float = field(default_factory=time.time)
    last_success: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    failures: int = 0  # consecutive
    runs: int = 0
    errors: deque[str] = field(default_factory=lambda: deque(maxlen=RECENT_ERRORS))

    def stuck(self, now: float) -> bool:
        """True when the duty has not succeeded for longer than it may (failing, or hanging in a pass)."""
        since = self.last_success if self.last_success is not None else self.started_at
        return now - since > self.stuck_after

    def as_dict(self, now: float) -> dict:
        return {
            "ok": not self.stuck(now),
            "lastSuccess": _iso(self.last_success),
            "lastError": self.last_error,
            "lastErrorAt": _iso(self.last_error_at),
            "consecutiveFailures": self.failures,
            "runs": self.runs,
        }


def _iso(moment: float | None) -> str | None:
    if moment is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


@dataclass
class Duty:
    """One job of the oracle: `run()` does one pass; `wake` makes the next pass start at once."""

    name: str
    run: Callable[[], Awaitable[object]]
    interval: float
    max_backoff: float = 60.0
    stuck_after: float | None = None  # default: max(120 s, 10 intervals)
    # Passes start at least this far apart even when woken: under load, the wakes of many events
    # coalesce into one pass that takes them all (a pass per event would cost a query per event).
    min_gap: float = 0.0
    wake: asyncio.Event = field(default_factory=asyncio.Event)


class Supervisor:
    """Runs duties side by side until stopped; keeps their health."""

    def __init__(self) -> None:
        self.duties: dict[str, Duty] = {}
        self.health: dict[str, DutyHealth] = {}
        self._tasks: list[asyncio.Task] = []
        self._stop = asyncio.Event()

    def add(self, duty: Duty) -> Duty:
        stuck = duty.stuck_after if duty.stuck_after is not None else max(120.0, 10 * duty.interval)
        self.duties[duty.name] = duty
        self.health[duty.name] = DutyHealth(duty.name, duty.interval, stuck)
        return duty

    def wake(self, name: str) -> None:
        """Start the next pass of a duty at once (e.g. the submitter when the outbox grew)."""
        duty = self.duties.get(name)
        if duty is not None:
            duty.wake.set()

    def start(self) -> None:
        """Run every duty in its own loop (again after stop(): a process that leads anew)."""
        self._stop.clear()
        for health in self.health.values():
            health.started_at, health.failures = time.time(), 0
        self._tasks = [
            asyncio.create_task(self._loop(d), name=f"duty {d.name}") for d in self.duties.values()
        ]

    async def stop(self) -> None:
        """Let the passes under way finish, then end every loop."""
        self._stop.set()
        for duty in self.duties.values():
            duty.wake.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def attempt(self, name: str, run: Callable[[], Awaitable[object]] | None = None) -> bool:
        """One pass of duty `name` (or of `run` on its behalf), its outcome recorded; True on success."""
        duty, health = self.duties[name], self.health[name]
        health.runs += 1
        try:
            await (run or duty.run)()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # one duty's failure never ends the oracle
            health.failures += 1
            message = redact(f"{exc.__class__.__name__}: {exc}")
            health.last_error, health.last_error_at = message, time.time()
            health.errors.append(message)
            log.warning("%s failed (%d in a row): %s", name, health.failures, message)
            return False
        health.failures = 0
        health.last_success = time.time()
        return True

    async def _loop(self, duty: Duty) -> None:
        health = self.health[duty.name]
        while not self._stop.is_set():
            duty.wake.clear()
            if await self.attempt(duty.name):
                delay = duty.interval
            else:  # back off: interval * 2^(failures-1), capped
                delay = min(duty.interval * 2 ** (health.failures - 1), duty.max_backoff)
            await self._sleep(duty, delay)
            if duty.min_gap and not self._stop.is_set():
                await asyncio.sleep(duty.min_gap)

    async def _sleep(self, duty: Duty, seconds: float) -> None:
        """Wait `seconds`, or less when the duty is woken (stop() wakes every duty)."""
        if self._stop.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(duty.wake.wait(), seconds)

    def report(self) -> tuple[bool, dict]:
        """(healthy, per-duty health) for /healthz."""
        now = time.time()
        duties = {name: h.as_dict(now) for name, h in self.health.items()}
        return all(d["ok"] for d in duties.values()), duties
