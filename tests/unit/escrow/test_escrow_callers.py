"""Who may call each party-only function of the escrow: every other party and an outsider are refused
with the error that names the role, and the refusal changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


def _due_period_one(escrow) -> Any:
    terms = escrow.delivered()
    escrow.until(escrow.period_end(terms, 1))
    return terms


def _funded_terms(escrow) -> Any:
    terms = escrow.terms()
    escrow.fund(terms.opening_amount)
    return terms


# function: (the order it is called on, the call, its error, who is refused)
CALLERS: dict[str, tuple[Callable, Callable, str, tuple[str, ...]]] = {
    "open order": (
        _funded_terms,
        lambda e, sender, terms: e.escrow.open_order(sender, terms),
        "EscrowNotMarket",
        ("buyer", "seller", "other", "stranger"),
    ),
    "acknowledge": (
        lambda e: e.open(acknowledged=False),
        lambda e, sender, terms: e.escrow.acknowledge(sender, terms),
        "EscrowNotSeller",
        ("buyer", "other", "stranger"),
    ),
    "cancel": (
        lambda e: e.open(),
        lambda e, sender, terms: e.escrow.cancel(sender, terms),
        "EscrowNotBuyer",
        ("seller", "other", "stranger"),
    ),
    "top up": (
        lambda e: e.delivered(),
        lambda e, sender, terms: e.escrow.top_up(sender, terms, 1),
        "EscrowNotBuyer",
        ("seller", "other", "stranger"),
    ),
    "dispute": (
        _due_period_one,
        lambda e, sender, terms: e.escrow.dispute(sender, terms, 1),
        "EscrowNotParty",
        ("other", "stranger"),
    ),
}


@pytest.mark.parametrize("function", list(CALLERS))
def test_party_only_function__called_by_anyone_else__reverts_naming_the_caller(escrow, function):
    order_of, call, error, refused = CALLERS[function]
    terms = order_of(escrow)
    before = escrow.order(terms)
    about = {} if error == "EscrowNotMarket" else {"orderId": terms.order_id()}  # no order yet
    for name in refused:
        party = getattr(escrow, name)
        escrow.refuse(lambda p=party: call(escrow, p.sender, terms), error, **about, caller=party.address)
    assert escrow.order(terms) == before
    escrow.assert_conserved()
