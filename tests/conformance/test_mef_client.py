"""The Sonata client fed answers generated from the seller specs' response schemas, over real HTTP
from a stand-in seller: every MEF-valid answer is read into its typed model, every answer MEF's
schemas refuse is reported as unexpected, and a 422 array surfaces each of its reasons."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conformance_support import BOUNDED, Report
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from hypothesis import given
from hypothesis import strategies as st
from mef import SELLER_SPECS, Judge, documents

from offnet.serving import serve_in_thread
from offnet.sonata.client import SonataClient, SonataError
from offnet.sonata.examples import load_example

QUOTE, ORDER, TICKET = SELLER_SPECS["quote"], SELLER_SPECS["productOrder"], SELLER_SPECS["troubleTicket"]
CONTACTS = load_example("product_order_create")["relatedContactInformation"]

Call = Callable[[SonataClient], Awaitable[Any]]
# operation -> (spec, answer schema, answer is a list, status, the client call)
OPERATIONS: dict[str, tuple[str, str, bool, int, Call]] = {
    "createQuote": (QUOTE, "Quote", False, 201, lambda c: c.create_quote(load_example("quote_create"))),
    "retrieveQuote": (QUOTE, "Quote", False, 200, lambda c: c.get_quote("Q-1")),
    "listQuote": (QUOTE, "Quote_Find", True, 200, lambda c: c.list_quotes()),
    "cancelQuote": (QUOTE, "QuoteOperationData", False, 200, lambda c: c.cancel_quote("Q-1", "moved")),
    "rejectQuote": (QUOTE, "QuoteOperationData", False, 200, lambda c: c.reject_quote("Q-1")),
    "registerListener": (
        QUOTE,
        "EventSubscription",
        False,
        201,
        lambda c: c.register_hub("quote", "http://b/l"),
    ),
    "createProductOrder": (
        ORDER,
        "ProductOrder",
        False,
        201,
        lambda c: c.create_product_order(load_example("product_order_create")),
    ),
    "retrieveProductOrder": (ORDER, "ProductOrder", False, 200, lambda c: c.get_product_order("PO-1")),
    "listProductOrder": (ORDER, "ProductOrder_Find", True, 200, lambda c: c.list_product_orders()),
    "createCancelProductOrder": (
        ORDER,
        "CancelProductOrder",
        False,
        201,
        lambda c: c.cancel_product_order("PO-1", CONTACTS, "moved"),
    ),
    "retrieveCancelProductOrder": (
        ORDER,
        "CancelProductOrder",
        False,
        200,
        lambda c: c.get_cancellation("C-1"),
    ),
    "retrieveHub": (ORDER, "EventSubscription", False, 200, lambda c: c.get_hub("productOrder", "H-1")),
    "createTroubleTicket": (
        TICKET,
        "TroubleTicket",
        False,
        201,
        lambda c: c.create_trouble_ticket(load_example("trouble_ticket_create")),
    ),
    "retrieveTroubleTicket": (TICKET, "TroubleTicket", False, 200, lambda c: c.get_trouble_ticket("TT-1")),
    "listTroubleTicket": (TICKET, "TroubleTicket_Find", True, 200, lambda c: c.list_trouble_tickets()),
    "patchTroubleTicket": (
        TICKET,
        "TroubleTicket",
        False,
        200,
        lambda c: c.update_trouble_ticket("TT-1", {"severity": "minor"}),
    ),
}


class StandIn:
    """A seller that answers whatever the test set, on any path."""

    def __init__(self) -> None:
        self.answer: tuple[int, Any] = (200, {})
        self.app = FastAPI()

        @self.app.api_route("/{path:path}", methods=["GET", "POST", "PATCH", "DELETE"])
        async def answer(path: str, request: Request) -> JSONResponse:
            status, body = self.answer
            return JSONResponse(body, status_code=status, media_type="application/json;charset=utf-8")


@pytest.fixture(scope="module")
def stand_in() -> Iterator[tuple[StandIn, str]]:
    seller = StandIn()
    with serve_in_thread(seller.app) as url:
        yield seller, url


async def _read(url: str, call: Call) -> Any:
    async with SonataClient(url, "token", retries=0) as client:
        return await call(client)


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_every_mef_valid_answer__is_read_and_every_invalid_one_reported(
    operation: str, sdk: Path, judge: Judge, stand_in: tuple[StandIn, str], report: Report
) -> None:
    spec, schema, many, status, call = OPERATIONS[operation]
    seller, url = stand_in
    answers = documents(sdk, spec, schema)
    if many:
        answers = st.lists(answers, max_size=3)

    @given(answer=answers)
    @BOUNDED
    def run(answer: Any) -> None:
        entries = answer if many else [answer]
        valid = all(judge.judge(spec, schema, entry).valid for entry in entries)
        seller.answer = (status, answer)
        try:
            result = asyncio.run(_read(url, call))
        except SonataError as refused:
            assert not valid, f"{operation}: a MEF-valid answer was refused: {refused}"
            assert "unexpected answer" in refused.message
            return
        assert valid, f"{operation}: an answer MEF's schemas refuse was read: {answer!r:.400}"
        report.client_answers[operation] += 1
        if many:
            assert len(result) == len(answer)

    run()
    assert report.client_answers[operation] > 0


def test_a_422_array__surfaces_every_reason(sdk: Path, stand_in: tuple[StandIn, str]) -> None:
    seller, url = stand_in

    @given(errors=st.lists(documents(sdk, ORDER, "Error422"), min_size=1, max_size=4))
    @BOUNDED
    def run(errors: list[dict[str, Any]]) -> None:
        seller.answer = (422, errors)
        with pytest.raises(SonataError) as refused:
            asyncio.run(_read(url, OPERATIONS["createProductOrder"][4]))
        assert refused.value.status == 422
        assert len(refused.value.reasons) == len(errors)
        for error, line in zip(errors, refused.value.reasons, strict=False):
            assert (error.get("message") or error["reason"]) in line

    run()
