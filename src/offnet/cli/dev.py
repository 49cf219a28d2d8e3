"""`offnet dev`: helpers for local chains: fund from the node's dev account, mint test tokens, move time."""

from __future__ import annotations

import click

from offnet.chain import Sender
from offnet.cli.inputs import address, duration, token_amount
from offnet.cli.options import ChainOptions, chain_options
from offnet.cli.output import console, decimals_of, money, send
from offnet.exceptions import ChainError
from offnet.testing.accounts import funded_account


@click.group()
def dev() -> None:
    """Local development chains only (anvil, embedded, hardhat-like)."""


@dev.command()
@chain_options
@click.argument("recipient")
@click.option("--ether", "amount", default="100", show_default=True, help="ether to send")
def fund(opts: ChainOptions, recipient: str, amount: str) -> None:
    """Send ether to RECIPIENT from the node's unlocked dev account."""
    recipient = address(recipient, "recipient")
    chain = opts.chain()
    with console.status("funding"):
        chain.fund(recipient, token_amount(amount, 18, "--ether"))
    console.print(
        f"{recipient} now holds {money(chain.w3.eth.get_balance(recipient), 18)} ETH",
        markup=False,
        highlight=False,
    )


@dev.command()
@chain_options
@click.argument("recipient")
@click.argument("amount")
def mint(opts: ChainOptions, recipient: str, amount: str) -> None:
    """Mint AMOUNT (whole tokens) of the deployment's TestStablecoin to RECIPIENT."""
    recipient = address(recipient, "recipient")
    suite = opts.suite()
    token = suite.token
    if token is None:
        raise LookupError("this deployment has no TestStablecoin (not a local chain?)")
    chain = suite.chain
    if not chain.is_local:
        raise ChainError("minting test tokens is only possible on a local development chain")
    decimals = decimals_of(suite, token.address)
    account = opts.signer(required=False) or funded_account(chain)  # anyone may mint the test token
    send(
        "mint",
        lambda: Sender(chain, account).transact(
            token.functions.mint(recipient, token_amount(amount, decimals))
        ),
    )
    console.print(
        f"{recipient} holds {money(token.functions.balanceOf(recipient).call(), decimals)} test tokens",
        markup=False,
        highlight=False,
    )


@dev.command("advance-time")
@chain_options
@click.argument("period")
def advance_time(opts: ChainOptions, period: str) -> None:
    """Move chain time forward by PERIOD (3600, 15m, 12h, 7d) and mine a block."""
    now = opts.chain().advance_time(duration(period))
    console.print(f"chain time is now {now}", markup=False, highlight=False)
