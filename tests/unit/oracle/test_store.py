"""The oracle store on both databases it supports: a SQLite file and a real PostgreSQL server.

Every test runs twice (the `database` fixture): what the oracle writes and what peers can send must
fit, and be refused the same way, on either.
"""

from __future__ import annotations

import asyncio
import time

import pytest
import sqlalchemy

from offnet.exceptions import InvalidInput
from offnet.market.codec import report_to_json
from offnet.market.types import PeriodMetrics, ReportKind, SlaReport
from offnet.oracle.committer import Batched, Committer
from offnet.oracle.events import is_permanent
from offnet.oracle.store import ID, Store

MAX_U64_LANE = 2**63 - 1  # a batch's own lane: 63 bits (SlaLedger lanes are uint64)
RFQ_ID = 2**256 - 1  # RFQ ids are 256-bit hashes: 78 decimal digits


@pytest.fixture
def store(database):
    store = Store(database)
    yield store
    store.close()


def envelope(event_id: str, resource_id: str = "TT-1") -> dict:
    return {
        "eventId": event_id,
        "eventTime": "2026-06-01T10:00:00Z",
        "eventType": "troubleTicketStatusChangeEvent",
        "event": {"id": resource_id},
    }


def reports(*keys: int) -> list[dict]:
    return [
        report_to_json(
            SlaReport(bytes(32), ReportKind.PERIOD, k, metrics=PeriodMetrics(999_000, 5_000, 1, 0, 0))
        )
        for k in keys
    ]


def test_store__dialect__is_the_one_the_url_names(store, database):
    assert store.dialect == ("postgresql" if database.startswith("postgresql") else "sqlite")


def test_record_event__same_peer_and_event_id__stored_once(store):
    assert store.record_event("seller", "troubleTicket", envelope("EV-1"), None)
    assert not store.record_event("seller", "troubleTicket", envelope("EV-1"), None)
    assert store.record_event("other", "troubleTicket", envelope("EV-1"), None)  # another peer's id space
    assert store.counts()["events_received"] == 2


def test_due_events__arrival_order_and_a_fair_share_per_peer(store):
    for i in range(10):
        store.record_event("flooder", "troubleTicket", envelope(f"F-{i}", f"TT-F{i}"), None)
    for i in range(2):
        store.record_event("quiet", "troubleTicket", envelope(f"Q-{i}", f"TT-Q{i}"), None)
    due = store.due_events(4)
    assert [e.peer for e in due].count("quiet") == 2  # the flood cannot push the quiet peer out
    assert [e.id for e in due] == sorted(e.id for e in due)
    skipped = store.due_events(100, skip=[e.id for e in due])
    assert not {e.id for e in due} & {e.id for e in skipped}
    assert len(due) + len(skipped) == 12


def test_finish_event__queues_its_reports_once_and_marks_it_done(store):
    store.record_event("seller", "troubleTicket", envelope("EV-1"), None)
    [event] = store.due_events(10)
    assert store.finish_event(event.id, reports(1, 2), "seller") == 2
    assert store.queue_reports(reports(2, 3), "seller") == 1  # the same fact again: one report id
    assert store.due_events(10) == []
    assert [r["status"] for r in store.pending_reports(10)] == ["pending"] * 3


def test_retry_event__backs_off__then_is_a_dead_letter__until_requeued(store):
    store.RETRY_BUDGET = 10
    store.record_event("seller", "troubleTicket", envelope("EV-1"), None)
    [event] = store.due_events(10, now=0)
    assert store.retry_event(event.id, "seller down", now=1_000, base_delay=4) == "received"
    assert store.due_events(10, now=1_003) == []  # backing off
    assert [e.attempts for e in store.due_events(10, now=1_004)] == [1]
    assert store.retry_event(event.id, "seller down", now=2**40, base_delay=4) == "dead"
    [dead] = store.dead_letters()
    assert dead["last_error"] == "seller down"
    assert store.requeue_dead(now=2**40) == (1, 0)
    assert len(store.due_events(10, now=2**40)) == 1


