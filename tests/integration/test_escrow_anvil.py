"""One full order lifecycle through OrderEscrow on a real anvil node, money conserved at every step."""

from collections.abc import Callable

import pytest
from eth_utils import keccak

from offnet.chain import Receipt
from offnet.chain.tx import call
from offnet.market.types import OrderStatus, PeriodMetrics
from offnet.testing.world import DAY, StandaloneEscrow, cast, order_terms

pytestmark = pytest.mark.anvil


def test_escrow_lifecycle__award_to_last_period_and_withdrawals_on_anvil(anvil):
    roles = cast(anvil, "escrow-anvil")
    setup = StandaloneEscrow.deploy(anvil, roles, "escrow-anvil")
    escrow, token, market, ledger = setup.client, setup.token, setup.market, setup.ledger
    buyer, seller = roles.buyer, roles.seller
    terms = order_terms(
        rfq_id=7,
        buyer=buyer.address,
        seller=seller.address,
        token=token.address,
        one_time_charge=2_000_000_000,
        monthly_charge=800_000_000,
        term_months=3,
        install_days=20,
        prepaid_months=1,
        awarded_at=anvil.now(),
        sla_terms_hash=keccak(text="sla"),
    )
    oid = terms.order_id()

    def step(operation: Callable[[], Receipt]) -> Receipt:
        receipt = operation()
        assert escrow.conservation_gap(token) == 0
        owed = escrow.order(oid).escrowed + sum(
            escrow.withdrawable(token.address, p) for p in (buyer.address, seller.address)
        )
        assert call(token.functions.balanceOf(escrow.address)) == owed
        return receipt

    buyer.sender.transact(token.functions.mint(buyer.address, 10_000_000_000))
    buyer.sender.transact(token.functions.approve(escrow.address, terms.opening_amount))
    opened = step(lambda: escrow.open_order(market.sender, terms))
    assert escrow.events(opened, "OrderOpened")[0]["orderId"] == oid

    step(lambda: escrow.acknowledge(seller.sender, terms))
    completed = anvil.now()
    two_days_late = completed - 2 * DAY  # a 2 % credit
    step(lambda: escrow.deliver(ledger.sender, terms, two_days_late, completed))
    assert escrow.order(oid).status == OrderStatus.ACTIVE

    good = PeriodMetrics(999_990, 4_000, 0, 900, 0)
    outage = PeriodMetrics(998_000, 4_000, 0, 30_000, 2)  # availability and restore missed: 20 %
    anvil.advance_time(escrow.order(oid).delivered_at + 30 * DAY - anvil.now())  # period 1 is over
    step(lambda: escrow.settle_period(ledger.sender, terms, 1, good))
    step(lambda: escrow.top_up_with_permit(buyer.sender, token, terms, 2, anvil.now() + 3600))
    anvil.advance_time(escrow.order(oid).delivered_at + 2 * 30 * DAY - anvil.now())
    step(lambda: escrow.settle_period(ledger.sender, terms, 2, outage))
    anvil.advance_time(escrow.order(oid).delivered_at + 3 * 30 * DAY + 20 * DAY - anvil.now())
    step(lambda: escrow.claim_period(seller.sender, terms, 3))  # no report for period 3: the seller claims it
    assert escrow.order(oid).status == OrderStatus.COMPLETED

    step(lambda: escrow.withdraw(seller.sender, token.address))
    step(lambda: escrow.withdraw(buyer.sender, token.address))
    flow = escrow.money_flow(oid)
    late, sla = 2_000_000_000 * 200 // 10_000, 800_000_000 * 2_000 // 10_000
    assert flow.escrowed == 2_000_000_000 + 3 * 800_000_000
    assert flow.credited == late + sla
    assert flow.released == flow.escrowed - late - sla == flow.withdrawn_by_seller
    assert flow.held == 0
    assert call(token.functions.balanceOf(escrow.address)) == 0
    assert call(token.functions.balanceOf(seller.address)) == flow.released
