"""SlaLedger.submit: who may submit, what one batch stores and emits, idempotent retries, gas."""

from eth_utils import keccak

from offnet.chain import ContractEvent
from offnet.market.ledger import Batch, reports_with_batches
from offnet.market.types import ReportKind, ReportStatus, SlaReport
from offnet.testing.world import DAY, LIVENESS, events

ZERO = "0x" + "00" * 20
REPORT_FIELDS = ("orderId", "kind", "key", "value0", "value1", "metrics", "evidenceHash")
SINGLE_REPORT_BUDGET = 50_000  # DESIGN.md, for a report sent alone into a reused lane
FRESH_LANE_BUDGET = 68_000  # a lane written for the first time pays for a new storage slot


def test_submit__one_report__stores_one_batch_and_emits_the_report(ledger, gas):
    terms = ledger.terms()
    report = ledger.delivery(terms)

    batch, receipt = ledger.submit(ledger.seller, [report])

    stored = ledger.ledger.batch_stored(batch)
    assert stored.holds(batch.root)
    assert stored.submitted_at == ledger.chain.now()
    [submitted] = events(ledger.ledger, receipt, "BatchSubmitted")
    assert (bytes(submitted.root), submitted.member, submitted.lane, submitted.key, submitted.reports) == (
        batch.root,
        ledger.seller.address,
        batch.lane_id,
        ledger.seller.oracle_key.address,
        1,
    )
    [decoded] = ledger.ledger.submitted_reports(receipt)
    assert decoded.report == report
    assert decoded.report_id == report.report_id
    assert decoded.root == batch.root
    # Submission alone decides nothing: the report is neither final nor disputed.
    assert ledger.ledger.status(report) is ReportStatus.NONE
    # A lane of its own: a new storage slot (22.1k of the total).
    gas.check("SlaLedger.submit(1 report, fresh lane)", receipt.gas_used, budget=FRESH_LANE_BUDGET)


def test_submit__one_report_into_a_reused_lane__within_the_single_report_budget(ledger, gas):
    terms = ledger.terms()
    first, second = ledger.delivery(terms), ledger.delivery(ledger.terms(rfq_id=2))
    ledger.ledger.submit(ledger.seller.oracle_key.sender, ledger.seller.address, [first], lane=0)
    ledger.chain.advance_time(LIVENESS)

    batch, receipt = ledger.ledger.submit(
        ledger.seller.oracle_key.sender, ledger.seller.address, [second], lane=0
    )

    assert ledger.ledger.lane(ledger.seller.address, 0).holds(batch.root)
    gas.check("SlaLedger.submit(1 report)", receipt.gas_used, budget=SINGLE_REPORT_BUDGET)


def test_submit__into_a_lane_within_its_liveness_window__reverts_and_keeps_the_batch(ledger):
    first, second = ledger.delivery(ledger.terms()), ledger.delivery(ledger.terms(rfq_id=2))
    held, _ = ledger.ledger.submit(ledger.seller.oracle_key.sender, ledger.seller.address, [first], lane=7)
    free_at = ledger.ledger.lane(ledger.seller.address, 7).submitted_at + LIVENESS
    ledger.chain.advance_time(LIVENESS - 10)
    ledger.refuse(
        lambda: ledger.ledger.submit(
            ledger.seller.oracle_key.sender, ledger.seller.address, [second], lane=7
        ),
        "SlaLaneBusy",
        member=ledger.seller.address,
        lane=7,
        freeAt=free_at,
    )
    assert ledger.ledger.lane(ledger.seller.address, 7).holds(held.root)


