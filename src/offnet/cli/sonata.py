"""`offnet sonata`: validate Sonata documents and print their canonical hash; run the reference seller."""

from __future__ import annotations

from typing import Any

import click

from offnet.cli.inputs import read_json
from offnet.cli.output import echo_json, json_option, say
from offnet.exceptions import InvalidInput

# Every Sonata document kind offnet reads or writes: the model that judges it (by name, imported only
# when a document is checked: `offnet sonata validate` starts without the chain stack) and its API.
KINDS: dict[str, tuple[str, str]] = {
    "quote-request": ("QuoteCreate", "quoteManagement v8"),
    "quote": ("Quote", "quoteManagement v8"),
    "quote-operation": ("QuoteOperation", "quoteManagement v8"),
    "product-order-request": ("ProductOrderCreate", "productOrderingManagement v10"),
    "product-order": ("ProductOrder", "productOrderingManagement v10"),
    "cancel-product-order-request": ("CancelProductOrderCreate", "productOrderingManagement v10"),
    "trouble-ticket-request": ("TroubleTicketCreate", "troubleTicket v4"),
    "trouble-ticket": ("TroubleTicket", "troubleTicket v4"),
    "trouble-ticket-update": ("TroubleTicketUpdate", "troubleTicket v4"),
    "hub-subscription": ("EventSubscriptionInput", "hub"),
    "notification": ("Envelope", "notification"),
}


def detect_kind(data: Any) -> str:
    """Which Sonata document this is, from the fields it carries."""
    if isinstance(data, dict):
        answered = "id" in data
        if "eventType" in data:
            return "notification"
        if "quoteItem" in data:
            return "quote" if answered else "quote-request"
        if "productOrderItem" in data:
            return "product-order" if answered else "product-order-request"
        if "productOrder" in data:
            return "cancel-product-order-request"
        if "quoteId" in data:
            return "quote-operation"
        if "relatedEntity" in data or "ticketType" in data:
            return "trouble-ticket" if answered else "trouble-ticket-request"
        if "callback" in data:
            return "hub-subscription"
    raise InvalidInput(
        "cannot tell the document kind (no quoteItem, productOrderItem, productOrder, quoteId, "
        "relatedEntity, callback or eventType): give --kind"
    )


def check(kind: str, data: Any) -> str:
    """Validate `data` as `kind`; returns the model (and API) it satisfied.

    The pre-check (the models compiled, cached, no pydantic) answers for every document it can judge
    exactly; the models themselves judge the rest and word every refusal."""
    from offnet.sonata.precheck import load

    precheck = load()
    name, api = KINDS[kind]
    if kind != "notification":
        if not precheck.judge(name, data):
            from offnet.sonata import models

            models.validate(getattr(models, name), data)
        return f"{name} ({api})"
    event_type = data.get("eventType") if isinstance(data, dict) else None
    envelope = precheck.envelope(event_type)
    if envelope is not None and precheck.judge(envelope[0], data):
        envelope_name, notification, version = envelope
        return f"{envelope_name} ({notification} v{version}, {event_type})"
    from offnet.sonata import models

    sonata_api = next((a for a in models.SONATA_APIS if event_type in a.events), None)
    if sonata_api is None:
        raise InvalidInput(f"unknown notification eventType {event_type!r}")
    parsed = models.parse_notification(sonata_api.notification, event_type, data)
    return f"{type(parsed).__name__} ({sonata_api.notification} v{sonata_api.version}, {event_type})"


@click.group()
def sonata() -> None:
    """MEF LSO Sonata documents and the reference seller."""


# FILE as typed, not offnet.cli.options' path_argument: that module and pathlib are not loaded.
@sonata.command("validate")
@click.argument("file", type=click.Path())
@click.option("--kind", type=click.Choice(list(KINDS)), help="document kind [default: detected]")
@json_option
def validate_(file: str, kind: str | None, as_json: bool) -> None:
    """Validate FILE as MEF's schemas judge it (quote, order, cancellation, trouble ticket, hub or
    notification, requests and answers); print its canonical keccak-256."""
    from offnet.sonata.canonical import document_hash

    data = read_json(file, "Sonata document")
    kind = kind or detect_kind(data)
    model = check(kind, data)
    digest = "0x" + document_hash(data).hex()
    if as_json:
        echo_json({"file": file, "kind": kind, "model": model, "valid": True, "keccak256": digest})
    else:
        say(f"valid {kind}: {model}")
        say(digest)


def _pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    result = {}
    for value in values:
        key, sep, buyer = value.rpartition("=")
        if not sep or not key or not buyer:
            raise InvalidInput(f"invalid {what} {value!r}: expected {what.upper()}=BUYER_ID")
        result[key] = buyer
    return result


@sonata.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.option("--profile", default="prompt-and-punctual", show_default=True, help="seller behaviour profile")
@click.option("--seed", default="0", show_default=True, help="seed of the seller's random behaviour")
@click.option(
    "--token", "tokens", multiple=True, help="static bearer token allowed: TOKEN=BUYER_ID (repeatable)"
)
@click.option(
    "--client",
    "clients",
    multiple=True,
    help="OAuth2 client credentials allowed: CLIENT_ID:SECRET=BUYER_ID (repeatable)",
)
@click.option("--notification-token", help="bearer token sent with notifications to buyers' hubs")
@click.option(
    "--clock-rate", type=float, default=1.0, show_default=True, help="simulated seconds per real second"
)
@click.option(
    "--tick-seconds", type=float, default=1.0, show_default=True, help="how often the seller moves orders"
)
@click.option("--seller-id", default="offnet-seller", show_default=True)
@click.option(
    "--database", help="SQLite file (or SQLAlchemy URL) that keeps quotes, orders and tickets across restarts"
)
@click.option("--log-level", default="info", show_default=True)
def seller(
    host,
    port,
    profile,
    seed,
    tokens,
    clients,
    notification_token,
    clock_rate,
    tick_seconds,
    seller_id,
    log_level,
    database,
) -> None:
    """Run the reference Sonata seller (quotes, product orders, trouble tickets) until interrupted."""
    from offnet.sonata.seller import PRESETS, run_seller

    if profile not in PRESETS:
        raise InvalidInput(f"unknown seller profile {profile!r}; known: {', '.join(sorted(PRESETS))}")
    client_map = {}
    for key, buyer in _pairs(clients, "client").items():
        client_id, sep, secret = key.partition(":")
        if not sep:
            raise InvalidInput(f"invalid client {key!r}: expected CLIENT_ID:SECRET=BUYER_ID")
        client_map[client_id] = (secret, buyer)
    run_seller(
        host,
        port,
        profile,
        int(seed) if seed.isdigit() else seed,
        tokens=_pairs(tokens, "token") or None,
        clients=client_map or None,
        notification_token=notification_token,
        clock_rate=clock_rate,
        tick_seconds=tick_seconds,
        seller_id=seller_id,
        log_level=log_level,
        database=database,
    )
