"""`offnet rfq`: post a Sonata quote request as an RFQ, list, show and cancel RFQs."""

from __future__ import annotations

from pathlib import Path

import click

from offnet.cli.inputs import address, product, read_json, reputation_floor
from offnet.cli.options import ChainOptions, chain_options
from offnet.cli.output import console, echo_json, fields, json_option, send, table
from offnet.deployment import Suite
from offnet.exceptions import InvalidInput
from offnet.market.codec import to_hex
from offnet.market.registry import location_key
from offnet.market.rfq import Rfq
from offnet.market.types import RfqStatus
from offnet.sonata.canonical import document_hash
from offnet.sonata.models import QuoteCreate, rfc3339_to_unix, validate


def rfq_id_arg(value: str) -> int:
    """An RFQ id typed in decimal or 0x hex."""
    try:
        return int(value, 16) if value.lower().startswith("0x") else int(value)
    except ValueError:
        raise InvalidInput(f"invalid RFQ id {value!r}: decimal or 0x hex") from None


def rfq_hex(rfq_id: int) -> str:
    return f"0x{rfq_id:064x}"


def _from_request(request: QuoteCreate) -> tuple[str | None, str | None]:
    """(product spec URN, install country) of the request's first quote item, when it says."""
    item = request.quoteItem[0]
    configuration = item.product.productConfiguration if item.product else None
    urn = configuration.type if configuration else None
    places = (item.product.place or []) if item.product else []
    countries = [getattr(p, "country", None) for p in places]
    return urn, next((c for c in countries if isinstance(c, str)), None)


@click.group()
def rfq() -> None:
    """Requests for quote: a hash of the Sonata quote request on chain, the detail off chain."""


@rfq.command()
@chain_options
@click.argument("request_file", type=click.Path(path_type=Path))
@click.option("--product", "product_name", help="access-eline or a MEF spec URN [default: from the request]")
@click.option("--location", help="location key text, e.g. GB or FR-PAR [default: the install country]")
@click.option("--deadline", help="RFC 3339 quote deadline [default: requestedQuoteCompletionDate]")
@click.option("--token", help="settlement token [default: the deployment's TestStablecoin]")
@click.option(
    "--invite", "invited", multiple=True, required=True, help="invited provider (repeatable, 1 to 8)"
)
@click.option("--min-reputation", help="reputation floor you will consider: 0..1 or a percentage")
@json_option
def post(
    opts: ChainOptions,
    request_file: Path,
    product_name,
    location,
    deadline,
    token,
    invited,
    min_reputation,
    as_json: bool,
) -> None:
    """Post REQUEST_FILE (a Sonata quote request, JSON) as an RFQ."""
    data = read_json(str(request_file), "quote request")
    request = validate(QuoteCreate, data)
    request_urn, request_country = _from_request(request)
    urn = product(product_name)[0] if product_name else request_urn
    if not urn:
        raise InvalidInput("the quote request names no productConfiguration @type: give --product")
    location = location or request_country
    if not location:
        raise InvalidInput("the quote request names no install country: give --location")
    when = deadline or (request.requestedQuoteCompletionDate and data["requestedQuoteCompletionDate"])
    if not when:
        raise InvalidInput("the quote request has no requestedQuoteCompletionDate: give --deadline")
    suite = opts.suite()
    if token is None:
        if suite.token is None:
            raise InvalidInput("this deployment has no test token: give --token")
        token = suite.token.address
    sender = opts.sender()
    posted = Rfq(
        buyer=sender.address,
        deadline=rfc3339_to_unix(when),
        token=address(token, "token address"),
        request_hash=document_hash(data),
        product_key=product(urn)[1],
        location_key=location_key(location),
        invited=tuple(address(a, "invited provider") for a in invited),
        min_reputation=reputation_floor(min_reputation),
    )
    receipt = send("post RFQ", lambda: suite.market.post(sender, posted)[1])
    result = {
        "rfqId": rfq_hex(posted.rfq_id),
        "requestHash": to_hex(posted.request_hash),
        "product": urn,
        "location": location,
        "deadline": posted.deadline,
        "txHash": receipt.tx_hash,
        "gasUsed": receipt.gas_used,
    }
    if as_json:
        echo_json(result)
    else:
        console.print(f"RFQ {result['rfqId']}", markup=False, highlight=False)


def _describe(suite: Suite, rfq_id: int) -> dict:
    posted = suite.market.posted(rfq_id)
    state = suite.market.state(rfq_id)
    return {
        "rfqId": rfq_hex(rfq_id),
        "status": state.status.name.lower(),
        "buyer": posted.buyer,
        "deadline": posted.deadline,
        "token": posted.token,
        "requestHash": to_hex(posted.request_hash),
        "productKey": to_hex(posted.product_key),
        "locationKey": to_hex(posted.location_key),
        "invited": list(posted.invited),
        "minReputationPpm": posted.min_reputation,
        "commitments": [
            {"provider": e.provider, "digest": to_hex(e.digest), "withdrawn": not any(e.digest)}
            for e in suite.market.log(rfq_id)
        ],
    }


@rfq.command("list")
@chain_options
@click.option("--buyer", help="only RFQs of this buyer")
@click.option(
    "--status", type=click.Choice([s.name.lower() for s in RfqStatus if s]), help="only this status"
)
@json_option
def list_(opts: ChainOptions, buyer: str | None, status: str | None, as_json: bool) -> None:
    """RFQs posted on the market, newest last."""
    buyer = address(buyer, "buyer address") if buyer else None
    suite = opts.suite()
    logs = suite.market.contract.events.RfqPosted().get_logs(
        from_block=suite.manifest.contracts["RfqMarket"].block
    )
    rows = []
    for log in logs:
        posted = Rfq.from_tuple(log["args"]["rfq"])
        state = suite.market.state(posted.rfq_id)
        if (buyer and posted.buyer != buyer) or (status and state.status.name.lower() != status):
            continue
        rows.append(
            {
                "rfqId": rfq_hex(posted.rfq_id),
                "buyer": posted.buyer,
                "deadline": posted.deadline,
                "status": state.status.name.lower(),
                "commitments": state.entries,
                "block": log["blockNumber"],
            }
        )
    if as_json:
        echo_json(rows)
        return
    table(
        "RFQs",
        ("rfq", "buyer", "deadline", "status", "log entries"),
        [(r["rfqId"], r["buyer"], r["deadline"], r["status"], r["commitments"]) for r in rows],
    )


@rfq.command()
@chain_options
@click.argument("rfq_id")
@json_option
def show(opts: ChainOptions, rfq_id: str, as_json: bool) -> None:
    """One RFQ: its terms, status and sealed commitment log."""
    data = _describe(opts.suite(), rfq_id_arg(rfq_id))
    if as_json:
        echo_json(data)
        return
    commitments = data.pop("commitments")
    data["invited"] = ", ".join(data["invited"])
    fields(f"RFQ {data['rfqId']}", data)
    table(
        "commitment log",
        ("#", "provider", "digest"),
        [
            (i, c["provider"], "withdrawn" if c["withdrawn"] else c["digest"])
            for i, c in enumerate(commitments)
        ],
    )


@rfq.command()
@chain_options
@click.argument("rfq_id")
def cancel(opts: ChainOptions, rfq_id: str) -> None:
    """Cancel your open RFQ."""
    suite = opts.suite()
    posted = suite.market.posted(rfq_id_arg(rfq_id))
    send("cancel RFQ", lambda: suite.market.cancel(opts.sender(), posted))
