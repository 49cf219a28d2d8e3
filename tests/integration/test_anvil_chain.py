"""The same packaged artifacts on a real anvil node started from node_modules."""

from pathlib import Path

import pytest

from offnet.chain import Sender, load_artifact
from offnet.chain.permit import sign_permit
from offnet.chain.tx import call
from offnet.exceptions import ChainError, ContractRevert
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


@pytest.mark.parametrize("where", ["anvil", "embedded"])
def test_lean_reads__agree_with_web3_and_tell_unknown_from_failed(where, request):
    chain = request.getfixturevalue(where)
    snapshot = chain.snapshot()  # the chains are shared by the session
    request.addfinalizer(lambda: chain.revert(snapshot))
    sender = Sender(chain, funded_account(chain))
    token, _ = sender.deploy(load_artifact("TestStablecoin"))
    mined = sender.transact(token.functions.mint(sender.address, 5))
    full = chain.w3.eth.get_transaction_receipt(mined.tx_hash)
    assert (
        chain.receipt_status(mined.tx_hash)
        == (full["blockNumber"], full["status"])
        == (mined.block_number, 1)
    )
    assert chain.known_transaction(mined.tx_hash)
    assert (
        chain.block_timestamp(mined.block_number) == chain.w3.eth.get_block(mined.block_number)["timestamp"]
    )
    assert chain.now() == chain.w3.eth.get_block("latest")["timestamp"]
    unknown = "0x" + "ab" * 32
    assert chain.receipt_status(unknown) is None
    assert not chain.known_transaction(unknown)
    if where == "anvil":  # a question the node refuses raises, never reads as "not mined"
        with pytest.raises(ChainError, match="eth_getTransactionReceipt refused by the node"):
            chain.receipt_status("0x1234")


def test_anvil__the_block_states_it_writes_to_disk_go_when_it_stops(monkeypatch, tmp_path):
    """anvil writes old blocks' states under $HOME/.foundry/anvil/tmp and leaves them there when it is
    stopped: a node of ours keeps them in its own scratch folder, removed when it stops."""
    from offnet.chain.anvil import Anvil

    monkeypatch.setenv("HOME", str(tmp_path))  # where anvil would write with our environment
    node = Anvil().start()
    try:
        node.rpc("anvil_mine", ["0x400"])  # enough blocks for anvil to move states to disk
        scratch = Path(node._scratch)
        written = list((scratch / ".foundry" / "anvil" / "tmp").iterdir())
        assert written, "anvil wrote no state to disk: the test mines too few blocks"
    finally:
        node.stop()
    assert not scratch.exists()
    assert not (tmp_path / ".foundry").exists()


def test_the_bench_anvil__stops_with_its_chain_and_leaves_no_process():
    from bench.machine import start_anvil

    chain = start_anvil()
    process = chain.node.process
    assert process.poll() is None and chain.w3.eth.block_number == 0
    chain.close()
    assert process.poll() is not None  # stopped, not left behind as an orphan of the bench
