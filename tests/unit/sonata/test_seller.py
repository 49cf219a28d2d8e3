"""The reference seller over real HTTP: state machines on its simulated clock, notifications at the
exact MEF listener paths, behaviour profiles, in-life measurements, authentication and bad input."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sonata_support import BUYER_TOKEN, DAY, NOTIFY_TOKEN, OTHER_BUYER_TOKEN, START, Listener, RunningSeller

from offnet.sonata.examples import load_example
from offnet.sonata.models import (
    ProductOrder,
    Quote,
    TroubleTicket,
    parse_notification,
    percent_to_ppm,
    validate,
)
from offnet.sonata.seller import PRESETS, BehaviourProfile, get_profile

QUOTE = "/mefApi/sonata/quoteManagement/v8"
ORDER = "/mefApi/sonata/productOrderingManagement/v10"
TICKET = "/mefApi/sonata/troubleTicket/v4"
HOUR = 3_600


def hub(seller: RunningSeller, base: str, listener: Listener, query: str | None = None) -> str:
    body = {"callback": listener.url, **({"query": query} if query else {})}
    response = seller.post(f"{base}/hub", body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def get(seller: RunningSeller, path: str) -> dict[str, Any]:
    response = seller.http.get(path)
    assert response.status_code == 200, response.text
    return response.json()


def refusal(response: httpx.Response, status: int) -> str:
    """The MEF error of a refused request, one line per issue (a 422 is an array of Error422)."""
    assert response.status_code == status, response.text
    body = response.json()
    if status == 422:
        assert isinstance(body, list) and body, body
    entries = body if isinstance(body, list) else [body]
    for entry in entries:
        assert len(entry["reason"]) <= 255 and entry["code"]
    return "; ".join(f"{e['code']}: {e['message']}" for e in entries)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- quotes ---


def test_quote__moves_acknowledged_in_progress_approved_and_notifies_each_step(
    seller: RunningSeller, listener: Listener
) -> None:
    hub(seller, QUOTE, listener)
    created = seller.quote()
    assert (created["state"], created["quoteItem"][0]["state"]) == ("acknowledged", "acknowledged")
    assert created["quoteDate"] == "2026-01-27T09:00:00Z"
    assert created["externalId"] == "BUYER-RFQ-2026-0042"  # the request's fields are kept
    assert listener.events() == []

    seller.advance(3 * DAY)

    quote = validate(Quote, get(seller, f"{QUOTE}/quote/{created['id']}"))
    assert quote.state.value == "approved.orderable"
    assert [c.state.value for c in quote.stateChange] == ["acknowledged", "inProgress", "approved.orderable"]
    assert quote.effectiveQuoteCompletionDate == quote.stateChange[-1].changeDate
    assert quote.effectiveQuoteCompletionDate <= quote.requestedQuoteCompletionDate  # a punctual seller
    item = quote.item("1")
    assert 20 <= item.quoteItemInstallationInterval.amount <= 30
    install, monthly = (p.price.dutyFreeAmount.value for p in item.quoteItemPrice)
    assert 800 <= install <= 1200 and 350 <= monthly <= 450
    assert quote.validFor.endDateTime - quote.validFor.startDateTime == timedelta(days=30)
    assert listener.types() == [
        "quoteStateChangeEvent",
        "quoteItemStateChangeEvent",
        "quoteStateChangeEvent",
        "quoteItemStateChangeEvent",
    ]


def test_notifications__are_thin_envelopes_at_the_mef_listener_paths_with_the_sellers_token(
    seller: RunningSeller, listener: Listener
) -> None:
    hub(seller, QUOTE, listener)
    quote_id = seller.quote()["id"]
    seller.advance(3 * DAY)
    received = listener.events()
    assert {r.path for r in received} == {
        "/mefApi/sonata/quoteNotification/v8/listener/quoteStateChangeEvent",
        "/mefApi/sonata/quoteNotification/v8/listener/quoteItemStateChangeEvent",
    }
    assert {r.authorization for r in received} == {f"Bearer {NOTIFY_TOKEN}"}
    assert {r.content_type for r in received} == {"application/json"}
    for r in received:
        api, event_type = r.path.split("/")[3], r.path.rsplit("/", 1)[1]
        envelope = parse_notification(api, event_type, r.body)
        assert (envelope.event.id, envelope.event.buyerId, envelope.event.sellerId) == (
            quote_id,
            "buyer-a",
            "offnet-seller",
        )
        assert envelope.event.href == f"{QUOTE}/quote/{quote_id}"
        assert set(r.body["event"]) <= {"id", "href", "buyerId", "sellerId", "quoteItemId"}
    assert len({r.body["eventId"] for r in received}) == len(received)
    times = [at(r.body["eventTime"]) for r in received]
    assert times == sorted(times) and times[0] > START


def test_hub_query__limits_the_event_types_and_unregistering_stops_them(
    seller: RunningSeller, listener: Listener
) -> None:
    subscription = hub(seller, QUOTE, listener, "eventType=quoteStateChangeEvent")
    seller.quote()
    seller.advance(3 * DAY)
    assert listener.types() == ["quoteStateChangeEvent", "quoteStateChangeEvent"]
    assert seller.http.delete(f"{QUOTE}/hub/{subscription}").status_code == 204
    seller.quote()
    seller.advance(3 * DAY)
    assert len(listener.events()) == 2


def test_hub__unknown_event_type_in_query__is_refused(seller: RunningSeller, listener: Listener) -> None:
    response = seller.post(f"{QUOTE}/hub", {"callback": listener.url, "query": "eventType=orderDone"})
    assert response.status_code == 400
    assert response.json()["message"] == "unknown quoteNotification event types: orderDone"


def test_notifications__go_only_to_the_buyer_that_owns_the_resource(
    seller: RunningSeller, listener: Listener
) -> None:
    other = seller.http.post(
        f"{QUOTE}/hub",
        json={"callback": listener.url},
        headers={"Authorization": f"Bearer {OTHER_BUYER_TOKEN}"},
    )
    assert other.status_code == 201
    seller.quote()
    seller.advance(3 * DAY)
    assert listener.events() == []


def test_instant_sync_quote__is_answered_in_the_response(seller: RunningSeller) -> None:
    quote = seller.quote(instantSyncQuote=True)
    assert quote["state"] == "approved.orderable"
    assert quote["effectiveQuoteCompletionDate"] == "2026-01-27T09:00:00Z"


def test_cancel_quote__only_while_in_progress(seller: RunningSeller, listener: Listener) -> None:
    hub(seller, QUOTE, listener)
    pending = seller.quote()["id"]
    too_early = seller.post(f"{QUOTE}/cancelQuote", {"quoteId": pending})
    assert refusal(too_early, 422) == (
        f"invalidValue: /quoteId: quote {pending} is acknowledged; only a quote in progress can be cancelled"
    )
    seller.advance(HOUR // 2)
    assert get(seller, f"{QUOTE}/quote/{pending}")["state"] == "inProgress"
    cancelled = seller.post(f"{QUOTE}/cancelQuote", {"quoteId": pending, "reason": "not needed"})
    assert (cancelled.status_code, cancelled.json()) == (200, {"quoteId": pending, "reason": "not needed"})
    seller.advance(3 * DAY)
    assert get(seller, f"{QUOTE}/quote/{pending}")["state"] == "cancelled"  # never answered afterwards
    assert listener.types() == ["quoteStateChangeEvent", "quoteItemStateChangeEvent", "quoteStateChangeEvent"]

    answered = seller.orderable_quote()["id"]
    refused = seller.post(f"{QUOTE}/cancelQuote", {"quoteId": answered})
    assert refusal(refused, 422) == (
        f"invalidValue: /quoteId: quote {answered} is approved.orderable; only a quote in progress can be cancelled"
    )
    assert get(seller, f"{QUOTE}/quote/{answered}")["state"] == "approved.orderable"
    unknown = seller.post(f"{QUOTE}/cancelQuote", {"quoteId": "Q-none"})
    assert refusal(unknown, 422) == "referenceNotFound: /quoteId: no quote 'Q-none'"


def test_reject_quote__declines_an_approved_quote_which_then_cannot_be_ordered(seller: RunningSeller) -> None:
    quote_id = seller.orderable_quote()["id"]
    declined = seller.post(f"{QUOTE}/rejectQuote", {"quoteId": quote_id, "reason": "price"})
    assert (declined.status_code, declined.json()) == (200, {"quoteId": quote_id, "reason": "price"})
    assert get(seller, f"{QUOTE}/quote/{quote_id}")["state"] == "declined"
    refused = seller.order(quote_id)
    assert refusal(refused, 422).startswith("invalidValue: /productOrderItem/0/quoteItem: ")
    assert "is not orderable (quote is declined)" in refusal(refused, 422)


def test_quote__expires_after_its_validity(seller: RunningSeller) -> None:
    quote_id = seller.orderable_quote()["id"]
    seller.advance(31 * DAY)
    assert get(seller, f"{QUOTE}/quote/{quote_id}")["state"] == "expired"
    assert seller.order(quote_id).status_code == 422


# --- product orders ---


def test_order__accepts_the_quote_and_is_delivered_with_dates_and_notifications(
    seller: RunningSeller, listener: Listener
) -> None:
    quote = seller.orderable_quote()
    hub(seller, ORDER, listener)
    response = seller.order(quote["id"])
    assert response.status_code == 201, response.text
    order_id = response.json()["id"]
    assert response.json()["state"] == "acknowledged"
    assert get(seller, f"{QUOTE}/quote/{quote['id']}")["state"] == "accepted"

    seller.advance(6 * HOUR)
    order = validate(ProductOrder, get(seller, f"{ORDER}/productOrder/{order_id}"))
    item = order.item("1")
    assert (order.state.value, item.state.value) == ("inProgress", "inProgress")
    interval = timedelta(days=quote["quoteItem"][0]["quoteItemInstallationInterval"]["amount"])
    started = order.stateChange[-1].changeDate
    assert item.expectedCompletionDate == max(started + interval, item.requestedCompletionDate)
    assert listener.types() == [
        "productOrderStateChangeEvent",
        "productOrderItemStateChangeEvent",
        "productOrderItemExpectedCompletionDateSet",
    ]

    seller.advance(60 * DAY)
    order = validate(ProductOrder, get(seller, f"{ORDER}/productOrder/{order_id}"))
    item = order.item("1")
    assert (order.state.value, item.state.value) == ("completed", "completed")
    assert order.completionDate == item.completionDate <= item.expectedCompletionDate  # prompt and punctual
    assert [m.name for m in item.milestone] == ["siteSurveyDone"]
    assert listener.types()[3:] == [
        "productSpecificProductOrderItemMilestoneEvent",
        "productOrderItemStateChangeEvent",
        "productOrderStateChangeEvent",
    ]
    milestone = listener.events("productSpecificProductOrderItemMilestoneEvent")[0]
    assert milestone.path == (
        "/mefApi/sonata/productOrderingNotification/v10/listener/"
        "productSpecificProductOrderItemMilestoneEvent"
    )
    assert milestone.body["event"] | {"href": None} == {
        "id": order_id,
        "href": None,
        "orderItemId": "1",
        "milestoneName": "siteSurveyDone",
        "buyerId": "buyer-a",
        "sellerId": "offnet-seller",
    }


def test_late_seller__completes_after_its_committed_date(make_seller: Any) -> None:
    late = make_seller("cheap-but-late")
    quote = late.orderable_quote(days=10)
    assert quote["state"] == "approved.orderable"
    order_id = late.order(quote["id"]).json()["id"]
    late.advance(90 * DAY)
    item = validate(ProductOrder, get(late, f"{ORDER}/productOrder/{order_id}")).item("1")
    assert item.completionDate - item.expectedCompletionDate >= timedelta(days=5)


@pytest.mark.parametrize(
    ("reference", "code", "message"),
    [
        (
            {"id": "1", "quoteId": "Q-none"},
            "referenceNotFound",
            "/productOrderItem/0/quoteItem/quoteId: no quote 'Q-none'",
        ),
        (
            {"id": "9", "quoteId": "{quote}"},
            "referenceNotFound",
            "/productOrderItem/0/quoteItem/id: no item of quote {quote} '9'",
        ),
    ],
)
def test_order__unknown_quote_reference__is_refused_and_nothing_created(
    seller: RunningSeller, reference: dict[str, str], code: str, message: str
) -> None:
    quote_id = seller.orderable_quote()["id"]
    body = load_example("product_order_create")
    body["productOrderItem"][0]["quoteItem"] = {k: v.format(quote=quote_id) for k, v in reference.items()}
    response = seller.post(f"{ORDER}/productOrder", body)
    assert refusal(response, 422) == f"{code}: {message.format(quote=quote_id)}"
    assert seller.engine.orders == {}
    assert get(seller, f"{QUOTE}/quote/{quote_id}")["state"] == "approved.orderable"


def test_order__of_a_quote_still_in_progress__is_refused(seller: RunningSeller) -> None:
    quote_id = seller.quote()["id"]
    response = seller.order(quote_id)
    assert refusal(response, 422) == (
        f"invalidValue: /productOrderItem/0/quoteItem: quote {quote_id} item 1 is not orderable "
        "(quote is acknowledged)"
    )


def test_order__of_another_buyers_quote__is_not_found(seller: RunningSeller) -> None:
    quote_id = seller.orderable_quote()["id"]
    body = load_example("product_order_create")
    body["productOrderItem"][0]["quoteItem"] = {"id": "1", "quoteId": quote_id}
    response = seller.http.post(
        f"{ORDER}/productOrder", json=body, headers={"Authorization": f"Bearer {OTHER_BUYER_TOKEN}"}
    )
    assert refusal(response, 422).startswith("referenceNotFound: ")
    assert (
        seller.http.get(
            f"{QUOTE}/quote/{quote_id}", headers={"Authorization": f"Bearer {OTHER_BUYER_TOKEN}"}
        ).status_code
        == 404
    )


def test_cancel_order__before_completion_only(seller: RunningSeller, listener: Listener) -> None:
    quote_id = seller.orderable_quote()["id"]
    hub(seller, ORDER, listener)
    order_id = seller.order(quote_id).json()["id"]
    contacts = load_example("product_order_create")["relatedContactInformation"]
    request = {"productOrder": {"productOrderId": order_id}, "relatedContactInformation": contacts}
    cancel = seller.post(f"{ORDER}/cancelProductOrder", {**request, "cancellationReason": "moved"})
    assert cancel.status_code == 201, cancel.text
    assert (cancel.json()["state"], cancel.json()["productOrder"]) == (
        "acknowledged",
        {"productOrderId": order_id},
    )
    states = [get(seller, f"{ORDER}/productOrder/{order_id}")["state"]]
    seller.advance(HOUR // 2)
    states.append(get(seller, f"{ORDER}/productOrder/{order_id}")["state"])
    seller.advance(HOUR // 2)
    order = get(seller, f"{ORDER}/productOrder/{order_id}")
    assert [*states, order["state"]] == ["assessingCancellation", "pendingCancellation", "cancelled"]
    assert order["productOrderItem"][0]["state"] == "cancelled"
    assert order["completionDate"] == order["cancellationDate"] and order["cancellationReason"] == "moved"
    assert get(seller, f"{ORDER}/cancelProductOrder/{cancel.json()['id']}")["state"] == "done"
    seller.advance(90 * DAY)
    assert get(seller, f"{ORDER}/productOrder/{order_id}")["state"] == "cancelled"
    assert listener.types() == [
        "cancelProductOrderStateChangeEvent",
        "productOrderStateChangeEvent",
        "productOrderStateChangeEvent",
        "cancelProductOrderStateChangeEvent",
        "productOrderItemStateChangeEvent",
        "productOrderStateChangeEvent",
    ]

    delivered = seller.order(seller.orderable_quote()["id"]).json()["id"]
    seller.advance(90 * DAY)
    refused = seller.post(
        f"{ORDER}/cancelProductOrder", {**request, "productOrder": {"productOrderId": delivered}}
    )
    assert refusal(refused, 422) == (
        f"invalidValue: /productOrder/productOrderId: product order {delivered} is completed; "
        "only an acknowledged or in-progress order can be cancelled"
    )


# --- trouble tickets ---


def delivered_order(seller: RunningSeller) -> str:
    order_id = seller.order(seller.orderable_quote()["id"]).json()["id"]
    seller.advance(90 * DAY)
    return order_id


def test_ticket__is_resolved_within_the_profiles_restore_time_and_closed_a_day_later(
    seller: RunningSeller, listener: Listener
) -> None:
    order_id = delivered_order(seller)
    hub(seller, TICKET, listener)
    body = load_example("trouble_ticket_create")
    body["relatedEntity"][0]["id"] = order_id
    outage = seller.clock() - timedelta(minutes=20)
    body["issueStartDate"] = outage.isoformat()
    created = seller.post(f"{TICKET}/troubleTicket", body)
    assert created.status_code == 201, created.text
    ticket_id = created.json()["id"]
    assert created.json()["status"] == "acknowledged"

    seller.advance(DAY // 2)
    ticket = validate(TroubleTicket, get(seller, f"{TICKET}/troubleTicket/{ticket_id}"))
    assert ticket.status.value == "resolved"
    restore = ticket.resolutionDate - ticket.issueStartDate
    assert timedelta(minutes=30) <= restore <= timedelta(hours=2)  # prompt-and-punctual: 0.5-2 h
    assert listener.types() == [
        "troubleTicketStatusChangeEvent",
        "troubleTicketStatusChangeEvent",
        "troubleTicketResolvedEvent",
    ]
    assert {r.path.rsplit("/", 1)[0] for r in listener.events()} == {
        "/mefApi/sonata/troubleTicketNotification/v4/listener"
    }

    seller.advance(DAY)
    assert get(seller, f"{TICKET}/troubleTicket/{ticket_id}")["status"] == "closed"


def test_ticket__on_an_unknown_order__is_refused(seller: RunningSeller) -> None:
    body = load_example("trouble_ticket_create")
    response = seller.post(f"{TICKET}/troubleTicket", body)
    assert refusal(response, 422) == (
        "referenceNotFound: /relatedEntity: no product order or product of yours 'PO-51E90B'"
    )
    assert seller.engine.tickets == {}


# --- in-life performance (simulator endpoint) ---


def performance(seller: RunningSeller, order_id: str, period: str) -> httpx.Response:
    return seller.http.get(f"/simulator/performance/{order_id}", params={"period": period})


def test_performance__monthly_measurements_are_deterministic_and_in_chain_units(make_seller: Any) -> None:
    first, second = make_seller(seed=11), make_seller(seed=11)
    reports = []
    for seller in (first, second):
        order_id = delivered_order(seller)
        seller.advance(30 * DAY)
        response = performance(seller, order_id, "2026-04")
        assert response.status_code == 200, response.text
        reports.append(response.json())
    assert reports[0] == reports[1]
    report = reports[0]
    assert (report["periodStart"], report["periodEnd"]) == ("2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z")
    assert report["availabilityPpm"] == percent_to_ppm(report["availabilityPercent"])
    downtime = sum(o["durationSeconds"] for o in report["outages"])
    assert report["availabilityPercent"] == pytest.approx(100 * (1 - downtime / (30 * DAY)), abs=1e-5)
    assert 8_000 <= report["frameDelayUs"] <= 20_000


def test_performance__poor_availability_profile_measures_worse(make_seller: Any) -> None:
    months = ["2026-04", "2026-05", "2026-06", "2026-07"]
    results = {}
    for name in ("prompt-and-punctual", "good-quotes-poor-availability"):
        seller = make_seller(name, seed=5)
        order_id = delivered_order(seller)
        seller.advance(120 * DAY)
        results[name] = [performance(seller, order_id, m).json()["availabilityPpm"] for m in months]
    assert sum(results["good-quotes-poor-availability"]) < sum(results["prompt-and-punctual"])
    assert min(results["prompt-and-punctual"]) > 990_000


@pytest.mark.parametrize(
    ("period", "status", "message"),
    [
        ("2026-01", 422, "was not live in 2026-01"),
        ("2027-01", 422, "period 2027-01 ends at 2027-02-01T00:00:00+00:00; not over yet"),
        ("April", 400, "period must be YYYY-MM, got 'April'"),
    ],
)
def test_performance__outside_the_live_service__is_refused(
    seller: RunningSeller, period: str, status: int, message: str
) -> None:
    order_id = delivered_order(seller)
    response = performance(seller, order_id, period)
    assert message in refusal(response, status)


# --- determinism and profiles ---


def test_same_seed__same_quotes_and_dates_and_another_seed_differs(make_seller: Any) -> None:
    def story(seed: int) -> list[Any]:
        seller = make_seller(seed=seed)
        quote = seller.orderable_quote()
        return [
            quote["effectiveQuoteCompletionDate"],
            quote["quoteItem"][0]["quoteItemPrice"],
            quote["quoteItem"][0]["quoteItemInstallationInterval"],
        ]

    assert story(1) == story(1)
    assert story(1) != story(2)


def test_often_silent_seller__skips_notifications_but_still_progresses(
    make_seller: Any, listener: Listener
) -> None:
    silent = make_seller("often-silent", seed=4)
    hub(silent, QUOTE, listener)
    hub(silent, ORDER, listener)
    order_id = delivered_order(silent)
    assert get(silent, f"{ORDER}/productOrder/{order_id}")["state"] == "completed"
    sent = len(listener.events())
    assert sent > 0 and len(silent.engine.silenced) > 0
    log = silent.http.get("/simulator/notifications").json()
    assert log["silenced"] == len(silent.engine.silenced)
    assert len(log["delivered"]) == sent and all(d["delivered"] for d in log["delivered"])


def test_profiles__presets_are_named_and_bad_profiles_are_refused() -> None:
    assert {
        "prompt-and-punctual",
        "cheap-but-late",
        "good-quotes-poor-availability",
        "often-silent",
        "flaky-api",
    } <= set(PRESETS)
    assert get_profile("cheap-but-late").late_quote_probability == 0.5
    with pytest.raises(LookupError, match="no seller profile 'shiny'; presets: prompt-and-punctual"):
        get_profile("shiny")
    with pytest.raises(ValueError, match=r"error_probability must be within 0-1, got 1\.5"):
        BehaviourProfile("bad", error_probability=1.5)
    with pytest.raises(ValueError, match=r"restore_hours range \(5.0, 1.0\) has low > high"):
        get_profile("flaky-api").with_overrides(restore_hours=(5.0, 1.0))


def test_clock__advance_needs_a_non_negative_number(seller: RunningSeller) -> None:
    response = seller.post("/simulator/clock/advance", {"seconds": -1})
    assert response.status_code == 400
    assert seller.clock() == START


# --- authentication and bad input ---


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missingCredentials"),
        ({"Authorization": "Basic Zm9vOmJhcg=="}, "missingCredentials"),
        ({"Authorization": "Bearer nope"}, "invalidCredentials"),
    ],
)
def test_requests_without_a_valid_bearer_token__get_401(
    seller: RunningSeller, headers: dict[str, str], code: str
) -> None:
    with httpx.Client(base_url=seller.url) as anonymous:
        response = anonymous.post(f"{QUOTE}/quote", json=load_example("quote_create"), headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == code
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert seller.engine.quotes == {}


@pytest.mark.parametrize(
    ("content", "content_type", "message"),
    [
        (b"{not json", "application/json", "invalidBody: body is not JSON"),
        (
            b'{"quoteItem": []}',
            "text/plain",
            "invalidBody: Content-Type must be application/json, got 'text/plain'",
        ),
    ],
)
def test_unreadable_quote_request__is_400_invalid_body_and_creates_nothing(
    seller: RunningSeller, content: bytes, content_type: str, message: str
) -> None:
    response = seller.http.post(f"{QUOTE}/quote", content=content, headers={"Content-Type": content_type})
    assert refusal(response, 400).startswith(message)
    assert seller.engine.quotes == {}


def test_quote_request_the_schema_refuses__is_422_with_one_issue_per_property(seller: RunningSeller) -> None:
    body = {"quoteItem": [], "requestedQuoteCompletionDate": "tomorrow", "instantSyncQuote": "yes"}
    response = seller.http.post(f"{QUOTE}/quote", json=body)
    issues = {(e["code"], e["propertyPath"]) for e in response.json()}
    assert refusal(response, 422)
    assert issues == {
        ("invalidValue", "/quoteItem"),
        ("missingProperty", "/buyerRequestedQuoteLevel"),
        ("invalidValue", "/instantSyncQuote"),
        ("invalidFormat", "/requestedQuoteCompletionDate"),
    }
    assert seller.engine.quotes == {}


@pytest.mark.parametrize(
    "path", [f"{QUOTE}/quote/Q-x", f"{ORDER}/productOrder/PO-x", f"{TICKET}/troubleTicket/TT-x"]
)
def test_unknown_resource__is_404(seller: RunningSeller, path: str) -> None:
    response = seller.http.get(path)
    assert response.status_code == 404
    assert response.json()["code"] == "notFound"


def test_token_endpoint__issues_bearer_tokens_for_client_credentials_only(seller: RunningSeller) -> None:
    with httpx.Client(base_url=seller.url) as anonymous:
        ok = anonymous.post(
            "/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=("buyer-a-client", "buyer-a-secret"),
        )
        assert ok.status_code == 200
        assert ok.json()["token_type"] == "Bearer" and ok.json()["expires_in"] == 3600
        token = ok.json()["access_token"]
        assert (
            anonymous.get("/simulator/clock", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        )
        wrong = anonymous.post(
            "/oauth2/token", data={"grant_type": "client_credentials"}, auth=("buyer-a-client", "guess")
        )
        assert (wrong.status_code, wrong.json()) == (401, {"error": "invalid_client"})
        grant = anonymous.post(
            "/oauth2/token", data={"grant_type": "password"}, auth=("buyer-a-client", "buyer-a-secret")
        )
        assert (grant.status_code, grant.json()) == (400, {"error": "unsupported_grant_type"})
    assert BUYER_TOKEN not in token


def test_late_quoting_profile__answers_after_the_buyers_deadline(make_seller: Any) -> None:
    always_late = get_profile("prompt-and-punctual").with_overrides(
        name="always-late", late_quote_probability=1.0
    )
    seller = make_seller(always_late)
    quote = validate(Quote, seller.orderable_quote(days=10))
    assert quote.state.value == "approved.orderable"
    assert quote.effectiveQuoteCompletionDate > quote.requestedQuoteCompletionDate
    assert quote.effectiveQuoteCompletionDate - quote.requestedQuoteCompletionDate <= timedelta(hours=24)


def test_running_clock__background_ticker_answers_and_notifies_without_being_driven(
    make_seller: Any, listener: Listener
) -> None:
    # 10 simulated hours per real second: the prompt seller's answer (1-6 h) arrives on its own.
    running = make_seller(clock_rate=36_000, tick_seconds=0.05)
    hub(running, QUOTE, listener, "eventType=quoteStateChangeEvent")
    quote_id = running.quote()["id"]
    deadline = time.monotonic() + 20
    while len(listener.events()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert get(running, f"{QUOTE}/quote/{quote_id}")["state"] == "approved.orderable"
    assert len(listener.events()) == 2
