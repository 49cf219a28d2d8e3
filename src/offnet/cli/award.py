"""`offnet award`: rank the signed quotes for an RFQ like for like and award one, opening the escrowed
order; the payment is checked before anything is approved (see offnet.cli.payment)."""

from __future__ import annotations

from pathlib import Path

import click

from offnet.cli.options import ChainOptions, chain_options, path_argument
from offnet.cli.output import echo_json, hex_id, json_option, prose, say, send, table
from offnet.cli.payment import pay
from offnet.cli.quote import load_signed_quote
from offnet.exceptions import InvalidInput


def _carrier_name(suite, member: str) -> str:
    from offnet.cli.rfq import latest_profile

    profile = latest_profile(suite, member)
    return profile.name if profile and profile.name else member[:10]


def _reputation_text(rep) -> str:
    return "new (n=0)" if rep.new else f"{rep.overall_ppm / 10_000:.1f}% (n={rep.samples})"


@click.command()
@chain_options
@path_argument("quote_files", nargs=-1, required=True)
@click.option(
    "--permit/--approve",
    "use_permit",
    default=None,
    help="pay by an EIP-2612 permit signed into the award, or by an approval transaction "
    "[default: permit when the token supports it]",
)
@click.option(
    "--basis",
    type=click.Choice(["monthly", "term"]),
    default="monthly",
    show_default=True,
    help="compare cost per month over each quote's term, or cost over --term-months",
)
@click.option("--term-months", type=click.IntRange(1, 600), help="the requested term, for --basis term")
@click.option(
    "--reputation-weight",
    type=click.FloatRange(0, 1),
    default=0.3,
    show_default=True,
    help="weight of reputation against cost when ranking",
)
@click.option("--pick", type=int, help="award the quote ranked N instead of the best")
@json_option
def award(
    opts: ChainOptions,
    quote_files: tuple[Path, ...],
    use_permit: bool | None,
    basis: str,
    term_months: int | None,
    reputation_weight: float,
    pick: int | None,
    as_json: bool,
) -> None:
    """Rank QUOTE_FILES (signed quotes for one RFQ) like for like and award one; the order opens in escrow."""
    from offnet.cli.output import token_of
    from offnet.market.notary import public_key_of
    from offnet.market.quotes import describe_basis, rank_quotes

    if basis == "term" and term_months is None:
        raise click.UsageError("--basis term needs --term-months (the term you requested)")
    suite = opts.suite()
    loaded = [load_signed_quote(str(path), suite) for path in quote_files]
    rfq_ids = {signed.quote.rfq_id for signed, _ in loaded}
    if len(rfq_ids) != 1:
        raise InvalidInput(f"the quote files answer {len(rfq_ids)} different RFQs; award one RFQ at a time")
    posted = suite.market.posted(rfq_ids.pop())
    token = token_of(suite, posted.token)
    reputations = {s.quote.provider: suite.ledger.reputation(s.quote.provider) for s, _ in loaded}
    ranked = rank_quotes(
        [s for s, _ in loaded],
        {p: r.overall_ppm / 1e6 for p, r in reputations.items()},
        reputation_weight=reputation_weight,
        decimals=token.decimals,
        basis=basis,
        term_months=term_months,
    )
    names = {p: _carrier_name(suite, p) for p in reputations}
    amount = lambda units: token.amount(units).removesuffix(f" {token.symbol}")  # noqa: E731
    rows = [
        {
            "rank": r.rank,
            "carrier": names[r.quote.quote.provider],
            "provider": r.quote.quote.provider,
            "termMonths": r.quote.quote.term_months,
            "oneTime": r.quote.quote.one_time_charge,
            "monthly": r.quote.quote.monthly_charge,
            "basisCost": r.basis_cost,
            "reputationPpm": reputations[r.quote.quote.provider].overall_ppm,
            "reputationSamples": reputations[r.quote.quote.provider].samples,
            "score": round(r.score, 4),
            "explanation": r.explanation,
        }
        for r in ranked
    ]
    if not as_json:
        table(
            f"quotes for RFQ {hex_id(posted.rfq_id)} ({token.symbol})",
            (
                "#",
                "carrier",
                "months",
                "one-time",
                "monthly",
                "per month" if basis == "monthly" else "over term",
                "reputation",
                "score",
            ),
            [
                (
                    row["rank"],
                    row["carrier"],
                    row["termMonths"],
                    amount(row["oneTime"]),
                    amount(row["monthly"]),
                    f"{row['basisCost'] / 10**token.decimals:,.2f}",  # a derived figure: to the cent
                    _reputation_text(reputations[row["provider"]]),
                    f"{row['score']:.3f}",
                )
                for row in rows
            ],
            caption=f"ranked by {describe_basis(basis, term_months)}, weighted {1 - reputation_weight:.0%} "
            f"cost and {reputation_weight:.0%} reputation",
        )
    index = (pick or 1) - 1
    if not 0 <= index < len(ranked):
        raise InvalidInput(f"--pick {pick}: there are {len(ranked)} quotes")
    chosen = ranked[index].quote
    contract = dict(loaded[[s for s, _ in loaded].index(chosen)][1].get("contract") or {})
    sealed = _sealed_contract(chosen.quote.contract_hash, contract)

    sender = opts.sender()
    opening = chosen.quote.order_terms(0).opening_amount
    receipt = pay(
        suite,
        sender,
        token,
        opening,
        lambda permit: suite.market.award_function(posted, chosen, permit=permit),
        label="award",
        use_permit=use_permit,
    )
    order_id = suite.market.awarded_order(receipt)
    if sealed is not None:
        terms = suite.escrow.terms_of(order_id)
        public_keys = (public_key_of(sender.account), bytes.fromhex(contract["sellerPublicKey"][2:]))
        send(
            "publish encrypted contract",
            lambda: suite.notary.publish_award_copy(sender, terms, sealed, *public_keys),
        )
    out = {
        "orderId": hex_id(order_id),
        "rfqId": hex_id(posted.rfq_id),
        "provider": chosen.quote.provider,
        "carrier": names[chosen.quote.provider],
        "escrowed": opening,
        "escrowedText": token.amount(opening),
        "basis": basis,
        "ranking": rows,
        "notarised": any(chosen.quote.contract_hash),
        "copyPublished": sealed is not None,
        "txHash": receipt.tx_hash,
        "gasUsed": receipt.gas_used,
    }
    if as_json:
        echo_json(out)
    else:
        say(f"order {out['orderId']}")
        prose(
            f"opened with {names[chosen.quote.provider]} ({chosen.quote.provider}); {token.amount(opening)} escrowed"
        )


def _sealed_contract(contract_hash: bytes, contract: dict):
    """The seller's sealed contract from the quote file, checked against the quote's contract hash."""
    from offnet.market.notary import SealedContract
    from offnet.sonata.canonical import canonical_json

    if not contract:
        return None
    try:
        sealed = SealedContract(canonical_json(contract["document"]), bytes.fromhex(contract["salt"][2:]))
        bytes.fromhex(contract["sellerPublicKey"][2:])
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"the quote's sealed contract is malformed ({exc})") from None
    if sealed.commitment != bytes(contract_hash):
        raise InvalidInput("the quote's sealed contract does not match the contract hash the seller signed")
    return sealed
