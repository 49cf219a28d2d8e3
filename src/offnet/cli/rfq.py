"""`offnet rfq`: draft a Sonata quote request, post it as an RFQ, list, show and cancel RFQs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from offnet.cli.inputs import ACCESS_ELINE_ALIAS, duration, product, read_json, reputation_floor, uint256_id
from offnet.cli.options import ChainOptions, chain_options, path_argument, path_option
from offnet.cli.output import echo_json, fields, hex_id, json_option, note, say, send, table, token_of, when
from offnet.exceptions import InvalidInput
from offnet.market.rfq import MAX_INVITED, MAX_QUOTE_WINDOW, MIN_QUOTE_WINDOW


def rfq_id_arg(value: str) -> int:
    """An RFQ id typed as offnet prints it (0x hex) or in decimal."""
    return uint256_id(value, "RFQ id")


def _from_request(request) -> tuple[str | None, str | None]:
    """(product spec URN, install country) of the request's first quote item, when it says."""
    item = request.quoteItem[0]
    configuration = item.product.productConfiguration if item.product else None
    urn = configuration.type if configuration else None
    places = (item.product.place or []) if item.product else []
    countries = [getattr(p, "country", None) for p in places]
    return urn, next((c for c in countries if isinstance(c, str)), None)


def latest_profile(suite, member: str):
    """A member's profile as last published (ProfileUpdated), or None."""
    from offnet.market.registry import Profile

    logs = suite.registry.logs(
        "ProfileUpdated", from_block=suite.manifest.contracts["CarrierRegistry"].block, member=member
    )
    return Profile.from_abi(logs[-1]["args"]["profile"]) if logs else None


def checked_invitees(suite, invited: list[str], product_key: bytes, country: str | None) -> tuple[str, ...]:
    """The invitees, refused unless each is an active member, once; a warning on stderr for one whose
    profile does not list the product or the country (it may still quote)."""
    from offnet.cli.output import enum_name

    seen = set()
    for member in invited:
        if member in seen:
            raise InvalidInput(f"--invite {member} is given twice: invite each provider once")
        seen.add(member)
        info = suite.registry.member_info(member)
        if not suite.registry.is_active(member):
            raise InvalidInput(
                f"--invite {member} is not an active provider (status: {enum_name(info.status)}): "
                "invite active members only (see `offnet providers`)"
            )
        profile = latest_profile(suite, member)
        if profile is None:
            continue
        missing = []
        if product_key not in profile.products:
            missing.append("this product")
        if country and country not in profile.countries:
            missing.append(country)
        if missing:
            note(f"warning: {profile.name} ({member}) does not list {' or '.join(missing)} in its profile")
    return tuple(invited)


@click.group()
def rfq() -> None:
    """Requests for quote: a hash of the Sonata quote request on chain, the detail off chain."""


@rfq.command()
@click.option("--country", required=True, help="ISO 3166-1 alpha-2 country of the install site")
@click.option("--city", required=True, help="city of the install site")
@click.option("--street", default="1 Main Street", show_default=True, help="street address of the site")
@click.option(
    "--mbps", type=click.IntRange(1, 100_000), default=200, show_default=True, help="bandwidth (CIR)"
)
@click.option(
    "--term", "term_months", type=click.IntRange(1, 600), default=36, show_default=True, help="months"
)
@click.option(
    "--deadline",
    "deadline",
    default="2d",
    show_default=True,
    help="quotes are due this long from now (2d, 12h)",
)
@path_option("--out", required=True, help="file to write")
def draft(country, city, street, mbps, term_months, deadline, out: Path) -> None:
    """Write a Sonata quote request for an Access E-Line (MEF's example, your site and term) to a file."""
    from offnet.sonata.examples import load_example
    from offnet.sonata.models import QuoteCreate, validate

    request = load_example("quote_create")
    due = datetime.now(UTC) + timedelta(seconds=duration(deadline))
    request["requestedQuoteCompletionDate"] = due.strftime("%Y-%m-%dT%H:%M:%SZ")
    request["externalId"] = f"RFQ-{country.upper()}-{due:%Y%m%d%H%M%S}"
    request["description"] = f"Access E-Line {mbps} Mb/s in {city}, {term_months} months"
    item = request["quoteItem"][0]
    place = item["product"]["place"][0]
    place.update({"city": city, "country": country.upper(), "streetName": street})
    item["requestedQuoteItemTerm"]["duration"]["amount"] = term_months
    item["requestedQuoteItemTerm"]["name"] = f"{term_months} months"
    configuration = item["product"]["productConfiguration"]
    for profile in configuration.get("uniEp", {}).get("ingressBandwidthProfilePerClassOfServiceName", []):
        profile["bwpFlow"]["cir"].update({"irValue": mbps, "irUnits": "MBPS"})
    validate(QuoteCreate, request)
    import json

    out.write_text(json.dumps(request, indent=2) + "\n")
    say(
        f"quote request for {city} ({country.upper()}), {term_months} months, due {when(int(due.timestamp()))}: {out}"
    )


