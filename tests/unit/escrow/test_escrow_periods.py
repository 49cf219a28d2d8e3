"""Billing periods: monthly releases minus SLA credits, top-ups, unreported periods, completion."""

from offnet.chain.permit import sign_permit
from offnet.market.types import OrderStatus, Skip
from offnet.testing.world import (
    BILLING_PERIOD,
    CREDIT_25_PERCENT,
    CREDIT_CAPPED,
    CREDITS,
    MONTHLY,
    NO_CREDIT,
    REPORT_GRACE,
)


def report(escrow, terms, period, metrics=NO_CREDIT):
    return escrow.settle(terms, period, metrics)


def test_period__all_objectives_met__releases_the_monthly_charge(escrow, gas):
    terms, oid = escrow.delivered()
    receipt = report(escrow, terms, 1)
    assert escrow.withdrawable(escrow.seller) == terms.one_time_charge + MONTHLY
    assert escrow.withdrawable(escrow.buyer) == 0
    state = escrow.order(oid)
    assert (state.escrowed, state.settled_through, state.settled_window) == (MONTHLY, 1, 0)
    assert escrow.client.is_period_settled(oid, 1)
    assert not escrow.client.is_period_settled(oid, 2)
    gas.check("OrderEscrow.onPeriod", receipt.gas_used, budget=90_000)


def test_period__objectives_missed__credits_the_buyer(escrow, gas):
    terms, _ = escrow.delivered()
    receipt = report(escrow, terms, 1, CREDIT_25_PERCENT)
    credit = MONTHLY * 2_500 // 10_000
    assert escrow.withdrawable(escrow.buyer) == credit
    assert escrow.withdrawable(escrow.seller) == terms.one_time_charge + MONTHLY - credit
    assert escrow.client.events(receipt, "MilestoneSettled")[0]["creditBps"] == 2_500
    gas.check("OrderEscrow.onPeriod.withCredit", receipt.gas_used, budget=105_000)


def test_period__every_objective_missed__credit_capped(escrow):
    terms, _ = escrow.delivered()
    report(escrow, terms, 1, CREDIT_CAPPED)
    assert escrow.withdrawable(escrow.buyer) == MONTHLY * CREDITS.monthly_credit_cap_bps // 10_000


def test_period__final_report_before_the_period_ends__reverts_and_moves_nothing(escrow):
    terms, oid = escrow.delivered()
    ends_at = escrow.order(oid).delivered_at + BILLING_PERIOD
    escrow.chain.advance_time(ends_at - escrow.chain.now() - 60)
    with escrow.refuses("EscrowPeriodNotOver", orderId=oid, period=1, endsAt=ends_at):
        escrow.client.settle_period(escrow.ledger.sender, terms, 1, NO_CREDIT)
    escrow.chain.advance_time(60)
    report(escrow, terms, 1)
    assert escrow.client.is_period_settled(oid, 1)


def test_period__reported_twice__second_report_ignored(escrow):
    terms, oid = escrow.delivered()
    report(escrow, terms, 1)
    receipt = report(escrow, terms, 1, CREDIT_CAPPED)
    assert escrow.client.events(receipt, "OutcomeIgnored") == [
        {"orderId": oid, "milestone": 1, "why": Skip.PERIOD_SETTLED}
    ]
    assert escrow.withdrawable(escrow.buyer) == 0


def test_period__not_funded__ignored_until_the_buyer_tops_up(escrow, gas):
    terms, oid = escrow.delivered()
    receipt = report(escrow, terms, 3)
    assert escrow.client.events(receipt, "OutcomeIgnored") == [
        {"orderId": oid, "milestone": 3, "why": Skip.PERIOD_NOT_FUNDED}
    ]
    escrow.fund_buyer(terms, MONTHLY)
    top_up = escrow.act(lambda: escrow.client.top_up(escrow.buyer.sender, terms, 1))
    assert escrow.client.events(top_up, "OrderToppedUp") == [
        {"orderId": oid, "payer": escrow.buyer.address, "amount": MONTHLY, "fundedMonths": 3}
    ]
    gas.check("OrderEscrow.topUp", top_up.gas_used, budget=90_000)
    report(escrow, terms, 3)
    assert escrow.client.is_period_settled(oid, 3)


def test_period__before_delivery__ignored(escrow):
    terms, oid, _ = escrow.open()
    receipt = report(escrow, terms, 1)
    assert escrow.client.events(receipt, "OutcomeIgnored") == [
        {"orderId": oid, "milestone": 1, "why": Skip.ORDER_NOT_ACTIVE}
    ]


def test_period__zero_or_beyond_the_term__reverts(escrow):
    terms, oid = escrow.delivered()
    for period in (0, 13):
        with escrow.refuses("EscrowInvalidPeriod", orderId=oid, period=period, termMonths=12):
            escrow.client.settle_period(escrow.ledger.sender, terms, period, NO_CREDIT)


def test_period__reported_by_anyone_but_the_ledger__reverts(escrow):
    terms, _ = escrow.delivered()
    with escrow.refuses("EscrowNotLedger", caller=escrow.buyer.address):
        escrow.client.settle_period(escrow.buyer.sender, terms, 1, CREDIT_CAPPED)


