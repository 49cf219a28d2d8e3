"""SlaLedger on a real anvil: from two oracles' batches to escrow release and reputation."""

import pytest

from offnet.market.types import OrderStatus, PeriodMetrics, ReportKind, ReportStatus, SlaReport
from offnet.testing.world import DAY, World, delivery_report, refuses

pytestmark = pytest.mark.anvil


def test_anvil__dual_reports_finalise_delivery_and_periods_and_move_reputation(anvil):
    world = World.create(anvil, "ledger-anvil")
    terms = world.open_order().terms
    ledger, escrow = world.ledger, world.escrow
    escrow.acknowledge(world.seller.sender, terms)  # the seller accepts: its delivery can settle

    world.both_report(terms, delivery_report(terms, anvil.now(), evidence="po"))
    anvil.advance_time(32 * DAY)  # period 1 (the rest of the delivery's calendar month) is over
    month = SlaReport(
        terms.order_id(), ReportKind.PERIOD, 1, metrics=PeriodMetrics(999_900, 8_000, 5, 600, 1)
    )
    world.both_report(terms, month)

    assert escrow.order(terms.order_id()).status is OrderStatus.ACTIVE
    assert escrow.is_period_settled(terms.order_id(), 1)
    assert ledger.status(month) is ReportStatus.FINAL
    reputation = ledger.reputation(world.seller.address)
    assert (reputation.orders_on_time, reputation.periods_meeting_objectives, reputation.overall_ppm) == (
        1,
        1,
        1_000_000,
    )

    # A key the registry does not know is refused with the decoded error.
    with refuses("SlaNotOracle"):
        ledger.submit(world.outsider.sender, world.outsider.address, [month])
