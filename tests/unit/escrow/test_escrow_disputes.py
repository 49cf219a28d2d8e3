"""Milestone disputes: each party's own right once the milestone is due, freezes that lapse, council rulings."""

import pytest

from offnet.market import periods
from offnet.market.registry import ACCESS_ELINE, Profile
from offnet.market.types import DELIVERY, OrderStatus, Payout
from offnet.testing.world import DAY, MONTHLY, ONE_TIME, REPORT_GRACE, RULING_TIMEOUT, events


def _due(escrow, terms, period):
    escrow.until(escrow.period_end(terms, period))


def test_dispute__by_the_buyer__freezes_the_period_against_the_sellers_claim(escrow, gas):
    terms = escrow.delivered()
    _due(escrow, terms, 1)
    receipt = escrow.escrow.dispute(escrow.buyer.sender, terms, 1)
    opened_at = escrow.chain.w3.eth.get_block(receipt.block_number)["timestamp"]
    [opened] = events(escrow.escrow, receipt, "DisputeOpened")
    assert (opened.milestone, opened.by, opened.until) == (
        1,
        escrow.buyer.address,
        opened_at + RULING_TIMEOUT,
    )
    assert escrow.escrow.hold(terms.order_id(), 1).buyer_disputed_at == opened_at
    escrow.until(escrow.period_end(terms, 1) + REPORT_GRACE)
    escrow.refuse(
        lambda: escrow.escrow.claim_period(escrow.stranger.sender, terms, 1),
        "EscrowMilestoneFrozen",
        orderId=terms.order_id(),
        milestone=1,
        until=opened_at + RULING_TIMEOUT,
    )
    gas.check("OrderEscrow.dispute", receipt.gas_used, budget=80_000)


def test_dispute__before_the_milestone_is_due__reverts(escrow):
    terms = escrow.open()
    due = terms.awarded_at + terms.install_days * DAY
    escrow.refuse(
        lambda: escrow.escrow.dispute(escrow.buyer.sender, terms, DELIVERY),
        "EscrowNotDue",
        orderId=terms.order_id(),
        milestone=DELIVERY,
        dueAt=due,
    )
    escrow.deliver(terms)
    escrow.refuse(
        lambda: escrow.escrow.dispute(escrow.seller.sender, terms, 1),
        "EscrowNotDue",
        orderId=terms.order_id(),
        milestone=1,
        dueAt=escrow.period_end(terms, 1),
    )


def test_dispute__each_party_once__the_others_right_remains(escrow):
    terms = escrow.delivered()
    _due(escrow, terms, 1)
    escrow.escrow.dispute(escrow.seller.sender, terms, 1)
    escrow.refuse(
        lambda: escrow.escrow.dispute(escrow.seller.sender, terms, 1),
        "EscrowDisputeExists",
        orderId=terms.order_id(),
        milestone=1,
        party=escrow.seller.address,
    )
    escrow.escrow.dispute(escrow.buyer.sender, terms, 1)
    hold = escrow.escrow.hold(terms.order_id(), 1)
    assert hold.buyer_disputed_at and hold.seller_disputed_at


def test_dispute__the_ledgers_final_report_still_settles_the_period(escrow):
    terms = escrow.delivered()
    _due(escrow, terms, 1)
    escrow.escrow.dispute(escrow.buyer.sender, terms, 1)
    escrow.settle(terms, escrow.period(terms, 1))
    assert escrow.escrow.is_period_settled(terms.order_id(), 1)


def test_dispute__freeze_lapses_after_the_ruling_timeout(escrow):
    terms = escrow.delivered()
    _due(escrow, terms, 1)
    escrow.escrow.dispute(escrow.buyer.sender, terms, 1)
    escrow.chain.advance_time(RULING_TIMEOUT)
    escrow.escrow.claim_period(escrow.stranger.sender, terms, 1)
    assert escrow.escrow.is_period_settled(terms.order_id(), 1)


def test_dispute__delivery_of_a_delivered_order__reverts(escrow):
    terms = escrow.delivered()
    escrow.refuse(
        lambda: escrow.escrow.dispute(escrow.buyer.sender, terms, DELIVERY),
        "EscrowWrongStatus",
        orderId=terms.order_id(),
        status=OrderStatus.ACTIVE,
    )


def test_rule__council_splits_a_disputed_period(escrow):
    terms = escrow.delivered()
    _due(escrow, terms, 2)
    escrow.settle_period(terms, 1)
    escrow.escrow.dispute(escrow.seller.sender, terms, 2)
    before_seller, before_buyer = escrow.withdrawable(escrow.seller), escrow.withdrawable(escrow.buyer)
    receipt = escrow.council(escrow.escrow.rule_call(terms, 2, 4_000))
    [settled] = events(escrow.escrow, receipt, "MilestoneSettled")
    assert (settled.toSeller, settled.toBuyer, settled.reason) == (
        MONTHLY * 6 // 10,
        MONTHLY * 4 // 10,
        Payout.RULING,
    )
    assert escrow.withdrawable(escrow.seller) - before_seller == MONTHLY * 6 // 10
    assert escrow.withdrawable(escrow.buyer) - before_buyer == MONTHLY * 4 // 10
    assert [e.buyerShareBps for e in events(escrow.escrow, receipt, "DisputeRuled")] == [4_000]
    escrow.assert_conserved()


def test_rule__delivery_never_happened__refunds_everything(escrow):
    terms = escrow.open()
    escrow.until(terms.awarded_at + terms.install_days * DAY)
    escrow.escrow.dispute(escrow.buyer.sender, terms, DELIVERY)
    escrow.council(escrow.escrow.rule_call(terms, DELIVERY, 10_000))
    assert escrow.order(terms).status is OrderStatus.FAILED
    assert escrow.order(terms).escrowed == terms.opening_amount  # the buyer pulls its refund
    escrow.assert_conserved()


