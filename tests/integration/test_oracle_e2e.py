"""The Sonata bridge end to end: real anvil, real HTTP between buyer oracle, seller and seller oracle.

An RFQ becomes a delivered order with two months of in-life reports, and money is released, with
no manual step: the test only moves chain time (the sellers' clocks follow the chain).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from offnet.chain import Sender
from offnet.deployment import SuiteConfig, deploy_suite
from offnet.market.registry import ACCESS_ELINE, location_key
from offnet.market.types import ReportKind, ReportStatus, SlaReport
from offnet.sonata.examples import load_example
from offnet.testing.accounts import funded_account
from offnet.testing.carriers import Carrier, running_market

pytestmark = pytest.mark.anvil
DAY = 86_400


def wait_for(condition, what: str, *, step=None, limit: int = 300):
    """Poll `condition` (moving time with `step` between polls) until true; fail naming `what`."""
    for _ in range(limit):
        value = condition()
        if value:
            return value
        if step:
            step()
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def test_rfq_to_delivered_order_and_two_months_of_reports(anvil, tmp_path):
    deployments = tmp_path / "deployments"
    buyer = Carrier("buyer", funded_account(anvil), "prompt-and-punctual")
    seller = Carrier("seller", funded_account(anvil), "prompt-and-punctual")
    deployer = Sender(anvil, funded_account(anvil))
    suite = deploy_suite(
        anvil,
        deployer,
        SuiteConfig(founders=[buyer.address, seller.address], council_threshold=1, liveness_window=DAY),
    )
    suite.manifest.save(deployments)
    pay = Sender(anvil, buyer.account)
    pay.transact(suite.token.functions.mint(buyer.address, 10**12))
    pay.transact(suite.token.functions.approve(suite.escrow.address, 10**12))
    ledger = suite.ledger

    with running_market(anvil, [buyer, seller], tmp_path, deployments):
        now = datetime.fromtimestamp(anvil.now(), UTC)
        request = load_example("quote_create")
        request["requestedQuoteCompletionDate"] = (now + timedelta(days=2)).isoformat().replace("+00:00", "Z")
        rfq_id = buyer.call(
            buyer.oracle.buyer.post_rfq(
                request,
                [seller.address],
                token=suite.token.address,
                product_key=ACCESS_ELINE,
                location_key=location_key("FR-LYS"),
            )
        )
        # Quote answered and signed before the deadline; award after it.
        wait_for(
            lambda: buyer.oracle.store.received_quotes(rfq_id),
            "the signed quote",
            step=lambda: anvil.advance_time(3600),
        )
        anvil.advance_time(2 * DAY)
        order = wait_for(lambda: buyer.oracle.store.order(rfq_id=rfq_id), "the award")
        order_id = bytes.fromhex(order["order_id"][2:])
        # Delivery, then two whole billing months, then the liveness window.
        completed = SlaReport(order_id, ReportKind.ORDER_COMPLETED)
        wait_for(
            lambda: ledger.status(completed) == ReportStatus.FINAL,
            "the final delivery report",
            step=lambda: anvil.advance_time(2 * DAY),
            limit=400,
        )
        period_2 = SlaReport(order_id, ReportKind.PERIOD, 2)
        wait_for(
            lambda: ledger.status(period_2) == ReportStatus.FINAL,
            "the second period report",
            step=lambda: anvil.advance_time(5 * DAY),
            limit=400,
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
        assert not buyer.oracle.errors and not seller.oracle.errors
