"""Opening orders: wiring, the token policy (allow-list, minimum order value), the funds pull, and every refusal."""

from dataclasses import replace

import pytest

from offnet.chain.tx import call
from offnet.market.escrow import OrderView
from offnet.market.types import OrderStatus, OrderTerms
from offnet.testing.world import MONTHLY, ONE_TIME, events


def _open_as_market(world, terms: OrderTerms):
    world.fund(terms.opening_amount, world.token_of(terms.token))
    world.tracked_orders[terms.order_id()] = terms
    return world.escrow.open_order(world.market.sender, terms)


def test_open__pulls_funds_emits_full_terms_and_costs_what_the_snapshot_says(escrow, gas):
    terms = escrow.terms()
    receipt = _open_as_market(escrow, terms)
    oid = terms.order_id()
    assert escrow.order(terms) == OrderView(ONE_TIME + 3 * MONTHLY, OrderStatus.OPEN, 0, 0, 3, 0, 0)
    assert call(escrow.token.functions.balanceOf(escrow.buyer.address)) == 0
    [opened] = events(escrow.escrow, receipt, "OrderOpened")
    assert bytes(opened.orderId) == oid  # the Python order id is the chain's
    assert OrderTerms.from_tuple(opened.terms) == terms
    assert opened.escrowed == ONE_TIME + 3 * MONTHLY
    escrow.assert_conserved()
    gas.check("OrderEscrow.openOrder", receipt.gas_used, budget=110_000)


def test_open__second_order_of_a_token__costs_what_the_snapshot_says(escrow, gas):
    _open_as_market(escrow, escrow.terms(rfq_id=1))
    receipt = _open_as_market(escrow, escrow.terms(rfq_id=2))
    gas.check("OrderEscrow.openOrder.warmToken", receipt.gas_used, budget=95_000)


def test_open__same_terms_twice__reverts(escrow):
    terms = escrow.open()
    escrow.fund(terms.opening_amount)
    escrow.refuse(
        lambda: escrow.escrow.open_order(escrow.market.sender, terms),
        "EscrowOrderExists",
        orderId=terms.order_id(),
    )


def test_open__token_not_allowed__reverts(escrow):
    stranger_token = escrow.stranger.address  # not a token at all, and not allowed
    terms = escrow.terms(token=stranger_token)
    escrow.refuse(
        lambda: escrow.escrow.open_order(escrow.market.sender, terms),
        "EscrowTokenNotAllowed",
        token=stranger_token,
    )


def test_open__a_removed_token__refuses_new_orders_but_settles_open_ones(escrow):
    terms = escrow.open()
    escrow.council(escrow.escrow.set_token_call(escrow.token.address, False))
    assert not escrow.escrow.is_token_allowed(escrow.token.address)
    later = escrow.terms(rfq_id=2)
    escrow.fund(later.opening_amount)
    escrow.refuse(
        lambda: escrow.escrow.open_order(escrow.market.sender, later),
        "EscrowTokenNotAllowed",
        token=escrow.token.address,
    )
    escrow.deliver(terms)
    assert escrow.withdrawable(escrow.seller) == ONE_TIME


def test_open__an_order_worth_less_than_the_tokens_minimum__reverts(escrow):
    """A zero- or tiny-value order could build delivery reputation for free: the token's minimum refuses it."""
    escrow.council(escrow.escrow.set_token_call(escrow.token.address, True, 10 * ONE_TIME))
    assert escrow.escrow.min_order_value(escrow.token.address) == 10 * ONE_TIME
    terms = escrow.terms()  # 1,000 + 12 x 500 = 7,000 tUSD < 10,000 tUSD
    escrow.fund(terms.opening_amount)
    escrow.refuse(
        lambda: escrow.escrow.open_order(escrow.market.sender, terms),
        "EscrowOrderTooSmall",
        amount=ONE_TIME + 12 * MONTHLY,
        minimum=10 * ONE_TIME,
    )


def test_open__zero_charges__reverts_even_with_a_minimum_of_zero(escrow):
    escrow.council(escrow.escrow.set_token_call(escrow.token.address, True, 0))  # stored as 1
    assert escrow.escrow.min_order_value(escrow.token.address) == 1
    free = escrow.terms(one_time_charge=0, monthly_charge=0, prepaid_months=0)
    escrow.refuse(
        lambda: escrow.escrow.open_order(escrow.market.sender, free),
        "EscrowOrderTooSmall",
        amount=0,
        minimum=1,
    )


# Terms the escrow refuses to open: (the terms' changes, the error, its arguments).
INVALID_TERMS = {
    "buyer is seller": (
        lambda w: {"seller": w.buyer.address},
        "EscrowInvalidParties",
        lambda w: {"buyer": w.buyer.address, "seller": w.buyer.address},
    ),
    "more months prepaid than the term": (
        lambda w: {"prepaid_months": 13},
        "EscrowPrepaidExceedsTerm",
        lambda w: {"prepaidMonths": 13, "termMonths": 12},
    ),
    "whole order beyond 96 bits": (
        lambda w: {"monthly_charge": 2**95, "term_months": 2, "prepaid_months": 0},
        "EscrowAmountTooLarge",
        lambda w: {"amount": ONE_TIME + 2**96},
    ),
}


@pytest.mark.parametrize("case", INVALID_TERMS, ids=str)
def test_open__invalid_terms__reverts(escrow, case):
    changes, error, arguments = INVALID_TERMS[case]
    terms = escrow.terms(**changes(escrow))
    escrow.refuse(lambda: escrow.escrow.open_order(escrow.market.sender, terms), error, **arguments(escrow))


def test_open__buyer_without_allowance__reverts_with_the_tokens_error(escrow):
    terms = escrow.terms()
    escrow.buyer.sender.transact(escrow.token.functions.mint(escrow.buyer.address, terms.opening_amount))
    error = escrow.refuse(
        lambda: escrow.escrow.open_order(escrow.market.sender, terms), "ERC20InsufficientAllowance"
    )
    assert error.arguments["spender"] == escrow.escrow.address


def test_order_id__python_equals_chain_and_changes_with_any_field(escrow):
    terms = escrow.open()
    assert escrow.order(terms).status == OrderStatus.ACKNOWLEDGED
    changed = replace(terms, credits=replace(terms.credits, monthly_credit_cap_bps=2_999))
    assert changed.order_id() != terms.order_id()
    assert escrow.order(changed).status == OrderStatus.NONE