def test_outbox__pending_to_final__with_64_bit_lanes_nonces_blocks_and_times(store):
    store.queue_reports(reports(1, 2, 3))
    ids = [r["report_id"] for r in store.pending_reports(10)]
    big = 2**40
    store.mark_submitted(ids, "0x" + "ab" * 32, "0x" + "cd" * 32, MAX_U64_LANE, nonce=big)
    assert store.submitted_transactions() == {"0x" + "ab" * 32: ids}
    assert store.lanes_in_use([0, 1, MAX_U64_LANE]) == {MAX_U64_LANE}
    store.mark_confirmed(ids, block_number=big, due_at=big + 3 * 86_400)
    assert store.due_reports(big) == []
    due = store.due_reports(big + 3 * 86_400)
    assert [(r["batch_lane"], r["nonce"], r["block_number"]) for r in due] == [(MAX_U64_LANE, big, big)] * 3
    assert [r["batch_index"] for r in store.batch_reports("0x" + "cd" * 32)] == [0, 1, 2]
    store.set_report_status(ids, "final")
    assert store.lanes_in_use([0, 1, MAX_U64_LANE]) == set()
    assert store.counts()["reports_final"] == 3


def test_mark_pending__forgets_the_transaction(store):
    store.queue_reports(reports(1))
    ids = [r["report_id"] for r in store.pending_reports(10)]
    store.mark_submitted(ids, "0x" + "ab" * 32, "0x" + "cd" * 32, 3, nonce=7)
    store.mark_pending(ids, "transaction not found")
    [row] = store.pending_reports(10)
    assert (row["tx_hash"], row["nonce"], row["batch_lane"], row["attempts"]) == (None, None, None, 1)


def test_rfq__a_256_bit_id__is_recorded_awarded_and_read_back(store):
    store.save_rfq(RFQ_ID, {"buyer": "0x" + "11" * 20}, {"externalId": "r-1"})
    assert store.open_rfqs() == [RFQ_ID]
    store.save_quote_request("seller", "Q" * ID, RFQ_ID)
    assert store.rfq_of_quote_request("seller", "Q" * ID) == RFQ_ID
    store.add_received_quote(RFQ_ID, "seller", {"signature": "0x"}, "Q" * ID, "I" * ID)
    order_id = "0x" + "ee" * 32
    store.record_award(RFQ_ID, order_id, "seller", ["first"], ["terms"])
    assert store.rfq(RFQ_ID)["state"] == "awarded"
    assert store.order(rfq_id=RFQ_ID)["order_id"] == order_id
    assert store.link_product_order(order_id, "P" * ID)
    assert store.order(product_order_id="P" * ID)["order_id"] == order_id


@pytest.mark.parametrize(
    "write",
    [
        lambda s: s.link_product_order("0x" + "ee" * 32, "P" * (ID + 1)),
        lambda s: s.save_quote_request("seller", "Q" * (ID + 1), 1),
        lambda s: s.add_received_quote(1, "seller", {}, "Q" * (ID + 1), "I-1"),
        lambda s: s.add_received_quote(1, "seller", {}, "Q-1", "I" * (ID + 1)),
        lambda s: s.save_subscription("self", "quote", "S" * (ID + 1)),
        lambda s: s.link_product_order("0x" + "ee" * 32, "P-\x00"),
        lambda s: s.save_quote_request("seller", "Q-\x00", 1),
        lambda s: s.record_event("seller", "troubleTicket", envelope("EV-\x00"), None),
        lambda s: s.record_event("seller", "troubleTicket", envelope("E" * (ID + 1)), None),
    ],
    ids=[
        "long product order id",
        "long quote id",
        "long received quote id",
        "long quote item id",
        "long subscription id",
        "NUL in product order id",
        "NUL in quote id",
        "NUL in event id",
        "long event id",
    ],
)
def test_peer_identifier__too_long_or_with_nul__refused_permanently_and_nothing_stored(store, write):
    store.save_order("0x" + "ee" * 32, 1, "buyer", ["terms"], "seller")
    with pytest.raises(InvalidInput) as refused:
        write(store)
    assert is_permanent(refused.value)  # an event carrying it becomes a dead letter with the reason
    assert store.order(order_id="0x" + "ee" * 32)["product_order_id"] is None
    assert store.rfq_of_quote_request("seller", "Q-\x00".replace("\x00", "")) is None
    assert store.received_quotes(1) == {}
    assert store.subscription("self", "quote") is None
    assert store.counts()["events_received"] == 0


