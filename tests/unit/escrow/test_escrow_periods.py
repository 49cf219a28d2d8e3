"""Billing periods: calendar months (the first pro rata), releases minus SLA credits, top-ups, claims
of unreported periods, completion."""

from offnet.chain.permit import sign_permit
from offnet.market import periods
from offnet.market.types import OrderStatus, Payout, ReportStatus
from offnet.testing.world import (
    BAD_MONTH,
    CREDITS,
    DAY,
    LIVENESS,
    MONTHLY,
    ONE_TIME,
    REPORT_GRACE,
    events,
)


def _charge(escrow, terms, period):
    return periods.period_charge(MONTHLY, escrow.order(terms).delivered_at, period)


# --- settlements -----------------------------------------------------------------------------------------


def test_period__first_month_runs_to_the_end_of_the_calendar_month_and_costs_pro_rata(escrow):
    terms = escrow.delivered()
    delivered_at = escrow.order(terms).delivered_at
    start, end = escrow.escrow.period_bounds(delivered_at, 1)
    assert (start, end) == (delivered_at, periods.month_start(delivered_at, 1))
    charge = _charge(escrow, terms, 1)
    assert 0 < charge < MONTHLY
    receipt = escrow.settle_period(terms, 1)
    [settled] = events(escrow.escrow, receipt, "MilestoneSettled")
    # The seller gets the month's share it served; the unused part of the funded month goes back.
    assert (settled.milestone, settled.toSeller, settled.toBuyer, settled.reason) == (
        1,
        charge,
        MONTHLY - charge,
        Payout.RELEASE,
    )
    assert escrow.withdrawable(escrow.seller) == ONE_TIME + charge
    assert escrow.withdrawable(escrow.buyer) == MONTHLY - charge
    escrow.assert_conserved()


def test_period__a_whole_month_met__releases_the_monthly_charge(escrow):
    terms = escrow.delivered()
    escrow.settle_period(terms, 1)
    receipt = escrow.settle_period(terms, 2)
    [settled] = events(escrow.escrow, receipt, "MilestoneSettled")
    assert (settled.toSeller, settled.toBuyer) == (MONTHLY, 0)
    order = escrow.order(terms)
    assert (order.escrowed, order.settled_through, order.settled_window) == (MONTHLY, 2, 0)


def test_period__objectives_missed__credits_the_buyer_up_to_the_cap(escrow):
    terms = escrow.delivered()
    escrow.settle_period(terms, 1)
    receipt = escrow.settle_period(terms, 2, BAD_MONTH)  # four objectives missed: 30 %, the cap
    credit = MONTHLY * CREDITS.monthly_credit_cap_bps // 10_000
    [settled] = events(escrow.escrow, receipt, "MilestoneSettled")
    assert (settled.toSeller, settled.toBuyer) == (MONTHLY - credit, credit)
    escrow.assert_conserved()


def test_period__credit_on_the_partial_first_month__applies_to_its_pro_rata_charge(escrow):
    terms = escrow.delivered()
    charge = _charge(escrow, terms, 1)
    escrow.settle_period(terms, 1, BAD_MONTH)
    to_seller = charge - charge * CREDITS.monthly_credit_cap_bps // 10_000
    assert escrow.withdrawable(escrow.seller) == ONE_TIME + to_seller
    assert escrow.withdrawable(escrow.buyer) == MONTHLY - to_seller


def test_period__report_before_the_period_ends__waits_and_moves_nothing(escrow):
    terms = escrow.delivered()
    end = escrow.period_end(terms, 1)
    escrow.until(end - 60)
    report = escrow.period(terms, 1)
    finalize = escrow.reported(terms, report)
    escrow.refuse(finalize, "EscrowPeriodNotOver", orderId=terms.order_id(), period=1, endsAt=end)
    escrow.until(end)
    finalize()
    assert escrow.escrow.is_period_settled(terms.order_id(), 1)


def test_period__reported_twice__the_second_moves_nothing(escrow):
    terms = escrow.delivered()
    escrow.settle_period(terms, 1)
    before = escrow.state()["orders"]
    assert escrow.settle_period(terms, 1, BAD_MONTH).raw["logs"] == []
    assert escrow.state()["orders"] == before


