"""Group commit: many small writes share one transaction (one fsync), off the event loop.

Callers hand a unit of work (a function of a database connection) to `Committer.execute` and await
its result; a writer thread takes whatever work is waiting, runs it in one transaction and commits
once. If that transaction fails, each unit is run again alone, so one bad write never takes the
others down with it. A group stays open `gather` seconds (2 ms) after its first unit, so writes that
trickle in share a commit too. Under load this turns a commit per event into a commit per hundreds of
events; when idle a unit waits no longer than those 2 ms and its own commit.

Units of one kind can also share their statements (`Committer.execute_batched`): the units of a
group commit naming the same `run` are handed to it together, `run(items, conn=conn)`, so a group of
finished events costs a couple of statements (round trips, on a server) instead of a couple per
event. They run where the first of them stands in the group, so a caller that needs one of its
writes done before another awaits the first (units of independent callers have no order anyway).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.engine import Connection, Engine

log = logging.getLogger("offnet.oracle.committer")

T = TypeVar("T")
Work = Callable[[Connection], Any]


@dataclass(frozen=True)
class Batched:
    """One item of a unit that shares a call with its neighbours: `run(items, conn=conn)` returns one
    result per item, in order."""

    run: Callable[..., list[Any]]
    item: Any


MAX_BATCH = 512
# Seconds a group stays open for more units after its first: at a few hundred events a second the
# writes would otherwise trickle in as a commit each (each with its fsync).
GATHER = 0.002


class StorageBusy(RuntimeError):
    """The database cannot take more writes right now (the caller should ask to retry later)."""


class Committer:
    """One writer thread per database: `await execute(work)` runs `work(conn)` in a group commit."""

    def __init__(
        self,
        engine: Engine,
        *,
        max_waiting: int = 20_000,
        gather: float = GATHER,
        name: str = "offnet-committer",
    ):
        self.engine = engine
        self.max_waiting = max_waiting
        self.gather = gather
        self._queue: queue.Queue[tuple[Work, Future] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._started = False
        self.commits = 0
        self.units = 0

    def start(self) -> Committer:
        if not self._started:
            self._thread.start()
            self._started = True
        return self

    def close(self) -> None:
        if self._started:
            self._queue.put(None)
            self._thread.join(timeout=30)
            self._started = False

    def submit(self, work: Work) -> Future:
        """Queue `work`; the returned future holds its result once committed."""
        if self._queue.qsize() >= self.max_waiting:
            raise StorageBusy(f"{self._queue.qsize()} writes are waiting for the database")
        future: Future = Future()
        self._queue.put((work, future))
        return future

    async def execute(self, work: Callable[[Connection], T], *, timeout: float | None = None) -> T:
        """Run `work(conn)` in the next group commit and return its result (StorageBusy on timeout)."""
        return await _committed(self.submit(work), timeout)

    async def execute_batched(
        self, run: Callable[..., list[T]], item: Any, *, timeout: float | None = None
    ) -> T:
        """Run `item` in the next group commit through `run(items, conn=conn)`, together with the other
        waiting items of the same `run` (pass the same function or bound method every time)."""
        return await _committed(self.submit(Batched(run, item)), timeout)

    def waiting(self) -> int:
        return self._queue.qsize()

    # --- the writer thread ------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            gathered_by = time.monotonic() + self.gather
            while len(batch) < MAX_BATCH:
                try:
                    wait = gathered_by - time.monotonic()
                    item = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._commit(batch)
                    return
                batch.append(item)
            self._commit(batch)

    def _commit(self, batch: list[tuple[Work, Future]]) -> None:
        live = [(work, future) for work, future in batch if future.set_running_or_notify_cancel()]
        if not live:
            return
        try:
            results = self._transaction([work for work, _ in live])
        except Exception:  # one unit broke the group: run each alone so the others still commit
            for work, future in live:
                try:
                    (result,) = self._transaction([work])
                except Exception as exc:
                    future.set_exception(exc)
                else:
                    future.set_result(result)
            return
        for (_, future), result in zip(live, results, strict=True):
            future.set_result(result)

    def _transaction(self, works: list[Work]) -> list[Any]:
        for attempt in range(5):
            try:
                with self.engine.begin() as conn:
                    results = _run_all(works, conn)
                self.commits += 1
                self.units += len(works)
                return results
            except Exception as exc:
                if not _locked(exc) or attempt == 4:
                    raise
                time.sleep(0.05 * 2**attempt)  # another process holds the write lock: wait a little
        raise AssertionError("unreachable")


def _run_all(works: list[Work], conn: Connection) -> list[Any]:
    """Each unit's result, in order. The Batched items of one `run` go in a single call, made where
    the first of them stands: under load they are interleaved with other writers' units (the
    listener's), and only a call for all of them saves the statements."""
    positions: dict[Callable[..., list[Any]], list[int]] = {}
    for index, work in enumerate(works):
        if isinstance(work, Batched):
            positions.setdefault(work.run, []).append(index)
    results: list[Any] = [None] * len(works)
    for index, work in enumerate(works):
        if not isinstance(work, Batched):
            results[index] = work(conn)
            continue
        batch = positions.pop(work.run, None)
        if batch is None:  # ran with the first item of its kind
            continue
        found = work.run([works[i].item for i in batch], conn=conn)  # type: ignore[union-attr]
        if len(found) != len(batch):
            raise RuntimeError(f"{work.run!r} gave {len(found)} results for {len(batch)} items")
        for i, result in zip(batch, found, strict=True):
            results[i] = result
    return results


def _locked(exc: Exception) -> bool:
    text = str(exc).lower()
    return "database is locked" in text or "could not serialize" in text or "deadlock" in text


async def _committed(submitted: Future, timeout: float | None):
    """The result of a submitted unit once committed; StorageBusy when `timeout` passes first."""
    future = asyncio.wrap_future(submitted)
    if timeout is None:
        return await future
    try:
        return await asyncio.wait_for(asyncio.shield(future), timeout)
    except TimeoutError:
        raise StorageBusy(f"the database did not commit within {timeout:.1f} s") from None