def test_failure_reason__with_nul_and_very_long__stored_escaped_and_cut(store):
    store.record_event("seller", "troubleTicket", envelope("EV-1"), None)
    [event] = store.due_events(10)
    store.dead_event(event.id, "bad \x00 byte " + "x" * 1_000)
    [dead] = store.dead_letters()
    assert dead["last_error"].startswith("bad \\x00 byte x") and len(dead["last_error"]) == 500
    store.save_order("0x" + "ee" * 32, 1, "buyer", ["terms"], "seller")
    store.update_order("0x" + "ee" * 32, last_error="seller said \x00")
    assert store.order(order_id="0x" + "ee" * 32)["last_error"] == "seller said \\x00"


def test_reopened_store__sees_everything_committed(store, database):
    store.record_event("seller", "troubleTicket", envelope("EV-1"), None)
    store.queue_reports(reports(1))
    store.set_next_block("orders", 2**40)
    again = Store(database)  # what a restarted oracle, or a second replica, opens
    try:
        assert again.counts()["events_received"] == 1 and again.counts()["reports_pending"] == 1
        assert again.next_block("orders") == 2**40
    finally:
        again.close()


def test_group_commit__many_units_share_transactions__a_bad_unit_fails_alone(store):
    committer = Committer(store.engine).start()

    def event(i: int):
        return lambda c: store.record_event("seller", "troubleTicket", envelope(f"EV-{i}"), None, conn=c)

    def bad(c):
        return store.link_product_order("0x" + "ee" * 32, "P" * (ID + 1), conn=c)

    async def ingest(units) -> list:
        return await asyncio.gather(*(committer.execute(u) for u in units), return_exceptions=True)

    try:
        assert asyncio.run(ingest([event(i) for i in range(300)])) == [True] * 300
        assert committer.commits < committer.units  # grouped: fewer commits than units of work
        mixed = asyncio.run(ingest([event(300), bad, event(301)]))
    finally:
        committer.close()
    assert mixed[0] is True and mixed[2] is True and isinstance(mixed[1], InvalidInput)
    assert store.counts()["events_received"] == 302


def test_group_commit__units_that_trickle_in_within_the_gather_window_share_one_commit(store):
    committer = Committer(store.engine, gather=0.25).start()
    try:
        futures = []
        for i in range(10):  # one unit a millisecond, as events arrive at a few hundred a second
            futures.append(
                committer.submit(
                    lambda c, i=i: store.record_event(
                        "seller", "troubleTicket", envelope(f"TR-{i}"), None, conn=c
                    )
                )
            )
            time.sleep(0.001)
        assert [f.result(timeout=30) for f in futures] == [True] * 10
        assert (committer.units, committer.commits) == (10, 1)
    finally:
        committer.close()


def test_finish_events__per_event_counts__the_first_entry_of_a_fact_wins(store):
    for i in range(3):
        store.record_event("seller", "troubleTicket", envelope(f"EV-{i}", f"TT-{i}"), None)
    first, second, third = (e.id for e in store.due_events(10))
    added = store.finish_events([(first, reports(1, 2), "a"), (second, reports(2, 3), "b"), (third, [], "a")])
    assert added == [2, 1, 0]
    assert store.due_events(10) == []
    queued = {r["report_id"]: r for r in store.pending_reports(10)}
    assert len(queued) == 3
    fact_two = queued[reports(2)[0]["reportId"]]
    assert (fact_two["source_event"], fact_two["source_peer"]) == (first, "a")
    assert store.finish_events([(first, reports(1, 4, 4), "a")]) == [1]  # known, new, then new again


def test_finish_events__a_group_of_events__costs_two_statements_not_two_per_event(store):
    for i in range(100):
        store.record_event("seller", "troubleTicket", envelope(f"EV-{i}", f"TT-{i}"), None)
    finished = [(e.id, reports(e.id), "seller") for e in store.due_events(100)]
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sqlalchemy.event.listen(store.engine, "before_cursor_execute", count)
    try:
        assert store.finish_events(finished) == [1] * 100
    finally:
        sqlalchemy.event.remove(store.engine, "before_cursor_execute", count)
    writes = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert len(writes) == 2
    assert store.counts()["reports_pending"] == 100 and store.counts()["events_done"] == 100


