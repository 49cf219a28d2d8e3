"""Sonata models: the example payloads validate and round-trip unchanged, carriers' extensions are
kept, bad payloads are refused with a message naming the field, and values convert to chain units."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from offnet.sonata import models
from offnet.sonata.canonical import canonical_json, document_hash
from offnet.sonata.examples import example_names, load_example, notification_examples
from offnet.sonata.models import (
    ACCESS_ELINE_OVC_TYPE,
    EventSubscriptionInput,
    ProductOrder,
    ProductOrderCreate,
    Quote,
    QuoteCreate,
    QuoteEvent,
    QuoteState,
    TroubleTicket,
    TroubleTicketCreate,
    interval_to_seconds,
    parse_notification,
    rfc3339_to_unix,
    validate,
)

DOCUMENTS = {
    "quote_create": QuoteCreate,
    "quote": Quote,
    "product_order_create": ProductOrderCreate,
    "product_order": ProductOrder,
    "trouble_ticket_create": TroubleTicketCreate,
    "trouble_ticket": TroubleTicket,
}


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_example__validates_and_dumps_back_identically(name: str) -> None:
    raw = load_example(name)
    assert validate(DOCUMENTS[name], raw).to_json() == raw


def test_examples__every_file_is_covered_by_a_test() -> None:
    notifications = {f"notifications/{api}.{event}" for api, event, _ in notification_examples()}
    assert set(example_names()) == set(DOCUMENTS) | notifications | {"access_eline_configuration"}
    assert len(notifications) == 8


def test_quote__reads_the_fields_offnet_relies_on() -> None:
    quote = validate(Quote, load_example("quote"))
    item = quote.item("1")
    assert quote.state is QuoteState.APPROVED_ORDERABLE
    assert rfc3339_to_unix(quote.effectiveQuoteCompletionDate) == 1769787730
    assert rfc3339_to_unix(quote.requestedQuoteCompletionDate) == 1770138000
    assert interval_to_seconds(item.quoteItemInstallationInterval) == 25 * 86_400
    assert [
        (p.priceType, p.recurringChargePeriod, p.price.dutyFreeAmount.value) for p in item.quoteItemPrice
    ] == [("nonRecurring", None, 900), ("recurring", "month", 412.5)]
    assert item.product.productConfiguration.type == ACCESS_ELINE_OVC_TYPE
    with pytest.raises(LookupError, match="no item '2' in quote Q-7F3A2C"):
        quote.item("2")


def test_order_and_ticket__read_the_sla_dates() -> None:
    order = validate(ProductOrder, load_example("product_order"))
    item = order.item("1")
    assert (item.quoteItem.id, item.quoteItem.quoteId) == ("1", "Q-7F3A2C")
    assert rfc3339_to_unix(item.expectedCompletionDate) == 1772064000
    assert rfc3339_to_unix(item.completionDate) == 1772190300
    ticket = validate(TroubleTicket, load_example("trouble_ticket"))
    assert rfc3339_to_unix(ticket.resolutionDate) - rfc3339_to_unix(ticket.outage_start()) == 6_600


def test_unknown_fields__are_kept_at_every_level() -> None:
    raw = load_example("quote")
    raw["x-carrierReference"] = {"system": "BSS-9", "ref": 42}
    raw["quoteItem"][0]["x-priceBook"] = "2026-Q1"
    raw["quoteItem"][0]["quoteItemPrice"][0]["price"]["x-discount"] = 0
    raw["quoteItem"][0]["product"]["productConfiguration"]["uniEp"]["x-portSpeed"] = "10G"
    dumped = validate(Quote, copy.deepcopy(raw)).to_json()
    assert dumped == raw


def _mutate(name: str, path: str, value: Any) -> dict[str, Any]:
    document = load_example(name)
    *parents, last = path.split(".")
    target: Any = document
    for key in parents:
        target = target[int(key)] if key.isdigit() else target[key]
    if value is _DELETE:
        del target[int(last) if last.isdigit() else last]
    else:
        target[int(last) if last.isdigit() else last] = value
    return document


_DELETE = object()


@pytest.mark.parametrize(
    ("name", "path", "value", "message"),
    [
        ("quote", "state", "approved", "state: Input should be 'accepted'"),
        ("quote", "effectiveQuoteCompletionDate", 1769787730, "expected an RFC 3339 date-time"),
        ("quote", "effectiveQuoteCompletionDate", "2026-01-30T15:42:10", "expected an RFC 3339 date-time"),
        ("quote", "effectiveQuoteCompletionDate", "2026-01-30", "expected an RFC 3339 date-time"),
        (
            "quote",
            "quoteItem.0.quoteItemPrice.1.price.dutyFreeAmount.value",
            "412.5",
            "expected a JSON number",
        ),
        (
            "quote",
            "quoteItem.0.quoteItemPrice.1.price.dutyFreeAmount.value",
            -1,
            None,  # the schemas put no bound on a Money value
        ),
        ("quote", "quoteItem.0.quoteItemPrice.1.price.dutyFreeAmount.unit", 978, "dutyFreeAmount.unit"),
        (
            "quote",
            "quoteItem.0.quoteItemPrice.1.recurringChargePeriod",
            _DELETE,
            None,  # optional in the schema
        ),
        (
            "quote",
            "quoteItem.0.quoteItemInstallationInterval.units",
            "days",
            "quoteItemInstallationInterval.units",
        ),
        (
            "quote",
            "quoteItem.0.quoteItemInstallationInterval.amount",
            2.5,
            "quoteItemInstallationInterval.amount",
        ),
        ("quote", "quoteItem.0.state", "approved", "quoteItem.0.state"),
        ("quote", "id", 7, "id: Input should be a valid string"),
        ("quote", "quoteDate", _DELETE, "quoteDate: required property missing"),
        ("quote", "instantSyncQuote", "yes", "instantSyncQuote: Input should be a valid boolean"),
        (
            "quote_create",
            "buyerRequestedQuoteLevel",
            _DELETE,
            "buyerRequestedQuoteLevel: required property missing",
        ),
        ("quote_create", "quoteItem.0.requestedQuoteItemTerm.endOfTermAction", _DELETE, "endOfTermAction"),
        ("quote_create", "quoteItem.0.requestedQuoteItemTerm.endOfTermAction", "stop", "endOfTermAction"),
        ("quote", "quoteItem.0.note.0.author", _DELETE, "note.0.author: required property missing"),
        ("quote", "quoteItem.0.note.0.source", "customer", "note.0.source"),
        ("quote_create", "quoteItem.0.product.place.0.@type", _DELETE, "place.0.@type"),
        ("quote_create", "quoteItem.0.product.place.0.@type", "Somewhere", "is not a place kind"),
        (
            "quote_create",
            "quoteItem.0.product.place.0.city",
            _DELETE,
            "not a valid FieldedAddress: city: required property missing",
        ),
        ("product_order_create", "relatedContactInformation", _DELETE, "relatedContactInformation"),
        (
            "product_order_create",
            "relatedContactInformation.0.name",
            _DELETE,
            "name: required property missing",
        ),
        ("product_order_create", "productOrderItem.0.expediteIndicator", "yes", "expediteIndicator"),
        ("product_order_create", "productOrderItem.0.billingAccount", {}, "billingAccount.id"),
        ("product_order", "productOrderItem.0.state", "held", None),
        ("product_order", "productOrderItem.0.state", _DELETE, None),
        ("trouble_ticket_create", "observedImpact", "unavailable", "observedImpact"),
        ("trouble_ticket_create", "observedImpact", _DELETE, "observedImpact"),
        ("trouble_ticket", "sellerPriority", _DELETE, "sellerPriority"),
        ("trouble_ticket_create", "relatedEntity.0.@referredType", _DELETE, "@referredType"),
        ("quote", "quoteItem", [], "quoteItem: List should have at least 1 item"),
        (
            "quote_create",
            "quoteItem.0.product.productConfiguration.@type",
            _DELETE,
            "productConfiguration.@type",
        ),
        (
            "product_order_create",
            "productOrderItem.0.quoteItem.quoteId",
            _DELETE,
            "quoteItem.quoteId: required property missing",
        ),
        ("product_order", "productOrderItem.0.state", "done", "productOrderItem.0.state"),
        ("product_order", "productOrderItem.0.completionDate", "yesterday", "completionDate"),
        ("trouble_ticket", "status", "open", "status: Input should be"),
        ("trouble_ticket", "resolutionDate", None, "resolutionDate: Value error, must not be null"),
        ("trouble_ticket_create", "relatedEntity", [], "relatedEntity: List should have at least 1 item"),
    ],
)
def test_bad_payload__is_refused_naming_the_field(
    name: str, path: str, value: Any, message: str | None
) -> None:
    document = _mutate(name, path, value)
    if message is None:
        validate(DOCUMENTS[name], document)
        return
    with pytest.raises(ValueError, match=f"^invalid {DOCUMENTS[name].__name__}: .*{_escape(message)}"):
        validate(DOCUMENTS[name], document)


def _escape(text: str) -> str:
    return re.escape(text)


# --- notifications ---


@pytest.mark.parametrize(
    ("api", "event_type", "body"),
    notification_examples(),
    ids=[f"{a}.{e}" for a, e, _ in notification_examples()],
)
def test_notification__example_parses_to_its_typed_envelope(api: str, event_type: str, body: dict) -> None:
    envelope = parse_notification(api, event_type, json.dumps(body).encode())
    assert envelope.eventType == event_type
    assert envelope.to_json() == body


def test_notification__api_segment_may_carry_the_version() -> None:
    body = load_example("notifications/quoteNotification.quoteItemStateChangeEvent")
    envelope = parse_notification("quoteNotification/v8", "quoteItemStateChangeEvent", body)
    assert isinstance(envelope, QuoteEvent)
    assert envelope.event.quoteItemId == "1"


def _quote_event(**changes: Any) -> dict[str, Any]:
    body = load_example("notifications/quoteNotification.quoteItemStateChangeEvent")
    body.update(changes)
    return body


@pytest.mark.parametrize(
    ("api", "event_type", "body", "message"),
    [
        (
            "orderNotification",
            "quoteStateChangeEvent",
            _quote_event(),
            "unknown Sonata notification API 'orderNotification'",
        ),
        ("quoteNotification/v7", "quoteStateChangeEvent", _quote_event(), "unknown Sonata notification API"),
        (
            "quoteNotification",
            "quoteDeletedEvent",
            _quote_event(eventType="quoteDeletedEvent"),
            "unknown quoteNotification event type 'quoteDeletedEvent'",
        ),
        ("quoteNotification", "quoteItemStateChangeEvent", b"{not json", "notification body is not JSON"),
        (
            "quoteNotification",
            "quoteItemStateChangeEvent",
            b"[1, 2]",
            "notification body must be a JSON object",
        ),
        ("quoteNotification", "quoteItemStateChangeEvent", _quote_event(eventId=None), "eventId"),
        (
            "quoteNotification",
            "quoteItemStateChangeEvent",
            _quote_event(eventTime="2026-01-30 15:42"),
            "eventTime",
        ),
        (
            "quoteNotification",
            "quoteItemStateChangeEvent",
            _quote_event(event={"quoteItemId": "1"}),
            "event.id",
        ),
        (
            "quoteNotification",
            "quoteItemStateChangeEvent",
            _quote_event(eventType="productOrderStateChangeEvent"),
            "eventType: Input should be 'quoteStateChangeEvent' or 'quoteItemStateChangeEvent'",
        ),
    ],
)
def test_notification__bad_input_raises_a_clear_value_error(
    api: str, event_type: str, body: Any, message: str
) -> None:
    with pytest.raises(ValueError, match=_escape(message)):
        parse_notification(api, event_type, body)


def test_listener_path__is_the_mef_path_for_each_api() -> None:
    assert (
        models.QUOTE_API.listener_path("quoteStateChangeEvent")
        == "/mefApi/sonata/quoteNotification/v8/listener/quoteStateChangeEvent"
    )
    assert (
        models.PRODUCT_ORDER_API.listener_path("productOrderItemExpectedCompletionDateSet")
        == "/mefApi/sonata/productOrderingNotification/v10/listener/productOrderItemExpectedCompletionDateSet"
    )
    assert (
        models.TROUBLE_TICKET_API.listener_path("troubleTicketStatusChangeEvent")
        == "/mefApi/sonata/troubleTicketNotification/v4/listener/troubleTicketStatusChangeEvent"
    )
    assert models.TROUBLE_TICKET_API.management_base == "/mefApi/sonata/troubleTicket/v4"
    with pytest.raises(
        ValueError, match="'quoteStateChangeEvent' is not a troubleTicketNotification event type"
    ):
        models.TROUBLE_TICKET_API.listener_path("quoteStateChangeEvent")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (None, None),
        ("", None),
        ("eventType=quoteStateChangeEvent", {"quoteStateChangeEvent"}),
        (
            "eventType=quoteStateChangeEvent, quoteItemStateChangeEvent",
            {"quoteStateChangeEvent", "quoteItemStateChangeEvent"},
        ),
    ],
)
def test_hub_query__names_the_event_types(query: str | None, expected: set[str] | None) -> None:
    hub = EventSubscriptionInput(
        callback="https://buyer.example/listener", **({"query": query} if query is not None else {})
    )
    assert hub.event_types() == (frozenset(expected) if expected else None)


def test_hub_query__other_clauses_and_bad_callbacks_are_refused() -> None:
    with pytest.raises(ValueError, match="unsupported hub query clause 'state=done'"):
        EventSubscriptionInput(callback="https://b.example", query="state=done").event_types()
    with pytest.raises(ValueError, match="callback"):
        validate(EventSubscriptionInput, {"callback": 42})


# --- canonical hashing ---


def test_canonical_hash__is_the_same_for_raw_parsed_and_reparsed_documents() -> None:
    raw = load_example("quote")
    parsed = validate(Quote, raw)
    reparsed = validate(Quote, json.loads(canonical_json(parsed)))
    assert document_hash(raw) == document_hash(parsed) == document_hash(reparsed)


def test_canonical_hash__ignores_key_order_and_whitespace_but_not_values() -> None:
    raw = load_example("quote")
    shuffled = json.loads(json.dumps(raw, indent=7, sort_keys=True))
    assert document_hash(validate(Quote, shuffled)) == document_hash(raw)
    raw["quoteItem"][0]["quoteItemPrice"][1]["price"]["dutyFreeAmount"]["value"] = 412.51
    assert document_hash(validate(Quote, raw)) != document_hash(load_example("quote"))


def test_canonical_hash__of_the_example_quote_is_pinned() -> None:
    # Pinned: a change here means every carrier's stored RFQ/quote hashes would change too.
    assert document_hash(validate(Quote, load_example("quote"))).hex() == PINNED_QUOTE_HASH


PINNED_QUOTE_HASH = "40f3350ee85740a43e5bdfc043f29423cf1aa087bd6d1a686e4f63702f664764"


# --- units on chain ---


@pytest.mark.parametrize("example", example_names())
def test_canonical_hash__is_ethereums_keccak_256(example: str) -> None:
    from eth_hash.auto import keccak

    document = load_example(example)
    assert document_hash(document) == keccak(canonical_json(document))
