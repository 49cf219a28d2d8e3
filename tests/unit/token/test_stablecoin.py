"""TestStablecoin, the local settlement token, deployed from the packaged artifact on eth-tester."""

import pytest

from offnet.chain import Sender
from offnet.chain.permit import sign_permit
from offnet.chain.tx import call
from offnet.exceptions import ContractRevert


def test_stablecoin__has_six_decimals_and_a_version(stablecoin):
    assert call(stablecoin.functions.decimals()) == 6
    assert call(stablecoin.functions.symbol()) == "tUSD"
    assert call(stablecoin.functions.version()) == "1.0.0"


def test_transfer__moves_balance_and_costs_what_the_snapshot_says(chain, stablecoin, make_account, gas):
    alice, bob = make_account(), make_account()
    sender = Sender(chain, alice)
    sender.transact(stablecoin.functions.mint(alice.address, 5_000_000))
    receipt = sender.transact(stablecoin.functions.transfer(bob.address, 1_250_000))
    assert call(stablecoin.functions.balanceOf(alice.address)) == 3_750_000
    assert call(stablecoin.functions.balanceOf(bob.address)) == 1_250_000
    gas.check("TestStablecoin.transfer", receipt.gas_used)


def test_transfer__more_than_balance__reverts_with_decoded_error(chain, stablecoin, make_account):
    alice, bob = make_account(), make_account()
    with pytest.raises(ContractRevert) as refused:
        Sender(chain, alice).transact(stablecoin.functions.transfer(bob.address, 1))
    assert refused.value.name == "ERC20InsufficientBalance"
    assert refused.value.arguments == {"sender": alice.address, "balance": 0, "needed": 1}
    assert call(stablecoin.functions.balanceOf(bob.address)) == 0


def test_permit__signed_offline__sets_allowance_without_owner_transaction(chain, stablecoin, make_account):
    owner, spender = make_account(), make_account()
    permit = sign_permit(owner, stablecoin, spender.address, 7_000_000, chain.now() + 3600)
    Sender(chain, spender).transact(
        stablecoin.functions.permit(
            permit.owner, permit.spender, permit.value, permit.deadline, permit.v, permit.r, permit.s
        )
    )
    assert call(stablecoin.functions.allowance(owner.address, spender.address)) == 7_000_000
    assert call(stablecoin.functions.nonces(owner.address)) == 1


def test_permit__expired__reverts(chain, stablecoin, make_account):
    owner, spender = make_account(), make_account()
    permit = sign_permit(owner, stablecoin, spender.address, 1, chain.now() - 1)
    with pytest.raises(ContractRevert) as refused:
        Sender(chain, spender).transact(
            stablecoin.functions.permit(
                permit.owner, permit.spender, permit.value, permit.deadline, permit.v, permit.r, permit.s
            )
        )
    assert refused.value.name == "ERC2612ExpiredSignature"
    assert call(stablecoin.functions.allowance(owner.address, spender.address)) == 0
