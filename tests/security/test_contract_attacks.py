"""The attacks of the contracts' security review, each performed on the embedded chain against the whole
suite: each test is named after the attack, performs it, and shows it refused (a custom error, nothing
changed) or harmless (the victim's money and standing are what its terms say). SECURITY.md lists them."""

from __future__ import annotations

from dataclasses import replace

import pytest
from eth_utils import keccak
from topology import INSTALL_DAYS, MONTHLY, ONE_TIME, fingerprint

from offnet.exceptions import ContractRevert
from offnet.market.ledger import Batch
from offnet.market.notary import seal_contract, sign_contract_commitment
from offnet.market.periods import period_bounds, period_charge
from offnet.market.rfq import AWARD_WINDOW
from offnet.market.types import OrderStatus, OrderTerms, ReportKind, ReportStatus, SlaReport
from offnet.sla.reports import ticket_key
from offnet.testing.world import (
    BAD_MONTH,
    CANCEL_NOTICE,
    CREDITS,
    DAY,
    DELIVERY_GRACE,
    GOOD_MONTH,
    LIVENESS,
    REPORT_GRACE,
    Party,
    World,
)

GOOD, BAD = GOOD_MONTH, BAD_MONTH  # BAD misses all four objectives of CREDITS
BAD_BPS = min(
    CREDITS.availability_credit_bps
    + CREDITS.frame_delay_credit_bps
    + CREDITS.frame_loss_credit_bps
    + CREDITS.time_to_restore_credit_bps,
    CREDITS.monthly_credit_cap_bps,
)
FEE = ONE_TIME // 10  # CANCELLATION_FEE_BPS = 1,000


# --- helpers -----------------------------------------------------------------------------------------


def refused(name: str, action, *, world: World, terms: list[OrderTerms] = ()) -> ContractRevert:
    """Run `action`, which must revert with custom error `name` and change nothing the world watches."""
    before = fingerprint(world, list(terms))
    with pytest.raises(ContractRevert) as caught:
        action()
    assert caught.value.name == name, caught.value.describe()
    assert fingerprint(world, list(terms)) == before
    return caught.value


def late_bps(days: int) -> int:
    """The late-delivery credit of CREDITS for `days` days late."""
    return min(days * CREDITS.late_delivery_bps_per_day, CREDITS.late_delivery_cap_bps)


def committed_at(terms: OrderTerms) -> int:
    return terms.awarded_at + terms.install_days * DAY


def submit(w: World, member: Party, report: SlaReport) -> Batch:
    """`member`'s oracle key relays `report`; returns its batch."""
    return w.submit_batch(member, [report])[0]


def delivered(w: World, buyer: Party, seller: Party, *, after: int = 2 * DAY) -> tuple[OrderTerms, int]:
    """An acknowledged order delivered `after` the award, final by both parties' reports."""
    terms = w.open_order(buyer, [seller], by_key=True, acknowledge=True).terms
    at = terms.awarded_at + after
    w.chain.advance_time(at - w.now())
    w.both_report(terms, SlaReport(terms.order_id(), ReportKind.ORDER_COMPLETED, 0, committed_at(terms), at))
    return terms, w.escrow.order(terms.order_id()).delivered_at


def until(w: World, moment: int) -> None:
    if moment > w.now():
        w.chain.advance_time(moment - w.now())


def balance(w: World, party: str) -> int:
    return w.escrow.withdrawable(w.token.address, party)


# --- 1. anyone kills the award ----------------------------------------------------------------------------


def test_outsider_closes_rfq_after_deadline__award_still_possible(world):
    w = world
    buyer, seller = w.buyers[0], w.sellers[0]
    rfq = w.rfq(buyer)
    w.market.post(buyer.sender, rfq)
    signed = w.sign(w.quote(rfq, seller, nonce=1), seller.quote_key.account)
    w.market.commit(seller.quote_key.sender, rfq, signed)
    w.seal(rfq)

    # The outsider (and the invited seller) try to close it at deadline + 1, in front of the award.
    for closer in (w.outsider.sender, seller.sender):
        error = refused("RfqAwardWindow", lambda c=closer: w.market.close(c, rfq), world=w)
        assert error.arguments["until"] == rfq.deadline + AWARD_WINDOW
    w.market.award(buyer.sender, rfq, signed)

    # An RFQ the buyer leaves open: anyone may close it once the award window is over.
    idle = w.rfq(buyer)
    w.market.post(buyer.sender, idle)
    until(w, idle.deadline + AWARD_WINDOW - 5)
    refused("RfqAwardWindow", lambda: w.market.close(w.outsider.sender, idle), world=w)
    w.chain.advance_time(5)
    w.market.close(w.outsider.sender, idle)


