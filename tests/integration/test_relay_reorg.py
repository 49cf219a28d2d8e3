"""A reorganisation shallower than the confirmation depth loses no report.

The relay waits for 2 confirmations. While its batch is mined but only 1 block deep, the chain is
reorganised (anvil reverts to a snapshot taken before the batch), so the transaction disappears.
The relay puts the reports back in the outbox and sends them again: they end on chain once.
"""

from __future__ import annotations

import threading
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


def test_shallow_reorg__the_vanished_batch_is_sent_again_and_lands_once(anvil, database):
    world = World.create(anvil, "relay-reorg", keys=False)
    suite, member = world.suite, world.seller.account
    chain = connect(rpc=anvil.url, confirmations=2)  # the relay's own connection: 2 blocks deep
    store = Store(database)
    reports = [
        SlaReport(bytes(32), ReportKind.PERIOD, k, metrics=PeriodMetrics(999_000, 5_000, 1, 0, 0))
        for k in (1, 2, 3)
    ]
    store.queue_reports([report_to_json(r) for r in reports])
    relay = ReportRelay(store, chain, suite.ledger, Sender(chain, member), member.address)

    before = anvil.snapshot()
    sending = threading.Thread(target=relay.submit_pending)
    sending.start()
    for _ in range(200):  # wait until the batch is mined, 1 block deep
        rows = store.reports_with_status("submitted")
        if rows and anvil.w3.eth.get_transaction_receipt(rows[0]["tx_hash"]):
            break
        time.sleep(0.05)
    else:
        pytest.fail("the batch was never mined")
    time.sleep(0.5)  # the relay has its receipt and waits for the second confirmation
    anvil.revert(before)  # the reorganisation: the block holding the batch is gone

    # The chain goes on producing blocks: the relay sees its transaction gone, queues the reports
    # again, resends them, and this time they get their two confirmations.
    while sending.is_alive():
        anvil.mine(1)
        sending.join(0.2)
    confirmed = store.reports_with_status("confirmed")
    assert len(confirmed) == 3

    submitted = suite.ledger.logs("ReportSubmitted")
    assert sorted(e.args.key for e in submitted if e.args.kind == ReportKind.PERIOD) == [1, 2, 3]