def test_period__of_an_unfunded_month__waits_for_the_top_up_and_its_credit_applies(escrow, gas):
    terms = escrow.delivered(prepaid_months=1)
    escrow.settle_period(terms, 1)
    escrow.until(escrow.period_end(terms, 2))
    bad = escrow.period(terms, 2, BAD_MONTH)
    finalize = escrow.reported(terms, bad)
    escrow.refuse(finalize, "EscrowPeriodNotFunded", orderId=terms.order_id(), period=2, fundedMonths=1)
    escrow.fund(MONTHLY)
    top_up = escrow.escrow.top_up(escrow.buyer.sender, terms, 1)
    gas.check("OrderEscrow.topUp", top_up.gas_used, budget=90_000)
    finalize()
    credit = MONTHLY * CREDITS.monthly_credit_cap_bps // 10_000
    assert escrow.withdrawable(escrow.buyer) == (MONTHLY - _charge(escrow, terms, 1)) + credit
    escrow.assert_conserved()


def test_period__zero_or_beyond_the_term__is_an_invalid_report(escrow):
    terms = escrow.delivered()
    for period in (0, 13):
        report = escrow.period(terms, period)
        seller_batch, _ = escrow.submit(escrow.seller, [report])
        buyer_batch, _ = escrow.submit(escrow.buyer, [report])
        escrow.refuse(
            lambda r=report, s=seller_batch, b=buyer_batch: escrow.ledger.finalize_matched(
                escrow.stranger.sender, terms, r, s, b
            ),
            "SlaInvalidReport",
            reportId=report.report_id,
            kind=report.kind,
        )


def test_periods__settled_out_of_order__the_window_slides_and_the_term_completes(escrow):
    terms = escrow.delivered(term_months=3, prepaid_months=3)
    escrow.until(escrow.period_end(terms, 3))
    escrow.settle_period(terms, 3)
    escrow.settle_period(terms, 2)
    assert (escrow.order(terms).settled_through, escrow.order(terms).settled_window) == (0, 0b110)
    receipt = escrow.settle_period(terms, 1)
    order = escrow.order(terms)
    assert (order.status, order.settled_through, order.settled_window, order.escrowed) == (
        OrderStatus.COMPLETED,
        3,
        0,
        0,
    )
    [closed] = events(escrow.escrow, receipt, "OrderClosed")
    assert closed.status == OrderStatus.COMPLETED


