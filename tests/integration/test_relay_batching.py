"""The relay's partial batches on a real anvil: a batch short of `batch_size` waits `batch_wait` for
more reports, whatever fraction of a second its reports were queued at (the outbox keeps whole
seconds), and then goes out; a backlog older than that goes out at once."""

from __future__ import annotations

import time

import pytest

from offnet.chain import Sender
from offnet.chain.connect import connect
from offnet.market.codec import report_to_json
from offnet.market.types import PeriodMetrics, ReportKind, SlaReport
from offnet.oracle.relay import ReportRelay
from offnet.oracle.store import Store
from offnet.testing.world import World

pytestmark = pytest.mark.anvil


def _reports(keys) -> list[dict]:
    return [
        report_to_json(
            SlaReport(bytes(32), ReportKind.PERIOD, k, metrics=PeriodMetrics(999_000, 5_000, 1, 0, 0))
        )
        for k in keys
    ]


def _outbox(anvil, tmp_path, name: str):
    """The outbox of a world's seller, and a function making a relay of it (as an oracle starting):
    batches of 10, partial ones waiting 0.5 s."""
    world = World.create(anvil, name, keys=False)
    chain = connect(rpc=anvil.url)
    store = Store(f"sqlite:///{tmp_path / 'oracle.db'}")
    member = world.seller.account

    def relay() -> ReportRelay:
        return ReportRelay(
            store,
            chain,
            world.suite.ledger,
            Sender(chain, member),
            member.address,
            batch_size=10,
            max_wait=0.5,
        )

    return store, relay


def _at_fraction(low: float, high: float) -> None:
    """Sleep until the wall clock is between `low` and `high` of a second."""
    while not low <= time.time() % 1 < high:
        time.sleep(0.005)


def test_partial_batch__waits_batch_wait_then_goes_and_an_old_backlog_goes_at_once(anvil, tmp_path):
    store, new_relay = _outbox(anvil, tmp_path, "relay-batching")
    relay = new_relay()

    # Queued at .6-.7 of a second: stored as the whole second, they would look 0.6 s old already.
    _at_fraction(0.6, 0.7)
    store.queue_reports(_reports((1, 2, 3)))
    assert relay.submit_pass() == 0
    time.sleep(0.2)
    store.queue_reports(_reports((4,)))
    assert relay.submit_pass() == 0  # 0.2 s of 0.5: still waiting for more
    time.sleep(0.35)
    assert relay.submit_pass() == 4  # one batch of all four
    relay.submit_pending()
    assert len(store.reports_with_status("confirmed")) == 4

    # A backlog queued more than batch_wait + 1 s ago (say, before a restart) does not wait again.
    store.queue_reports(_reports((5, 6)))
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE outbox SET created_at = created_at - 3 WHERE status = 'pending'")
    assert new_relay().submit_pass() == 2


def test_a_batch_filled_by_queued_reports_goes_at_once__and_reports_queued_elsewhere_are_never_left(
    anvil, tmp_path
):
    store, new_relay = _outbox(anvil, tmp_path, "relay-hints")
    relay = new_relay()
    # The worker tells the relay what it queued: a pass reads the outbox once a batch may be full.
    store.queue_reports(_reports((1, 2, 3)))
    relay.queued(3)
    assert relay.submit_pass() == 0
    store.queue_reports(_reports(range(4, 11)))
    relay.queued(7)
    assert relay.submit_pass() == 10  # full: it goes before its wait is over
    relay.submit_pending()
    assert len(store.reports_with_status("confirmed")) == 10

    # Reports another part of the oracle puts back or adds (a dropped transaction's, a seller's
    # period reports) come with no hint: the outbox is still read, and they go after their wait.
    assert relay.submit_pass() == 0
    store.queue_reports(_reports((11, 12)))
    began, sent = time.monotonic(), 0
    while not sent and time.monotonic() - began < 10:
        sent = relay.submit_pass()
        time.sleep(0.02)
    assert sent == 2
