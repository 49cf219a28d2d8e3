"""RFQ topology: the whole suite with a buyer and three providers (the first with a quote key of its
own), quoting the terms the market's gas figures were measured with, on a fixed clock per module."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from eth_utils import keccak

from offnet.chain import Chain
from offnet.market.quotes import SignedQuote
from offnet.market.rfq import Rfq
from offnet.testing.world import CREDITS, World, party, set_clock

MODULE_TIME = 1_950_000_000

# The terms of every quote here (the calldata, hence the gas, the snapshot holds): a three-year
# circuit, one month prepaid, the one credit schedule with lighter credits.
MEASURED_TERMS = {
    "one_time_charge": 2_000 * 10**6,
    "monthly_charge": 1_000 * 10**6,
    "term_months": 36,
    "prepaid_months": 1,
    "sla_terms_hash": keccak(text="sla-terms"),
    "credits": replace(
        CREDITS,
        late_delivery_cap_bps=1_000,
        availability_credit_bps=500,
        frame_delay_credit_bps=200,
        frame_loss_objective_ppm=100,
        frame_loss_credit_bps=200,
        time_to_restore_credit_bps=300,
    ),
    "nonce": 7,
}


class RfqWorld(World):
    """The shared world, its sellers quoting MEASURED_TERMS."""

    def post_with_commitments(self, count: int = 3) -> tuple[Rfq, list[SignedQuote]]:
        """Post an RFQ and commit one signed quote of each of the first `count` providers, the i-th
        100 tUSD a month dearer than the one before."""
        rfq = self.post_rfq()
        signed = []
        for i, provider in enumerate(self.sellers[:count]):
            s = self.sign(self.quote(rfq, provider, monthly_charge=(1_000 + 100 * i) * 10**6), provider)
            self.market.commit(provider.sender, rfq, s)
            signed.append(s)
        return rfq, signed


@pytest.fixture(scope="module")
def world(embedded: Chain) -> Iterator[RfqWorld]:
    """The suite founded by the buyer, three providers and a one-seat council, on a fixed clock (deadlines
    in calldata, hence gas, never drift); the first provider holds a quote key."""
    before = embedded.snapshot()
    set_clock(embedded, MODULE_TIME)

    def member(name: str, **keys: Any) -> Any:
        return replace(party(embedded, name, prefix="rfq"), **keys)

    deployer, buyer = member("deployer"), member("buyer")
    providers = [member(f"provider-{i}") for i in range(1, 4)]
    providers[0] = replace(providers[0], quote_key=member("quote-key-1"))
    outsider, council = member("stranger"), member("council")
    yield RfqWorld.deploy(
        embedded, deployer, [buyer], providers, council, outsider, quote_terms=MEASURED_TERMS
    )
    embedded.revert(before)
