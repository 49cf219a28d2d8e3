"""The award's Sonata order, as real processes (`offnet oracle run`, a real anvil, the reference seller
over real HTTP behind a cuttable link, SQLite): placed once the seller answers again, across a kill -9,
and after a crash between the award transaction and recording it, never awarded or ordered twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from operations_world import OPS_TOKENS, start_oracle

from offnet.chain import Sender
from offnet.market.codec import rfq_to_json, signed_quote_to_json
from offnet.market.quotes import Quote, sign_quote
from offnet.market.registry import ACCESS_ELINE, location_key
from offnet.market.rfq import Rfq
from offnet.market.types import CreditSchedule
from offnet.oracle.store import Store
from offnet.sonata.canonical import document_hash
from offnet.sonata.client import SonataClient
from offnet.sonata.examples import load_example
from offnet.testing.world import DAY, wait_until

# --- the award's Sonata order survives a seller outage and a kill -9 ---------------------------------


def _rfq_with_a_verified_quote(ops, store: Store, label: str) -> tuple[Rfq, str]:
    """On chain: an RFQ of the buyer and the seller's committed quote; at the seller: an approved Sonata
    quote; in the buyer oracle's database: the RFQ and the verified signed quote it would have kept."""
    chain, suite, buyer, seller = ops["chain"], ops["suite"], ops["buyer"], ops["seller"]
    request = load_example("quote_create")
    deadline = datetime.fromtimestamp(chain.now(), UTC) + timedelta(days=2)
    request["requestedQuoteCompletionDate"] = deadline.isoformat().replace("+00:00", "Z")
    request["externalId"] = label

    async def sonata_quote():
        async with SonataClient(ops["seller_api"], OPS_TOKENS["OPS_BUYER_AT_SELLER"]) as sonata:
            quote = await sonata.create_quote(request)
            for _ in range(400):
                quote = await sonata.get_quote(quote.id)
                if str(quote.state) == "approved.orderable":
                    return quote
                chain.advance_time(600)  # the seller answers on its own (chain) clock
                await asyncio.sleep(0.05)
        raise AssertionError("the seller never approved the quote")

    sonata = asyncio.run(sonata_quote())
    rfq = Rfq(
        buyer=buyer.address,
        deadline=int(deadline.timestamp()),
        token=suite.token.address,
        request_hash=document_hash(request),
        product_key=ACCESS_ELINE,
        location_key=location_key("FR-LYS"),
        invited=(seller.address,),
    )
    suite.market.post(Sender(chain, buyer), rfq)
    quote = Quote(
        rfq_id=rfq.rfq_id,
        provider=seller.address,
        buyer=buyer.address,
        token=suite.token.address,
        one_time_charge=1_000 * 10**6,
        monthly_charge=500 * 10**6,
        term_months=12,
        install_days=30,
        sla_terms_hash=document_hash({"sla": label}),
        credits=CreditSchedule.none(),
        prepaid_months=1,
        valid_until=chain.now() + 30 * DAY,
        nonce=7,
    )
    signed = sign_quote(seller, quote, suite.market.domain)
    suite.market.commit(Sender(chain, seller), rfq, signed)
    store.save_rfq(rfq.rfq_id, rfq_to_json(rfq), request)
    store.save_quote_request("seller", sonata.id, rfq.rfq_id)
    store.add_received_quote(
        rfq.rfq_id, "seller", signed_quote_to_json(signed), sonata.id, sonata.quoteItem[0].id
    )
    return rfq, signed


def _orders_at_seller(ops, external_id: str) -> list[str]:
    async def find():
        async with SonataClient(ops["seller_api"], OPS_TOKENS["OPS_BUYER_AT_SELLER"]) as sonata:
            return [o for o in await sonata.find_product_orders(external_id=external_id)]

    return asyncio.run(find())


def test_award_while_the_seller_is_down_then_kill_9__the_order_is_placed_once_after_restart(ops):
    database = ops["workdir"] / "award.db"
    store = Store(f"sqlite:///{database}")
    rfq, _ = _rfq_with_a_verified_quote(ops, store, "ops-award-1")
    store.close()
    ops["link"].down()  # the seller's Sonata API is unreachable when the award happens
    ops["chain"].advance_time(3 * DAY)  # the RFQ's deadline passed
    oracle = start_oracle(ops, "award", database=f"sqlite:///{database}")
    try:
        awarded = wait_until(
            lambda: oracle.rows("select * from rfqs where state = 'awarded'"),
            "the award on chain",
            seconds=60,
        )
        order_id = awarded[0]["order_id"]
        intent = oracle.rows("select * from orders where order_id = :o", o=order_id)[0]
        assert intent["to_order"] and intent["product_order_id"] is None  # award and intent stored together
        wait_until(
            lambda: (
                oracle.rows("select order_attempts from orders where order_id = :o", o=order_id)[0][
                    "order_attempts"
                ]
                >= 1
            ),
            "a failed attempt to place the Sonata order",
        )
        oracle.kill()  # kill -9 with the order not placed

        ops["link"].up()
        oracle.spawn()
        oracle.wait_listening()
        wait_until(
            lambda: oracle.rows("select product_order_id from orders where order_id = :o", o=order_id)[0][
                "product_order_id"
            ],
            "the Sonata order placed after the restart",
            seconds=60,
        )
        assert len(_orders_at_seller(ops, order_id)) == 1
        assert len(ops["suite"].market.logs("RfqAwarded", rfqId=rfq.rfq_id)) == 1  # never awarded twice
        assert (
            oracle.rows("select state from rfqs where rfq_id = :r", r=str(rfq.rfq_id))[0]["state"]
            == "awarded"
        )
    finally:
        oracle.stop()
        ops["link"].up()


def test_crash_right_after_the_award_transaction__the_restart_records_it_and_orders_once(ops):
    """The oracle stopped between the award transaction and recording it: the chain holds the award,
    the database still says open. The next start takes the award from the chain instead of sending it."""
    database = ops["workdir"] / "crash.db"
    store = Store(f"sqlite:///{database}")
    rfq, signed = _rfq_with_a_verified_quote(ops, store, "ops-award-2")
    store.close()
    ops["chain"].advance_time(3 * DAY)
    order_id, _ = ops["suite"].market.award(Sender(ops["chain"], ops["buyer"]), rfq, signed)
    oracle = start_oracle(ops, "crash", database=f"sqlite:///{database}")
    try:
        wait_until(
            lambda: oracle.rows(
                "select product_order_id from orders where order_id = :o", o="0x" + order_id.hex()
            )[0]["product_order_id"],
            "the Sonata order of the award made before the crash",
            seconds=60,
        )
        assert (
            oracle.rows("select state from rfqs where rfq_id = :r", r=str(rfq.rfq_id))[0]["state"]
            == "awarded"
        )
        assert len(_orders_at_seller(ops, "0x" + order_id.hex())) == 1
        assert "RfqNotOpen" not in oracle.log.read_text()  # it never tried to award again
    finally:
        oracle.stop()
