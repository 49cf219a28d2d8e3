"""Keeps the explorer's index in step with the chain as blocks arrive: a sync every few seconds in a
background thread, a margin below the tip (see `offnet.indexer.sync` for how reorganisations are
handled). An RPC that stops answering is retried with backoff; the pages keep serving the index and
say how far behind it is.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from offnet.indexer import EventIndexer, SyncReport

log = logging.getLogger("offnet.explorer")

MAX_BACKOFF = 60.0


@dataclass
class FollowerState:
    syncs: int = 0
    last_report: SyncReport | None = None
    last_error: str | None = None
    catching_up: tuple[int, int] | None = None  # (blocks done, blocks to do) while a sync runs


class Follower:
    """Runs `indexer.sync()` every `poll` seconds until stopped."""

    def __init__(self, indexer: EventIndexer, *, poll: float = 2.0, rpc: str | None = None):
        self.indexer = indexer
        self.poll = poll
        self.rpc = rpc
        self._state = FollowerState()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Follower:
        self._thread = threading.Thread(target=self._run, name="offnet-explorer-follower", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def sync_once(self) -> SyncReport:
        """One sync now (the loop's step; also what a caller uses to catch up before serving)."""
        report = self.indexer.sync(progress=self._progress)
        with self._lock:
            self._state.syncs += 1
            self._state.last_report = report
            self._state.last_error = None
            self._state.catching_up = None
        return report

    def state(self) -> dict[str, Any]:
        """What the pages show about the follower."""
        with self._lock:
            s = self._state
            return {
                "rpc": self.rpc,
                "confirmations": self.indexer.confirmations,
                "pollSeconds": self.poll,
                "syncs": s.syncs,
                "lastError": s.last_error,
                "catchingUp": None
                if s.catching_up is None
                else {"done": s.catching_up[0], "of": s.catching_up[1]},
            }

    def _progress(self, done: int, total: int) -> None:
        with self._lock:
            self._state.catching_up = (done, total) if total > 1 else None

    def _run(self) -> None:
        backoff = self.poll
        while not self._stop.is_set():
            try:
                self.sync_once()
                backoff = self.poll
            except Exception as exc:  # an RPC outage or a node error: keep serving, try again later
                message = " ".join(f"{exc.__class__.__name__}: {exc}".split())[:300]
                with self._lock:
                    self._state.last_error = message
                    self._state.catching_up = None
                log.warning("explorer sync failed (retrying in %.0f s): %s", backoff, message)
                backoff = min(MAX_BACKOFF, max(backoff * 2, 1.0))
            self._stop.wait(backoff)
