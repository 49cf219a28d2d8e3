"""TestStablecoin, the local settlement token, deployed from the packaged artifact on eth-tester."""

from offnet.chain.permit import sign_permit
from offnet.chain.tx import call
from offnet.testing.world import refuses


def test_stablecoin__has_six_decimals_and_a_version(stablecoin):
    assert call(stablecoin.functions.decimals()) == 6
    assert call(stablecoin.functions.symbol()) == "tUSD"
    assert call(stablecoin.functions.version()) == "1.0.0"


def test_transfer__moves_balance_and_costs_what_the_snapshot_says(chain, stablecoin, buyer, seller, gas):
    buyer.sender.transact(stablecoin.functions.mint(buyer.address, 5_000_000))
    receipt = buyer.sender.transact(stablecoin.functions.transfer(seller.address, 1_250_000))
    assert call(stablecoin.functions.balanceOf(buyer.address)) == 3_750_000
    assert call(stablecoin.functions.balanceOf(seller.address)) == 1_250_000
    gas.check("TestStablecoin.transfer", receipt.gas_used)


def test_transfer__more_than_balance__reverts_with_decoded_error(chain, stablecoin, buyer, seller):
    with refuses("ERC20InsufficientBalance") as refused:
        buyer.sender.transact(stablecoin.functions.transfer(seller.address, 1))
    assert refused.value.arguments == {"sender": buyer.address, "balance": 0, "needed": 1}
    assert call(stablecoin.functions.balanceOf(seller.address)) == 0


def test_permit__signed_offline__sets_allowance_without_owner_transaction(chain, stablecoin, buyer, seller):
    permit = sign_permit(buyer.account, stablecoin, seller.address, 7_000_000, chain.now() + 3600)
    seller.sender.transact(
        stablecoin.functions.permit(
            permit.owner, permit.spender, permit.value, permit.deadline, permit.v, permit.r, permit.s
        )
    )
    assert call(stablecoin.functions.allowance(buyer.address, seller.address)) == 7_000_000
    assert call(stablecoin.functions.nonces(buyer.address)) == 1


def test_permit__expired__reverts(chain, stablecoin, buyer, seller):
    permit = sign_permit(buyer.account, stablecoin, seller.address, 1, chain.now() - 1)
    with refuses("ERC2612ExpiredSignature"):
        seller.sender.transact(
            stablecoin.functions.permit(
                permit.owner, permit.spender, permit.value, permit.deadline, permit.v, permit.r, permit.s
            )
        )
    assert call(stablecoin.functions.allowance(buyer.address, seller.address)) == 0
