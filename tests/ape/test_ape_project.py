"""The ape project itself: ape-solidity compiles contracts/ through the solc-js front, and the
contracts run on ape's embedded eth-tester chain with ape's own fixtures."""

import pytest

import ape

pytestmark = pytest.mark.ape


def test_ape__compiles_and_deploys_stablecoin_on_its_test_chain(project, accounts):
    owner, other = accounts[0], accounts[1]
    token = project.TestStablecoin.deploy(sender=owner)
    token.mint(owner, 3_000_000, sender=owner)
    receipt = token.transfer(other, 1_000_000, sender=owner)
    assert token.balanceOf(other) == 1_000_000
    assert token.decimals() == 6
    [event] = receipt.decode_logs(token.Transfer)
    assert event.value == 1_000_000


def test_ape__custom_errors_surface_through_ape_reverts(project, accounts):
    owner, other = accounts[0], accounts[1]
    token = project.TestStablecoin.deploy(sender=owner)
    with ape.reverts(token.ERC20InsufficientBalance):
        token.transfer(owner, 1, sender=other)
