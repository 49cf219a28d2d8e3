"""offnet's Sonata models against MEF's schemas, document by document: every kind offnet reads or
writes, with documents generated from the specs and MEF-invalid mutants built from offnet's own
examples. The verdicts must agree both ways: a document MEF's schemas accept is accepted (the two
departures of MEF's own Access E-Line use cases included), one they refuse is refused."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
from conformance_support import BOUNDED, EXAMPLES_PER_OPERATION, Report
from hypothesis import given, settings
from mef import NOTIFICATION_SPECS, SELLER_SPECS, Judge, access_eline_configurations, documents

from offnet.sonata import models as m
from offnet.sonata import precheck
from offnet.sonata.examples import load_example
from offnet.sonata.precheck import Precheck
from offnet.testing.mutants import DELETE, mutants, mutate

# kind -> (spec, schema, model)
KINDS: dict[str, tuple[str, str, type]] = {
    "quote request": (SELLER_SPECS["quote"], "Quote_Create", m.QuoteCreate),
    "quote": (SELLER_SPECS["quote"], "Quote", m.Quote),
    "quote operation": (SELLER_SPECS["quote"], "QuoteOperationData", m.QuoteOperation),
    "quote list entry": (SELLER_SPECS["quote"], "Quote_Find", m.QuoteSummary),
    "hub request": (SELLER_SPECS["quote"], "EventSubscriptionInput", m.EventSubscriptionInput),
    "hub answer": (SELLER_SPECS["productOrder"], "EventSubscription", m.EventSubscription),
    "product order request": (SELLER_SPECS["productOrder"], "ProductOrder_Create", m.ProductOrderCreate),
    "product order": (SELLER_SPECS["productOrder"], "ProductOrder", m.ProductOrder),
    "product order list entry": (SELLER_SPECS["productOrder"], "ProductOrder_Find", m.ProductOrderSummary),
    "cancellation request": (
        SELLER_SPECS["productOrder"],
        "CancelProductOrder_Create",
        m.CancelProductOrderCreate,
    ),
    "cancellation": (SELLER_SPECS["productOrder"], "CancelProductOrder", m.CancelProductOrder),
    "trouble ticket request": (SELLER_SPECS["troubleTicket"], "TroubleTicket_Create", m.TroubleTicketCreate),
    "trouble ticket": (SELLER_SPECS["troubleTicket"], "TroubleTicket", m.TroubleTicket),
    "trouble ticket update": (SELLER_SPECS["troubleTicket"], "TroubleTicket_Update", m.TroubleTicketUpdate),
    "trouble ticket list entry": (
        SELLER_SPECS["troubleTicket"],
        "TroubleTicket_Find",
        m.TroubleTicketSummary,
    ),
    "reopen reason": (SELLER_SPECS["troubleTicket"], "Reason", m.Reason),
    "quote event": (NOTIFICATION_SPECS["quote"], "Event", m.QuoteEvent),
    "product order event": (NOTIFICATION_SPECS["productOrder"], "ProductOrderEvent", m.ProductOrderEvent),
    "cancellation event": (
        NOTIFICATION_SPECS["productOrder"],
        "CancelProductOrderEvent",
        m.CancelProductOrderEvent,
    ),
    "charge event": (NOTIFICATION_SPECS["productOrder"], "ChargeEvent", m.ChargeEvent),
    "delivery date event": (
        NOTIFICATION_SPECS["productOrder"],
        "ModifyProductOrderItemRequestedDeliveryDateEvent",
        m.ModifyRequestedDeliveryDateEvent,
    ),
    "trouble ticket event": (NOTIFICATION_SPECS["troubleTicket"], "TroubleTicketEvent", m.TroubleTicketEvent),
    "incident event": (NOTIFICATION_SPECS["troubleTicket"], "IncidentEvent", m.IncidentEvent),
}
GENERATION = settings(BOUNDED, max_examples=EXAMPLES_PER_OPERATION * 2)


@functools.cache
def _precheck() -> Precheck:
    return precheck.load()


def accepts(model: type, document: Any) -> bool:
    """The models' verdict; the pre-check of `offnet sonata validate`, where it gives one, gives the
    same (so every document of this suite also judges the pre-check)."""
    try:
        m.validate(model, document)
        accepted = True
    except ValueError:
        accepted = False
    fast = _precheck().judge(model.__name__, document)
    assert fast in (None, accepted), (
        f"the pre-check {'accepts' if fast else 'refuses'} what the models "
        f"{'accept' if accepted else 'refuse'}: {document!r:.600}"
    )
    return accepted


def agree(
    judge: Judge, report: Report, kind: str, document: Any, spec: str, schema: str, model: type
) -> None:
    verdict = judge.judge(spec, schema, document)
    accepted = accepts(model, document)
    assert accepted == verdict.valid, (
        f"{kind}: MEF {'accepts' if verdict.valid else 'refuses'} it "
        f"({'; '.join(verdict.errors[:3])}), offnet {'accepts' if accepted else 'refuses'} it: {document!r:.600}"
    )
    (report.valid_documents if accepted else report.invalid_documents)[kind] += 1


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_documents_generated_from_the_specs__get_the_schemas_verdict(
    kind: str, sdk: Path, judge: Judge, report: Report
) -> None:
    spec, schema, model = KINDS[kind]

    @given(document=documents(sdk, spec, schema))
    @GENERATION
    def run(document: Any) -> None:
        agree(judge, report, kind, document, spec, schema, model)

    run()
    assert report.valid_documents[kind] > 0


def test_access_eline_configurations_generated_from_the_product_schema__are_accepted(
    sdk: Path, judge: Judge, report: Report
) -> None:
    spec, schema, model = KINDS["quote request"]

    @given(configuration=access_eline_configurations(sdk))
    @GENERATION
    def run(configuration: dict[str, Any]) -> None:
        agree(
            judge, report, "Access E-Line configuration", _quote_request(configuration), spec, schema, model
        )

    run()
    assert report.valid_documents["Access E-Line configuration"] > 0


def _quote_request(configuration: dict[str, Any]) -> dict[str, Any]:
    request = load_example("quote_create")
    request["quoteItem"][0]["product"]["productConfiguration"] = configuration
    return request


# --- mutants ---------------------------------------------------------------------------------------

SEEDS: dict[str, list[str]] = {
    "quote request": ["quote_create"],
    "quote": ["quote"],
    "product order request": ["product_order_create"],
    "product order": ["product_order"],
    "trouble ticket request": ["trouble_ticket_create"],
    "trouble ticket": ["trouble_ticket"],
    "quote event": [
        "notifications/quoteNotification.quoteStateChangeEvent",
        "notifications/quoteNotification.quoteItemStateChangeEvent",
    ],
    "product order event": [
        "notifications/productOrderingNotification.productSpecificProductOrderItemMilestoneEvent"
    ],
    "trouble ticket event": ["notifications/troubleTicketNotification.troubleTicketResolvedEvent"],
}


CONTACTS = load_example("product_order_create")["relatedContactInformation"]
EVENT = {"eventId": "EV-1", "eventTime": "2026-03-01T10:00:00Z", "event": {"id": "PO-1", "href": "/x/PO-1"}}
# Seeds of the kinds without an example file, written here.
INLINE: dict[str, list[dict[str, Any]]] = {
    "quote operation": [{"quoteId": "Q-1", "reason": "moved"}],
    "hub request": [
        {"callback": "https://buyer.example/listener", "query": "eventType=quoteStateChangeEvent"}
    ],
    "hub answer": [{"id": "HUB-1", "callback": "https://buyer.example/listener", "query": "eventType=x"}],
    "cancellation request": [
        {
            "productOrder": {"productOrderId": "PO-1"},
            "relatedContactInformation": CONTACTS,
            "cancellationReasonType": "technical",
        }
    ],
    "cancellation": [
        {
            "id": "CPO-1",
            "state": "done",
            "productOrder": {"productOrderId": "PO-1"},
            "relatedContactInformation": CONTACTS,
        }
    ],
    "trouble ticket update": [
        {"severity": "minor", "observedImpact": "degraded", "issueStartDate": "2026-03-01T10:00:00Z"}
    ],
    "reopen reason": [{"reason": "down again"}],
    "charge event": [EVENT | {"eventType": "chargeTimeoutEvent"}],
    "cancellation event": [EVENT | {"eventType": "cancelProductOrderStateChangeEvent"}],
    "delivery date event": [
        EVENT | {"eventType": "modifyProductOrderItemRequestedDeliveryDateStateChangeEvent"}
    ],
    "incident event": [EVENT | {"eventType": "incidentStatusChangeEvent"}],
}


@pytest.mark.parametrize("kind", sorted({*SEEDS, *INLINE}))
def test_mutants_of_offnets_examples__get_the_schemas_verdict(
    kind: str, judge: Judge, report: Report
) -> None:
    spec, schema, model = KINDS[kind]
    before = report.invalid_documents[kind]
    seeds = [load_example(name) for name in SEEDS.get(kind, [])] + INLINE.get(kind, [])
    for seed in seeds:
        assert judge.judge(spec, schema, seed).valid and accepts(model, seed)
        for mutant in mutants(seed):
            agree(judge, report, kind, mutant, spec, schema, model)
    assert report.invalid_documents[kind] > before


def test_mutants_of_an_access_eline_configuration__get_the_product_schemas_verdict(
    judge: Judge, report: Report
) -> None:
    spec, schema, model = KINDS["quote request"]
    for mutant in mutants(load_example("access_eline_configuration")):
        if isinstance(mutant, dict) and mutant.get("@type") == m.ACCESS_ELINE_OVC_TYPE:
            agree(judge, report, "Access E-Line configuration", _quote_request(mutant), spec, schema, model)
    assert report.invalid_documents["Access E-Line configuration"] > 0


# The classes an outside run found accepted, named: each is MEF-invalid and refused.
NAMED = [
    ("quote request", "quote_create", ["buyerRequestedQuoteLevel"], DELETE),
    ("quote request", "quote_create", ["instantSyncQuote"], DELETE),
    ("quote request", "quote_create", ["instantSyncQuote"], "yes"),
    ("quote request", "quote_create", ["quoteItem", 0, "requestedQuoteItemTerm", "endOfTermAction"], DELETE),
    ("quote request", "quote_create", ["quoteItem", 0, "requestedQuoteItemTerm", "endOfTermAction"], "stop"),
    ("quote", "quote", ["quoteItem", 0, "note", 0, "author"], DELETE),
    ("quote", "quote", ["quoteItem", 0, "note", 0, "date"], DELETE),
    ("quote", "quote", ["quoteItem", 0, "note", 0, "source"], DELETE),
    ("quote request", "quote_create", ["quoteItem", 0, "product", "place", 0, "@type"], DELETE),
    ("quote request", "quote_create", ["relatedContactInformation", 0, "name"], DELETE),
    ("product order request", "product_order_create", ["relatedContactInformation"], DELETE),
    ("product order request", "product_order_create", ["productOrderItem", 0, "expediteIndicator"], "yes"),
    ("product order request", "product_order_create", ["productOrderItem", 0, "billingAccount"], {}),
    ("trouble ticket request", "trouble_ticket_create", ["observedImpact"], "unavailable"),
    ("trouble ticket request", "trouble_ticket_create", ["observedImpact"], DELETE),
    (
        "quote request",
        "quote_create",
        [*["quoteItem", 0, "product", "productConfiguration"], "maximumFrameSize"],
        "huge",
    ),
    (
        "quote request",
        "quote_create",
        [*["quoteItem", 0, "product", "productConfiguration"], "ceVlanIdPreservation"],
        "MAYBE",
    ),
    (
        "quote request",
        "quote_create",
        [
            *[
                "quoteItem",
                0,
                "product",
                "productConfiguration",
                "carrierEthernetSls",
                0,
                "slsCosNameEntry",
                0,
            ],
            *["oneWayFrameLossRatioPmMetric", 0, "oneWayFlrObjective"],
        ],
        150,
    ),
]


@pytest.mark.parametrize(
    ("kind", "example", "path", "value"), NAMED, ids=[".".join(map(str, n[2][-2:])) for n in NAMED]
)
def test_the_mef_invalid_classes_found_outside__are_refused(
    kind: str, example: str, path: list[Any], value: Any, judge: Judge, report: Report
) -> None:
    spec, schema, model = KINDS[kind]
    document = mutate(load_example(example), path, value)
    assert not judge.judge(spec, schema, document).valid
    assert not accepts(model, document)
