"""The oracle's queues are served in arrival order and shared fairly between peers: a peer that floods
the listener, or back-dates its eventTime, cannot push another peer's events or reports out of a pass
(on SQLite and on PostgreSQL)."""

from offnet.market.codec import report_to_json
from offnet.market.types import ReportKind, SlaReport
from offnet.oracle.store import Store


def envelope(event_id: str, resource: str, event_time: str) -> dict:
    return {
        "eventId": event_id,
        "eventTime": event_time,
        "eventType": "troubleTicketStatusChangeEvent",
        "event": {"id": resource},
    }


def test_due_events__arrival_order_not_event_time_and_a_fair_share_per_peer(database):
    store = Store(database)
    store.record_event("honest", "troubleTicket", envelope("h-1", "TT-H1", "2026-07-01T08:00:00Z"), None)
    for i in range(300):  # a flood, back-dated to look older than everything else
        store.record_event(
            "flooder", "troubleTicket", envelope(f"f-{i}", f"TT-F{i}", "1999-01-01T00:00:00Z"), None
        )
    store.record_event("honest", "troubleTicket", envelope("h-2", "TT-H2", "2026-07-01T09:00:00Z"), None)

    due = store.due_events(limit=100)
    assert [e.event_id for e in due if e.peer == "honest"] == ["h-1", "h-2"]
    assert len([e for e in due if e.peer == "flooder"]) <= 50  # its share of the pass, not all of it
    assert [e.id for e in due] == sorted(e.id for e in due)  # arrival order
    assert due[0].event_id == "h-1"  # the flood's back-dated eventTime puts nothing ahead of it


def test_pending_reports__the_next_batch_takes_every_peer_in_turn(database):
    store = Store(database)

    def report(order: int, key: int) -> dict:
        return report_to_json(SlaReport(order.to_bytes(32, "big"), ReportKind.TROUBLE_TICKET, key))

    store.queue_reports([report(1, k) for k in range(200)], source_peer="flooder")
    store.queue_reports([report(2, 1), report(2, 2)], source_peer="honest")
    batch = store.pending_reports(10)
    peers = [r["source_peer"] for r in batch]
    assert peers.count("honest") == 2 and peers[:4].count("honest") == 2