# --- 2. the shared dispute slot, burnt early; cancel under a pending completion ---------------------------


def test_buyer_disputes_delivery_right_after_award__refused_until_due_and_seller_keeps_its_own(world):
    w = world
    buyer, seller = w.buyers[0], w.sellers[0]
    terms = w.open_order(buyer, [seller], by_key=True, acknowledge=True).terms
    error = refused("EscrowNotDue", lambda: w.escrow.dispute(buyer.sender, terms, 0), world=w, terms=[terms])
    assert error.arguments["dueAt"] == committed_at(terms)

    until(w, committed_at(terms))
    w.escrow.dispute(buyer.sender, terms, 0)
    # The buyer's dispute is its own: the seller still has its right (it freezes the buyer's claims).
    w.escrow.dispute(seller.sender, terms, 0)
    refused("EscrowDisputeExists", lambda: w.escrow.dispute(buyer.sender, terms, 0), world=w, terms=[terms])
    hold = w.escrow.hold(terms.order_id(), 0)
    assert hold.buyer_disputed_at and hold.seller_disputed_at


def test_seller_disputes_period_right_after_delivery__refused_and_buyer_keeps_its_own(world):
    w = world
    buyer, seller = w.buyers[0], w.sellers[0]
    terms, delivered_at = delivered(w, buyer, seller)
    month_ends = period_bounds(delivered_at, 1)[1]
    error = refused("EscrowNotDue", lambda: w.escrow.dispute(seller.sender, terms, 1), world=w, terms=[terms])
    assert error.arguments["dueAt"] == month_ends
    until(w, month_ends)
    w.escrow.dispute(seller.sender, terms, 1)
    w.escrow.dispute(buyer.sender, terms, 1)  # the buyer's freeze is still its own


def test_buyer_claims_non_delivery_while_completion_report_pending__refused(world):
    w = world
    buyer, seller = w.buyers[0], w.sellers[0]
    terms = w.open_order(buyer, [seller], by_key=True, acknowledge=True).terms
    deadline = committed_at(terms) + DELIVERY_GRACE
    # The seller delivers a day before the deadline; its oracle reports it and holds the report.
    until(w, deadline - DAY)
    report = SlaReport(terms.order_id(), ReportKind.ORDER_COMPLETED, 0, committed_at(terms), w.now())
    batch = submit(w, seller, report)
    w.ledger.hold(seller.oracle_key.sender, terms, report, batch)

    until(w, deadline + 1)  # the buyer claims as soon as the deadline is over, within the liveness window
    refused(
        "EscrowReportPending",
        lambda: w.escrow.claim_non_delivery(buyer.sender, terms),
        world=w,
        terms=[terms],
    )
    w.chain.advance_time(LIVENESS)
    w.ledger.finalize(w.outsider.sender, terms, report, batch)
    order = w.escrow.order(terms.order_id())
    assert order.status == OrderStatus.ACTIVE
    # Delivered 24 days late: the one-time charge less the late credit, not a refund.
    assert balance(w, seller.address) == ONE_TIME - ONE_TIME * late_bps(24) // 10_000


