"""`offnet quote`: a provider signs a quote (EIP-712) into a file for the buyer, commits or withdraws it.

`quote sign --request FILE` takes the term and the SLA objectives from the buyer's own Sonata quote
request (checked against the hash the RFQ carries on chain), so a quote answers what was asked.
"""

from __future__ import annotations

import json
import os
from dataclasses import fields as dataclass_fields
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from offnet.cli.inputs import duration, read_json, token_amount
from offnet.cli.options import ChainOptions, chain_options, path_argument, path_option
from offnet.cli.output import echo_json, fields, hex_id, json_option, say, send, token_of, when
from offnet.cli.rfq import rfq_id_arg
from offnet.exceptions import InvalidInput

FILE_KIND = "offnet.signedQuote"


def _credit_rates(path: str | None) -> dict[str, int] | None:
    """Credit rates (and objectives) from a JSON file in the Solidity struct's camelCase names."""
    from offnet.market.quotes import CREDIT_FIELDS
    from offnet.market.types import CreditSchedule

    if path is None:
        return None
    data = read_json(path, "credit schedule")
    names = [name for name, _ in CREDIT_FIELDS]
    unknown = set(data) - set(names) if isinstance(data, dict) else {"(not an object)"}
    if unknown:
        raise InvalidInput(
            f"credit schedule {path}: unknown fields {', '.join(sorted(unknown))}; known: {', '.join(names)}"
        )
    snake = {
        camel: f.name for (camel, _), f in zip(CREDIT_FIELDS, dataclass_fields(CreditSchedule), strict=True)
    }
    return {snake[name]: int(value) for name, value in data.items()}


def quote_document(signed, chain_id: int, market: str, contract: dict[str, Any] | None) -> dict:
    """The signed-quote file: the quote (its EIP-712 message), signature, digest and the sealed contract."""
    from offnet.market.codec import signed_quote_to_json

    return {
        "kind": FILE_KIND,
        "chainId": chain_id,
        "market": market,
        **signed_quote_to_json(signed),
        "contract": contract,
    }


def load_signed_quote(path: str, suite) -> tuple[Any, dict[str, Any]]:
    """A signed-quote file checked against this market: digest recomputed, signer recovered."""
    from offnet.market.codec import signed_quote_from_json
    from offnet.market.quotes import quote_digest, recover_quote_signer

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


def _request_item(suite, posted, request_file: Path | None) -> dict | None:
    """The RFQ's first requested quote item, from the buyer's request file checked against the RFQ."""
    from offnet.sla.terms import requested_item
    from offnet.sonata.canonical import document_hash

    if request_file is None:
        return None
    request = read_json(str(request_file), "quote request")
    if document_hash(request) != bytes(posted.request_hash):
        raise InvalidInput(
            f"{request_file} is not the request of RFQ {hex_id(posted.rfq_id)}: its hash "
            f"{hex_id(document_hash(request))} differs from the RFQ's {hex_id(posted.request_hash)}"
        )
    return requested_item(request)


@click.group()
def quote() -> None:
    """Quotes: sign (writes the file the buyer receives), commit the digest on chain, withdraw."""


