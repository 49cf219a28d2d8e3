"""The relay's confirmer running while a batch is being broadcast (they are duties of their own, on
their own threads): a transaction recorded but not yet broadcast is unknown to the node, and must not
be taken for a dropped one, or its reports would be sent again and land twice. Real anvil, real
outbox; the confirm pass is run at the worst moment, between the record and the broadcast."""

from __future__ import annotations

from collections import Counter

import pytest

from offnet.chain import Sender
from offnet.chain.connect import connect
from offnet.market.codec import report_to_json
from offnet.market.types import PeriodMetrics, ReportKind, SlaReport
from offnet.oracle.relay import ReportRelay
from offnet.oracle.store import Store
from offnet.testing.world import World

pytestmark = pytest.mark.anvil


class ConfirmBetweenRecordAndBroadcast(Sender):
    """The oracle's real sender; the relay's confirm pass runs once each batch is recorded as
    submitted and before it is broadcast, as the confirm duty's thread may."""

    relay: ReportRelay

    def dispatch(self, to, data, *, gas, on_signed=None):
        def recorded_then_confirm(tx_hash: str, nonce: int) -> None:
            on_signed(tx_hash, nonce)
            self.relay.confirm_pass()

        return super().dispatch(to, data, gas=gas, on_signed=recorded_then_confirm)


def test_confirm_pass_during_a_broadcast__concludes_nothing_and_no_report_lands_twice(anvil, tmp_path):
    world = World.create(anvil, "relay-race", keys=False)
    chain = connect(rpc=anvil.url)
    store = Store(f"sqlite:///{tmp_path / 'oracle.db'}")
    member = world.seller.account
    sender = ConfirmBetweenRecordAndBroadcast(chain, member)
    relay = ReportRelay(store, chain, world.suite.ledger, sender, member.address, batch_size=5)
    sender.relay = relay
    start = anvil.w3.eth.block_number + 1
    store.queue_reports(
        [
            report_to_json(
                SlaReport(bytes(32), ReportKind.PERIOD, k, metrics=PeriodMetrics(999_000, 5_000, 1, 0, 0))
            )
            for k in range(1, 13)
        ]
    )

    relay.submit_pending(timeout=30)

    keys = Counter(e.args.key for e in world.suite.ledger.logs("ReportSubmitted", from_block=start))
    assert sorted(keys) == list(range(1, 13))
    assert set(keys.values()) == {1}
    assert len(store.reports_with_status("confirmed")) == 12
    assert relay.stats.transactions == 3