def test_buyer_cancels_while_completion_report_in_liveness__refused(world):
    w = world
    buyer, seller = w.buyers[0], w.sellers[0]
    terms = w.open_order(buyer, [seller], by_key=True, acknowledge=True).terms
    w.escrow.cancel(buyer.sender, terms)  # acknowledged: the first call only asks
    asked_at = w.escrow.hold(terms.order_id(), 0).cancel_requested_at
    assert asked_at
    refused("EscrowCancelNoticeRunning", lambda: w.escrow.cancel(buyer.sender, terms), world=w, terms=[terms])

    w.chain.advance_time(3 * DAY)  # the seller delivers within the notice and holds its report
    report = SlaReport(terms.order_id(), ReportKind.ORDER_COMPLETED, 0, committed_at(terms), w.now())
    batch = submit(w, seller, report)
    w.ledger.hold(w.outsider.sender, terms, report, batch)  # anyone may hold it: here a third party
    until(w, asked_at + CANCEL_NOTICE)
    refused("EscrowReportPending", lambda: w.escrow.cancel(buyer.sender, terms), world=w, terms=[terms])

    w.chain.advance_time(LIVENESS)
    w.ledger.finalize(w.outsider.sender, terms, report, batch)
    assert w.escrow.order(terms.order_id()).status == OrderStatus.ACTIVE
    assert balance(w, seller.address) == ONE_TIME  # on time: paid in full, not a 10 % fee


# --- 3. quote log flooding ------------------------------------------------------------------------------


def test_suspended_or_uninvited_member_floods_quote_log__refused_and_entries_bounded(world):
    w = world
    buyer, invited, uninvited = w.buyers[0], w.sellers[0], w.sellers[1]
    rfq = w.rfq(buyer, invited=(invited.address,))
    w.market.post(buyer.sender, rfq)
    refused(
        "QuoteProviderNotInvited",
        lambda: w.market.withdraw(uninvited.quote_key.sender, rfq, uninvited.address),
        world=w,
    )
    refused(
        "QuoteNothingToWithdraw",
        lambda: w.market.withdraw(invited.quote_key.sender, rfq, invited.address),
        world=w,
    )

    # The invited provider commits and withdraws as often as it can: three entries, then no more.
    for nonce in (1, 2):
        signed = w.sign(w.quote(rfq, invited, nonce=nonce), invited.quote_key.account)
        w.market.commit(invited.quote_key.sender, rfq, signed)
        if nonce == 1:
            w.market.withdraw(invited.quote_key.sender, rfq, invited.address)
    refused(
        "QuoteEntriesExhausted",
        lambda: w.market.withdraw(invited.quote_key.sender, rfq, invited.address),
        world=w,
    )
    assert w.market.state(rfq.rfq_id).entries == 3

    w.registry.propose_suspend(w.council.sender, invited.address)
    refused(
        "QuoteProviderInactive",
        lambda: w.market.withdraw(invited.quote_key.sender, rfq, invited.address),
        world=w,
    )


def test_rival_withdraws_in_front_of_award__award_still_valid(world):
    w = world
    buyer, seller, rival = w.buyers[0], w.sellers[0], w.sellers[1]
    rfq = w.rfq(buyer)
    w.market.post(buyer.sender, rfq)
    signed = w.sign(w.quote(rfq, seller, nonce=1), seller.quote_key.account)
    w.market.commit(seller.quote_key.sender, rfq, signed)
    w.market.commit(
        rival.quote_key.sender, rfq, w.sign(w.quote(rfq, rival, nonce=1), rival.quote_key.account)
    )
    refused("RfqBeforeDeadline", lambda: w.market.award(buyer.sender, rfq, signed), world=w)
    w.seal(rfq)
    # The log is final once the deadline passed: the rival's withdrawal in front of the award fails...
    refused(
        "QuoteAfterDeadline", lambda: w.market.withdraw(rival.quote_key.sender, rfq, rival.address), world=w
    )
    # ...and the award replays the log the buyer read.
    w.market.award(buyer.sender, rfq, signed)


# --- 4. reputation griefing through RFQs -----------------------------------------------------------------


def test_buyer_invites_victim_many_times_with_short_deadline__refused_and_counted_once(world):
    w = world
    buyer, victim = w.buyers[0], w.sellers[0]
    rfq = w.rfq(buyer, invited=(victim.address,))
    twice = replace(rfq, invited=(victim.address, victim.address))
    refused("RfqInviteesNotSorted", lambda: w.market.post(buyer.sender, twice), world=w)
    crowded = replace(rfq, invited=(victim.address,) * 9)
    refused("RfqInvitedCount", lambda: w.market.post(buyer.sender, crowded), world=w)
    rushed = replace(rfq, deadline=w.now() + 60)
    refused("RfqDeadlineOutOfRange", lambda: w.market.post(buyer.sender, rushed), world=w)

    # A proper RFQ the victim never answers counts once against it when it closes.
    before = w.ledger.reputation(victim.address)
    w.market.post(buyer.sender, rfq)
    until(w, rfq.deadline + 1)
    w.market.close(buyer.sender, rfq)
    after = w.ledger.reputation(victim.address)
    assert (after.quotes_requested, after.quotes_on_time) == (
        before.quotes_requested + 1,
        before.quotes_on_time,
    )


