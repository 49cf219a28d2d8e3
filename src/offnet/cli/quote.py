"""`offnet quote`: a provider signs a quote (EIP-712) into a file for the buyer, commits or withdraws it."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
from eth_utils import to_checksum_address

from offnet.cli.inputs import address, duration, read_json, token_amount
from offnet.cli.options import ChainOptions, chain_options
from offnet.cli.output import console, decimals_of, echo_json, json_option, send
from offnet.cli.rfq import rfq_hex, rfq_id_arg
from offnet.deployment import Suite
from offnet.exceptions import InvalidInput
from offnet.market.codec import signed_quote_from_json, signed_quote_to_json, to_hex
from offnet.market.notary import financial_contract, public_key_of, seal_contract
from offnet.market.quotes import (
    CREDIT_FIELDS,
    Quote,
    SignedQuote,
    quote_digest,
    recover_quote_signer,
    sign_quote,
)
from offnet.market.types import CreditSchedule
from offnet.sonata.canonical import document_hash

FILE_KIND = "offnet.signedQuote"


def _credits(path: str | None) -> CreditSchedule:
    """A credit schedule from a JSON file (camelCase names of the Solidity struct); none = no credits."""
    if path is None:
        return CreditSchedule.none()
    data = read_json(path, "credit schedule")
    names = [name for name, _ in CREDIT_FIELDS]
    unknown = set(data) - set(names) if isinstance(data, dict) else {"(not an object)"}
    if unknown:
        raise InvalidInput(
            f"credit schedule {path}: unknown fields {', '.join(sorted(unknown))}; known: {', '.join(names)}"
        )
    return CreditSchedule(*(int(data.get(name, 0)) for name in names))


def quote_document(signed: SignedQuote, chain_id: int, market: str, contract: dict[str, Any] | None) -> dict:
    """The signed-quote file: the quote (its EIP-712 message), signature, digest and the sealed contract."""
    return {
        "kind": FILE_KIND,
        "chainId": chain_id,
        "market": market,
        **signed_quote_to_json(signed),
        "contract": contract,
    }


def load_signed_quote(path: str, suite: Suite) -> tuple[SignedQuote, dict[str, Any]]:
    """A signed-quote file checked against this market: digest recomputed, signer recovered."""
    data = read_json(path, "signed quote")
    if not isinstance(data, dict) or data.get("kind") != FILE_KIND:
        raise InvalidInput(f"{path} is not a signed quote written by `offnet quote sign`")
    market = suite.market
    if (data.get("chainId"), data.get("market")) != (market.chain.chain_id, market.address):
        raise InvalidInput(
            f"{path} is a quote for market {data.get('market')} on chain {data.get('chainId')}, "
            f"not {market.address} on chain {market.chain.chain_id}"
        )
    try:
        received = signed_quote_from_json(data)
    except InvalidInput as exc:
        raise InvalidInput(f"{path}: {exc}") from None
    except (KeyError, TypeError) as exc:
        raise InvalidInput(f"{path}: malformed signed quote ({exc.__class__.__name__}: {exc})") from None
    quote = received.quote
    digest = quote_digest(quote, market.domain)
    if digest != received.digest:
        raise InvalidInput(f"{path}: the digest does not match the quote (the file was altered)")
    signer = recover_quote_signer(quote, received.signature, market.domain)
    if not suite.registry.is_quote_signer(quote.provider, signer):
        raise InvalidInput(f"{path}: signed by {signer}, which may not sign quotes for {quote.provider}")
    return received, data


@click.group()
def quote() -> None:
    """Quotes: sign (writes the file the buyer receives), commit the digest on chain, withdraw."""


@quote.command()
@chain_options
@click.argument("rfq_id")
@click.option(
    "--one-time", "one_time", required=True, help="installation charge, in whole tokens (e.g. 2000)"
)
@click.option("--monthly", required=True, help="monthly charge, in whole tokens")
@click.option(
    "--term", "term_months", type=click.IntRange(1, 600), default=36, show_default=True, help="months"
)
@click.option("--install-days", type=click.IntRange(0, 3650), default=30, show_default=True)
@click.option(
    "--prepaid",
    "prepaid_months",
    type=click.IntRange(0, 600),
    default=1,
    show_default=True,
    help="months the buyer pays into escrow at award",
)
@click.option("--valid-for", default="7d", show_default=True, help="how long the quote stands (15m, 12h, 7d)")
@click.option("--credits", "credits_file", type=click.Path(path_type=Path), help="credit schedule JSON file")
@click.option(
    "--sla-terms", "sla_file", type=click.Path(path_type=Path), help="SLA terms document (JSON) to hash"
)
@click.option("--provider", help="member you quote for [default: the member your key acts for]")
@click.option("--nonce", type=int, help="quote nonce [default: random]")
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    help="file to write [default quote-<rfq>-<provider>.json]",
)
@json_option
def sign(
    opts: ChainOptions,
    rfq_id: str,
    one_time,
    monthly,
    term_months,
    install_days,
    prepaid_months,
    valid_for,
    credits_file,
    sla_file,
    provider,
    nonce,
    out,
    as_json: bool,
) -> None:
    """Sign a quote for RFQ_ID and write it, with the sealed financial contract, to a file for the buyer."""
    suite = opts.suite()
    posted = suite.market.posted(rfq_id_arg(rfq_id))
    signer = opts.signer()
    provider = (
        address(provider, "provider address")
        if provider
        else (suite.registry.member_of(signer.address) or signer.address)
    )
    decimals = decimals_of(suite, posted.token)
    sla_hash = document_hash(read_json(str(sla_file), "SLA terms")) if sla_file else bytes(32)
    draft = Quote(
        posted.rfq_id,
        provider,
        posted.buyer,
        posted.token,
        token_amount(one_time, decimals, "--one-time"),
        token_amount(monthly, decimals, "--monthly"),
        term_months,
        install_days,
        sla_hash,
        _credits(str(credits_file) if credits_file else None),
        prepaid_months,
        suite.chain.now() + duration(valid_for),
        nonce if nonce is not None else int.from_bytes(os.urandom(8), "big"),
        suite.market.quote_epoch(provider),
    )
    # The quote carries the commitment to the financial contract: signing the quote signs it, and
    # the award makes it part of the order's terms.
    sealed = seal_contract(financial_contract(draft))
    signed = sign_quote(signer, replace(draft, contract_hash=sealed.commitment), suite.market.domain)
    contract = {
        "document": json.loads(sealed.document),
        "salt": to_hex(sealed.salt),
        "commitment": to_hex(sealed.commitment),
        "sellerPublicKey": to_hex(public_key_of(signer)),
    }
    document = quote_document(signed, suite.chain.chain_id, suite.market.address, contract)
    path = out or Path(f"quote-{rfq_hex(posted.rfq_id)[2:10]}-{provider[2:10].lower()}.json")
    path.write_text(json.dumps(document, indent=2) + "\n")
    if as_json:
        echo_json({"file": str(path), "digest": document["digest"], "provider": provider})
    else:
        console.print(
            f"signed quote {document['digest']} for RFQ {rfq_hex(posted.rfq_id)} written to {path}; "
            f"commit it with `offnet quote commit {path}`",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


@quote.command()
@chain_options
@click.argument("quote_file", type=click.Path(path_type=Path))
def commit(opts: ChainOptions, quote_file: Path) -> None:
    """Commit the digest of QUOTE_FILE on chain before the RFQ deadline (the sealed bid)."""
    suite = opts.suite()
    signed, _ = load_signed_quote(str(quote_file), suite)
    posted = suite.market.posted(signed.quote.rfq_id)
    send("commit quote", lambda: suite.market.commit(opts.sender(), posted, signed))


@quote.command()
@chain_options
@click.argument("rfq_id")
@click.option(
    "--provider", help="member whose commitment to withdraw [default: the member your key acts for]"
)
def withdraw(opts: ChainOptions, rfq_id: str, provider: str | None) -> None:
    """Withdraw your commitment to RFQ_ID before its deadline."""
    suite = opts.suite()
    posted = suite.market.posted(rfq_id_arg(rfq_id))
    sender = opts.sender()
    provider = (
        address(provider, "provider address")
        if provider
        else (suite.registry.member_of(sender.address) or sender.address)
    )
    send("withdraw quote", lambda: suite.market.withdraw(sender, posted, to_checksum_address(provider)))


__all__ = ["load_signed_quote", "quote"]
