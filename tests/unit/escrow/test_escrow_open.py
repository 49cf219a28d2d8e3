"""Opening orders: wiring, the allow-list, the funds pull, and every refusal."""

import pytest

from offnet.chain import load_artifact
from offnet.chain.tx import call
from offnet.market.escrow import EscrowClient, OrderView
from offnet.market.types import OrderStatus, OrderTerms
from offnet.testing.world import MONTHLY, ONE_TIME


def test_open__pulls_funds_emits_full_terms_and_costs_what_the_snapshot_says(escrow, gas):
    terms, oid, receipt = escrow.open()
    assert escrow.order(oid) == OrderView(ONE_TIME + 2 * MONTHLY, OrderStatus.OPEN, 0, 2, 0, 0)
    assert call(escrow.token.functions.balanceOf(escrow.buyer.address)) == 0
    [opened] = escrow.client.events(receipt, "OrderOpened")
    assert opened["orderId"] == oid  # the Python order id is the chain's
    assert OrderTerms.from_tuple(opened["terms"]) == terms
    assert opened["escrowed"] == ONE_TIME + 2 * MONTHLY
    gas.check("OrderEscrow.openOrder", receipt.gas_used, budget=110_000)


def test_open__second_order_of_a_token__costs_what_the_snapshot_says(escrow, gas):
    escrow.open(rfq_id=1)
    _, _, receipt = escrow.open(rfq_id=2)
    gas.check("OrderEscrow.openOrder.warmToken", receipt.gas_used, budget=95_000)


def test_open__not_the_market__reverts(escrow):
    terms = escrow.terms()
    escrow.fund_buyer(terms, terms.opening_amount)
    with escrow.refuses("EscrowNotMarket", caller=escrow.buyer.address):
        escrow.client.open_order(escrow.buyer.sender, terms)


def test_open__same_terms_twice__reverts(escrow):
    terms, oid, _ = escrow.open()
    escrow.fund_buyer(terms, terms.opening_amount)
    with escrow.refuses("EscrowOrderExists", orderId=oid):
        escrow.client.open_order(escrow.market.sender, terms)


def test_open__token_not_allowed__reverts(escrow):
    other, _ = escrow.deployer.sender.deploy(load_artifact("TestStablecoin"))
    escrow.tokens.append(other)
    terms = escrow.terms(token=other.address)
    escrow.fund_buyer(terms, terms.opening_amount)
    with escrow.refuses("EscrowTokenNotAllowed", token=other.address):
        escrow.client.open_order(escrow.market.sender, terms)


def test_open__buyer_is_seller__reverts(escrow):
    terms = escrow.terms(seller=escrow.buyer.address)
    with escrow.refuses("EscrowInvalidParties", buyer=escrow.buyer.address, seller=escrow.buyer.address):
        escrow.client.open_order(escrow.market.sender, terms)


def test_open__more_months_prepaid_than_the_term__reverts(escrow):
    terms = escrow.terms(prepaid_months=13)
    with escrow.refuses("EscrowPrepaidExceedsTerm", prepaidMonths=13, termMonths=12):
        escrow.client.open_order(escrow.market.sender, terms)


def test_open__whole_order_beyond_96_bits__reverts(escrow):
    terms = escrow.terms(monthly_charge=2**95, term_months=2, prepaid_months=0)
    with escrow.refuses("EscrowAmountTooLarge", amount=ONE_TIME + 2**96):
        escrow.client.open_order(escrow.market.sender, terms)


def test_open__buyer_did_not_approve__reverts_and_opens_nothing(escrow):
    terms = escrow.terms()
    with escrow.refuses(
        "ERC20InsufficientAllowance", spender=escrow.client.address, allowance=0, needed=terms.opening_amount
    ):
        escrow.client.open_order(escrow.market.sender, terms)
    assert escrow.order(terms.order_id()).status == OrderStatus.NONE


def test_links__are_fixed_at_deployment(escrow):
    assert call(escrow.client.fn.market()) == escrow.market.address
    assert call(escrow.client.fn.ledger()) == escrow.ledger.address


@pytest.mark.parametrize("missing", ["registry", "market", "ledger"])
def test_deploy__zero_link__reverts(escrow, missing):
    zero = "0x" + "00" * 20
    links = [
        zero if link == missing else getattr(escrow, link).address
        for link in ("registry", "market", "ledger")
    ]
    with escrow.refuses("EscrowZeroAddress"):
        EscrowClient.deploy(escrow.deployer.sender, *links, [escrow.token.address])


def test_escrow__reports_version_registry_and_allow_list(escrow):
    assert call(escrow.client.fn.version()) == "1.0.0"
    assert call(escrow.client.fn.registry()) == escrow.registry.address
    assert escrow.client.is_token_allowed(escrow.token.address)
    assert not escrow.client.is_token_allowed(escrow.buyer.address)


def test_allow_list__changed_by_anyone_but_the_council__reverts(escrow):
    with escrow.refuses("EscrowNotCouncil", caller=escrow.outsider.address):
        escrow.outsider.sender.transact(escrow.client.set_token_allowed_call(escrow.token.address, False))
    assert escrow.client.is_token_allowed(escrow.token.address)


def test_allow_list__council_removes_a_token__new_orders_refused_open_orders_still_settle(escrow):
    terms, _, _ = escrow.open()
    receipt = escrow.council_decides(escrow.client.set_token_allowed_call(escrow.token.address, False))
    assert escrow.client.events(receipt, "TokenAllowanceChanged") == [
        {"token": escrow.token.address, "allowed": False}
    ]
    assert not escrow.client.is_token_allowed(escrow.token.address)

    second = escrow.terms(rfq_id=2)
    escrow.fund_buyer(second, second.opening_amount)
    with escrow.refuses("EscrowTokenNotAllowed", token=escrow.token.address):
        escrow.client.open_order(escrow.market.sender, second)
    escrow.fund_buyer(terms, MONTHLY)
    with escrow.refuses("EscrowTokenNotAllowed", token=escrow.token.address):
        escrow.client.top_up(escrow.buyer.sender, terms, 1)

    escrow.deliver(terms)
    assert escrow.withdrawable(escrow.seller) == ONE_TIME
    escrow.act(lambda: escrow.client.withdraw(escrow.seller.sender, escrow.token.address))
    assert call(escrow.token.functions.balanceOf(escrow.seller.address)) == ONE_TIME
