"""SlaLedger on a real anvil: from two oracles' batches to escrow release and reputation."""

import pytest
from eth_utils import keccak

from offnet.chain import Sender, load_artifact, predict_deployments
from offnet.exceptions import ContractRevert
from offnet.market.escrow import EscrowClient
from offnet.market.ledger import LedgerClient
from offnet.market.registry import RegistryClient, Role
from offnet.market.types import (
    CreditSchedule,
    OrderStatus,
    OrderTerms,
    PeriodMetrics,
    ReportKind,
    ReportStatus,
    SlaReport,
)
from offnet.testing.accounts import funded_account

pytestmark = pytest.mark.anvil

DAY = 86_400


def test_anvil__dual_reports_finalise_delivery_and_periods_and_move_reputation(anvil):
    deployer, market, buyer, seller, buyer_oracle, seller_oracle, anyone = (
        funded_account(anvil) for _ in range(7)
    )
    send = {
        a.address: Sender(anvil, a)
        for a in (deployer, market, buyer, seller, buyer_oracle, seller_oracle, anyone)
    }
    registry, _ = RegistryClient.deploy(
        send[deployer.address],
        [buyer.address, seller.address],
        [buyer.address],
        council_threshold=1,
        sponsors_required=1,
        application_ttl=7 * DAY,
    )
    registry.add_key(send[buyer.address], buyer_oracle.address, Role.ORACLE)
    registry.add_key(send[seller.address], seller_oracle.address, Role.ORACLE)
    token, _ = send[deployer.address].deploy(load_artifact("TestStablecoin"))
    at_escrow, at_ledger = predict_deployments(deployer.address, anvil.peek_nonce(deployer.address), 2)
    escrow, _ = EscrowClient.deploy(
        send[deployer.address], registry.address, market.address, at_ledger, [token.address]
    )
    ledger, _ = LedgerClient.deploy(
        send[deployer.address], registry.address, at_escrow, market.address, 2 * DAY
    )

    credits = CreditSchedule(100, 2_000, 999_500, 1_000, 10_000, 500, 10, 500, 4 * 3600, 1_000, 3_000)
    terms = OrderTerms(
        7,
        buyer.address,
        seller.address,
        token.address,
        1_000_000_000,
        500_000_000,
        12,
        30,
        2,
        anvil.now(),
        keccak(text="sla"),
        credits,
    )
    send[buyer.address].transact(token.functions.mint(buyer.address, terms.opening_amount))
    send[buyer.address].transact(token.functions.approve(escrow.address, terms.opening_amount))
    escrow.open_order(send[market.address], terms)

    def both_report(report: SlaReport) -> None:
        seller_batch, _ = ledger.submit(send[seller_oracle.address], seller.address, [report])
        buyer_batch, _ = ledger.submit(send[buyer_oracle.address], buyer.address, [report])
        ledger.finalize_matched(send[anyone.address], terms, report, seller_batch, buyer_batch)

    done = anvil.now()
    both_report(
        SlaReport(
            terms.order_id(), ReportKind.ORDER_COMPLETED, 0, done, done, evidence_hash=keccak(text="po")
        )
    )
    anvil.advance_time(31 * DAY)
    month = SlaReport(
        terms.order_id(), ReportKind.PERIOD, 1, metrics=PeriodMetrics(999_900, 8_000, 5, 600, 1)
    )
    both_report(month)

    assert escrow.order(terms.order_id()).status is OrderStatus.ACTIVE
    assert escrow.is_period_settled(terms.order_id(), 1)
    assert ledger.status(month) is ReportStatus.FINAL
    reputation = ledger.reputation(seller.address)
    assert (reputation.orders_on_time, reputation.periods_meeting_objectives, reputation.overall_ppm) == (
        1,
        1,
        1_000_000,
    )

    # A key the registry does not know is refused with the decoded error.
    with pytest.raises(ContractRevert) as refused:
        ledger.submit(send[anyone.address], anyone.address, [month])
    assert refused.value.name == "SlaNotOracle"
