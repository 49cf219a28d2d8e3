"""Leadership: of the oracle processes sharing one database, exactly one runs the duties.

Replicas of one carrier's oracle share its database. Every replica serves the listener (ingest is a
shared table, so any of them may take a notification), but only the one holding the database's
leadership lock runs the duties (events, submit, confirm, finalize...), so nothing is done twice and
the oracle key's nonces have one user. The others stand by and try the lock every `interval`
seconds; the one that gets it first recovers the outbox and re-reads its nonces from the node
(what the previous holder sent is found and settled) before its duties start.

- PostgreSQL: a session-level advisory lock held on a connection of its own. The server releases it
  when that session ends: at once when the holder's process dies (its socket closes, even after
  kill -9), and within about 15 s (TCP keepalives) when the holder's host vanishes.
- SQLite: an exclusive `flock` on a file beside the database (`<file>.leader`); the kernel releases
  it when the holder's process dies. A second process on the same file never doubles the duties.

The holder checks every `interval` that it still holds the lock (its connection alive) and stops its
duties at once when it does not.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol

from eth_utils import keccak
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import NullPool

from offnet.oracle.store import database_url

log = logging.getLogger("offnet.oracle.leader")

# One advisory lock key per database: the oracle's duties (a signed 64-bit number from a fixed text).
ADVISORY_KEY = int.from_bytes(keccak(text="offnet oracle duties")[:8], "big", signed=True)
# The leadership connection notices a vanished server (or the server a vanished holder) in about
# idle + interval * count seconds.
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 3}


class LeaderLock(Protocol):
    """A lock that at most one process holds, released by the system when its holder dies."""

    def acquire(self) -> bool:
        """Take the lock if it is free; True when this process holds it."""

    def held(self) -> bool:
        """True while this process still holds the lock (False once it was lost)."""

    def release(self) -> None:
        """Give the lock up (a standby takes it at its next try)."""


class AdvisoryLock:
    """PostgreSQL: `pg_try_advisory_lock` on a dedicated connection (autocommit: never idle in a
    transaction), with TCP keepalives so a vanished peer ends the session."""

    def __init__(self, url: str, key: int = ADVISORY_KEY):
        self.key = key
        self._engine = create_engine(
            database_url(url), poolclass=NullPool, connect_args={**KEEPALIVES, "connect_timeout": 5}
        )
        self._conn: Connection | None = None

    def acquire(self) -> bool:
        if self._conn is not None:
            return self.held()
        conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}).scalar_one()
        except Exception:
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def held(self) -> bool:
        if self._conn is None:
            return False
        try:
            self._conn.execute(text("SELECT 1")).scalar_one()
            return True
        except Exception as exc:  # the session is gone, and the lock with it
            log.error("leadership lost: its database connection failed (%s)", exc.__class__.__name__)
            self._drop()
            return False

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            self._drop()
        self._engine.dispose()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()


class FileLock:
    """SQLite: an exclusive `flock` on `path` (per open file: two oracles exclude each other even
    inside one process)."""

    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


class Alone:
    """A database no other process can open (SQLite in memory): always the leader."""

    def __init__(self) -> None:
        self._held = False

    def acquire(self) -> bool:
        self._held = True
        return True

    def held(self) -> bool:
        return self._held

    def release(self) -> None:
        self._held = False


def leader_lock(url: str) -> LeaderLock:
    """The leadership lock of the oracle database at `url`."""
    parsed = make_url(database_url(url))
    if parsed.get_backend_name() == "postgresql":
        return AdvisoryLock(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        return FileLock(Path(parsed.database + ".leader"))
    return Alone()


class Leader:
    """Runs `elected()` when this process takes the lock and `deposed()` when it loses it; tries the
    lock every `interval` seconds while standing by."""

    def __init__(self, lock: LeaderLock, *, interval: float = 1.0):
        self.lock = lock
        self.interval = interval
        self.active = False
        self.since = time.time()
        self.takeovers = 0
        self._stop = asyncio.Event()

    @property
    def role(self) -> str:
        return "active" if self.active else "standby"

    def as_dict(self) -> dict:
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.since))
        return {"role": self.role, "since": since, "takeovers": self.takeovers}

    async def try_lead(self, elected: Callable[[], Awaitable[None]]) -> bool:
        """Take the lock if free (running `elected()` first); True while this process leads."""
        if self.active:
            return True
        try:
            got = await asyncio.to_thread(self.lock.acquire)
        except Exception as exc:  # the database unreachable: stand by and try again
            log.warning("leadership not taken: %s: %s", exc.__class__.__name__, exc)
            return False
        if got:
            self.active, self.since = True, time.time()
            self.takeovers += 1
            log.info("this oracle process is now the active one: it runs the duties")
            await elected()
        return got

    async def run(
        self, elected: Callable[[], Awaitable[None]], deposed: Callable[[], Awaitable[None]]
    ) -> None:
        """Lead when possible, stand by otherwise, until stop()."""
        announced = False
        while not self._stop.is_set():
            if self.active:
                if not await asyncio.to_thread(self.lock.held):
                    self.active, self.since = False, time.time()
                    await deposed()
            elif not await self.try_lead(elected) and not announced:
                log.info("standing by: another oracle process runs the duties of this database")
                announced = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.interval)

    def stop(self) -> None:
        self._stop.set()

    def release(self) -> None:
        self.active = False
        self.lock.release()
