"""EIP-712 quotes: Python and the contract agree byte for byte, both directions; ranking explains itself."""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise

from offnet.chain.tx import call
from offnet.market.quotes import quote_digest, rank_quotes, recover_quote_signer


def test_quote_digest__python_equals_contract(world):
    rfq = world.rfq()
    quote = world.quote(rfq, world.sellers[0], nonce=2**200 + 5, epoch=3)
    assert quote_digest(quote, world.market.domain) == world.market.on_chain_digest(quote)


def test_quote_signed_in_python__is_accepted_by_the_contract_and_recovered_in_python(world):
    rfq, signed = world.post_with_commitments(1)
    assert (
        recover_quote_signer(signed[0].quote, signed[0].signature, world.market.domain)
        == world.sellers[0].address
    )
    order_id, _ = world.award(rfq, signed[0])
    assert call(world.suite.escrow.fn.orderState(order_id))[0] > 0


def test_quote_digest__changes_with_every_field(world):
    rfq = world.rfq()
    quote = world.quote(rfq, world.sellers[0])
    base = quote_digest(quote, world.market.domain)
    for change in (
        {"monthly_charge": 1},
        {"term_months": 12},
        {"nonce": 8},
        {"epoch": 1},
        {"credits": replace(quote.credits, monthly_credit_cap_bps=1)},
    ):
        assert quote_digest(replace(quote, **change), world.market.domain) != base, change


def test_rank_quotes__orders_by_cost_and_reputation_and_explains(world):
    rfq = world.rfq()
    cheap, dear, mid = (
        world.sign(world.quote(rfq, p, monthly_charge=m * 10**6), p)
        for p, m in zip(world.sellers, (900, 1_500, 1_000), strict=True)
    )
    reputation = {
        world.sellers[0].address: 0.2,
        world.sellers[1].address: 1.0,
        world.sellers[2].address: 0.95,
    }
    ranked = rank_quotes([cheap, dear, mid], reputation, reputation_weight=0.5)
    # scores: mid 0.5 * 34.4/38 + 0.5 * 0.95 = 0.928; dear 0.5 * 34.4/56 + 0.5 = 0.807;
    # cheap 0.5 + 0.5 * 0.2 = 0.6
    assert [r.quote for r in ranked] == [mid, dear, cheap]
    assert ranked[0].total_cost == 2_000 * 10**6 + 36 * 1_000 * 10**6
    assert round(ranked[0].score, 3) == 0.928 and round(ranked[2].score, 3) == 0.6
    assert "(2,000.00 once + 900.00/month for 36 months; cheapest)" in ranked[2].explanation
    assert ranked[2].explanation.startswith("#3 ")
    assert all(a.score >= b.score for a, b in pairwise(ranked))
    assert [r.quote for r in rank_quotes([cheap, dear, mid], reputation, reputation_weight=0)] == [
        cheap,
        mid,
        dear,
    ]


def test_rank_quotes__different_terms__compared_like_for_like_not_by_contract_value(world):
    rfq = world.rfq()
    short, long_ = world.sellers[:2]
    # 12 months at 1,000/month has the smaller contract value (14,000 against 30,800) but costs more
    # per month (1,166.67 against 855.56) than 36 months at 800/month.
    twelve = world.sign(world.quote(rfq, short, monthly_charge=1_000 * 10**6, term_months=12), short)
    thirty_six = world.sign(world.quote(rfq, long_, monthly_charge=800 * 10**6, term_months=36), long_)
    assert twelve.quote.total_cost < thirty_six.quote.total_cost
    reputation = {short.address: 1.0, long_.address: 1.0}

    per_month = rank_quotes([twelve, thirty_six], reputation)
    assert [r.quote for r in per_month] == [thirty_six, twelve]
    assert [r.basis_cost for r in per_month] == [855_555_556, 1_166_666_667]
    assert "855.56/month (2,000.00 once + 800.00/month for 36 months; cheapest)" in per_month[0].explanation

    # Over a requested 24 months: 2,000 + 24 x 800 = 21,200 against 2,000 + 24 x 1,000 = 26,000.
    over_term = rank_quotes([twelve, thirty_six], reputation, basis="term", term_months=24)
    assert [(r.quote, r.basis_cost) for r in over_term] == [
        (thirty_six, 21_200 * 10**6),
        (twelve, 26_000 * 10**6),
    ]
