"""The seller desk: turn each quote our own Sonata system approves into a signed, committed offnet quote,
serve it to the RFQ's buyer, and report every billing month of our delivered orders from our
performance data.

  our Sonata quote approved -> sign the EIP-712 quote (charges, term, SLS, credits) -> commit its
  digest on chain -> serve it at /offnet/v1/signedQuotes/{rfqId} to that RFQ's buyer only
  each month of a delivered order, once over -> performance measurement -> PERIOD report -> outbox
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import KW_ONLY, dataclass, field

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from offnet.chain.connect import Chain
from offnet.chain.tx import Sender
from offnet.exceptions import InvalidInput
from offnet.market import periods
from offnet.market.codec import report_to_json, signed_quote_to_json, terms_from_json
from offnet.market.escrow import EscrowClient
from offnet.market.quotes import Quote, sign_quote
from offnet.market.rfq import RfqClient
from offnet.market.types import CreditSchedule
from offnet.oracle.config import OracleConfig, SellerConfig
from offnet.oracle.performance import FileSource, PerformanceSource, SimulatorSource
from offnet.oracle.store import Store
from offnet.sla import terms as offer
from offnet.sla.reports import period_report
from offnet.sonata.buyer import read_quote, rfq_id_of
from offnet.sonata.models import Quote as SonataQuote

log = logging.getLogger("offnet.oracle.seller")

TOKEN_DECIMALS = 6


@dataclass(eq=False)
class SellerDesk:
    """What a carrier's oracle does as a seller (only when its configuration has a seller section)."""

    config: SellerConfig
    store: Store
    chain: Chain
    sender: Sender
    account: LocalAccount
    _: KW_ONLY
    member: str
    market: RfqClient
    escrow: EscrowClient
    _delivered: dict[str, int] = field(
        default_factory=dict, init=False
    )  # order id -> deliveredAt, once final
    _locks: dict[int, asyncio.Lock] = field(default_factory=dict, init=False)
    _performance: PerformanceSource | None = field(default=None, init=False)

    @classmethod
    def of(
        cls,
        config: OracleConfig,
        store: Store,
        chain: Chain,
        sender: Sender,
        account: LocalAccount,
        *,
        market: RfqClient,
        escrow: EscrowClient,
    ) -> SellerDesk | None:
        """The desk for an oracle configuration, or None when the carrier does not sell through offnet."""
        if config.seller is None:
            return None
        return cls(
            config.seller, store, chain, sender, account, member=config.member, market=market, escrow=escrow
        )

    # --- quotes ------------------------------------------------------------------------------------

    async def on_quote(self, quote: SonataQuote) -> None:
        """Our own Sonata quote changed: once approved, sign and commit it (once per RFQ)."""
        rfq_id = rfq_id_of(quote)
        if rfq_id is None or not read_quote(quote).orderable:
            return
        lock = self._locks.setdefault(int(rfq_id), asyncio.Lock())
        async with lock:
            if self.store.signed_quote(rfq_id) is None:  # checked under the lock: sign and commit once
                await self._sign_and_commit(quote, int(rfq_id))

    async def _sign_and_commit(self, quote: SonataQuote, rfq_id: int) -> None:
        rfq = await asyncio.to_thread(self.market.posted, rfq_id)
        orderable = read_quote(quote).orderable_items[0]
        item = next(i for i in quote.quoteItem if i.id == orderable)
        one_time, monthly = offer.charges(item, TOKEN_DECIMALS)
        credits = CreditSchedule(**self.config.credits) if self.config.credits else CreditSchedule.none()
        now = await asyncio.to_thread(self.chain.now)
        signed = sign_quote(
            self.account,
            Quote(
                rfq_id=rfq_id,
                provider=self.member,
                buyer=rfq.buyer,
                token=rfq.token,
                one_time_charge=one_time,
                monthly_charge=monthly,
                term_months=offer.term_months(item),
                install_days=offer.install_days(item),
                sla_terms_hash=offer.sla_terms_hash(item, self.config.credits),
                credits=credits,
                prepaid_months=self.config.prepaid_months,
                valid_until=now + self.config.quote_valid_days * 86_400,
                nonce=secrets.randbits(64),
                epoch=await asyncio.to_thread(self.market.quote_epoch, self.member),
            ),
            self.market.domain,
        )
        await asyncio.to_thread(self.market.commit, self.sender, rfq, signed)
        self.store.save_signed_quote(rfq_id, signed_quote_to_json(signed), quote.id)

    def signed_quote_for(self, buyer: str, rfq_id: str) -> dict | None:
        """Our signed quote for RFQ `rfq_id` if `buyer` is that RFQ's buyer (nobody else sees it)."""
        stored = self.store.signed_quote(rfq_id)
        if stored is None or to_checksum_address(stored["quote"]["buyer"]) != to_checksum_address(buyer):
            return None
        return stored

    # --- in-life periods ---------------------------------------------------------------------------

    async def report_periods(self) -> int:
        """Queue the period reports of our delivered orders whose billing months are over."""
        now = await asyncio.to_thread(self.chain.now)
        queued = 0
        for order in self.store.delivered_seller_orders():
            terms = terms_from_json(order["terms"])
            for period in range(order["reported_periods"] + 1, terms.term_months + 1):
                # The escrow's billing periods (offnet.market.periods) count from the delivery time the
                # escrow recorded: the Sonata completion date clamped to [award, delivery final], never
                # earlier than the completion date, so a period not over by that date is not over.
                if periods.period_bounds(order["completed_at"], period)[1] > now:
                    break
                delivered_at = await self._delivered_at(order["order_id"])
                if not delivered_at or periods.period_bounds(delivered_at, period)[1] > now:
                    break  # delivery not final on chain yet, or the escrow's period is not over
                month = periods.period_month(delivered_at, period)
                try:
                    measurement = await self._source().measurement(order["product_order_id"], month)
                    report = period_report(bytes.fromhex(order["order_id"][2:]), period, measurement)
                except LookupError as missing:  # not measured yet: the next pass tries again
                    log.info("period %s of %s waits: %s", period, order["order_id"], missing)
                    break
                except InvalidInput as bad:  # a measurement no fact can come from: the operator must fix it
                    log.error("period %s of %s not reported: %s", period, order["order_id"], bad)
                    break
                queued += self.store.queue_reports([report_to_json(report)])
                self.store.update_order(order["order_id"], reported_periods=period)
        return queued

    async def _delivered_at(self, order_id: str) -> int:
        """The escrow's delivery time of an order (0 while delivery is not final), read once."""
        if order_id not in self._delivered:
            view = await asyncio.to_thread(self.escrow.order, bytes.fromhex(order_id[2:]))
            if not view.delivered_at:
                return 0
            self._delivered[order_id] = view.delivered_at
        return self._delivered[order_id]

    def _source(self) -> PerformanceSource:
        if self._performance is None:
            performance = self.config.performance
            if performance.source == "file":
                self._performance = FileSource(performance.path)
            else:
                self._performance = SimulatorSource(self.config.sonata_url, self.config.operator_token.read())
        return self._performance