# --- 5. notary squatting --------------------------------------------------------------------------------


def test_unrelated_members_notarise_someone_elses_order__refused(world):
    w = world
    buyer, seller = w.buyers[0], w.sellers[0]
    squatters = (w.buyers[1], w.sellers[1])
    terms = w.open_order(buyer, [seller], by_key=True, acknowledge=True).terms
    domain = w.notary.domain
    fake = seal_contract({"price": "squatted"}, salt=b"\x05" * 32).commitment

    def sigs(signers, signed_terms, commitment):
        return [sign_contract_commitment(m.account, domain, signed_terms, commitment) for m in signers]

    # The squatters sign the real order's id with themselves as parties: the escrow's terms name others.
    as_parties = replace(terms, buyer=squatters[0].address, seller=squatters[1].address)
    refused(
        "NotaryNoSuchOrder",
        lambda: w.notary.notarise(w.outsider.sender, as_parties, fake, *sigs(squatters, as_parties, fake)),
        world=w,
    )
    refused(
        "NotaryWrongSigner",
        lambda: w.notary.notarise(w.outsider.sender, terms, fake, *sigs(squatters, terms, fake)),
        world=w,
    )
    # The real parties notarise their amendment; verify() vouches for theirs only.
    sealed = seal_contract({"price": "amended"}, salt=b"\x06" * 32)
    w.notary.notarise(
        w.outsider.sender, terms, sealed.commitment, *sigs((buyer, seller), terms, sealed.commitment)
    )
    assert w.notary.verify(terms.order_id(), sealed)
    assert w.notary.record(terms.order_id()).commitment == sealed.commitment


# --- 6. a month final before it is funded loses the buyer's credit ------------------------------------------


def test_period_final_before_funded__credit_applies_after_top_up(world):
    w = world
    buyer, seller = w.buyers[0], w.sellers[0]
    terms, delivered_at = delivered(w, buyer, seller)
    oid = terms.order_id()
    until(w, period_bounds(delivered_at, 2)[1])  # month 2 is over; only month 1 was prepaid
    bad = SlaReport(oid, ReportKind.PERIOD, 2, metrics=BAD)
    seller_batch, buyer_batch = submit(w, seller, bad), submit(w, buyer, bad)
    refused(
        "EscrowPeriodNotFunded",
        lambda: w.ledger.finalize_matched(w.outsider.sender, terms, bad, seller_batch, buyer_batch),
        world=w,
        terms=[terms],
    )
    refused(
        "EscrowPeriodNotFunded",
        lambda: w.escrow.claim_period(seller.sender, terms, 2),
        world=w,
        terms=[terms],
    )

    w.escrow.top_up(buyer.sender, terms, 2)
    # Funding an ended month restarts its claim clock: the waiting report settles first.
    error = refused(
        "EscrowTooEarly", lambda: w.escrow.claim_period(seller.sender, terms, 2), world=w, terms=[terms]
    )
    assert error.arguments["availableAt"] == w.escrow.order(oid).claims_from + REPORT_GRACE
    before = balance(w, buyer.address)
    w.ledger.finalize_matched(w.outsider.sender, terms, bad, seller_batch, buyer_batch)
    assert balance(w, buyer.address) - before == MONTHLY * BAD_BPS // 10_000


# --- 7. late delivery finality: the seller claims months first; a ruled delivery blocks in-life reports ------


