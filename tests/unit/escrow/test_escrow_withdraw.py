"""Pull payments: withdrawals, and hostile tokens that can neither block the other party nor lose money."""

from offnet.chain.tx import call
from offnet.testing.world import MONTHLY, ONE_TIME


def test_withdraw__sends_the_whole_balance_and_emits_it(escrow, gas):
    terms, _, _ = escrow.open()
    escrow.deliver(terms)
    receipt = escrow.act(lambda: escrow.client.withdraw(escrow.seller.sender, escrow.token.address))
    assert escrow.client.events(receipt, "Withdrawn") == [
        {
            "token": escrow.token.address,
            "party": escrow.seller.address,
            "to": escrow.seller.address,
            "amount": ONE_TIME,
        }
    ]
    assert call(escrow.token.functions.balanceOf(escrow.seller.address)) == ONE_TIME
    assert escrow.withdrawable(escrow.seller) == 0
    gas.check("OrderEscrow.withdraw", receipt.gas_used, budget=90_000)


def test_withdraw__nothing_to_withdraw__reverts(escrow):
    with escrow.refuses("EscrowNothingToWithdraw", token=escrow.token.address, party=escrow.seller.address):
        escrow.client.withdraw(escrow.seller.sender, escrow.token.address)


def test_withdraw_to__zero_address__reverts(escrow):
    terms, _, _ = escrow.open()
    escrow.deliver(terms)
    with escrow.refuses("EscrowZeroAddress"):
        escrow.client.withdraw(escrow.seller.sender, escrow.token.address, "0x" + "00" * 20)


def test_blocklisted_seller__cannot_block_the_buyers_refund_and_can_withdraw_elsewhere(escrow, hostile):
    token = hostile("BlocklistToken")
    terms, _, _ = escrow.open(token=token.address)
    escrow.deliver(terms, days_late=5)
    escrow.deployer.sender.transact(token.functions.setBlocked(escrow.seller.address, True))

    with escrow.refuses("BlocklistTokenBlocked", to=escrow.seller.address):
        escrow.client.withdraw(escrow.seller.sender, token.address)
    credit = ONE_TIME * 500 // 10_000
    escrow.act(lambda: escrow.client.withdraw(escrow.buyer.sender, token.address))
    assert call(token.functions.balanceOf(escrow.buyer.address)) == credit
    escrow.act(lambda: escrow.client.withdraw(escrow.seller.sender, token.address, escrow.outsider.address))
    assert call(token.functions.balanceOf(escrow.outsider.address)) == ONE_TIME - credit


def test_false_returning_token__withdrawal_refused_and_the_balance_kept(escrow, hostile):
    token = hostile("FalseReturningToken")
    terms, _, _ = escrow.open(token=token.address)
    escrow.deliver(terms)
    escrow.deployer.sender.transact(token.functions.setFailing(True))
    with escrow.refuses("SafeERC20FailedOperation", token=token.address):
        escrow.client.withdraw(escrow.seller.sender, token.address)
    assert escrow.withdrawable(escrow.seller, token) == ONE_TIME
    escrow.deployer.sender.transact(token.functions.setFailing(False))
    escrow.act(lambda: escrow.client.withdraw(escrow.seller.sender, token.address))
    assert call(token.functions.balanceOf(escrow.seller.address)) == ONE_TIME


def test_false_returning_token__open_refused(escrow, hostile):
    token = hostile("FalseReturningToken")
    terms = escrow.terms(token=token.address)
    escrow.fund_buyer(terms, terms.opening_amount)
    escrow.deployer.sender.transact(token.functions.setFailing(True))
    with escrow.refuses("SafeERC20FailedOperation", token=token.address):
        escrow.client.open_order(escrow.market.sender, terms)


def test_fee_on_transfer_token__open_refused(escrow, hostile):
    token = hostile("FeeOnTransferToken")
    terms = escrow.terms(token=token.address)
    escrow.fund_buyer(terms, terms.opening_amount)
    amount = terms.opening_amount
    with escrow.refuses(
        "EscrowTransferShortfall", token=token.address, expected=amount, received=amount - amount // 100
    ):
        escrow.client.open_order(escrow.market.sender, terms)


def test_reentrant_token__reentry_during_withdrawal_refused(escrow, hostile):
    token = hostile("ReentrantToken")
    terms, _, _ = escrow.open(token=token.address, prepaid_months=1)
    escrow.deliver(terms)
    reentry = escrow.client.fn.withdraw(token.address)._encode_transaction_data()
    escrow.deployer.sender.transact(token.functions.arm(escrow.client.address, reentry))
    with escrow.refuses("ReentrancyGuardReentrantCall"):
        escrow.client.withdraw(escrow.seller.sender, token.address)
    assert escrow.withdrawable(escrow.seller, token) == ONE_TIME
    assert escrow.order(terms.order_id()).escrowed == MONTHLY
