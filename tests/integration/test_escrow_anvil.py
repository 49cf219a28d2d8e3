"""One full order lifecycle through OrderEscrow on a real anvil node, money conserved at every step:
awarded through the market, outcomes reported by both parties' oracles and finalised by the ledger,
calendar billing periods (the first pro rata), the last period claimed by timeout."""

from collections.abc import Callable

import pytest

from offnet.chain.tx import call
from offnet.market.periods import period_bounds, period_charge
from offnet.market.types import OrderStatus, PeriodMetrics
from offnet.testing.world import REPORT_GRACE, World, delivery_report, period_report

pytestmark = pytest.mark.anvil

ONE_TIME, MONTHLY = 2_000_000_000, 800_000_000


def test_escrow_lifecycle__award_to_last_period_and_withdrawals_on_anvil(anvil):
    world = World.create(anvil, "escrow-anvil")
    escrow, token, buyer, seller = world.escrow, world.token, world.buyer, world.seller
    order = world.open_order(
        one_time_charge=ONE_TIME, monthly_charge=MONTHLY, term_months=3, install_days=20, prepaid_months=1
    )
    terms, oid = order.terms, order.order_id

    def step(operation: Callable[[], object]) -> object:
        result = operation()
        assert escrow.conservation_gap(token) == 0
        owed = escrow.order(oid).escrowed + sum(
            escrow.withdrawable(token.address, p) for p in (buyer.address, seller.address)
        )
        assert call(token.functions.balanceOf(escrow.address)) == owed
        return result

    step(lambda: escrow.acknowledge(seller.sender, terms))
    completed = anvil.now()
    step(lambda: world.both_report(terms, delivery_report(terms, completed, days_late=2)))  # a 2 % credit
    assert escrow.order(oid).status == OrderStatus.ACTIVE
    delivered_at = escrow.order(oid).delivered_at

    def end_of(period: int) -> None:
        anvil.advance_time(max(period_bounds(delivered_at, period)[1] - anvil.now(), 1))

    good = PeriodMetrics(999_990, 4_000, 0, 900, 0)
    outage = PeriodMetrics(998_000, 4_000, 0, 30_000, 2)  # availability and restore missed: 20 %
    end_of(1)
    step(lambda: world.both_report(terms, period_report(terms, 1, good)))
    step(lambda: escrow.top_up_with_permit(buyer.sender, token, terms, 2, anvil.now() + 3600))
    end_of(2)
    step(lambda: world.both_report(terms, period_report(terms, 2, outage)))
    end_of(3)
    anvil.advance_time(max(escrow.order(oid).claims_from, anvil.now()) + REPORT_GRACE - anvil.now())
    step(lambda: escrow.claim_period(seller.sender, terms, 3))  # no report for period 3: the seller claims it
    assert escrow.order(oid).status == OrderStatus.COMPLETED

    step(lambda: escrow.withdraw(seller.sender, token.address))
    step(lambda: escrow.withdraw(buyer.sender, token.address))
    flow = escrow.money_flow(oid)
    late, sla = ONE_TIME * 200 // 10_000, MONTHLY * 2_000 // 10_000
    first_month = period_charge(MONTHLY, delivered_at, 1)  # pro rata: the rest goes back to the buyer
    assert flow.escrowed == ONE_TIME + 3 * MONTHLY
    assert flow.released == ONE_TIME - late + first_month + (MONTHLY - sla) + MONTHLY
    assert flow.released == flow.withdrawn_by_seller
    assert flow.withdrawn_by_buyer == flow.escrowed - flow.released
    assert call(token.functions.balanceOf(escrow.address)) == 0
    assert call(token.functions.balanceOf(seller.address)) == flow.released