def test_delivery_final_late__seller_cannot_claim_elapsed_months_before_buyers_reports(world):
    w = world
    buyer, seller = w.buyers[0], w.sellers[0]
    terms = w.open_order(buyer, [seller], by_key=True, acknowledge=True).terms
    oid = terms.order_id()
    completed = committed_at(terms)
    report = SlaReport(oid, ReportKind.ORDER_COMPLETED, 0, completed, completed)
    until(w, completed)
    batch = submit(w, seller, report)
    w.ledger.dispute(buyer.oracle_key.sender, terms, report, batch)
    # The council rules 75 days later: delivery is final with period 1 starting at the completion date.
    w.chain.advance_time(75 * DAY)
    w.council_decides(
        w.ledger.address, w.ledger.resolve_call(terms, report, buyer.address)._encode_transaction_data()
    )
    order = w.escrow.order(oid)
    assert order.delivered_at == completed and order.claims_from == w.now()
    assert period_bounds(completed, 1)[1] + REPORT_GRACE < w.now()  # by the period's end alone: claimable

    error = refused(
        "EscrowTooEarly", lambda: w.escrow.claim_period(seller.sender, terms, 1), world=w, terms=[terms]
    )
    assert error.arguments["availableAt"] == order.claims_from + REPORT_GRACE
    # The buyer's oracle reports the bad month now; it is final before any claim.
    bad = SlaReport(oid, ReportKind.PERIOD, 1, metrics=BAD)
    bad_batch = submit(w, buyer, bad)
    w.chain.advance_time(LIVENESS)
    before = balance(w, buyer.address)
    w.ledger.finalize(w.outsider.sender, terms, bad, bad_batch)
    charge = period_charge(MONTHLY, completed, 1)
    assert balance(w, buyer.address) - before == MONTHLY - charge + charge * BAD_BPS // 10_000


def test_council_rules_delivery_at_escrow__in_life_reports_finalize(world):
    w = world
    buyer, seller = w.buyers[0], w.sellers[0]
    terms = w.open_order(buyer, [seller], by_key=True, acknowledge=True).terms
    oid = terms.order_id()
    until(w, committed_at(terms))
    w.escrow.dispute(seller.sender, terms, 0)
    w.council_decides(w.escrow.address, w.escrow.rule_call(terms, 0, 0)._encode_transaction_data())
    delivered_at = w.escrow.order(oid).delivered_at
    assert delivered_at and w.escrow.order(oid).status == OrderStatus.ACTIVE

    # In-life facts count from the ruling on: a ticket and the first month.
    ticket = SlaReport(oid, ReportKind.TROUBLE_TICKET, ticket_key("TT-1"), 7_200, w.now())
    ticket_batch = submit(w, buyer, ticket)
    until(w, period_bounds(delivered_at, 1)[1])
    month = SlaReport(oid, ReportKind.PERIOD, 1, metrics=GOOD)
    w.both_report(terms, month)
    w.chain.advance_time(LIVENESS)
    w.ledger.finalize(w.outsider.sender, terms, ticket, ticket_batch)
    assert w.ledger.status(ticket) == ReportStatus.FINAL and w.ledger.status(month) == ReportStatus.FINAL
    assert w.ledger.reputation(seller.address).trouble_tickets == 1


# --- 8. period definitions disagree ---------------------------------------------------------------------


def test_month_claimed_before_any_honest_report_could_exist__refused_calendar_months_and_grace(world):
    w = world
    buyer, seller = w.buyers[0], w.sellers[0]
    terms, delivered_at = delivered(w, buyer, seller)
    oid = terms.order_id()
    start, end = period_bounds(delivered_at, 1)
    # The contract's own periods are the Python mirror's: calendar months (UTC), the first pro rata.
    assert (start, end) == w.escrow.period_bounds(delivered_at, 1)
    assert w.escrow.period_charge(MONTHLY, delivered_at, 1) == period_charge(MONTHLY, delivered_at, 1)

    # The buyer's oracle reports the month a week after it ended (the worst data lag) and holds it.
    until(w, end + 7 * DAY)
    bad = SlaReport(oid, ReportKind.PERIOD, 1, metrics=BAD)
    batch = submit(w, buyer, bad)
    w.ledger.hold(buyer.oracle_key.sender, terms, bad, batch)
    until(w, end + REPORT_GRACE - 5)
    refused("EscrowTooEarly", lambda: w.escrow.claim_period(seller.sender, terms, 1), world=w, terms=[terms])
    until(w, end + REPORT_GRACE)
    refused(
        "EscrowReportPending", lambda: w.escrow.claim_period(seller.sender, terms, 1), world=w, terms=[terms]
    )
    before = balance(w, buyer.address)
    w.ledger.finalize(w.outsider.sender, terms, bad, batch)  # the buyer's report alone, after its window
    charge = period_charge(MONTHLY, delivered_at, 1)
    assert balance(w, buyer.address) - before == MONTHLY - charge + charge * BAD_BPS // 10_000