@quote.command()
@chain_options
@click.argument("rfq_id")
@path_option(
    "--request",
    "request_file",
    help="the buyer's Sonata quote request of this RFQ: the term and SLA objectives come from it",
)
@click.option(
    "--one-time", "one_time", required=True, help="installation charge, in whole tokens (e.g. 2000)"
)
@click.option("--monthly", required=True, help="monthly charge, in whole tokens")
@click.option(
    "--term", "term_months", type=click.IntRange(1, 600), help="months [default: the request's term]"
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
@path_option(
    "--credits",
    "credits_file",
    help="credit rates (and objectives) JSON [default: standard rates on the request's SLS objectives]",
)
@click.option("--provider", help="member you quote for [default: the member your key acts for]")
@click.option("--nonce", type=int, help="quote nonce [default: random]")
@path_option(
    "--out",
    "out",
    help="file to write [default quote-<rfq>-<provider>.json]",
)
@json_option
def sign(
    opts: ChainOptions,
    rfq_id: str,
    request_file,
    one_time,
    monthly,
    term_months,
    install_days,
    prepaid_months,
    valid_for,
    credits_file,
    provider,
    nonce,
    out,
    as_json: bool,
) -> None:
    """Sign a quote for RFQ_ID and write it, with the sealed financial contract, to a file for the buyer."""
    from offnet.market.notary import financial_contract, public_key_of, seal_contract
    from offnet.market.quotes import Quote, sign_quote
    from offnet.market.types import CreditSchedule
    from offnet.sla.terms import offered_credits, requested_term_months
    from offnet.sonata.canonical import document_hash

    suite = opts.suite()
    posted = suite.market.posted(rfq_id_arg(rfq_id))
    item = _request_item(suite, posted, request_file)
    rates = _credit_rates(str(credits_file) if credits_file else None)
    if item is None and term_months is None:
        raise click.UsageError(
            "give --request (the RFQ's Sonata quote request, for its term and SLA) or --term"
        )
    term_source = "--term" if term_months else "the request"
    term_months = term_months or requested_term_months(item) or 0
    if not term_months:
        raise InvalidInput("the quote request states no term in months: give --term")
    if item is not None:
        credits = offered_credits(item, rates)
        sls = ((item.get("product") or {}).get("productConfiguration") or {}).get("carrierEthernetSls")
    else:
        credits, sls = dict(rates or {}), None
    schedule = CreditSchedule(**{f.name: credits.get(f.name, 0) for f in dataclass_fields(CreditSchedule)})
    signer = opts.signer()
    provider = (
        opts.address_of(provider, "--provider")
        if provider
        else (suite.registry.member_of(signer.address) or signer.address)
    )
    token = token_of(suite, posted.token)
    sla_hash = (
        document_hash({"carrierEthernetSls": sls or {}, "credits": credits}) if credits or sls else bytes(32)
    )
    draft = Quote(
        posted.rfq_id,
        provider,
        posted.buyer,
        posted.token,
        token_amount(one_time, token.decimals, "--one-time"),
        token_amount(monthly, token.decimals, "--monthly"),
        term_months,
        install_days,
        sla_hash,
        schedule,
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
        "salt": hex_id(sealed.salt),
        "commitment": hex_id(sealed.commitment),
        "sellerPublicKey": "0x" + public_key_of(signer).hex(),
    }
    document = quote_document(signed, suite.chain.chain_id, suite.market.address, contract)
    path = out or Path(f"quote-{hex_id(posted.rfq_id)[2:10]}-{provider[2:10].lower()}.json")
    path.write_text(json.dumps(document, indent=2) + "\n")
    summary = {
        "file": str(path),
        "digest": document["digest"],
        "rfqId": hex_id(posted.rfq_id),
        "provider": provider,
        "oneTime": token.amount(draft.one_time_charge),
        "monthly": token.amount(draft.monthly_charge),
        "termMonths": term_months,
        "prepaidMonths": prepaid_months,
        "validUntil": when(draft.valid_until),
        "credits": {k: v for k, v in credits.items() if v},
        "termFrom": term_source,
    }
    if as_json:
        echo_json(summary)
        return
    fields(
        f"signed quote {document['digest']}",
        {
            "rfq": summary["rfqId"],
            "charges": f"{summary['oneTime']} once + {summary['monthly']}/month",
            "term": f"{term_months} months (from {term_source})",
            "SLA credits": _credits_text(credits) if credits else "none",
            "valid until": summary["validUntil"],
            "file": str(path),
        },
    )
    say(f"commit it before the deadline: offnet quote commit {path}")


def _credits_text(credits: dict[str, int]) -> str:
    parts = []
    if credits.get("availability_objective_ppm"):
        parts.append(
            f"availability {credits['availability_objective_ppm'] / 10_000:g}% "
            f"({credits.get('availability_credit_bps', 0) / 100:g}% credit)"
        )
    if credits.get("frame_delay_objective_us"):
        parts.append(
            f"delay {credits['frame_delay_objective_us'] / 1000:g} ms ({credits.get('frame_delay_credit_bps', 0) / 100:g}%)"
        )
    if credits.get("frame_loss_objective_ppm"):
        parts.append(
            f"loss {credits['frame_loss_objective_ppm'] / 10_000:g}% ({credits.get('frame_loss_credit_bps', 0) / 100:g}%)"
        )
    if credits.get("late_delivery_bps_per_day"):
        parts.append(f"late {credits['late_delivery_bps_per_day'] / 100:g}%/day")
    if credits.get("monthly_credit_cap_bps"):
        parts.append(f"cap {credits['monthly_credit_cap_bps'] / 100:g}%/month")
    return ", ".join(parts)


@quote.command()
@chain_options
@path_argument("quote_file")
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
        opts.address_of(provider, "provider address")
        if provider
        else (suite.registry.member_of(sender.address) or sender.address)
    )
    send("withdraw quote", lambda: suite.market.withdraw(sender, posted, provider))


__all__ = ["load_signed_quote", "quote"]
