"""The Sonata bridge end to end: real anvil, real HTTP between buyer oracle, seller and seller oracle.

An RFQ becomes a delivered order with two months of in-life reports, and money is released, with
no manual step: the test only moves chain time (the sellers' clocks follow the chain).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from offnet.market.registry import ACCESS_ELINE, location_key
from offnet.market.rfq import AWARD_WINDOW
from offnet.market.types import ReportKind, ReportStatus, RfqStatus, SlaReport
from offnet.sonata.examples import load_example
from offnet.testing.carriers import Carrier, running_market
from offnet.testing.world import DAY, World, wait_until

pytestmark = pytest.mark.anvil


def _post_rfq(anvil, buyer: Carrier, suite, invited: str) -> int:
    """The buyer's oracle posts an RFQ (quotes due in two days) for MEF's example quote request."""
    now = datetime.fromtimestamp(anvil.now(), UTC)
    request = load_example("quote_create")
    request["requestedQuoteCompletionDate"] = (now + timedelta(days=2)).isoformat().replace("+00:00", "Z")
    return buyer.call(
        buyer.oracle.buyer.post_rfq(
            request,
            [invited],
            token=suite.token.address,
            product_key=ACCESS_ELINE,
            location_key=location_key("FR-LYS"),
        )
    )


def test_rfq_to_delivered_order_and_two_months_of_reports(anvil, tmp_path):
    deployments = tmp_path / "deployments"
    world = World.create(anvil, "e2e", keys=False, liveness_window=DAY)
    suite, ledger = world.suite, world.ledger
    suite.manifest.save(deployments)
    buyer = Carrier("buyer", world.buyer.account, "prompt-and-punctual")
    seller = Carrier("seller", world.seller.account, "prompt-and-punctual")

    with running_market(anvil, [buyer, seller], tmp_path, deployments):
        rfq_id = _post_rfq(anvil, buyer, suite, seller.address)
        # Quote answered and signed before the deadline; award after it.
        wait_until(
            lambda: buyer.oracle.store.received_quotes(rfq_id),
            "the signed quote",
            step=lambda: anvil.advance_time(3600),
            interval=0.1,
        )
        anvil.advance_time(2 * DAY)
        order = wait_until(lambda: buyer.oracle.store.order(rfq_id=rfq_id), "the award", interval=0.1)
        order_id = bytes.fromhex(order["order_id"][2:])
        # Delivery, then two whole billing months, then the liveness window.
        completed = SlaReport(order_id, ReportKind.ORDER_COMPLETED)
        wait_until(
            lambda: ledger.status(completed) == ReportStatus.FINAL,
            "the final delivery report",
            step=lambda: anvil.advance_time(2 * DAY),
            interval=0.1,
        )
        period_2 = SlaReport(order_id, ReportKind.PERIOD, 2)
        wait_until(
            lambda: ledger.status(period_2) == ReportStatus.FINAL,
            "the second period report",
            step=lambda: anvil.advance_time(5 * DAY),
            interval=0.1,
        )
        assert ledger.status(SlaReport(order_id, ReportKind.PERIOD, 1)) == ReportStatus.FINAL
        escrow = suite.escrow
        flow = escrow.money_flow(order_id)
        assert flow.released > 0  # the installation charge and two monthly charges, minus credits
        assert escrow.is_period_settled(order_id, 1) and escrow.is_period_settled(order_id, 2)
        token = suite.token.address
        assert suite.token.functions.balanceOf(escrow.address).call() == (sum(escrow.book(token)))
        rep = ledger.reputation(seller.address)
        assert rep.orders_delivered == 1 and rep.periods_reported >= 2
        # The buyer's oracle closed the awarded RFQ: the seller's timely quote counts in its record.
        assert suite.market.state(rfq_id).status == RfqStatus.CLOSED
        assert buyer.oracle.store.rfqs_to_close() == []
        assert (rep.quotes_requested, rep.quotes_on_time) == (1, 1)
        # The seller's oracle reported each month once the escrow's own period (counted from the
        # deliveredAt it recorded) was over.
        delivered_at = escrow.order(order_id).delivered_at
        for event in ledger.logs("ReportSubmitted"):
            if event.args.orderId == order_id and event.args.kind == ReportKind.PERIOD:
                mined = anvil.w3.eth.get_block(event.blockNumber)["timestamp"]
                assert mined >= escrow.period_bounds(delivered_at, event.args.key)[1]
        assert not buyer.oracle.errors and not seller.oracle.errors


def test_an_rfq_nobody_quoted_is_given_up_and_closed_by_the_buyers_oracle_within_its_award_window(
    anvil, tmp_path
):
    deployments = tmp_path / "deployments"
    world = World.create(anvil, "e2e-unquoted", keys=False)
    suite = world.suite
    suite.manifest.save(deployments)
    buyer = Carrier("buyer", world.buyer.account, "prompt-and-punctual")

    # The invited seller runs no oracle the buyer knows: no quote ever reaches the buyer.
    with running_market(anvil, [buyer], tmp_path, deployments):
        rfq_id = _post_rfq(anvil, buyer, suite, world.seller.address)
        deadline = suite.market.state(rfq_id).deadline
        # Past the deadline, inside the first half of the award window: the buyer still waits.
        anvil.advance_time(deadline + DAY - anvil.now())
        buyer.call(buyer.oracle.tick())
        assert suite.market.state(rfq_id).status == RfqStatus.OPEN
        assert buyer.oracle.store.rfqs_to_close() == []
        # Past half the window: given up, then closed on chain while only the buyer may close it.
        anvil.advance_time(deadline + AWARD_WINDOW // 2 + 1 - anvil.now())
        wait_until(lambda: suite.market.state(rfq_id).status == RfqStatus.CLOSED, "the buyer to close it")
        assert anvil.now() < deadline + AWARD_WINDOW
        assert buyer.oracle.store.rfqs_to_close() == []
        assert buyer.oracle.store.rfq(rfq_id)["state"] != "open"
        rep = world.ledger.reputation(world.seller.address)
        assert (rep.quotes_requested, rep.quotes_on_time) == (1, 0)