# --- 9. escaping expulsion ------------------------------------------------------------------------------


def test_suspended_member_leaves_to_escape_suspension__refused(world):
    w = world
    member = w.sellers[1]
    w.registry.propose_suspend(w.council.sender, member.address)
    error = refused("RegistryMemberNotActive", lambda: w.registry.leave(member.sender), world=w)
    assert error.arguments["member"] == member.address
    assert not w.registry.is_active(member.address)


# --- 10. disputeConflict with the caller's own batches ------------------------------------------------------


def test_party_reopens_fact_with_two_own_batches_after_its_window__refused(world):
    w = world
    buyer, seller = w.buyers[0], w.sellers[0]
    terms, delivered_at = delivered(w, buyer, seller)
    oid = terms.order_id()
    until(w, period_bounds(delivered_at, 1)[1])
    good = SlaReport(oid, ReportKind.PERIOD, 1, metrics=GOOD)
    good_batch = submit(w, seller, good)
    w.chain.advance_time(LIVENESS)  # its window is over: anyone may make it final
    # The buyer's oracle submits two fresh, different contents of the same fact and pits them.
    bad, worse = (SlaReport(oid, ReportKind.PERIOD, 1, metrics=m) for m in (BAD, replace(BAD, outages=9)))
    bad_batch, worse_batch = submit(w, buyer, bad), submit(w, buyer, worse)
    refused(
        "SlaConflictNotBetweenParties",
        lambda: w.ledger.dispute_conflict(w.outsider.sender, terms, bad, bad_batch, worse, worse_batch),
        world=w,
        terms=[terms],
    )
    # Against the seller's content, the conflict is too late: the first report's window is over.
    refused(
        "SlaLivenessOver",
        lambda: w.ledger.dispute_conflict(w.outsider.sender, terms, good, good_batch, bad, bad_batch),
        world=w,
        terms=[terms],
    )
    w.ledger.finalize(w.outsider.sender, terms, good, good_batch)
    assert w.escrow.is_period_settled(oid, 1)


# --- 11. governance locks itself --------------------------------------------------------------------------


def test_council_seats_suspended_or_leaving__council_can_still_rule(world):
    w = world
    council, seat_b, seat_c = w.council, w.buyers[0], w.sellers[0]
    for seat in (seat_b, seat_c):
        w.registry.propose_council_seat(council.sender, seat.address, True)
    w.registry.propose_council_threshold(council.sender, 2)
    assert (w.registry.parameters().council_size, w.registry.parameters().council_threshold) == (3, 2)

    # Suspending one seat leaves two voting seats, enough for the threshold...
    proposal, _ = w.registry.propose_suspend(council.sender, seat_c.address)
    w.registry.approve(seat_b.sender, proposal)
    assert (w.registry.parameters().council_size, w.registry.parameters().council_threshold) == (2, 2)
    # ...but neither the other seat's leaving nor another suspension can go below it.
    refused("RegistryInvalidThreshold", lambda: w.registry.leave(seat_b.sender), world=w)
    proposal, _ = w.registry.propose_suspend(council.sender, seat_b.address)
    with pytest.raises(ContractRevert) as failed:
        w.registry.approve(seat_b.sender, proposal)
    assert failed.value.name == "RegistryProposalCallFailed"
    # The council still rules: a two-seat ruling passes.
    terms = w.open_order(w.buyers[1], [w.sellers[1]], by_key=True, acknowledge=True).terms
    until(w, committed_at(terms))
    w.escrow.dispute(w.buyers[1].sender, terms, 0)
    data = w.escrow.rule_call(terms, 0, 10_000)._encode_transaction_data()
    proposal, _ = w.registry.propose(council.sender, w.escrow.address, data)
    w.registry.approve(seat_b.sender, proposal)
    assert w.escrow.order(terms.order_id()).status == OrderStatus.FAILED


