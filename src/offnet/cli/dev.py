"""`offnet dev`: helpers for local chains: fund from the node's dev account, mint test tokens, move time.

Recipients are addresses or names of accounts in the keystore (`offnet dev fund erin`).
"""

from __future__ import annotations

import click

from offnet.cli.inputs import duration, token_amount
from offnet.cli.options import ChainOptions, chain_options
from offnet.cli.output import money, say, send, token_of, waiting, when
from offnet.exceptions import ChainError


@click.group()
def dev() -> None:
    """Local development chains only (anvil, Ganache, embedded): fund, mint, move time."""


@dev.command()
@chain_options
@click.argument("recipient")
@click.option("--ether", "amount", default="100", show_default=True, help="ether to send")
def fund(opts: ChainOptions, recipient: str, amount: str) -> None:
    """Send ether to RECIPIENT (an address or an account name) from an unlocked dev account."""
    recipient = opts.address_of(recipient, "recipient")
    wei = token_amount(amount, 18, "--ether")
    chain = opts.chain()
    with waiting("funding"):
        chain.fund(recipient, wei)
    say(f"{recipient} now holds {money(chain.w3.eth.get_balance(recipient), 18, 'ETH')}")


@dev.command()
@chain_options
@click.argument("recipient")
@click.argument("amount")
def mint(opts: ChainOptions, recipient: str, amount: str) -> None:
    """Mint AMOUNT (whole tokens) of the deployment's TestStablecoin to RECIPIENT (address or account)."""
    from offnet.chain import Sender
    from offnet.testing.accounts import funded_account

    recipient = opts.address_of(recipient, "recipient")
    suite = opts.suite()
    contract = suite.token
    if contract is None:
        raise LookupError("this deployment has no TestStablecoin (not a local chain?)")
    chain = suite.chain
    if not chain.is_local:
        raise ChainError("minting test tokens is only possible on a local development chain")
    token = token_of(suite, contract.address)
    account = opts.signer(required=False) or funded_account(chain)  # anyone may mint the test token
    units = token_amount(amount, token.decimals)
    send("mint", lambda: Sender(chain, account).transact(contract.functions.mint(recipient, units)))
    say(f"{recipient} holds {token.amount(contract.functions.balanceOf(recipient).call())}")


@dev.command("advance-time")
@chain_options
@click.argument("period")
def advance_time(opts: ChainOptions, period: str) -> None:
    """Move chain time forward by PERIOD (3600, 15m, 12h, 7d) and mine a block."""
    now = opts.chain().advance_time(duration(period))
    say(f"chain time is now {when(now)}")