def test_rule__delivery_partly_performed__splits_the_one_time_charge_and_starts_billing(escrow):
    terms = escrow.open()
    escrow.until(terms.awarded_at + terms.install_days * DAY)
    escrow.escrow.dispute(escrow.seller.sender, terms, DELIVERY)
    receipt = escrow.council(escrow.escrow.rule_call(terms, DELIVERY, 2_500))
    ruled_at = escrow.chain.w3.eth.get_block(receipt.block_number)["timestamp"]
    order = escrow.order(terms)
    assert (order.status, order.delivered_at, order.claims_from) == (OrderStatus.ACTIVE, ruled_at, ruled_at)
    assert escrow.withdrawable(escrow.seller) == ONE_TIME * 3 // 4
    assert escrow.withdrawable(escrow.buyer) == ONE_TIME // 4
    # The ruled delivery counts at the ledger: in-life facts of the order now count.
    _due(escrow, terms, 1)
    escrow.settle(terms, escrow.period(terms, 1))
    assert escrow.ledger.reputation(escrow.seller.address).periods_reported == 1
    assert escrow.withdrawable(escrow.seller) == ONE_TIME * 3 // 4 + periods.period_charge(
        MONTHLY, ruled_at, 1
    )


def test_rule__without_a_dispute__refused(escrow):
    terms = escrow.delivered()
    escrow.council_refused(
        escrow.escrow.rule_call(terms, 1, 5_000), "EscrowNoDispute", orderId=terms.order_id(), milestone=1
    )


def test_rule__share_above_100_percent__refused(escrow):
    terms = escrow.delivered()
    _due(escrow, terms, 1)
    escrow.escrow.dispute(escrow.buyer.sender, terms, 1)
    escrow.council_refused(
        escrow.escrow.rule_call(terms, 1, 10_001), "EscrowInvalidShare", buyerShareBps=10_001
    )


def test_rule__called_directly_by_a_party__reverts(escrow):
    terms = escrow.delivered()
    for party in (escrow.buyer, escrow.arbiter):
        escrow.refuse(
            lambda p=party: p.sender.transact(escrow.escrow.rule_call(terms, 1, 0)),
            "EscrowNotCouncil",
            caller=party.address,
        )


def _council_of(escrow, party, seats: int) -> list:
    """The arbiter plus `seats - 1` newly admitted members on the council, threshold a majority."""
    council = [escrow.arbiter]
    registry = escrow.registry
    for i in range(seats - 1):
        member = party(f"seat-{i}")
        profile = Profile(f"Seat {i}", f"https://sonata.seat-{i}.example", (ACCESS_ELINE,), ("FR",))
        registry.apply(member.sender, profile)
        registry.sponsor(escrow.buyer.sender, member.address)  # one sponsor admits
        registry.propose_council_seat(escrow.arbiter.sender, member.address, True)
        council.append(member)
    if seats > 1:
        registry.propose_council_threshold(escrow.arbiter.sender, seats // 2 + 1)
    return council


@pytest.mark.parametrize("seats", [1, 5, 15])
def test_council_ruling__costs_the_same_at_any_council_size__within_budget(escrow, escrow_party, gas, seats):
    """A ruling's proposal stores the hash of its call; each approval carries the call, and the approval
    that reaches the threshold runs it from calldata: no transaction depends on the council's size."""
    council = _council_of(escrow, escrow_party, seats)
    threshold = escrow.registry.parameters().council_threshold
    terms = escrow.open()
    escrow.until(terms.awarded_at + terms.install_days * DAY)
    escrow.escrow.dispute(escrow.seller.sender, terms, DELIVERY)
    ruling = escrow.escrow.rule_call(terms, DELIVERY, 2_500)
    proposal_id, proposed = escrow.registry.propose(
        council[0].sender, escrow.escrow.address, ruling._encode_transaction_data()
    )
    receipts = [proposed] + [escrow.registry.approve(m.sender, proposal_id) for m in council[1:threshold]]
    assert escrow.order(terms).status is OrderStatus.ACTIVE  # the last of them ran the ruling
    for receipt in receipts:
        assert receipt.gas_used <= 250_000, f"a ruling transaction used {receipt.gas_used} gas"
    if seats == 1:
        gas.check(
            "Council ruling (escrow.rule, delivery): propose executing at once",
            proposed.gas_used,
            budget=250_000,
        )
    else:
        # The same figures whatever the size: one snapshot entry per step, checked by every size.
        gas.check("Council ruling (escrow.rule, delivery): propose", proposed.gas_used, budget=250_000)
        for receipt in receipts[1:-1]:
            gas.check("Council ruling (escrow.rule, delivery): approve", receipt.gas_used, budget=250_000)
        gas.check(
            "Council ruling (escrow.rule, delivery): approve executing", receipts[-1].gas_used, budget=250_000
        )


def test_council_ruling__resolving_a_disputed_completion__within_budget(escrow, gas):
    terms = escrow.open()
    report = escrow.delivery(terms)
    batch, _ = escrow.submit(escrow.seller, [report])
    escrow.ledger.dispute(escrow.buyer.oracle_key.sender, terms, report, batch)
    receipt = escrow.council(escrow.ledger.resolve_call(terms, report, escrow.buyer.address))
    assert escrow.order(terms).status is OrderStatus.ACTIVE
    gas.check(
        "Council ruling (ledger.resolve, delivery): propose executing at once",
        receipt.gas_used,
        budget=250_000,
    )
