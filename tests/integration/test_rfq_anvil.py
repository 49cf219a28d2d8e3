"""The RFQ flow on a real anvil: post, three sealed commitments, award with a notarised contract, close."""

from dataclasses import replace

import pytest

from offnet.chain import Sender
from offnet.deployment import SuiteConfig, deploy_suite
from offnet.market.notary import financial_contract, public_key_of, seal_contract
from offnet.market.quotes import Quote, rank_quotes, sign_quote
from offnet.market.registry import ACCESS_ELINE, location_key
from offnet.market.rfq import Rfq
from offnet.market.types import CreditSchedule, RfqStatus
from offnet.sonata.canonical import document_hash
from offnet.testing.accounts import funded_account

pytestmark = pytest.mark.anvil

CREDITS = CreditSchedule(100, 1_000, 999_500, 500, 10_000, 200, 100, 200, 4 * 3600, 300, 3_000)


def test_anvil__post_three_commitments_award_notarise_and_close(anvil):
    deployer, buyer, *providers = (funded_account(anvil) for _ in range(5))
    config = SuiteConfig(
        founders=[buyer.address, *(p.address for p in providers)],
        council=[buyer.address],
        council_threshold=1,
        sponsors_required=1,
    )
    suite = deploy_suite(anvil, Sender(anvil, deployer), config)
    market, notary = suite.market, suite.notary
    token, pay = suite.token, Sender(anvil, buyer)
    pay.transact(token.functions.mint(buyer.address, 10**12))
    pay.transact(token.functions.approve(suite.escrow.address, 10**12))

    rfq = Rfq(
        buyer.address,
        anvil.now() + 3600,
        token.address,
        document_hash({"externalId": "anvil-1"}),
        ACCESS_ELINE,
        location_key("FR-PAR"),
        tuple(p.address for p in providers),
    )
    rfq_id, _ = market.post(pay, rfq)
    signed = []
    sealed_by = {}
    for i, provider in enumerate(providers):
        quote = Quote(
            rfq_id,
            provider.address,
            buyer.address,
            token.address,
            2_000 * 10**6,
            (1_000 - 50 * i) * 10**6,
            36,
            30,
            document_hash({"sla": i}),
            CREDITS,
            1,
            anvil.now() + 86_400,
            nonce=i,
        )
        # Each provider seals its financial contract into the quote it signs.
        sealed_by[provider.address] = seal_contract(financial_contract(quote))
        quote = replace(quote, contract_hash=sealed_by[provider.address].commitment)
        signed.append(sign_quote(provider, quote, market.domain))
        market.commit(Sender(anvil, provider), rfq, signed[-1])

    best = rank_quotes(signed, {p.address: 1.0 for p in providers})[0].quote
    winner = next(p for p in providers if p.address == best.quote.provider)
    assert best.quote.contract_hash == sealed_by[winner.address].commitment
    order_id, _ = market.award(pay, rfq, best)
    assert market.state(rfq_id).status is RfqStatus.AWARDED

    sealed = sealed_by[winner.address]
    terms = suite.escrow.terms_of(order_id)
    notary.publish_award_copy(pay, terms, sealed, public_key_of(buyer), public_key_of(winner))
    assert notary.recover_contract(order_id, winner, terms.contract_hash) == sealed
    notary.reveal_award(Sender(anvil, winner), terms, sealed)

    anvil.advance_time(3601)
    market.close(Sender(anvil, deployer), rfq)
    assert market.state(rfq_id).status is RfqStatus.CLOSED
