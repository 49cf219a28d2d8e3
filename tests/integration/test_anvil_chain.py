"""The same packaged artifacts on a real anvil node started from node_modules."""

import pytest

from offnet.chain import Sender, load_artifact
from offnet.chain.permit import sign_permit
from offnet.chain.tx import call
from offnet.exceptions import ContractRevert
from offnet.testing.accounts import funded_account

pytestmark = pytest.mark.anvil


def test_anvil__deploys_packaged_stablecoin_and_permits(anvil):
    owner, spender = funded_account(anvil), funded_account(anvil)
    token, receipt = Sender(anvil, owner).deploy(load_artifact("TestStablecoin"))
    assert receipt.contract_address == token.address
    # Same runtime code as packaged (immutables, such as the EIP-712 domain, are filled at deploy).
    assert (
        len(anvil.w3.eth.get_code(token.address))
        == (len(load_artifact("TestStablecoin").deployed_bytecode) - 2) // 2
    )

    Sender(anvil, owner).transact(token.functions.mint(owner.address, 10_000_000))
    permit = sign_permit(owner, token, spender.address, 2_000_000, anvil.now() + 600)
    spend = Sender(anvil, spender)
    spend.transact(
        token.functions.permit(
            permit.owner, permit.spender, permit.value, permit.deadline, permit.v, permit.r, permit.s
        )
    )
    spend.transact(token.functions.transferFrom(owner.address, spender.address, 2_000_000))
    assert call(token.functions.balanceOf(spender.address)) == 2_000_000

    with pytest.raises(ContractRevert) as refused:
        spend.transact(token.functions.transferFrom(owner.address, spender.address, 1))
    assert refused.value.name == "ERC20InsufficientAllowance"


def test_anvil__consecutive_transactions_never_collide_on_nonces(anvil):
    owner = funded_account(anvil)
    token, _ = Sender(anvil, owner).deploy(load_artifact("TestStablecoin"))
    # Two Sender objects for the same key share the chain's nonce cursor.
    first, second = Sender(anvil, owner), Sender(anvil, owner)
    for i in range(5):
        (first if i % 2 else second).transact(token.functions.mint(owner.address, 1))
    assert call(token.functions.totalSupply()) == 5


def test_anvil__time_moves_forward_on_request(anvil):
    before = anvil.now()
    after = anvil.advance_time(30 * 24 * 3600)
    assert after >= before + 30 * 24 * 3600
