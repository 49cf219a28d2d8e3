"""Matched finalisation under clock skew, with real processes on a real anvil.

The seller's Sonata system (the reference seller, real HTTP) runs SKEW ahead of the chain, and so of the
buyer, whose oracle keeps chain time. Both carriers' oracles run as `offnet oracle run`, each with its
own SQLite file. The seller's oracle signs and commits its quote from its own Sonata system; the buyer
(its desk: this test) awards it and orders it at the seller. The buyer's oracle cannot reach the
seller's API while the order is delivered and the trouble tickets are resolved (a cut TCP link), so
it reports the same facts two days of chain time after the seller's oracle did, from documents the skewed
clock stamped.

Both oracles must agree on the facts (every report field but the evidence hash) whatever the skew.
Where their contents are equal the test (anyone: finality is permissionless) makes the fact final at
once from the two batches (`finalizeMatched`), inside the liveness window; the delivery must be one
of these. Where only the evidence differs, the ledger refuses the match (SlaInvalidProof) and the fact
becomes final after the window through the oracles' own relays, as do facts only the seller's oracle
saw. Nothing lost: every report in either outbox ends final on chain. Nothing doubled: one
ReportFinalized per report id, one delivery payout, each oracle submits each report id once, and the
relays skip what the match already made final. The buyer's oracle records and logs why its reports
came late.

Finding (the test ends as an expected failure while it holds): a trouble ticket's report cannot be
matched when the two oracles fetch the ticket on either side of its closure (a day after its
resolution), because the evidence hash covers the whole Sonata document.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import Counter
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from eth_account.signers.local import LocalAccount

from offnet.chain import Sender
from offnet.chain.anvil import Anvil, free_port
from offnet.chain.connect import Chain, connect
from offnet.deployment import Suite
from offnet.exceptions import ContractRevert
from offnet.market.codec import report_from_json, signed_quote_from_json, terms_from_json
from offnet.market.ledger import Batch
from offnet.market.registry import ACCESS_ELINE, location_key
from offnet.market.rfq import Rfq
from offnet.market.types import ReportKind, ReportStatus
from offnet.serving import serve_in_thread
from offnet.sonata.buyer import order_accepting_quote, rfq_external_id
from offnet.sonata.canonical import document_hash
from offnet.sonata.client import SonataClient
from offnet.sonata.examples import load_example
from offnet.sonata.models import PRODUCT_ORDER_API, TROUBLE_TICKET_API
from offnet.testing.faults import CuttableLink
from offnet.testing.processes import OracleProcess, peer, reference_seller
from offnet.testing.world import CREDITS, DAY, World, wait_until

pytestmark = pytest.mark.anvil
SKEW = int(os.environ.get("OFFNET_TEST_SKEW", 7 * 3600))  # the seller's clock runs ahead of the chain
LIVENESS = 4 * DAY
TICKETS = 3
TOKENS = {  # bearer tokens, handed to the oracles through environment variables
    "SKEW_BUYER_AT_SELLER": "buyer-at-seller",  # the buyer at the seller's API and oracle
    "SKEW_SELLER_NOTIFIES": "seller-notifies",  # the seller's Sonata system at both listeners
    "SKEW_SELLER_OPERATOR": "seller-operator",  # the seller's oracle at its own Sonata system
    "SKEW_UNUSED": "nobody-uses-this",  # the buyer has no Sonata system of its own here
}


def batch_of(oracle: OracleProcess, member: str, root: str) -> Batch:
    """The batch an oracle sent, rebuilt from its outbox (what its relay proves reports against)."""
    rows = oracle.store.batch_reports(root)
    return Batch.of(member, [report_from_json(json.loads(r["payload"])) for r in rows], rows[0]["batch_lane"])


def test_clock_skew__both_oracles_report_one_fact_at_different_times__final_once_by_match(tmp_path):
    node = Anvil().start()
    oracles: list[OracleProcess] = []
    try:
        chain = connect(rpc=node.url)
        world = World.create(chain, "skew", keys=False, liveness_window=LIVENESS)
        suite, buyer, seller, anyone = world.suite, world.buyer.account, world.seller.account, world.outsider
        deployments = tmp_path / "deployments"
        suite.manifest.save(deployments)

        app = reference_seller(
            "skew",
            world,
            ahead=SKEW,
            tokens={"seller-operator": "*"},
            notification_token="seller-notifies",
            seller_id=seller.address,
        )
        with serve_in_thread(app) as seller_api:
            link = CuttableLink(int(seller_api.rsplit(":", 1)[1]))  # the buyer oracle's way to the seller
            common = {
                "rpc": node.url,
                "deployments": str(deployments),
                "poll_interval": 0.1,
                "batch_size": 20,
                "auto_award": False,
            }
            seller_oracle = OracleProcess(
                "seller",
                tmp_path,
                {
                    **common,
                    "member": seller.address,
                    "listen_port": free_port(),
                    "buyer": False,
                    "peers": [
                        peer(
                            "buyer",
                            buyer.address,
                            "http://127.0.0.1:9",
                            inbound_token="SKEW_UNUSED",
                            oracle_token="SKEW_BUYER_AT_SELLER",
                        )
                    ],
                    "seller": {
                        "sonata_url": seller_api,
                        "operator_token": {"env": "SKEW_SELLER_OPERATOR"},
                        "notification_token": {"env": "SKEW_SELLER_NOTIFIES"},
                        "credits": asdict(CREDITS),
                        "prepaid_months": 1,
                    },
                },
                seller,
                secrets=TOKENS,
            )
            buyer_oracle = OracleProcess(
                "buyer",
                tmp_path,
                {
                    **common,
                    "member": buyer.address,
                    "listen_port": free_port(),
                    "peers": [
                        peer(
                            "seller",
                            seller.address,
                            link.url,
                            inbound_token="SKEW_SELLER_NOTIFIES",
                            outbound_token="SKEW_BUYER_AT_SELLER",
                        )
                    ],
                },
                buyer,
                secrets=TOKENS,
            )
            oracles += [seller_oracle, buyer_oracle]
            for oracle in oracles:  # started together: each takes seconds to import
                oracle.spawn()
            for oracle in oracles:
                oracle.wait_listening()

            order_id = asyncio.run(
                _trade(chain, suite, buyer, seller, seller_api, seller_oracle, buyer_oracle, link)
            )
            ledger = suite.ledger

            # The seller's oracle has reported delivery and the tickets; the buyer's could not fetch.
            def seller_reported() -> bool:
                rows = seller_oracle.outbox().values()
                confirmed = [r for r in rows if r["status"] == "confirmed"]
                kinds = Counter(r["kind"] for r in confirmed)
                return kinds[ReportKind.ORDER_COMPLETED] == 1 and kinds[ReportKind.TROUBLE_TICKET] == TICKETS

            wait_until(seller_reported, "the seller's oracle to confirm delivery and tickets on chain")
            assert not buyer_oracle.outbox(), "the buyer's oracle reported without the seller's documents"
            reasons = wait_until(
                lambda: [
                    e["last_error"]
                    for e in buyer_oracle.rows("select * from events where attempts > 0")
                    if e["last_error"]
                ],
                "the buyer's oracle to record why it cannot fetch",
            )

            # Two days later on chain (inside the liveness window) the buyer's oracle catches up.
            chain.advance_time(2 * DAY)
            link.up()

            def buyer_reported() -> bool:
                rows = buyer_oracle.outbox().values()
                kinds = Counter(r["kind"] for r in rows if r["status"] == "confirmed")
                return kinds[ReportKind.ORDER_COMPLETED] == 1 and kinds[ReportKind.TROUBLE_TICKET] == TICKETS

            wait_until(buyer_reported, "the buyer's oracle to confirm the same facts", seconds=180)

            # Anyone finalises every fact both reported, at once, with the two batches.
            seller_rows, buyer_rows = seller_oracle.outbox(), buyer_oracle.outbox()
            # Delivery first: in-life facts (tickets) count only once the delivery is final.
            both = sorted(
                set(seller_rows) & set(buyer_rows),
                key=lambda r: (json.loads(seller_rows[r]["payload"])["kind"], r),
            )
            terms = terms_from_json(seller_oracle.store.order(order_id="0x" + order_id.hex())["terms"])
            assert terms.order_id() == order_id
            finalizer = anyone.sender
            matched_in: dict[str, int] = {}  # report id -> block of its finalizeMatched
            diverged: dict[str, str] = {}  # report id -> kind, where the evidence hashes differ
            for report_id in both:
                ours, theirs = seller_rows[report_id], buyer_rows[report_id]
                report = report_from_json(json.loads(ours["payload"]))
                other = report_from_json(json.loads(theirs["payload"]))
                assert replace(report, evidence_hash=bytes(32)) == replace(other, evidence_hash=bytes(32)), (
                    f"the oracles disagree on the facts of {report_id} under a {SKEW} s clock skew"
                )
                assert ledger.status(report) != ReportStatus.FINAL
                batches = (
                    batch_of(seller_oracle, seller.address, ours["batch_root"]),
                    batch_of(buyer_oracle, buyer.address, theirs["batch_root"]),
                )
                if report != other:
                    # Same facts, different evidence (the documents were fetched at different points of
                    # their life): the ledger refuses to match two contents, and nothing changes.
                    proofs = (
                        batches[0].ref,
                        batches[0].proof(report),
                        batches[1].ref,
                        batches[1].proof(other),
                    )
                    call = ledger.fn.finalizeMatched(terms.to_tuple(), report.to_tuple(), *proofs)
                    with pytest.raises(ContractRevert) as refused:
                        finalizer.transact(call)
                    assert refused.value.name == "SlaInvalidProof", refused.value.describe()
                    assert ledger.status(report) != ReportStatus.FINAL
                    diverged[report_id] = ReportKind(report.kind).name
                    continue
                receipt = ledger.finalize_matched(finalizer, terms, report, *batches)
                matched_in[report_id] = receipt.block_number
            kinds = Counter(json.loads(seller_rows[r]["payload"])["kind"] for r in both)
            assert kinds == {ReportKind.ORDER_COMPLETED: 1, ReportKind.TROUBLE_TICKET: TICKETS}
            assert any(
                json.loads(seller_rows[r]["payload"])["kind"] == ReportKind.ORDER_COMPLETED
                for r in matched_in
            ), "the delivery, a document that no longer changes, was not matched"

            # Past the liveness window the relays finish the rest and skip what is already final.
            def all_final() -> bool:
                return all(r["status"] == "final" for o in oracles for r in o.outbox().values()) and bool(
                    seller_oracle.outbox()
                )

            wait_until(
                all_final, "every report of both outboxes to be final", step=lambda: chain.advance_time(DAY)
            )

        _assert_nothing_lost_nothing_doubled(chain, suite, order_id, oracles, matched_in)
        assert all("unreachable" in reason for reason in reasons), reasons
        logged = [line for line in buyer_oracle.log.read_text().splitlines() if "failed" in line]
        assert any("unreachable" in line for line in logged), "the late reports' reason is not logged"
        # Evidence records cover what each fact derives from, not the whole (mutable) document, so
        # a fact fetched before and after a later change (a ticket closed after its resolution)
        # still matches.
        assert not diverged, f"the same facts carried different evidence: {diverged}"
    finally:
        for oracle in oracles:
            oracle.stop()
        node.stop()


async def _trade(
    chain: Chain,
    suite: Suite,
    buyer: LocalAccount,
    seller: LocalAccount,
    seller_api: str,
    seller_oracle: OracleProcess,
    buyer_oracle: OracleProcess,
    link: CuttableLink,
) -> bytes:
    """The buyer's desk: RFQ on chain and at the seller, award of the seller's signed quote, the
    Sonata order and trouble tickets; with the buyer oracle's link cut from the order on."""
    market, pay = suite.market, Sender(chain, buyer)
    async with SonataClient(seller_api, "buyer-at-seller") as sonata:
        for api in (PRODUCT_ORDER_API, TROUBLE_TICKET_API):
            await sonata.register_hub(api, buyer_oracle.url)
        request = load_example("quote_create")
        deadline = chain.now() + 2 * DAY
        request["requestedQuoteCompletionDate"] = datetime.fromtimestamp(deadline, UTC).isoformat()
        rfq = Rfq(
            buyer=buyer.address,
            deadline=deadline,
            token=suite.token.address,
            request_hash=document_hash(request),
            product_key=ACCESS_ELINE,
            location_key=location_key("FR-LYS"),
            invited=(seller.address,),
        )
        rfq_id, _ = market.post(pay, rfq)
        quote = await sonata.create_quote({**request, "externalId": rfq_external_id(rfq_id)})

        def signed_quote() -> dict | None:
            response = httpx.get(
                f"{seller_oracle.url}/offnet/v1/signedQuotes/{rfq_id}",
                headers={"Authorization": "Bearer buyer-at-seller"},
                timeout=5,
            )
            return response.json() if response.status_code == 200 else None

        stored = wait_until(
            signed_quote, "the seller's oracle to sign and commit", step=lambda: chain.advance_time(2 * 3600)
        )
        signed = signed_quote_from_json(stored)
        if chain.now() <= deadline:  # the market awards sealed commitments, after the deadline
            chain.advance_time(deadline + 1 - chain.now())
        order_id, _ = market.award(pay, rfq, signed)
        quote = await sonata.get_quote(quote.id)
        item = request["quoteItem"][0]
        link.down()  # from here the buyer's oracle hears the seller's notifications but cannot fetch
        product_order = await sonata.create_product_order(
            order_accepting_quote(
                quote.id,
                quote.quoteItem[0].id,
                request["relatedContactInformation"],
                "0x" + order_id.hex(),
                product=item.get("product"),
            )
        )

        async def delivered() -> bool:
            return str((await sonata.get_product_order(product_order.id)).state) == "completed"

        for _ in range(600):
            if await delivered():
                break
            chain.advance_time(DAY)
            await asyncio.sleep(0.1)
        else:
            pytest.fail("the seller never delivered")
        ticket = load_example("trouble_ticket_create")
        ticket["relatedEntity"][0]["id"] = product_order.id
        ticket["issueStartDate"] = (
            datetime.fromtimestamp(chain.now() + SKEW, UTC) - timedelta(hours=1)
        ).isoformat()
        ticket_ids = [
            (await sonata.create_trouble_ticket(ticket | {"externalId": f"SKEW-{i}"})).id
            for i in range(TICKETS)
        ]
        for _ in range(600):
            tickets = [await sonata.get_trouble_ticket(i) for i in ticket_ids]
            if all(t.resolutionDate for t in tickets):
                break
            chain.advance_time(1800)
            await asyncio.sleep(0.1)
        else:
            pytest.fail("the seller never resolved the tickets")
    return order_id


