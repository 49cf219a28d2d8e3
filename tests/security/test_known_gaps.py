"""The two gaps SECURITY.md once listed, pinned as regressions: each asserts the property the issues
demand, through the Python clients on the real anvil suite, and that a refusal changes nothing.

The stateful campaign asserts the same properties, but in 102,000 steps (`make fuzz`, seed 20261125)
it never generated the interleaving "post, commit, council suspends the buyer, award", so it is
pinned here; the early release of a period is pinned too, with the exact refusal.
"""

from __future__ import annotations

import pytest
from harness import Harness

from offnet.exceptions import ContractRevert
from offnet.market.periods import month_start, period_bounds
from offnet.market.types import PeriodMetrics, ReportKind, SlaReport
from offnet.testing.world import DAY

pytestmark = pytest.mark.anvil

LIVENESS = 2 * DAY  # the security world's liveness window


def test_award__buyer_suspended_after_posting__is_refused(fresh: Harness):
    w = fresh.world
    buyer, seller = w.buyers[0], w.sellers[0]
    rfq = w.rfq(buyer)
    w.market.post(buyer.sender, rfq)
    signed = w.sign(w.quote(rfq, seller, nonce=1), seller.quote_key.account)
    w.market.commit(seller.quote_key.sender, rfq, signed)
    w.registry.propose_suspend(w.council.sender, buyer.address)
    w.seal(rfq)
    assert not w.registry.is_active(buyer.address)
    before = fresh.fingerprint(rfq_ids=[rfq.rfq_id])
    with pytest.raises(ContractRevert) as refused:
        w.market.award(buyer.sender, rfq, signed)
    assert (refused.value.name, refused.value.arguments) == ("RfqBuyerInactive", {"buyer": buyer.address})
    assert fresh.fingerprint(rfq_ids=[rfq.rfq_id]) == before


def test_period__undisputed_report_about_a_month_not_over__releases_nothing_until_it_ends(fresh: Harness):
    w = fresh.world
    buyer, seller = w.buyers[0], w.sellers[0]
    now = fresh.rpc.now()
    fresh.rpc.advance_time(month_start(now, 1) + 3 * DAY - now)  # delivered mid-month, whatever the clock
    terms = w.open_order(buyer, [seller], by_key=True, acknowledge=True).terms
    oid = terms.order_id()
    delivered = SlaReport(
        oid, ReportKind.ORDER_COMPLETED, 0, terms.awarded_at + 5 * DAY, terms.awarded_at + DAY
    )
    seller_batch, _ = w.ledger.submit(seller.oracle_key.sender, seller.address, [delivered])
    buyer_batch, _ = w.ledger.submit(buyer.oracle_key.sender, buyer.address, [delivered])
    w.ledger.finalize_matched(w.outsider.sender, terms, delivered, seller_batch, buyer_batch)
    delivered_at = w.escrow.order(oid).delivered_at
    month_ends = period_bounds(delivered_at, 1)[1]  # the end of the delivery's calendar month

    # The seller reports month 1 on the day of delivery; the buyer stays silent past the window.
    month = SlaReport(oid, ReportKind.PERIOD, 1, metrics=PeriodMetrics(999_999, 1_000, 0, 0, 0))
    batch, _ = w.ledger.submit(seller.oracle_key.sender, seller.address, [month])
    fresh.rpc.advance_time(LIVENESS + 1)
    before = fresh.fingerprint(order_ids=[oid], reports=[month])
    with pytest.raises(ContractRevert) as refused:
        w.ledger.finalize(w.outsider.sender, terms, month, batch)
    assert (refused.value.name, refused.value.arguments) == (
        "EscrowPeriodNotOver",
        {"orderId": oid, "period": 1, "endsAt": month_ends},
    )
    assert fresh.fingerprint(order_ids=[oid], reports=[month]) == before

    # Once the month is over, the same report releases it.
    fresh.rpc.advance_time(month_ends - fresh.rpc.now())
    w.ledger.finalize(w.outsider.sender, terms, month, batch)
    assert w.escrow.is_period_settled(oid, 1)