def test_group_commit__batched_units_share_one_call_among_other_writes__a_bad_item_fails_alone(store):
    committer = Committer(store.engine)  # started once everything is queued: one group commit
    calls: list[int] = []

    def finish(items, conn):
        calls.append(len(items))
        return store.finish_events(items, conn=conn)

    for i in range(200):
        store.record_event("seller", "troubleTicket", envelope(f"EV-{i}", f"TT-{i}"), None)
    rows = [e.id for e in store.due_events(200)]
    futures = []
    for row in rows:  # finished events interleaved with the listener's new events
        futures.append(committer.submit(Batched(finish, (row, reports(row), "seller"))))
        futures.append(
            committer.submit(
                lambda c, row=row: store.record_event(
                    "seller", "troubleTicket", envelope(f"N-{row}"), None, conn=c
                )
            )
        )
    committer.start()
    try:
        assert [f.result(timeout=60) for f in futures] == [1, True] * 200
        assert calls == [200]  # one call for every finished event of the group

        # A bad item (a peer name longer than its column) breaks its group: every unit runs again
        # alone, the others still commit.
        items = [(row, reports(1000 + row), "seller") for row in rows[:3]]
        items[1] = (rows[1], reports(2000), "p" * 65)

        async def finish_again() -> list:
            return await asyncio.gather(
                *(committer.execute_batched(finish, item) for item in items), return_exceptions=True
            )

        again = asyncio.run(finish_again())
    finally:
        committer.close()
    assert again[0] == 1 and again[2] == 1 and isinstance(again[1], InvalidInput)
    assert store.counts()["reports_pending"] == 202
    assert store.counts()["events_received"] == 200  # the listener's, each stored once


def test_record_events__one_statement__each_peer_event_id_stored_once(store):
    assert store.record_event("seller", "troubleTicket", envelope("EV-0"), None)
    received = [
        ("seller", "troubleTicket", envelope("EV-0"), None),  # stored before
        ("seller", "troubleTicket", envelope("EV-1"), None),
        ("other", "troubleTicket", envelope("EV-1"), None),  # another peer's id space
        ("seller", "troubleTicket", envelope("EV-1", "TT-9"), None),  # the same event again
        ("seller", "troubleTicket", envelope("EV-2"), "item-1"),
    ]
    assert store.record_events(received) == [False, True, True, False, True]
    due = {(e.peer, e.event_id): e for e in store.due_events(10)}
    assert len(due) == 4
    assert due[("seller", "EV-1")].resource_id == "TT-1"  # the first of the duplicates is kept
    assert due[("seller", "EV-2")].item_id == "item-1"
    with pytest.raises(InvalidInput):  # one bad row refuses the lot: nothing stored
        store.record_events(
            [("seller", "troubleTicket", envelope("EV-3"), None), ("p" * 65, "x", envelope("EV-4"), None)]
        )
    assert store.counts()["events_received"] == 4


def test_lanes_in_use__the_ring_lanes_with_unsettled_reports_whatever_else_the_outbox_holds(store):
    store.queue_reports(reports(*range(1, 13)))
    ids = [r["report_id"] for r in store.pending_reports(20)]
    for lane, batch in ((0, ids[0:3]), (2, ids[3:6]), (5, ids[6:9]), (7, ids[9:12])):
        store.mark_submitted(batch, "0x" + f"{lane:064x}", "0x" + f"{lane:064x}", lane, nonce=lane)
    store.mark_confirmed(ids[3:6], block_number=9, due_at=10)  # confirmed, not final: still in use
    store.set_report_status(ids[6:9], "final")  # lane 5 is free again
    store.mark_pending(ids[9:12], "dropped")  # lane 7: its batch went back to pending
    assert store.lanes_in_use(range(8)) == {0, 2}
    assert store.lanes_in_use([2]) == {2}
    assert store.lanes_in_use([1, 3]) == set()


def test_transactions_in_flight__counts_the_transactions_with_submitted_reports(store):
    store.queue_reports(reports(1, 2, 3, 4, 5))
    ids = [r["report_id"] for r in store.pending_reports(10)]
    assert store.transactions_in_flight() == 0
    store.mark_submitted(ids[:2], "0x" + "01" * 32, "0x" + "aa" * 32, 0, nonce=1)
    store.mark_submitted(ids[2:4], "0x" + "02" * 32, "0x" + "bb" * 32, 1, nonce=2)
    assert store.transactions_in_flight() == 2
    store.mark_confirmed(ids[:2], block_number=5, due_at=10)
    assert store.transactions_in_flight() == 1
