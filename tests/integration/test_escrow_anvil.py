"""One full order lifecycle through OrderEscrow on a real anvil node, money conserved at every step."""

from collections.abc import Callable

import pytest
from eth_utils import keccak

from offnet.chain import Receipt, Sender, load_artifact
from offnet.chain.tx import call
from offnet.market.escrow import EscrowClient
from offnet.market.types import CreditSchedule, OrderStatus, OrderTerms, PeriodMetrics
from offnet.testing.accounts import funded_account

pytestmark = pytest.mark.anvil

DAY = 86_400


def test_escrow_lifecycle__award_to_last_period_and_withdrawals_on_anvil(anvil):
    deployer, market, ledger, buyer, seller, council_a, council_b = (
        Sender(anvil, funded_account(anvil)) for _ in range(7)
    )
    council = [council_a.address, council_b.address]
    registry, _ = deployer.deploy(load_artifact("CarrierRegistry"), council, council, 2, 1, 7 * DAY)
    token, _ = deployer.deploy(load_artifact("TestStablecoin"))
    escrow, _ = EscrowClient.deploy(
        deployer, registry.address, market.address, ledger.address, [token.address]
    )

    terms = OrderTerms(
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
        credits=CreditSchedule(100, 1_500, 999_500, 1_000, 10_000, 500, 10, 500, 14_400, 1_000, 2_500),
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

    buyer.transact(token.functions.mint(buyer.address, 10_000_000_000))
    buyer.transact(token.functions.approve(escrow.address, terms.opening_amount))
    opened = step(lambda: escrow.open_order(market, terms))
    assert escrow.events(opened, "OrderOpened")[0]["orderId"] == oid

    step(lambda: escrow.acknowledge(seller, terms))
    completed = anvil.now()
    step(lambda: escrow.deliver(ledger, terms, completed - 2 * DAY, completed))  # two days late: 2 % credit
    assert escrow.order(oid).status == OrderStatus.ACTIVE

    good = PeriodMetrics(999_990, 4_000, 0, 900, 0)
    outage = PeriodMetrics(998_000, 4_000, 0, 30_000, 2)  # availability and restore missed: 20 %
    anvil.advance_time(escrow.order(oid).delivered_at + 30 * DAY - anvil.now())  # period 1 is over
    step(lambda: escrow.settle_period(ledger, terms, 1, good))
    step(lambda: escrow.top_up_with_permit(buyer, token, terms, 2, anvil.now() + 3600))
    anvil.advance_time(escrow.order(oid).delivered_at + 2 * 30 * DAY - anvil.now())
    step(lambda: escrow.settle_period(ledger, terms, 2, outage))
    anvil.advance_time(escrow.order(oid).delivered_at + 3 * 30 * DAY + 20 * DAY - anvil.now())
    step(lambda: escrow.claim_period(seller, terms, 3))  # no report for period 3: the seller claims it
    assert escrow.order(oid).status == OrderStatus.COMPLETED

    step(lambda: escrow.withdraw(seller, token.address))
    step(lambda: escrow.withdraw(buyer, token.address))
    flow = escrow.money_flow(oid)
    late, sla = 2_000_000_000 * 200 // 10_000, 800_000_000 * 2_000 // 10_000
    assert flow.escrowed == 2_000_000_000 + 3 * 800_000_000
    assert flow.credited == late + sla
    assert flow.released == flow.escrowed - late - sla == flow.withdrawn_by_seller
    assert flow.held == 0
    assert call(token.functions.balanceOf(escrow.address)) == 0
    assert call(token.functions.balanceOf(seller.address)) == flow.released
