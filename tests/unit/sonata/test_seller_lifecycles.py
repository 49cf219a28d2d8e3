"""The reference seller's MEF state machines beyond the happy path, over real HTTP: budgetary
quotes, items it cannot provide, failed and partial delivery, modify/delete items, the whole
trouble-ticket lifecycle, list operations, and 501 for the optional operations it does not do."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sonata_support import DAY, Listener, RunningSeller

from offnet.sonata.examples import load_example
from offnet.sonata.models import QuoteSummary
from offnet.sonata.seller import get_profile

QUOTE = "/mefApi/sonata/quoteManagement/v8"
ORDER = "/mefApi/sonata/productOrderingManagement/v10"
TICKET = "/mefApi/sonata/troubleTicket/v4"
HOUR = 3_600


def get(seller: RunningSeller, path: str, **params: str) -> Any:
    response = seller.http.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def code(response: httpx.Response) -> tuple[int, str]:
    body = response.json()
    return response.status_code, (body[0] if isinstance(body, list) else body)["code"]


def test_budgetary_quote__is_answered_never_orderable(seller: RunningSeller) -> None:
    quote = seller.quote(buyerRequestedQuoteLevel="budgetary")
    seller.advance(3 * DAY)
    answered = get(seller, f"{QUOTE}/quote/{quote['id']}")
    assert (answered["state"], answered["quoteLevel"]) == ("answered", "budgetary")
    assert answered["quoteItem"][0]["state"] == "answered" and answered["quoteItem"][0]["quoteItemPrice"]
    assert code(seller.order(quote["id"])) == (422, "invalidValue")
    assert seller.post(f"{QUOTE}/rejectQuote", {"quoteId": quote["id"]}).status_code == 200


def test_an_item_the_seller_cannot_provide__makes_the_quote_unable_to_provide(make_seller: Any) -> None:
    seller = make_seller(get_profile("prompt-and-punctual").with_overrides(unable_to_provide_probability=1.0))
    request = load_example("quote_create")
    request["quoteItem"].append({**request["quoteItem"][0], "id": "2"})
    quote = seller.post(f"{QUOTE}/quote", request | {"instantSyncQuote": True}).json()
    assert quote["state"] == "unableToProvide"
    assert [i["state"] for i in quote["quoteItem"]] == ["unableToProvide", "unableToProvide"]
    assert quote["quoteItem"][0]["terminationError"][0]["code"] == "otherIssue"


def test_duplicate_item_ids__are_a_422_naming_the_items(seller: RunningSeller) -> None:
    request = load_example("quote_create")
    request["quoteItem"].append(request["quoteItem"][0])
    response = seller.post(f"{QUOTE}/quote", request)
    assert code(response) == (422, "invalidValue")
    assert response.json()[0]["propertyPath"] == "/quoteItem"


def two_item_order(seller: RunningSeller) -> str:
    quote = seller.quote(instantSyncQuote=True)
    body = load_example("product_order_create")
    body["productOrderItem"][0]["quoteItem"] = {"id": "1", "quoteId": quote["id"]}
    body["productOrderItem"].append({"id": "2", "action": "modify", "product": {"id": "PRD-existing"}})
    response = seller.post(f"{ORDER}/productOrder", body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


@pytest.mark.parametrize("seed", range(8))
def test_delivery__failed_items_give_partial_or_failed_orders_with_dates_and_reasons(
    make_seller: Any, seed: int
) -> None:
    profile = get_profile("prompt-and-punctual").with_overrides(delivery_failure_probability=0.5)
    seller = make_seller(profile, seed=seed)
    order_id = two_item_order(seller)  # a quoted add item beside a modify item without a quote
    seller.advance(90 * DAY)
    order = get(seller, f"{ORDER}/productOrder/{order_id}")
    states = [item["state"] for item in order["productOrderItem"]]
    expected = {
        ("completed", "completed"): "completed",
        ("failed", "failed"): "failed",
    }.get(tuple(states), "partial")
    assert order["state"] == expected
    assert order["completionDate"]
    for item in order["productOrderItem"]:
        if item["state"] == "failed":
            assert item["terminationError"] and "completionDate" not in item
        else:
            assert item["completionDate"] == order["completionDate"]


def test_ticket__patch_close_reopen_and_cancel_follow_mef_124(
    seller: RunningSeller, listener: Listener
) -> None:
    order_id = two_item_order(seller)
    seller.advance(90 * DAY)
    product_id = get(seller, f"{ORDER}/productOrder/{order_id}")["productOrderItem"][0]["product"]["id"]
    seller.post(f"{TICKET}/hub", {"callback": listener.url})
    body = load_example("trouble_ticket_create")
    body.pop("issueStartDate")
    body["relatedEntity"] = [{"id": product_id, "role": "affectedProduct", "@referredType": "Product"}]
    ticket = seller.post(f"{TICKET}/troubleTicket", body).json()
    assert (ticket["status"], ticket["sellerPriority"], ticket["sellerSeverity"]) == (
        "acknowledged",
        "high",
        "extensive",
    )
    ticket_id = ticket["id"]
    path = f"{TICKET}/troubleTicket/{ticket_id}"

    patched = seller.http.patch(path, json={"severity": "moderate", "observedImpact": "degraded"})
    assert (patched.status_code, patched.json()["severity"]) == (200, "moderate")
    assert code(seller.http.patch(path, json={"severity": "awful"})) == (422, "invalidValue")
    assert code(seller.http.post(f"{path}/close")) == (422, "invalidValue")  # not resolved yet

    seller.advance(DAY // 2)
    assert get(seller, path)["status"] == "resolved"
    assert seller.http.post(f"{path}/reopen", json={"reason": "down again"}).status_code == 204
    reopened = get(seller, path)
    assert reopened["status"] == "reopened" and "resolutionDate" not in reopened
    seller.advance(DAY // 2)
    assert get(seller, path)["status"] == "resolved"
    assert seller.http.post(f"{path}/close").status_code == 204
    assert get(seller, path)["status"] == "closed"
    assert code(seller.http.patch(path, json={"severity": "minor"})) == (409, "conflict")

    other = seller.post(f"{TICKET}/troubleTicket", body).json()["id"]
    assert seller.http.post(f"{TICKET}/troubleTicket/{other}/cancel").status_code == 204
    assert get(seller, f"{TICKET}/troubleTicket/{other}")["status"] == "assessingCancellation"
    seller.advance(HOUR)
    assert get(seller, f"{TICKET}/troubleTicket/{other}")["status"] == "cancelled"
    assert code(seller.http.post(f"{TICKET}/troubleTicket/{other}/cancel")) == (422, "invalidValue")
    assert "troubleTicketAttributeValueChangeEvent" in listener.types()
    statuses = [c["status"] for c in get(seller, path)["statusChange"]]
    assert statuses == [
        "acknowledged",
        "inProgress",
        "resolved",
        "reopened",
        "inProgress",
        "resolved",
        "closed",
    ]


def test_lists__filter_by_value_page_and_count(seller: RunningSeller) -> None:
    first = seller.quote()["id"]
    second = seller.quote(instantSyncQuote=True)["id"]
    response = seller.http.get(f"{QUOTE}/quote", params={"state": "approved.orderable"})
    assert [q["id"] for q in response.json()] == [second]
    # A Quote_Find entry: valid as one, and nothing of the full quote beyond it.
    assert not QuoteSummary.model_validate(response.json()[0]).model_extra
    page = seller.http.get(f"{QUOTE}/quote", params={"offset": "1", "limit": "1"})
    assert [q["id"] for q in page.json()] == [second]
    assert (page.headers["X-Total-Count"], page.headers["X-Result-Count"]) == ("2", "1")
    assert code(seller.http.get(f"{QUOTE}/quote", params={"limit": "many"})) == (400, "invalidQuery")
    assert first in [q["id"] for q in get(seller, f"{QUOTE}/quote")]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PATCH", f"{ORDER}/productOrder/PO-1"),
        ("GET", f"{ORDER}/charge"),
        ("PATCH", f"{ORDER}/charge/C-1"),
        ("POST", f"{ORDER}/modifyProductOrderItemRequestedDeliveryDate"),
        ("GET", f"{TICKET}/incident/I-1"),
    ],
)
def test_optional_operations_it_does_not_do__answer_501_not_implemented(
    seller: RunningSeller, method: str, path: str
) -> None:
    assert code(seller.http.request(method, path, json={})) == (501, "notImplemented")


def test_unknown_paths_and_methods__answer_mef_error_bodies(seller: RunningSeller) -> None:
    assert code(seller.http.get(f"{QUOTE}/nothing")) == (404, "notFound")
    assert code(seller.http.put(f"{QUOTE}/quote/Q-1", json={})) == (501, "notImplemented")
