"""`offnet quote`: a provider signs a quote (EIP-712) into a file for the buyer, commits or withdraws it."""

from __future__ import annotations

import json
import os
from dataclasses import fields as dataclass_fields
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
from eth_utils import to_checksum_address

from offnet.cli.options import ChainOptions, chain_options
from offnet.cli.output import (
    Clients,
    InvalidInput,
    address,
    bytes32,
    console,
    decimals_of,
    duration,
    echo_json,
    hexstr,
    json_option,
    read_json,
    send,
    token_amount,
)
from offnet.cli.rfq import rfq_hex, rfq_id_arg
from offnet.market.escrow import CreditSchedule
from offnet.market.notary import financial_contract, public_key_of, seal_contract
from offnet.market.quotes import (
    _CREDIT_FIELDS,
    Quote,
    SignedQuote,
    quote_digest,
    recover_quote_signer,
    sign_quote,
)
from offnet.sonata.canonical import document_hash

FILE_KIND = "offnet.signedQuote"


def _credits(path: str | None) -> CreditSchedule:
    """A credit schedule from a JSON file (camelCase names of the Solidity struct); none = no credits."""
    if path is None:
        return CreditSchedule(*[0] * len(dataclass_fields(CreditSchedule)))
    data = read_json(path, "credit schedule")
    names = [name for name, _ in _CREDIT_FIELDS]
    unknown = set(data) - set(names) if isinstance(data, dict) else {"(not an object)"}
    if unknown:
        raise InvalidInput(
            f"credit schedule {path}: unknown fields {', '.join(sorted(unknown))}; known: {', '.join(names)}"
        )
    return CreditSchedule(*(int(data.get(name, 0)) for name in names))


def quote_document(signed: SignedQuote, chain_id: int, market: str, contract: dict[str, Any] | None) -> dict:
    """The signed-quote file: the EIP-712 message, its signature and digest, and the sealed contract."""
    message = {k: hexstr(v) if isinstance(v, bytes) else v for k, v in signed.quote.message().items()}
    message["rfqId"] = rfq_hex(signed.quote.rfq_id)
    return {
        "kind": FILE_KIND,
        "chainId": chain_id,
        "market": market,
        "quote": message,
        "signature": hexstr(signed.signature),
        "digest": hexstr(signed.digest),
        "contract": contract,
    }


def load_signed_quote(path: str, clients: Clients) -> tuple[SignedQuote, dict[str, Any]]:
    """A signed-quote file checked against this market: digest recomputed, signer recovered."""
    data = read_json(path, "signed quote")
    if not isinstance(data, dict) or data.get("kind") != FILE_KIND:
        raise InvalidInput(f"{path} is not a signed quote written by `offnet quote sign`")
    market = clients.market
    if (data.get("chainId"), data.get("market")) != (market.chain.chain_id, market.address):
        raise InvalidInput(
            f"{path} is a quote for market {data.get('market')} on chain {data.get('chainId')}, "
            f"not {market.address} on chain {market.chain.chain_id}"
        )
    try:
        m = data["quote"]
        quote = Quote(
            rfq_id_arg(m["rfqId"]),
            address(m["provider"]),
            address(m["buyer"]),
            address(m["token"]),
            int(m["oneTimeCharge"]),
            int(m["monthlyCharge"]),
            int(m["termMonths"]),
            int(m["installDays"]),
            bytes32(m["slaTermsHash"], "slaTermsHash"),
            CreditSchedule(*(int(m["credits"][name]) for name, _ in _CREDIT_FIELDS)),
            int(m["prepaidMonths"]),
            int(m["validUntil"]),
            int(m["nonce"]),
            int(m["epoch"]),
            bytes32(m.get("contractHash", "0x" + "00" * 32), "contractHash"),
        )
        signature = bytes.fromhex(data["signature"].removeprefix("0x"))
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"{path}: malformed signed quote ({exc.__class__.__name__}: {exc})") from None
    digest = quote_digest(quote, market.domain)
    if hexstr(digest) != data.get("digest"):
        raise InvalidInput(f"{path}: the digest does not match the quote (the file was altered)")
    signer = recover_quote_signer(quote, signature, market.domain)
    if not clients.registry.is_quote_signer(quote.provider, signer):
        raise InvalidInput(f"{path}: signed by {signer}, which may not sign quotes for {quote.provider}")
    return SignedQuote(quote, signature, digest), data


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
    clients = Clients.of(opts)
    posted = clients.market.posted(rfq_id_arg(rfq_id))
    signer = opts.signer()
    provider = (
        address(provider, "provider address")
        if provider
        else (clients.registry.member_of(signer.address) or signer.address)
    )
    decimals = decimals_of(clients, posted.token)
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
        clients.suite.chain.now() + duration(valid_for),
        nonce if nonce is not None else int.from_bytes(os.urandom(8), "big"),
        clients.market.quote_epoch(provider),
    )
    # The quote carries the commitment to the financial contract: signing the quote signs it, and
    # the award makes it part of the order's terms.
    sealed = seal_contract(financial_contract(draft))
    signed = sign_quote(signer, replace(draft, contract_hash=sealed.commitment), clients.market.domain)
    contract = {
        "document": json.loads(sealed.document),
        "salt": hexstr(sealed.salt),
        "commitment": hexstr(sealed.commitment),
        "sellerPublicKey": hexstr(public_key_of(signer)),
    }
    document = quote_document(signed, clients.suite.chain.chain_id, clients.market.address, contract)
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
    clients = Clients.of(opts)
    signed, _ = load_signed_quote(str(quote_file), clients)
    posted = clients.market.posted(signed.quote.rfq_id)
    send("commit quote", lambda: clients.market.commit(opts.sender(), posted, signed))


@quote.command()
@chain_options
@click.argument("rfq_id")
@click.option(
    "--provider", help="member whose commitment to withdraw [default: the member your key acts for]"
)
def withdraw(opts: ChainOptions, rfq_id: str, provider: str | None) -> None:
    """Withdraw your commitment to RFQ_ID before its deadline."""
    clients = Clients.of(opts)
    posted = clients.market.posted(rfq_id_arg(rfq_id))
    sender = opts.sender()
    provider = (
        address(provider, "provider address")
        if provider
        else (clients.registry.member_of(sender.address) or sender.address)
    )
    send("withdraw quote", lambda: clients.market.withdraw(sender, posted, to_checksum_address(provider)))


__all__ = ["load_signed_quote", "quote"]
