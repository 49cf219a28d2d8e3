"""The reference seller against the three seller specs: every operation, with requests Schemathesis
generates from the specs (a bounded number each) and requests that reach real resources, answers
with a status the spec documents and a body its schema accepts (5xx only where the spec documents
501 for an optional operation)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest
import schemathesis
from conformance_support import BOUNDED, BUYER_TOKEN, Report
from hypothesis import given
from mef import SELLER_SPECS, base_path, load
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from offnet.sonata.examples import load_example

CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]
AUTH = {"Authorization": f"Bearer {BUYER_TOKEN}"}


def _operations(sdk: Any) -> list[tuple[str, Any, str]]:
    result = []
    for api, relative in SELLER_SPECS.items():
        schema = schemathesis.openapi.from_path(str(sdk / relative))
        for operation in schema.get_all_operations():
            op = operation.ok()
            result.append((api, op, base_path(load(sdk / relative))))
    return result


def _check(report: Report, label: str, case: Any, response: Any) -> None:
    seen = report.operations.setdefault(label, Counter())
    seen[response.status_code] += 1
    documented_5xx = str(response.status_code) in case.operation.definition.raw.get("responses", {})
    if response.status_code >= 500 and not documented_5xx:
        report.violations.append(f"{label}: undocumented {response.status_code}: {response.text[:200]}")
        return
    try:
        case.validate_response(response, checks=CHECKS)
    except Exception as failure:  # Schemathesis groups its check failures
        report.violations.append(f"{label}: {response.status_code}: {str(failure)[:400]}")


@pytest.fixture(scope="module")
def operations(sdk: Any) -> list[tuple[str, Any, str]]:
    return _operations(sdk)


def test_every_operation_of_the_seller_specs__answers_as_a_mef_document(
    operations: list[tuple[str, Any, str]], seller_url: str, report: Report
) -> None:
    for _api, op, base in operations:
        _generated(op, base, seller_url, report)
    _scenarios(operations, seller_url, report)
    assert report.violations == []
    assert len(report.operations) == 35
    assert all(report.operations.values())


def _generated(op: Any, base: str, url: str, report: Report) -> None:
    """A bounded number of requests Schemathesis generates for one operation, each judged."""
    label = f"{base} {op.method.upper()} {op.path}"

    @given(case=op.as_strategy())
    @BOUNDED
    def run(case: Any) -> None:
        _check(report, label, case, case.call(base_url=url + base, headers=AUTH))

    run()


def _scenarios(operations: list[tuple[str, Any, str]], url: str, report: Report) -> None:
    """Requests that reach real resources (generated ids are unknown), judged the same way."""
    by_label = {(op.method.upper(), base + op.path): (op, base) for _api, op, base in operations}
    quote_base = "/mefApi/sonata/quoteManagement/v8"
    order_base = "/mefApi/sonata/productOrderingManagement/v10"
    ticket_base = "/mefApi/sonata/troubleTicket/v4"

    def call(method: str, path: str, *, body: Any = None, **params: str) -> Any:
        op, base = by_label[(method, path)]
        case = (
            op.Case(path_parameters=params or None, body=body)
            if body is not None
            else op.Case(path_parameters=params or None)
        )
        response = case.call(base_url=url + base, headers=AUTH)
        _check(report, f"{base} {method} {op.path}", case, response)
        return response

    def advance(seconds: int) -> None:
        httpx.post(
            f"{url}/simulator/clock/advance", json={"seconds": seconds}, headers=AUTH
        ).raise_for_status()

    request = load_example("quote_create") | {"instantSyncQuote": True}
    quote = call("POST", f"{quote_base}/quote", body=request).json()
    call("GET", f"{quote_base}/quote/{{id}}", id=quote["id"])
    call("GET", f"{quote_base}/quote")
    order_request = load_example("product_order_create")
    order_request["productOrderItem"][0]["quoteItem"] = {"id": "1", "quoteId": quote["id"]}
    order = call("POST", f"{order_base}/productOrder", body=order_request).json()
    call("GET", f"{order_base}/productOrder/{{id}}", id=order["id"])
    call("GET", f"{order_base}/productOrder")
    contacts = order_request["relatedContactInformation"]
    cancel = call(
        "POST",
        f"{order_base}/cancelProductOrder",
        body={"productOrder": {"productOrderId": order["id"]}, "relatedContactInformation": contacts},
    ).json()
    call("GET", f"{order_base}/cancelProductOrder/{{id}}", id=cancel["id"])
    pending = call("POST", f"{quote_base}/quote", body=load_example("quote_create")).json()
    advance(1800)
    call("POST", f"{quote_base}/cancelQuote", body={"quoteId": pending["id"], "reason": "not needed"})
    declined = call("POST", f"{quote_base}/quote", body=request).json()
    call("POST", f"{quote_base}/rejectQuote", body={"quoteId": declined["id"]})
    for base in (quote_base, order_base, ticket_base):
        hub = call("POST", f"{base}/hub", body={"callback": "http://127.0.0.1:9/listener"}).json()
        if ("GET", f"{base}/hub/{{id}}") in by_label:  # the quote spec has no GET /hub/{id}
            call("GET", f"{base}/hub/{{id}}", id=hub["id"])
        call("DELETE", f"{base}/hub/{{id}}", id=hub["id"])
    delivered = call("POST", f"{quote_base}/quote", body=request).json()
    order_request["productOrderItem"][0]["quoteItem"] = {"id": "1", "quoteId": delivered["id"]}
    live = call("POST", f"{order_base}/productOrder", body=order_request).json()
    advance(90 * 86_400)
    ticket_request = load_example("trouble_ticket_create")
    ticket_request["relatedEntity"][0]["id"] = live["id"]
    ticket_request.pop("issueStartDate")
    ticket = call("POST", f"{ticket_base}/troubleTicket", body=ticket_request).json()
    call("PATCH", f"{ticket_base}/troubleTicket/{{id}}", body={"severity": "significant"}, id=ticket["id"])
    advance(86_400 // 2)
    call("GET", f"{ticket_base}/troubleTicket")
    call("POST", f"{ticket_base}/troubleTicket/{{id}}/reopen", body={"reason": "down again"}, id=ticket["id"])
    advance(86_400 // 2)
    call("POST", f"{ticket_base}/troubleTicket/{{id}}/close", id=ticket["id"])
    call("GET", f"{ticket_base}/troubleTicket/{{id}}", id=ticket["id"])
    other = call("POST", f"{ticket_base}/troubleTicket", body=ticket_request).json()
    call("POST", f"{ticket_base}/troubleTicket/{{id}}/cancel", id=other["id"])
