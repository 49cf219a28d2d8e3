"""The relay's ring of ledger lanes on a real anvil with a real outbox (SQLite and PostgreSQL).

A batch goes into the first lane of the ring whose reports are all final; with every lane in use it
takes a fresh lane of its own; a lane the ledger still holds busy (its batch within the liveness
window) is skipped and the batch sent elsewhere. Every report lands once.
"""

from __future__ import annotations

import pytest

from offnet.chain import Sender
from offnet.chain.connect import connect
from offnet.market.codec import report_to_json, terms_to_json
from offnet.market.types import OrderStatus, PeriodMetrics, ReportKind, SlaReport
from offnet.oracle.relay import ReportRelay
from offnet.oracle.store import Store
from offnet.testing.world import World, delivery_report, refuses

pytestmark = pytest.mark.anvil

LIVENESS = 3 * 86_400


def _reports(keys) -> list[dict]:
    return [
        report_to_json(
            SlaReport(bytes(32), ReportKind.PERIOD, k, metrics=PeriodMetrics(999_000, 5_000, 1, 0, 0))
        )
        for k in keys
    ]


def _lanes_of_new_batches(ledger, from_block: int) -> list[int]:
    return [e.args.lane for e in ledger.logs("BatchSubmitted", from_block=from_block)]


def test_relay_lanes__ring_then_fresh_lane_then_reuse_and_busy_lane_skipped(anvil, database):
    world = World.create(anvil, "relay-lanes", keys=False, liveness_window=LIVENESS)
    suite, member = world.suite, world.seller.account
    chain = connect(rpc=anvil.url)
    store = Store(database)
    relay = ReportRelay(
        store,
        chain,
        suite.ledger,
        Sender(chain, member),
        member.address,
        batch_size=1,
        lanes=2,
    )

    # Three batches, two lanes: the third batch takes a fresh lane of its own (63 bits: SQLite keeps it).
    start = anvil.w3.eth.block_number + 1
    store.queue_reports(_reports((1, 2, 3)))
    relay.submit_pending()
    lanes = _lanes_of_new_batches(suite.ledger, start)
    assert lanes[:2] == [0, 1] and lanes[2] >= 2 and lanes[2] < 2**63
    assert {r["batch_lane"] for r in store.reports_with_status("confirmed")} == set(lanes)

    # Their reports become final (as finalize_due records it) and the liveness window passes:
    # the next batches reuse lanes 0 and 1, rewriting one slot each.
    store.set_report_status([r["report_id"] for r in store.reports_with_status("confirmed")], "final")
    anvil.advance_time(LIVENESS + 1)
    start = anvil.w3.eth.block_number + 1
    store.queue_reports(_reports((4, 5)))
    relay.submit_pending()
    assert _lanes_of_new_batches(suite.ledger, start) == [0, 1]

    # Final already, but matched finality came before the window ended: the ledger refuses to
    # overwrite lane 0 (SlaLaneBusy); the relay skips it until then and the batch lands elsewhere.
    store.set_report_status([r["report_id"] for r in store.reports_with_status("confirmed")], "final")
    start = anvil.w3.eth.block_number + 1
    store.queue_reports(_reports((6,)))
    relay.submit_pending()
    [landed] = _lanes_of_new_batches(suite.ledger, start)
    assert landed not in (0, 1)
    assert relay._lane_free_at[0] > anvil.now()

    submitted = suite.ledger.logs("ReportSubmitted")
    assert sorted(e.args.key for e in submitted) == [1, 2, 3, 4, 5, 6]  # each report once
    assert len(store.reports_with_status("confirmed")) == 1 and not store.reports_with_status("pending")


def test_seller_relay_holds_its_delivery__the_buyers_cancellation_waits_until_it_is_final(anvil, tmp_path):
    world = World.create(anvil, "relay-hold", keys=False, liveness_window=LIVENESS)
    suite, seller, buyer = world.suite, world.seller, world.buyer
    order = world.open_order()
    suite.escrow.acknowledge(seller.sender, order.terms)
    chain = connect(rpc=anvil.url)
    store = Store(f"sqlite:///{tmp_path / 'hold.db'}")
    store.save_order("0x" + order.order_id.hex(), 1, "seller", terms_to_json(order.terms), "buyer")
    relay = ReportRelay(store, chain, suite.ledger, Sender(chain, seller.account), seller.address)

    # The seller's oracle reports the delivery; the buyer asks to cancel while it is in its window.
    delivered = delivery_report(order.terms, anvil.now())
    store.queue_reports([report_to_json(delivered)])
    relay.submit_pending()
    assert relay.hold_pass() == 1 and relay.hold_pass() == 0  # held once
    assert [e.args.reportId for e in suite.ledger.logs("ReportHeld")] == [delivered.report_id]
    suite.escrow.cancel(buyer.sender, order.terms)  # the request: it takes effect CANCEL_NOTICE later
    anvil.advance_time(suite.escrow.fn.CANCEL_NOTICE().call() + 1)
    with refuses("EscrowReportPending"):
        suite.escrow.cancel(buyer.sender, order.terms)

    # Once final (the window is shorter than the notice), the delivery is paid and the order lives on.
    assert relay.finalize_due() == 1
    assert suite.escrow.order(order.order_id).status == OrderStatus.ACTIVE
    assert suite.escrow.money_flow(order.order_id).released > 0