def _assert_nothing_lost_nothing_doubled(
    chain: Chain, suite: Suite, order_id: bytes, oracles: list[OracleProcess], matched_in: dict[str, int]
) -> None:
    ledger = suite.ledger
    finalized = ledger.logs("ReportFinalized")
    per_id = Counter("0x" + bytes(e.args.reportId).hex() for e in finalized)
    reported = set().union(*(o.outbox() for o in oracles))
    assert set(per_id) == reported, "a report of an outbox never became final, or an unknown one did"
    assert set(per_id.values()) == {1}, "a report id took effect twice"
    final_block = {"0x" + bytes(e.args.reportId).hex(): e.blockNumber for e in finalized}
    assert all(final_block[r] == block for r, block in matched_in.items()), "a matched fact was final earlier"

    submitted = Counter((s.report_id, s.member) for s in ledger.submissions())
    assert set(submitted.values()) == {1}, "an oracle submitted one report twice"

    escrow = suite.escrow
    settled = suite.escrow.logs("MilestoneSettled", orderId=order_id)
    delivery = {e.transactionHash for e in settled if e.args.milestone == 0}
    assert len(delivery) == 1, "the delivery was paid out twice, or never"
    assert escrow.money_flow(order_id).released > 0
    token = suite.token.address
    assert suite.token.functions.balanceOf(escrow.address).call() == (sum(escrow.book(token)))