def test_submit__lane_reused__the_old_batch_can_no_longer_prove_its_reports(ledger):
    terms = ledger.open()
    old = ledger.delivery(terms)
    old_batch, _ = ledger.ledger.submit(ledger.seller.oracle_key.sender, ledger.seller.address, [old], lane=3)
    ledger.chain.advance_time(LIVENESS)
    ledger.ledger.submit(
        ledger.seller.oracle_key.sender,
        ledger.seller.address,
        [ledger.delivery(ledger.terms(rfq_id=9))],
        lane=3,
    )
    ledger.refuse(
        lambda: ledger.ledger.finalize(ledger.stranger.sender, terms, old, old_batch),
        "SlaInvalidProof",
        reportId=old.report_id,
        member=ledger.seller.address,
        lane=3,
    )
    # Sent again (e.g. by the relay, which reuses a lane only once its reports are final), it counts.
    again, _ = ledger.ledger.submit(ledger.seller.oracle_key.sender, ledger.seller.address, [old], lane=4)
    ledger.chain.advance_time(LIVENESS)
    ledger.ledger.finalize(ledger.stranger.sender, terms, old, again)
    assert ledger.ledger.status(old) is ReportStatus.FINAL


def test_submit__batch_of_100__costs_under_10k_per_report_and_python_proofs_finalise_it(ledger, gas):
    orders = [ledger.terms(rfq_id=i) for i in range(100)]
    reports = [
        SlaReport(
            t.order_id(),
            ReportKind.ORDER_ACKNOWLEDGED,
            0,
            t.awarded_at + i,
            evidence_hash=keccak(text=f"acknowledged {i}"),
        )
        for i, t in enumerate(orders)
    ]

    batch, receipt = ledger.submit(ledger.seller, reports)

    assert ledger.ledger.batch_stored(batch).holds(batch.root)
    submitted = ledger.ledger.submitted_reports(receipt)
    assert [s.report for s in submitted] == reports
    assert {s.root for s in submitted} == {batch.root}
    gas.check("SlaLedger.submit(100 reports)", receipt.gas_used)
    gas.check("SlaLedger.submit per report in a batch of 100", receipt.gas_used // 100, budget=10_000)
    # Proofs built in Python are accepted for the first, a middle and the last (promoted) leaf.
    ledger.chain.advance_time(LIVENESS)
    for index in (0, 57, 99):
        ledger.ledger.finalize(ledger.stranger.sender, orders[index], reports[index], batch)
        assert ledger.ledger.status(reports[index]) is ReportStatus.FINAL
    assert ledger.ledger.status(reports[1]) is ReportStatus.NONE


def test_submit__same_batch_again__is_a_no_op(ledger):
    report = ledger.delivery(ledger.terms())
    batch, _ = ledger.submit(ledger.seller, [report])
    first = ledger.ledger.batch_stored(batch)
    ledger.chain.advance_time(LIVENESS // 2)

    again, receipt = ledger.submit(ledger.seller, [report])

    assert again.root == batch.root
    assert ledger.ledger.batch_stored(batch) == first  # the liveness window did not restart
    assert events(ledger.ledger, receipt, "BatchSubmitted") == []
    assert ledger.ledger.submitted_reports(receipt) == []


def test_submit__same_report_from_buyer_and_seller__gives_two_batches(ledger):
    report = ledger.delivery(ledger.terms())
    seller_batch, _ = ledger.submit(ledger.seller, [report])
    buyer_batch, _ = ledger.submit(ledger.buyer, [report])
    assert seller_batch.root != buyer_batch.root
    assert ledger.ledger.batch_stored(buyer_batch).holds(buyer_batch.root)
    assert ledger.ledger.batch_stored(seller_batch).holds(seller_batch.root)


def test_submit__the_member_admin_key__is_an_oracle_too(ledger):
    report = ledger.delivery(ledger.terms())
    receipt = ledger.seller.sender.transact(ledger.ledger.fn.submit(5, [report.to_tuple()]))
    root = Batch.of(ledger.seller.address, [report]).root
    assert ledger.ledger.lane(ledger.seller.address, 5).holds(root)
    assert len(ledger.ledger.submitted_reports(receipt)) == 1


def test_submit__by_a_stranger__reverts(ledger):
    report = ledger.delivery(ledger.terms())
    ledger.refuse(
        lambda: ledger.stranger.sender.transact(ledger.ledger.fn.submit(0, [report.to_tuple()])),
        "SlaNotOracle",
        key=ledger.stranger.address,
        member=ZERO,
    )
    assert ledger.ledger.lane(ledger.stranger.address, 0).submitted_at == 0


def test_submit__by_a_quote_only_key__reverts(ledger, escrow_party):
    from offnet.market.registry import Role

    quoter = escrow_party("seller-quoter")
    ledger.registry.add_key(ledger.seller.sender, quoter.address, Role.QUOTE)
    report = ledger.delivery(ledger.terms())
    ledger.refuse(
        lambda: quoter.sender.transact(ledger.ledger.fn.submit(0, [report.to_tuple()])),
        "SlaNotOracle",
        key=quoter.address,
        member=ledger.seller.address,
    )


def test_submit__by_a_suspended_members_oracle__reverts(ledger):
    ledger.suspend(ledger.seller)
    report = ledger.delivery(ledger.terms())
    ledger.refuse(
        lambda: ledger.submit(ledger.seller, [report]),
        "SlaNotOracle",
        key=ledger.seller.oracle_key.address,
        member=ledger.seller.address,
    )
    assert ledger.ledger.batch_stored(Batch.of(ledger.seller.address, [report])).submitted_at == 0


def test_submit__empty_batch__reverts(ledger):
    ledger.refuse(
        lambda: ledger.seller.oracle_key.sender.transact(ledger.ledger.fn.submit(0, [])), "SlaEmptyBatch"
    )


def test_submit__unknown_kind__reverts_naming_the_report(ledger):
    terms = ledger.terms()
    good = ledger.delivery(terms)
    bad = SlaReport(terms.order_id(), ReportKind.PERIOD, 1)
    bad_tuple = (*bad.to_tuple()[:1], 9, *bad.to_tuple()[2:])
    ledger.refuse(
        lambda: ledger.seller.oracle_key.sender.transact(
            ledger.ledger.fn.submit(0, [good.to_tuple(), bad_tuple])
        ),
        "SlaUnknownKind",
        index=1,
        kind=9,
    )


def test_liveness_window__is_the_constructor_value(ledger):
    assert ledger.ledger.liveness_window() == 2 * DAY


def test_reports_are_paired_with_the_batch_submitted_before_them_in_their_transaction(ledger):
    """ReportSubmitted names no root: the client, the indexer and the demo's watch pair each report
    with the nearest BatchSubmitted before it in the same transaction, even when one transaction (a
    contract key calling submit twice) holds several batches."""
    terms, other = ledger.terms(), ledger.terms(rfq_id=2)
    first = [ledger.delivery(terms), ledger.delivery(other)]
    second = [ledger.period(terms, 1)]
    one_tx, two_tx = "0x" + "11" * 32, "0x" + "22" * 32

    def batch(reports, tx, index, lane):
        b = Batch.of(ledger.seller.address, reports, lane)
        args = {"root": b.root, "member": b.member, "lane": lane, "key": ZERO, "reports": len(reports)}
        return b, ContractEvent("BatchSubmitted", args, 5, index, tx)

    def submitted(report, tx, index):
        return ContractEvent(
            "ReportSubmitted", dict(zip(REPORT_FIELDS, report.to_tuple(), strict=True)), 5, index, tx
        )

    b1, e1 = batch(first, one_tx, 0, 3)
    b2, e2 = batch(second, one_tx, 3, 4)
    b3, e3 = batch(second, two_tx, 5, 9)
    log = [e1, submitted(first[0], one_tx, 1), submitted(first[1], one_tx, 2), e2]
    log += [submitted(second[0], one_tx, 4), e3, submitted(second[0], two_tx, 6)]

    paired = reports_with_batches(log)

    assert [(p.report, p.root, p.lane) for p in paired] == [
        (first[0], b1.root, 3),
        (first[1], b1.root, 3),
        (second[0], b2.root, 4),
        (second[0], b3.root, 9),
    ]
    assert {p.member for p in paired} == {ledger.seller.address}