def test_period__more_than_40_periods_ahead_of_the_oldest_unsettled__waits(escrow):
    terms = escrow.delivered(term_months=45, prepaid_months=45, monthly_charge=MONTHLY // 10)
    escrow.until(escrow.period_end(terms, 41))
    report = escrow.period(terms, 41)
    escrow.refuse(
        escrow.reported(terms, report),
        "EscrowPeriodBeyondWindow",
        orderId=terms.order_id(),
        period=41,
        settledThrough=0,
    )
    escrow.settle_period(terms, 40)
    assert escrow.order(terms).settled_window == 1 << 39


# --- claims of unreported periods --------------------------------------------------------------------------


def test_claim_period__unreported__after_the_grace__releases_its_charge_to_the_seller(escrow, gas):
    terms = escrow.delivered()
    claimable_at = escrow.period_end(terms, 1) + REPORT_GRACE
    escrow.until(claimable_at - 60)
    escrow.refuse(
        lambda: escrow.escrow.claim_period(escrow.stranger.sender, terms, 1),
        "EscrowTooEarly",
        orderId=terms.order_id(),
        milestone=1,
        availableAt=claimable_at,
    )
    escrow.until(claimable_at)
    receipt = escrow.escrow.claim_period(escrow.stranger.sender, terms, 1)
    charge = _charge(escrow, terms, 1)
    [settled] = events(escrow.escrow, receipt, "MilestoneSettled")
    assert (settled.toSeller, settled.toBuyer, settled.reason) == (charge, MONTHLY - charge, Payout.CLAIM)
    escrow.assert_conserved()
    gas.check("OrderEscrow.claimPeriod", receipt.gas_used, budget=90_000)


def test_claim_period__counts_from_delivery_finality_when_that_is_later(escrow):
    """Delivery became final long after the completion date: no elapsed month is claimable before
    the buyer's reports of it could count."""
    terms = escrow.open()
    escrow.until(terms.awarded_at + 75 * DAY)
    report = escrow.delivery(terms)  # completed a day after award
    escrow.settle(terms, report)
    order = escrow.order(terms)
    assert periods.period_bounds(order.delivered_at, 2)[1] < order.claims_from  # months 1 and 2 are over
    escrow.refuse(
        lambda: escrow.escrow.claim_period(escrow.stranger.sender, terms, 1),
        "EscrowTooEarly",
        orderId=terms.order_id(),
        milestone=1,
        availableAt=order.claims_from + REPORT_GRACE,
    )


def test_claim_period__while_a_report_of_it_is_held__waits(escrow):
    terms = escrow.delivered()
    escrow.until(escrow.period_end(terms, 1))
    bad = escrow.period(terms, 1, BAD_MONTH)
    batch, _ = escrow.submit(escrow.buyer, [bad])
    escrow.ledger.hold(escrow.buyer.oracle_key.sender, terms, bad, batch)
    assert escrow.ledger.status(bad) is ReportStatus.PENDING
    escrow.until(escrow.period_end(terms, 1) + REPORT_GRACE)
    error = escrow.refuse(
        lambda: escrow.escrow.claim_period(escrow.stranger.sender, terms, 1), "EscrowReportPending"
    )
    assert error.arguments["milestone"] == 1
    escrow.chain.advance_time(LIVENESS)
    escrow.ledger.finalize(escrow.stranger.sender, terms, bad, batch)
    assert escrow.escrow.is_period_settled(terms.order_id(), 1)


def test_unfunded_period__can_be_neither_claimed_nor_disputed(escrow):
    terms = escrow.delivered(prepaid_months=1)
    escrow.until(escrow.period_end(terms, 2) + REPORT_GRACE)
    for sender, action in (
        (escrow.stranger.sender, escrow.escrow.claim_period),
        (escrow.buyer.sender, escrow.escrow.dispute),
        (escrow.seller.sender, escrow.escrow.dispute),
    ):
        escrow.refuse(
            lambda s=sender, a=action: a(s, terms, 2),
            "EscrowPeriodNotFunded",
            orderId=terms.order_id(),
            period=2,
            fundedMonths=1,
        )


def test_claim_period__before_delivery__reverts(escrow):
    terms = escrow.open()
    escrow.until(terms.awarded_at + 90 * DAY)
    escrow.refuse(
        lambda: escrow.escrow.claim_period(escrow.stranger.sender, terms, 1),
        "EscrowWrongStatus",
        orderId=terms.order_id(),
        status=OrderStatus.ACKNOWLEDGED,
    )


# --- top-ups ---------------------------------------------------------------------------------------------


def test_top_up__late__moves_the_claims_of_the_newly_funded_periods_past_its_own_grace(escrow):
    terms = escrow.delivered(prepaid_months=1)
    escrow.settle_period(terms, 1)
    escrow.until(escrow.period_end(terms, 2) + REPORT_GRACE + DAY)
    escrow.fund(MONTHLY)
    receipt = escrow.escrow.top_up(escrow.buyer.sender, terms, 1)
    topped_at = escrow.chain.w3.eth.get_block(receipt.block_number)["timestamp"]
    assert escrow.order(terms).claims_from == topped_at
    escrow.refuse(
        lambda: escrow.escrow.claim_period(escrow.stranger.sender, terms, 2),
        "EscrowTooEarly",
        orderId=terms.order_id(),
        milestone=2,
        availableAt=topped_at + REPORT_GRACE,
    )


def test_top_up__zero_months_or_beyond_the_term__reverts(escrow):
    terms = escrow.delivered()
    for months in (0, 10):
        escrow.refuse(
            lambda m=months: escrow.escrow.top_up(escrow.buyer.sender, terms, m),
            "EscrowInvalidTopUp",
            orderId=terms.order_id(),
            months=months,
            fundedMonths=3,
            termMonths=12,
        )


def test_top_up__with_a_permit__funds_months_in_one_transaction(escrow):
    terms = escrow.delivered()
    escrow.buyer.sender.transact(escrow.token.functions.mint(escrow.buyer.address, 2 * MONTHLY))
    deadline = escrow.chain.now() + DAY
    escrow.escrow.top_up_with_permit(escrow.buyer.sender, escrow.token, terms, 2, deadline)
    assert escrow.order(terms).funded_months == 5
    escrow.assert_conserved()


def test_top_up__permit_front_run__still_funds_with_the_allowance(escrow):
    terms = escrow.delivered()
    escrow.buyer.sender.transact(escrow.token.functions.mint(escrow.buyer.address, MONTHLY))
    permit = sign_permit(
        escrow.buyer.account, escrow.token, escrow.escrow.address, MONTHLY, escrow.chain.now() + DAY
    )
    # Someone submits the buyer's permit first: the escrow's own permit call then fails, harmlessly.
    escrow.stranger.sender.transact(
        escrow.token.functions.permit(
            permit.owner, permit.spender, permit.value, permit.deadline, permit.v, permit.r, permit.s
        )
    )
    escrow.buyer.sender.transact(
        escrow.escrow.fn.topUpWithPermit(terms.to_tuple(), 1, permit.deadline, permit.v, permit.r, permit.s)
    )
    assert escrow.order(terms).funded_months == 4