# --- 12. cancelled through Sonata: no fee ---------------------------------------------------------------


def test_buyer_cancels_through_sonata_report__pays_the_same_fee_as_cancel(world):
    w = world
    buyer, seller = w.buyers[0], w.sellers[0]
    terms = w.open_order(buyer, [seller], by_key=True, acknowledge=True).terms
    cancelled = SlaReport(terms.order_id(), ReportKind.ORDER_FAILED, 0, 3, w.now())
    w.both_report(terms, cancelled)
    order = w.escrow.order(terms.order_id())
    assert order.status == OrderStatus.CANCELLED
    assert balance(w, seller.address) == FEE
    assert order.escrowed == ONE_TIME + MONTHLY - FEE  # the buyer's refund, as `cancel` leaves it
    assert w.ledger.reputation(seller.address).orders_failed == 0  # the buyer's choice, not a failure


# --- 13. the committed date ignores installDays ---------------------------------------------------------


def test_seller_reports_later_committed_date__credit_counts_from_signed_install_days(world):
    w = world
    buyer, seller = w.buyers[0], w.sellers[0]
    terms = w.open_order(buyer, [seller], by_key=True, acknowledge=True).terms
    assert terms.install_days == INSTALL_DAYS
    late = terms.awarded_at + 25 * DAY  # 20 days after the signed interval
    until(w, late)
    w.both_report(terms, SlaReport(terms.order_id(), ReportKind.ORDER_COMPLETED, 0, late, late))
    assert balance(w, seller.address) == ONE_TIME - ONE_TIME * late_bps(20) // 10_000
    raw = w.ledger.reputation(seller.address)
    assert (raw.orders_on_time, raw.total_days_late) == (0, 20)


# --- 14. zero-charge orders farm reputation -------------------------------------------------------------


def test_zero_charge_orders_farm_delivery_reputation__refused_below_minimum_value(world):
    w = world
    buyer, seller = w.buyers[0], w.sellers[0]
    rfq = w.rfq(buyer)
    w.market.post(buyer.sender, rfq)
    free = w.quote(rfq, seller, nonce=1, one_time_charge=0, monthly_charge=0, prepaid_months=0)
    signed = w.sign(free, seller.quote_key.account)
    w.market.commit(seller.quote_key.sender, rfq, signed)
    w.seal(rfq)
    error = refused("EscrowOrderTooSmall", lambda: w.market.award(buyer.sender, rfq, signed), world=w)
    assert error.arguments["minimum"] == w.escrow.min_order_value(w.token.address) > 0


# --- 15. grindable ticket keys ----------------------------------------------------------------------------


def test_seller_grinds_ticket_id_colliding_with_buyers_ticket__keys_stay_distinct(world):
    w = world
    buyer, seller = w.buyers[0], w.sellers[0]
    terms, _ = delivered(w, buyer, seller)
    oid = terms.order_id()
    real = "TT-4711"
    # The seller grinds an id whose hash agrees with the real one's in 16 bits (32 bits was the old key).
    target = ticket_key(real) & 0xFFFF
    ground = next(f"TT-x{i}" for i in range(1_000_000) if ticket_key(f"TT-x{i}") & 0xFFFF == target)
    assert ticket_key(ground) != ticket_key(real) and ticket_key(real) == int.from_bytes(
        keccak(text=real), "big"
    )

    # The seller's made-up ticket about the ground id becomes final first...
    fake = SlaReport(oid, ReportKind.TROUBLE_TICKET, ticket_key(ground), 60, w.now())
    w.both_report(terms, fake)
    # ...and the buyer's report of the real ticket is still a fact of its own.
    truth = SlaReport(oid, ReportKind.TROUBLE_TICKET, ticket_key(real), 36_000, w.now())
    assert truth.report_id != fake.report_id and w.ledger.status(truth) == ReportStatus.NONE
    batch = submit(w, buyer, truth)
    w.chain.advance_time(LIVENESS)
    w.ledger.finalize(w.outsider.sender, terms, truth, batch)
    assert w.ledger.status(truth) == ReportStatus.FINAL
    assert w.ledger.reputation(seller.address).total_restore_sec == 60 + 36_000
