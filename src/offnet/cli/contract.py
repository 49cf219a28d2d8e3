"""`offnet contract`: read an order's notarised financial contract (decrypt) or prove it (reveal)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from offnet.cli.inputs import bytes32
from offnet.cli.options import ChainOptions, path_option
from offnet.cli.order import order_command
from offnet.cli.output import echo_json, hex_id, json_option, say, send


@click.group()
def contract() -> None:
    """The financial contract notarised at award: hash on chain, encrypted copies in events."""


@order_command(contract)
@path_option("--out", help="write the contract document to this file")
@json_option
def decrypt(opts: ChainOptions, order_id: str, out: Path | None, as_json: bool) -> None:
    """Decrypt your copy of ORDER_ID's contract (needs the key of the buyer or the seller)."""
    suite = opts.suite()
    key = bytes32(order_id, "order id")
    sealed = _recover(suite, key, opts.signer())
    document = json.loads(sealed.document)
    if out:
        out.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    if as_json:
        echo_json({"orderId": hex_id(key), "commitment": hex_id(sealed.commitment), "document": document})
    elif not out:
        click.echo(json.dumps(document, indent=2, sort_keys=True))
    else:
        say(f"contract of order {hex_id(key)} written to {out}")


@order_command(contract)
def reveal(opts: ChainOptions, order_id: str) -> None:
    """Publish ORDER_ID's contract in clear and prove on chain that it matches the commitment."""
    suite = opts.suite()
    key = bytes32(order_id, "order id")
    sender = opts.sender()
    terms = _award_terms(suite, key)
    sealed = _recover(suite, key, sender.account)
    if terms is not None:
        send("reveal", lambda: suite.notary.reveal_award(sender, terms, sealed))
    else:
        send("reveal", lambda: suite.notary.reveal(sender, key, sealed))
    say(f"revealed; commitment {hex_id(sealed.commitment)} verified on chain")


def _award_terms(suite, order_id: bytes):
    """The order's terms when its contract was notarised at award (a contract hash in the terms)."""
    try:
        terms = suite.escrow.terms_of(order_id)
    except LookupError:
        return None
    return terms if any(terms.contract_hash) else None


def _recover(suite, order_id: bytes, account):
    """Decrypt the caller's copy, checked against the award's contract hash or the notary's record."""
    terms = _award_terms(suite, order_id)
    commitment = bytes(terms.contract_hash) if terms is not None else None
    return suite.notary.recover_contract(order_id, account, commitment)
