"""`offnet award`: rank the signed quotes for an RFQ and award the best, opening the escrowed order."""

from __future__ import annotations

from pathlib import Path

import click

from offnet.chain import load_artifact
from offnet.chain.permit import sign_permit
from offnet.cli.options import ChainOptions, chain_options
from offnet.cli.output import console, decimals_of, echo_json, json_option, money, send, table
from offnet.cli.quote import load_signed_quote
from offnet.cli.rfq import rfq_hex
from offnet.deployment import Suite
from offnet.exceptions import InvalidInput
from offnet.market.codec import to_hex
from offnet.market.notary import SealedContract, public_key_of
from offnet.market.quotes import rank_quotes
from offnet.sonata.canonical import canonical_json

ERC20_ALLOWANCE_ABI = [
    {
        "name": "allowance",
        "type": "function",
        "stateMutability": "view",
        "inputs": [{"name": "owner", "type": "address"}, {"name": "spender", "type": "address"}],
        "outputs": [{"name": "", "type": "uint256"}],
    },
    {
        "name": "approve",
        "type": "function",
        "stateMutability": "nonpayable",
        "inputs": [{"name": "spender", "type": "address"}, {"name": "value", "type": "uint256"}],
        "outputs": [{"name": "", "type": "bool"}],
    },
]


def ensure_allowance(suite: Suite, sender, token: str, amount: int) -> None:
    """Approve the escrow for `amount` of `token` when the current allowance is short (one printed tx)."""
    erc20 = suite.chain.w3.eth.contract(address=token, abi=ERC20_ALLOWANCE_ABI)
    if erc20.functions.allowance(sender.address, suite.escrow.address).call() < amount:
        send("approve escrow", lambda: sender.transact(erc20.functions.approve(suite.escrow.address, amount)))


@click.command()
@chain_options
@click.argument("quote_files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--permit", is_flag=True, help="approve the escrow by an EIP-2612 signature in the award itself"
)
@click.option(
    "--reputation-weight",
    type=click.FloatRange(0, 1),
    default=0.3,
    show_default=True,
    help="weight of reputation against price when ranking",
)
@click.option("--pick", type=int, help="award the quote ranked N instead of the best")
@json_option
def award(
    opts: ChainOptions,
    quote_files: tuple[Path, ...],
    permit: bool,
    reputation_weight: float,
    pick: int | None,
    as_json: bool,
) -> None:
    """Rank QUOTE_FILES (signed quotes for one RFQ) and award the best; the order opens in escrow."""
    suite = opts.suite()
    loaded = [load_signed_quote(str(path), suite) for path in quote_files]
    rfq_ids = {signed.quote.rfq_id for signed, _ in loaded}
    if len(rfq_ids) != 1:
        raise InvalidInput(f"the quote files answer {len(rfq_ids)} different RFQs; award one RFQ at a time")
    posted = suite.market.posted(rfq_ids.pop())
    reputation = {
        s.quote.provider: suite.ledger.reputation(s.quote.provider).overall_ppm / 1e6 for s, _ in loaded
    }
    decimals = decimals_of(suite, posted.token)
    ranked = rank_quotes(
        [s for s, _ in loaded], reputation, reputation_weight=reputation_weight, decimals=decimals
    )
    if not as_json:
        table(
            f"quotes for RFQ {rfq_hex(posted.rfq_id)}",
            ("#", "provider", "total", "reputation", "score"),
            [
                (
                    r.rank,
                    r.quote.quote.provider,
                    money(r.total_cost, decimals),
                    f"{r.reputation:.2%}",
                    f"{r.score:.3f}",
                )
                for r in ranked
            ],
        )
    index = (pick or 1) - 1
    if not 0 <= index < len(ranked):
        raise InvalidInput(f"--pick {pick}: there are {len(ranked)} quotes")
    chosen = ranked[index].quote
    contract = dict(loaded[[s for s, _ in loaded].index(chosen)][1].get("contract") or {})

    sender = opts.sender()
    buyer = sender.account
    terms_amount = chosen.quote.order_terms(0).opening_amount
    permit_sig = None
    if permit:
        # Any EIP-2612 token answers the permit calls of the packaged stablecoin's ABI.
        token_contract = suite.chain.w3.eth.contract(
            address=posted.token, abi=load_artifact("TestStablecoin").abi
        )
        permit_sig = sign_permit(
            buyer, token_contract, suite.escrow.address, terms_amount, suite.chain.now() + 3600
        )
    else:
        ensure_allowance(suite, sender, posted.token, terms_amount)

    sealed = _sealed_contract(chosen.quote.contract_hash, contract)
    result: dict = {}

    def transact():
        order_id, receipt = suite.market.award(sender, posted, chosen, permit=permit_sig)
        result["orderId"] = order_id
        return receipt

    receipt = send("award", transact)
    order_id = result["orderId"]
    if sealed is not None:
        terms = suite.escrow.terms_of(order_id)
        public_keys = (public_key_of(buyer), bytes.fromhex(contract["sellerPublicKey"][2:]))
        send(
            "publish encrypted contract",
            lambda: suite.notary.publish_award_copy(sender, terms, sealed, *public_keys),
        )
    out = {
        "orderId": to_hex(order_id),
        "rfqId": rfq_hex(posted.rfq_id),
        "provider": chosen.quote.provider,
        "escrowed": terms_amount,
        "notarised": any(chosen.quote.contract_hash),
        "copyPublished": sealed is not None,
        "txHash": receipt.tx_hash,
        "gasUsed": receipt.gas_used,
    }
    if as_json:
        echo_json(out)
    else:
        console.print(
            f"order {out['orderId']} opened with {chosen.quote.provider}; "
            f"{money(terms_amount, decimals)} escrowed",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


def _sealed_contract(contract_hash: bytes, contract: dict) -> SealedContract | None:
    """The seller's sealed contract from the quote file, checked against the quote's contract hash."""
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
