"""The worker: a continuous pump from the events table through the event handler to the outbox.

Each pass claims the due events (in arrival order, a fair share per peer) that are not being handled
yet and starts them at once; it does not wait for the ones under way, so a slow peer holds only its
own events. Events about one resource run one after another in arrival order; different resources
run side by side, within a global limit and a per-peer limit (so one slow or flooding peer cannot
take every slot). Outcomes are group-committed: an event done with its reports, a failure to retry
later (backing off, within the retry budget), or a dead letter with its reason.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable

from offnet.market.codec import report_to_json
from offnet.oracle.committer import Committer
from offnet.oracle.events import EventHandler, is_permanent
from offnet.oracle.redact import redact
from offnet.oracle.store import Store, StoredEvent

log = logging.getLogger("offnet.oracle.worker")


class Worker:
    """Handles due events continuously; `pass_()` starts what is due, `drain()` waits for it all."""

    def __init__(
        self,
        store: Store,
        committer: Committer,
        handler: EventHandler,
        *,
        concurrency: int = 64,
        per_peer: int = 16,
        claim: int = 500,
        on_reports: Callable[[int], None] | None = None,
    ):
        self.store = store
        self.committer = committer
        self.handler = handler
        self.claim = claim
        self.per_peer = per_peer
        self.on_reports = on_reports or (lambda count: None)
        self._gate = asyncio.Semaphore(concurrency)
        self._peer_gates: dict[str, asyncio.Semaphore] = {}
        self._in_flight: set[int] = set()
        self._chains: dict[tuple[str, str], deque[StoredEvent]] = {}
        self._tasks: set[asyncio.Task] = set()
        self.handled = 0
        self.failed = 0
        self.dead = 0

    async def pass_(self) -> int:
        """Start every due event not under way; returns how many were started."""
        room = self.claim - len(self._in_flight)
        if room <= 0:
            return 0
        due = await asyncio.to_thread(self.store.due_events, room, skip=sorted(self._in_flight))
        for event in due:
            self._in_flight.add(event.id)
            key = (event.peer, event.resource_id)
            chain = self._chains.get(key)
            if chain is not None:  # this resource has events under way: run after them, in order
                chain.append(event)
                continue
            self._chains[key] = deque([event])
            task = asyncio.create_task(self._run_chain(key))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(due)

    async def drain(self) -> None:
        """Wait until every event started so far is handled (tests and the demo's synchronous pass)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def run_once(self) -> int:
        """Start what is due and wait for it: one synchronous pass."""
        started = await self.pass_()
        await self.drain()
        return started

    async def _run_chain(self, key: tuple[str, str]) -> None:
        chain = self._chains[key]
        try:
            while chain:
                event = chain[0]
                try:
                    await self._handle(event)
                finally:
                    chain.popleft()
                    self._in_flight.discard(event.id)
        finally:
            del self._chains[key]

    async def _handle(self, event: StoredEvent) -> None:
        gate = self._peer_gates.setdefault(event.peer, asyncio.Semaphore(self.per_peer))
        async with self._gate, gate:
            try:
                reports = await self.handler.handle(event)
            except Exception as exc:  # the peer, the chain or the payload: classified and recorded
                await self._failed(event, exc)
                return
        rows = [report_to_json(r) for r in reports]
        await self.committer.execute_batched(self.store.finish_events, (event.id, rows, event.peer))
        self.handled += 1
        if rows:
            self.on_reports(len(rows))

    async def _failed(self, event: StoredEvent, exc: Exception) -> None:
        reason = redact(f"{exc.__class__.__name__}: {exc}")
        if is_permanent(exc):
            await self.committer.execute(lambda c: self.store.dead_event(event.id, reason, conn=c))
            self.dead += 1
            log.error(
                "event %s (%s) from %s is a dead letter: %s",
                event.event_id,
                event.event_type,
                event.peer,
                reason,
            )
            return
        status = await self.committer.execute(lambda c: self.store.retry_event(event.id, reason, conn=c))
        self.failed += 1
        if status == "dead":
            self.dead += 1
            log.error(
                "event %s (%s) from %s failed past its retry budget, now a dead letter (offnet oracle requeue "
                "re-drives it): %s",
                event.event_id,
                event.event_type,
                event.peer,
                reason,
            )
        else:
            log.warning("event %s (%s) failed, retried later: %s", event.event_id, event.event_type, reason)
