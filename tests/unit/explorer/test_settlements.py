"""The projection of an escrow that states each milestone's settlement as amounts (toSeller, toBuyer
and the reason: the event is then the money's only record) and of reports a party holds: the order
opened on the embedded chain is indexed by a real sync, then those events are applied as the escrow
and the ledger emit them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_utils import keccak
from fastapi.testclient import TestClient
from sqlalchemy import select

from offnet import display
from offnet.chain import ContractEvent
from offnet.explorer import create_app
from offnet.explorer.pages import Explorer
from offnet.indexer import EventIndexer, IndexStore
from offnet.indexer.projection import Projection
from offnet.indexer.records import Records
from offnet.indexer.schema import reports, submissions
from offnet.market.types import Payout
from offnet.testing.world import DAY, ONE_TIME, delivery_report

BLOCK = 10**6  # far above the embedded chain's blocks
CREDIT = ONE_TIME // 10  # a late-delivery credit of 10 %


@pytest.fixture
def indexed(world, tmp_path) -> Iterator[tuple[IndexStore, bytes]]:
    order = world.open_order()
    store = IndexStore(f"sqlite:///{tmp_path / 'index.db'}")
    EventIndexer.of(world.suite, store).sync()
    yield store, order.order_id
    store.close()


def apply(store: IndexStore, name: str, log_index: int = 0, **args) -> None:
    with store.engine.begin() as conn:
        Projection(conn).apply(ContractEvent(name, args, BLOCK, log_index, "0x" + "00" * 32), "test")


def test_settlement_amounts__both_parties_credited_from_one_event_and_the_flow_adds_up(indexed, world):
    store, order_id = indexed
    escrowed = Records(store).payments([order_id])[order_id][0]["amount"]
    apply(
        store,
        "MilestoneSettled",
        orderId=order_id,
        milestone=0,
        toSeller=ONE_TIME - CREDIT,
        toBuyer=CREDIT,
        reason=Payout.RELEASE,
    )
    apply(
        store,
        "MilestoneSettled",
        1,
        orderId=order_id,
        milestone=1,
        toSeller=0,
        toBuyer=0,
        reason=Payout.CLAIM,
    )

    moves = Records(store).payments([order_id])[order_id]
    assert [(m["kind"], m["party"], m["amount"], m["milestone"]) for m in moves[1:]] == [
        ("release", world.seller.address, ONE_TIME - CREDIT, 0),
        ("credit", world.buyer.address, CREDIT, 0),
    ]  # nothing moved at the second settlement: no movement recorded
    [delivery, month] = Records(store).milestones(order_id)
    assert (delivery["reason"], delivery["to_seller"], delivery["to_buyer"]) == (
        "release",
        ONE_TIME - CREDIT,
        CREDIT,
    )
    assert month["reason"] == "claim" and month["settled_block"] == BLOCK

    page = Explorer(store).order("0x" + order_id.hex())
    money = page["money"]
    assert (money["released"]["units"], money["credited"]["units"]) == (str(ONE_TIME - CREDIT), str(CREDIT))
    assert money["held"]["units"] == str(escrowed - ONE_TIME)
    assert page["milestones"][0]["settlement"]["toSeller"]["text"].endswith(" tUSD")
    assert page["milestones"][0]["credit"] == "10.00%"  # of the one-time charge


def test_a_held_report__shown_held_until_final(indexed, world):
    store, order_id = indexed
    report_id = keccak(text="a report")
    content = keccak(text="its content")
    with store.engine.begin() as conn:  # a fact about a ticket whose key is a full 256-bit hash
        conn.execute(
            reports.insert().values(
                report_id=report_id, order_id=order_id, kind=1, key=2**255, status=0, first_block=BLOCK
            )
        )
    apply(
        store, "ReportHeld", reportId=report_id, orderId=order_id, by=world.buyer.address, contentHash=content
    )
    explorer = Explorer(store)
    [fact] = explorer.order("0x" + order_id.hex())["facts"]
    assert fact["status"] == "held"
    apply(store, "ReportFinalized", 1, reportId=report_id, orderId=order_id, contentHash=content, kind=1)
    [fact] = explorer.order("0x" + order_id.hex())["facts"]
    assert fact["status"] == "final"


def test_a_cancellation_asked_of_an_acknowledged_order__shown_until_the_order_is_delivered(world, tmp_path):
    order = world.open_order(acknowledge=True)
    escrow, terms = world.suite.escrow, order.terms
    escrow.cancel(world.buyer.sender, terms)  # work started: this only asks
    asked_at = escrow.hold(order.order_id, 0).cancel_requested_at
    store = IndexStore(f"sqlite:///{tmp_path / 'index.db'}")
    indexer, explorer = EventIndexer.of(world.suite, store), Explorer(store)
    indexer.sync()
    page = explorer.order("0x" + order.order_id.hex())
    assert page["status"] == "acknowledged"
    assert page["cancellation"]["from"] == display.when(asked_at + escrow.cancel_notice())
    assert page["cancellation"]["asked"]["time"] == display.when(asked_at)
    with TestClient(create_app(store)) as http:
        shown = http.get(f"/orders/0x{order.order_id.hex()}").text
    assert 'id="cancellation"' in shown and page["cancellation"]["from"] in shown
    # The seller shows its delivery within the notice: both parties report it and it settles.
    world.both_report(terms, delivery_report(terms, terms.awarded_at + DAY))
    indexer.sync()
    assert explorer.order("0x" + order.order_id.hex())["cancellation"] is None
    store.close()


def test_each_report_is_indexed_under_the_batch_its_transaction_submitted_just_before(indexed, world):
    store, order_id = indexed
    tx = "0x" + "33" * 32
    first, second = keccak(text="batch 1"), keccak(text="batch 2")
    with store.engine.begin() as conn:  # one transaction, two batches (a contract key submitting twice)
        projection = Projection(conn)
        for index, (name, args) in enumerate(
            [
                ("BatchSubmitted", {"root": first, "member": world.seller.address, "lane": 1}),
                ("ReportSubmitted", {"orderId": order_id, "kind": 5, "key": 1}),
                ("BatchSubmitted", {"root": second, "member": world.buyer.address, "lane": 2}),
                ("ReportSubmitted", {"orderId": order_id, "kind": 5, "key": 2}),
            ]
        ):
            if name == "BatchSubmitted":
                args |= {"key": world.seller.address, "reports": 1}
            else:
                args |= {
                    "value0": 0,
                    "value1": 0,
                    "metrics": (999_900, 1, 1, 1, 0),
                    "evidenceHash": bytes(32),
                }
            projection.apply(ContractEvent(name, args, BLOCK, index, tx), "SlaLedger")
        rows = conn.execute(
            select(submissions.c.root, submissions.c.member).order_by(submissions.c.log_index)
        )
        assert [tuple(r) for r in rows] == [(first, world.seller.address), (second, world.buyer.address)]