def test_periods__settled_out_of_order__window_slides_and_the_term_completes(escrow):
    terms, oid = escrow.delivered(term_months=3, prepaid_months=3)
    report(escrow, terms, 2)
    assert (escrow.order(oid).settled_through, escrow.order(oid).settled_window) == (0, 0b10)
    report(escrow, terms, 1)
    assert (escrow.order(oid).settled_through, escrow.order(oid).settled_window) == (2, 0)
    receipt = report(escrow, terms, 3)
    assert escrow.order(oid).status == OrderStatus.COMPLETED
    assert escrow.order(oid).escrowed == 0
    assert escrow.client.events(receipt, "OrderClosed") == [
        {"orderId": oid, "status": OrderStatus.COMPLETED, "reason": 0}
    ]
    escrow.fund_buyer(terms, MONTHLY)
    with escrow.refuses("EscrowWrongStatus", orderId=oid, status=OrderStatus.COMPLETED):
        escrow.client.top_up(escrow.buyer.sender, terms, 1)


def test_period__more_than_64_periods_ahead_of_the_oldest_unsettled__reverts(escrow):
    terms, oid = escrow.delivered(term_months=70, prepaid_months=70)
    with escrow.refuses("EscrowPeriodBeyondWindow", orderId=oid, period=65, settledThrough=0):
        escrow.client.settle_period(escrow.ledger.sender, terms, 65, NO_CREDIT)
    report(escrow, terms, 64)
    assert escrow.order(oid).settled_window == 1 << 63


def test_claim_period__before_its_deadline__reverts(escrow):
    terms, oid = escrow.delivered()
    claimable_at = escrow.order(oid).delivered_at + BILLING_PERIOD + REPORT_GRACE
    with escrow.refuses("EscrowTooEarly", orderId=oid, milestone=1, availableAt=claimable_at):
        escrow.client.claim_period(escrow.seller.sender, terms, 1)


def test_claim_period__unreported_after_its_deadline__releases_all_to_the_seller(escrow, gas):
    terms, oid = escrow.delivered()
    escrow.chain.advance_time(
        escrow.order(oid).delivered_at + BILLING_PERIOD + REPORT_GRACE - escrow.chain.now()
    )
    receipt = escrow.act(lambda: escrow.client.claim_period(escrow.outsider.sender, terms, 1))
    assert escrow.withdrawable(escrow.seller) == terms.one_time_charge + MONTHLY
    gas.check("OrderEscrow.claimPeriod", receipt.gas_used, budget=90_000)
    late = report(escrow, terms, 1, CREDIT_CAPPED)
    assert escrow.client.events(late, "OutcomeIgnored")[0]["why"] == Skip.PERIOD_SETTLED
    with escrow.refuses("EscrowPeriodSettled", orderId=oid, period=1):
        escrow.client.claim_period(escrow.outsider.sender, terms, 1)


def test_claim_period__not_funded__reverts(escrow):
    terms, oid = escrow.delivered()
    escrow.chain.advance_time(3 * BILLING_PERIOD + REPORT_GRACE)
    with escrow.refuses("EscrowPeriodNotFunded", orderId=oid, period=3, fundedMonths=2):
        escrow.client.claim_period(escrow.seller.sender, terms, 3)


def test_top_up__by_anyone_but_the_buyer__reverts(escrow):
    terms, oid, _ = escrow.open()
    with escrow.refuses("EscrowNotBuyer", orderId=oid, caller=escrow.seller.address):
        escrow.client.top_up(escrow.seller.sender, terms, 1)


def test_top_up__zero_months_or_beyond_the_term__reverts(escrow):
    terms, oid, _ = escrow.open()
    escrow.fund_buyer(terms, 11 * MONTHLY)
    for months in (0, 11):
        with escrow.refuses("EscrowInvalidTopUp", orderId=oid, months=months, fundedMonths=2, termMonths=12):
            escrow.client.top_up(escrow.buyer.sender, terms, months)


def test_top_up__with_a_permit__funds_months_in_one_transaction(escrow):
    terms, oid, _ = escrow.open()
    escrow.buyer.sender.transact(escrow.token.functions.mint(escrow.buyer.address, 4 * MONTHLY))
    escrow.act(
        lambda: escrow.client.top_up_with_permit(
            escrow.buyer.sender, escrow.token, terms, 4, escrow.chain.now() + 3600
        )
    )
    assert escrow.order(oid).funded_months == 6
    assert escrow.order(oid).escrowed == terms.opening_amount + 4 * MONTHLY


def test_top_up__permit_front_run__still_funds_with_the_allowance(escrow):
    terms, oid, _ = escrow.open()
    escrow.buyer.sender.transact(escrow.token.functions.mint(escrow.buyer.address, MONTHLY))
    permit = sign_permit(
        escrow.buyer.account, escrow.token, escrow.client.address, MONTHLY, escrow.chain.now() + 3600
    )
    # Someone submits the buyer's permit first: the escrow's own permit call then fails, harmlessly.
    escrow.outsider.sender.transact(
        escrow.token.functions.permit(
            permit.owner, permit.spender, permit.value, permit.deadline, permit.v, permit.r, permit.s
        )
    )
    escrow.act(
        lambda: escrow.buyer.sender.transact(
            escrow.client.fn.topUpWithPermit(
                terms.to_tuple(), 1, permit.deadline, permit.v, permit.r, permit.s
            )
        )
    )
    assert escrow.order(oid).funded_months == 3


def test_claim_period__before_delivery__reverts(escrow):
    terms, oid, _ = escrow.open()
    escrow.chain.advance_time(BILLING_PERIOD + REPORT_GRACE)
    with escrow.refuses("EscrowWrongStatus", orderId=oid, status=OrderStatus.OPEN):
        escrow.client.claim_period(escrow.seller.sender, terms, 1)