@rfq.command()
@chain_options
@path_argument("request_file")
@click.option(
    "--product", "product_name", help=f"{ACCESS_ELINE_ALIAS} or a MEF spec URN [default: from the request]"
)
@click.option("--location", help="location key text, e.g. GB or FR-PAR [default: the install country]")
@click.option("--deadline", help="RFC 3339 quote deadline [default: requestedQuoteCompletionDate]")
@click.option("--token", help="settlement token [default: the deployment's TestStablecoin]")
@click.option(
    "--invite",
    "invited",
    multiple=True,
    help="invited provider, an address or account name (repeatable, 1 to 6)",
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
    from offnet.market.registry import location_key
    from offnet.market.rfq import Rfq
    from offnet.sonata.canonical import document_hash
    from offnet.sonata.models import QuoteCreate, rfc3339_to_unix, validate

    data = read_json(str(request_file), "quote request")
    request = validate(QuoteCreate, data)
    request_urn, request_country = _from_request(request)
    urn = product(product_name)[0] if product_name else request_urn
    if not urn:
        raise InvalidInput("the quote request names no productConfiguration @type: give --product")
    location = location or request_country
    if not location:
        raise InvalidInput("the quote request names no install country: give --location")
    when_due = deadline or (request.requestedQuoteCompletionDate and data["requestedQuoteCompletionDate"])
    if not when_due:
        raise InvalidInput("the quote request has no requestedQuoteCompletionDate: give --deadline")
    suite = opts.suite()
    if token is None:
        if suite.token is None:
            raise InvalidInput("this deployment has no test token: give --token")
        token = suite.token.address
    token = opts.address_of(token, "token address")
    due = rfc3339_to_unix(when_due)
    now = suite.chain.now()
    if not now + MIN_QUOTE_WINDOW <= due <= now + MAX_QUOTE_WINDOW:
        raise InvalidInput(
            f"the quote deadline {when(due)} must lie {MIN_QUOTE_WINDOW // 86_400} to "
            f"{MAX_QUOTE_WINDOW // 86_400} days after the chain's time {when(now)}: "
            "draft a new request (`offnet rfq draft`) or give --deadline"
        )
    key = product(urn)[1]
    if not 1 <= len(invited) <= MAX_INVITED:
        raise InvalidInput(f"give --invite 1 to {MAX_INVITED} times (the providers asked to quote)")
    invitees = checked_invitees(
        suite, [opts.address_of(a, "--invite") for a in invited], key, request_country
    )
    sender = opts.sender()
    posted = Rfq(
        buyer=sender.address,
        deadline=due,
        token=token,
        request_hash=document_hash(data),
        product_key=key,
        location_key=location_key(location),
        invited=invitees,
        min_reputation=reputation_floor(min_reputation),
    )
    receipt = send("post RFQ", lambda: suite.market.post(sender, posted)[1])
    result = {
        "rfqId": hex_id(posted.rfq_id),
        "requestHash": hex_id(posted.request_hash),
        "product": urn,
        "location": location,
        "deadline": when(posted.deadline),
        "token": token,
        "invited": list(invitees),
        "txHash": receipt.tx_hash,
        "gasUsed": receipt.gas_used,
    }
    if as_json:
        echo_json(result)
    else:
        say(f"RFQ {result['rfqId']}")
        say(f"quotes due {result['deadline']}; {len(invitees)} provider(s) invited")


def _describe(suite, rfq_id: int) -> dict:
    posted = suite.market.posted(rfq_id)
    state = suite.market.state(rfq_id)
    token = token_of(suite, posted.token)
    return {
        "rfqId": hex_id(rfq_id),
        "status": state.status.name.lower(),
        "buyer": posted.buyer,
        "deadline": when(posted.deadline),
        "token": posted.token,
        "tokenSymbol": token.symbol,
        "requestHash": hex_id(posted.request_hash),
        "productKey": hex_id(posted.product_key),
        "locationKey": hex_id(posted.location_key),
        "invited": list(posted.invited),
        "minReputationPpm": posted.min_reputation,
        "commitments": [
            {"provider": e.provider, "digest": hex_id(e.digest), "withdrawn": not any(e.digest)}
            for e in suite.market.log(rfq_id)
        ],
    }


@rfq.command("list")
@chain_options
@click.option("--buyer", help="only RFQs of this buyer (address or account name)")
@click.option(
    "--status", type=click.Choice(["open", "awarded", "cancelled", "closed"]), help="only this status"
)
@json_option
def list_(opts: ChainOptions, buyer: str | None, status: str | None, as_json: bool) -> None:
    """RFQs posted on the market, newest last."""
    from offnet.market.rfq import Rfq

    buyer = opts.address_of(buyer, "--buyer") if buyer else None
    suite = opts.suite()
    logs = suite.market.logs("RfqPosted", from_block=suite.manifest.contracts["RfqMarket"].block)
    rows = []
    for log in logs:
        posted = Rfq.from_tuple(log["args"]["rfq"])
        state = suite.market.state(posted.rfq_id)
        if (buyer and posted.buyer != buyer) or (status and state.status.name.lower() != status):
            continue
        rows.append(
            {
                "rfqId": hex_id(posted.rfq_id),
                "buyer": posted.buyer,
                "deadline": when(posted.deadline),
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
        ("rfq", "buyer", "quotes due", "status", "log entries"),
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
    data["token"] = f"{data.pop('tokenSymbol')} {data['token']}"
    floor = data.pop("minReputationPpm")
    data["reputation floor"] = f"{floor / 10_000:.1f}%" if floor else "none"
    fields(f"RFQ {data.pop('rfqId')}", data)
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
