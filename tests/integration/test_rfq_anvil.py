"""The RFQ flow on a real anvil: post, three sealed commitments, award with a notarised contract, close."""

import pytest

from offnet.market.notary import public_key_of
from offnet.market.quotes import rank_quotes
from offnet.market.types import RfqStatus
from offnet.testing.world import World

pytestmark = pytest.mark.anvil


def test_anvil__post_three_commitments_award_notarise_and_close(anvil):
    world = World.create(anvil, "rfq-anvil", sellers=("provider-1", "provider-2", "provider-3"), keys=False)
    market, notary, buyer = world.market, world.notary, world.buyer
    rfq = world.post_rfq()  # quotes due in two days
    # Each provider seals its financial contract into the quote it signs.
    signed, _ = world.commit_quotes(rfq, world.sellers, seal=True)

    best = rank_quotes(signed, {p.address: 1.0 for p in world.sellers})[0].quote
    winner = next(p for p in world.sellers if p.address == best.quote.provider)
    sealed = world.sealed[best.digest]
    assert best.quote.contract_hash == sealed.commitment
    anvil.advance_time(rfq.deadline + 1 - anvil.now())  # the buyer awards the sealed commitments
    order_id, _ = market.award(buyer.sender, rfq, best)
    assert market.state(rfq.rfq_id).status is RfqStatus.AWARDED

    terms = world.escrow.terms_of(order_id)
    notary.publish_award_copy(
        buyer.sender, terms, sealed, public_key_of(buyer.account), public_key_of(winner.account)
    )
    assert notary.recover_contract(order_id, winner.account, terms.contract_hash) == sealed
    notary.reveal_award(winner.sender, terms, sealed)

    market.close(world.deployer.sender, rfq)  # anyone closes an awarded RFQ
    assert market.state(rfq.rfq_id).status is RfqStatus.CLOSED
