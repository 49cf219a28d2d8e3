"""The security area's topology on the shared world (offnet.testing.world): two buyers, two sellers
and a one-seat council, each member with a quote key and an oracle key, a funded outsider, short
orders (three months, one prepaid, small sums) so a campaign lives through whole orders, and a
quote request of its own for every RFQ. `fingerprint` reads everything a caller could change."""

from __future__ import annotations

from collections.abc import Sequence

from eth_utils import keccak

from offnet.chain import Chain
from offnet.chain.tx import call
from offnet.market.rfq import Rfq
from offnet.market.types import OrderTerms
from offnet.testing.world import DAY, FUNDS, World, fund

ONE_TIME = 3_000_000
MONTHLY = 1_000_000
INSTALL_DAYS = 5
SHORT_ORDER = {
    "one_time_charge": ONE_TIME,
    "monthly_charge": MONTHLY,
    "term_months": 3,
    "install_days": INSTALL_DAYS,
    "prepaid_months": 1,
    "sla_terms_hash": keccak(text="sla"),
}


def build_world(chain: Chain, prefix: str = "sec") -> World:
    """Deploy the suite with the security area's roles, labelled `<prefix>-<name>`."""
    world = World.create(
        chain,
        prefix,
        buyers=("buyer-0", "buyer-1"),
        sellers=("seller-0", "seller-1"),
        quote_terms=SHORT_ORDER,
        fresh_requests=True,
        liveness_window=2 * DAY,
    )
    fund(world.outsider, world.token, world.escrow.address, FUNDS)
    return world


def fingerprint(
    w: World, orders: Sequence[OrderTerms] = (), rfqs: Sequence[Rfq] = (), extra: tuple = ()
) -> tuple:
    """Every balance, event-derived total, order, RFQ, membership and reputation the tests watch."""
    token = w.token
    people = w.parties
    return (
        call(token.functions.balanceOf(w.escrow.address)),
        tuple(call(token.functions.balanceOf(p)) for p in people),
        w.escrow.book(token.address),
        tuple(w.escrow.withdrawable(token.address, p) for p in people),
        tuple(tuple(call(w.escrow.fn.orderState(t.order_id()))) for t in orders),
        tuple(tuple(call(w.market.fn.rfqState(r.rfq_id))) for r in rfqs),
        tuple(w.registry.is_active(m.address) for m in w.members),
        tuple(call(w.ledger.fn.reputation(m.address))[0] for m in w.sellers),
        tuple(call(w.market.fn.nonceBitmap(m.address, 0)) for m in w.sellers),
        w.registry.proposal_count(),
        *extra,
    )
