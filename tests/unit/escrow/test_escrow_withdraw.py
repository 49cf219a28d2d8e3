"""Pull payments: withdrawals (a balance slot never returns to zero storage), and hostile tokens that
can neither block the other party nor lose money."""

import pytest

from offnet.chain.tx import call
from offnet.testing.world import MONTHLY, ONE_TIME, events


def test_withdraw__sends_the_whole_balance_and_leaves_the_slot_open(escrow, gas, evm):
    escrow.delivered()
    receipt = escrow.escrow.withdraw(escrow.seller.sender, escrow.token.address)
    assert [dict(e) for e in events(escrow.escrow, receipt, "Withdrawn")] == [
        {
            "token": escrow.token.address,
            "party": escrow.seller.address,
            "to": escrow.seller.address,
            "amount": ONE_TIME,
        }
    ]
    assert call(escrow.token.functions.balanceOf(escrow.seller.address)) == ONE_TIME
    assert escrow.withdrawable(escrow.seller) == 0
    # The slot holds a sentinel: the next settlement rewrites it (5k) instead of creating it (22.1k).
    slot_value = escrow.chain.w3.eth.get_storage_at(
        escrow.escrow.address, _balance_slot(escrow, escrow.seller.address, evm)
    )
    assert int.from_bytes(slot_value, "big") == 1
    escrow.assert_conserved()
    gas.check("OrderEscrow.withdraw", receipt.gas_used, budget=90_000)


def _balance_slot(escrow, party: str, evm: str) -> int:
    """Storage slot of _balances[token][party]: the mapping after _tokens and _orders, at slot 2 (the
    Shanghai build's reentrancy lock takes slot 0 before them, so 3 there)."""
    from eth_abi import encode
    from eth_utils import keccak

    base = 3 if evm == "shanghai" else 2
    inner = keccak(encode(["address", "uint256"], [escrow.token.address, base]))
    return int.from_bytes(keccak(encode(["address", "bytes32"], [party, inner])), "big")


@pytest.mark.parametrize("withdrawn_before", [False, True], ids=["never paid", "already withdrawn"])
def test_withdraw__nothing_left__reverts(escrow, withdrawn_before):
    if withdrawn_before:
        escrow.deliver(escrow.open())
        escrow.escrow.withdraw(escrow.seller.sender, escrow.token.address)
    escrow.refuse(
        lambda: escrow.escrow.withdraw(escrow.seller.sender, escrow.token.address),
        "EscrowNothingToWithdraw",
        token=escrow.token.address,
        party=escrow.seller.address,
    )


def test_withdraw_to__zero_address__reverts(escrow):
    escrow.delivered()
    escrow.refuse(
        lambda: escrow.escrow.withdraw(escrow.seller.sender, escrow.token.address, "0x" + "00" * 20),
        "EscrowZeroAddress",
    )


def test_blocklisted_seller__cannot_block_the_buyers_credit_and_can_withdraw_elsewhere(escrow):
    token = escrow.allow("BlocklistToken")
    terms = escrow.open(token=token.address)
    escrow.deliver(terms, days_late=5)
    escrow.deployer.sender.transact(token.functions.setBlocked(escrow.seller.address, True))
    escrow.refuse(
        lambda: escrow.escrow.withdraw(escrow.seller.sender, token.address),
        "BlocklistTokenBlocked",
        to=escrow.seller.address,
    )
    credit = ONE_TIME * 500 // 10_000
    escrow.escrow.withdraw(escrow.buyer.sender, token.address)
    assert call(token.functions.balanceOf(escrow.buyer.address)) == credit
    escrow.escrow.withdraw(escrow.seller.sender, token.address, escrow.stranger.address)
    assert call(token.functions.balanceOf(escrow.stranger.address)) == ONE_TIME - credit
    escrow.assert_conserved()


def test_false_returning_token__withdrawal_refused_and_the_balance_kept(escrow):
    token = escrow.allow("FalseReturningToken")
    terms = escrow.open(token=token.address)
    escrow.deliver(terms)
    escrow.deployer.sender.transact(token.functions.setFailing(True))
    escrow.refuse(
        lambda: escrow.escrow.withdraw(escrow.seller.sender, token.address),
        "SafeERC20FailedOperation",
        token=token.address,
    )
    assert escrow.withdrawable(escrow.seller, token) == ONE_TIME
    escrow.deployer.sender.transact(token.functions.setFailing(False))
    escrow.escrow.withdraw(escrow.seller.sender, token.address)
    assert call(token.functions.balanceOf(escrow.seller.address)) == ONE_TIME


def test_false_returning_token__open_refused(escrow):
    token = escrow.allow("FalseReturningToken")
    terms = escrow.terms(token=token.address)
    escrow.fund(terms.opening_amount, token)
    escrow.deployer.sender.transact(token.functions.setFailing(True))
    escrow.refuse(
        lambda: escrow.escrow.open_order(escrow.market.sender, terms),
        "SafeERC20FailedOperation",
        token=token.address,
    )


def test_fee_on_transfer_token__open_refused(escrow):
    token = escrow.allow("FeeOnTransferToken")
    terms = escrow.terms(token=token.address)
    escrow.fund(terms.opening_amount, token)
    amount = terms.opening_amount
    escrow.refuse(
        lambda: escrow.escrow.open_order(escrow.market.sender, terms),
        "EscrowTransferShortfall",
        token=token.address,
        expected=amount,
        received=amount - amount // 100,
    )


def test_reentrant_token__reentry_during_withdrawal_refused(escrow):
    token = escrow.allow("ReentrantToken")
    terms = escrow.open(token=token.address, prepaid_months=1)
    escrow.deliver(terms)
    reentry = escrow.escrow.fn.withdraw(token.address)._encode_transaction_data()
    escrow.deployer.sender.transact(token.functions.arm(escrow.escrow.address, reentry))
    escrow.refuse(
        lambda: escrow.escrow.withdraw(escrow.seller.sender, token.address), "ReentrancyGuardReentrantCall"
    )
    assert escrow.withdrawable(escrow.seller, token) == ONE_TIME
    assert escrow.order(terms).escrowed == MONTHLY
