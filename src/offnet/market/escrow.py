"""OrderEscrow: a typed client and money-flow statements rebuilt from its events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address
from web3.contract import Contract

from offnet.chain import ContractClient, Receipt, Sender
from offnet.chain.permit import Permit, sign_permit
from offnet.chain.tx import call
from offnet.market import periods
from offnet.market.types import OrderStatus, OrderTerms, Payout, PeriodMetrics


@dataclass(frozen=True)
class OrderView:
    """The stored state of one order."""

    escrowed: int
    status: OrderStatus
    delivered_at: int  # the completion date: period 1 starts here (0 before delivery)
    claims_from: int  # period claims count from the later of a period's end and this
    funded_months: int
    settled_through: int
    settled_window: int


@dataclass(frozen=True)
class MilestoneHold:
    """What freezes a milestone: each party's dispute and, for delivery, the buyer's cancellation request."""

    buyer_disputed_at: int
    seller_disputed_at: int
    cancel_requested_at: int


@dataclass(frozen=True)
class MoneyEvent:
    """One money movement of an order, from an event."""

    block: int
    kind: str  # "escrowed" or the Payout name in lower case
    party: str
    amount: int
    milestone: int | None


@dataclass(frozen=True)
class MoneyFlow:
    """The money statement of one order, reconstructed from the escrow's events."""

    order_id: bytes
    token: str
    buyer: str
    seller: str
    escrowed: int  # everything the buyer paid in (award and top-ups)
    released: int  # to the seller: releases, timeout claims, cancellation fee, ruling shares
    credited: int  # SLA and late-delivery credits back to the buyer
    refunded: int  # refunds and ruling shares to the buyer
    withdrawn_by_buyer: int  # everything the buyer withdrew in this token (balances span orders)
    withdrawn_by_seller: int
    events: tuple[MoneyEvent, ...]

    @property
    def held(self) -> int:
        """What the escrow still holds for this order."""
        return self.escrowed - self.released - self.credited - self.refunded

    @classmethod
    def of(
        cls,
        order_id: bytes,
        token: str,
        buyer: str,
        seller: str,
        moves: Sequence[MoneyEvent],
        *,
        withdrawn_by_buyer: int = 0,
        withdrawn_by_seller: int = 0,
    ) -> MoneyFlow:
        """The statement of an order's money movements (the one rule for what counts as what)."""

        def total(predicate: Any) -> int:
            return sum(m.amount for m in moves if predicate(m))

        return cls(
            order_id=order_id,
            token=token,
            buyer=buyer,
            seller=seller,
            escrowed=total(lambda m: m.kind == "escrowed"),
            released=total(lambda m: m.kind != "escrowed" and m.party == seller),
            credited=total(lambda m: m.kind == "credit"),
            refunded=total(lambda m: m.kind in ("refund", "ruling", "claim") and m.party == buyer),
            withdrawn_by_buyer=withdrawn_by_buyer,
            withdrawn_by_seller=withdrawn_by_seller,
            events=tuple(moves),
        )


def settlement_kinds(reason: Payout) -> tuple[str, str]:
    """What the two shares of a settled milestone count as: (the seller's, the buyer's). The buyer's
    share of a report's settlement is its credit; of a claim or a ruling, money back."""
    seller_kind = reason.name.lower()
    return seller_kind, "credit" if reason is Payout.RELEASE else seller_kind


def _money_events(log: Any, terms: OrderTerms) -> list[MoneyEvent]:
    """The money movements of one OrderOpened, OrderToppedUp, MilestoneSettled or Paid log."""
    args, block = log["args"], log["blockNumber"]
    if log["event"] == "OrderOpened":
        return [MoneyEvent(block, "escrowed", terms.buyer, args["escrowed"], None)]
    if log["event"] == "OrderToppedUp":
        return [MoneyEvent(block, "escrowed", args["payer"], args["amount"], None)]
    reason = Payout(args["reason"])
    if log["event"] == "MilestoneSettled":
        seller_kind, buyer_kind = settlement_kinds(reason)
        moves = [
            MoneyEvent(block, seller_kind, terms.seller, args["toSeller"], args["milestone"]),
            MoneyEvent(block, buyer_kind, terms.buyer, args["toBuyer"], args["milestone"]),
        ]
        return [m for m in moves if m.amount]
    return [MoneyEvent(block, reason.name.lower(), args["party"], args["amount"], args["milestone"])]


# --- the client --------------------------------------------------------------------------------------


class EscrowClient(ContractClient):
    """Typed calls to one deployed OrderEscrow; each transaction is sent by the Sender passed in."""

    CONTRACT = "OrderEscrow"

    @classmethod
    def deploy(
        cls,
        deployer: Sender,
        registry: str,
        market: str,
        ledger: str,
        tokens: Sequence[str],
        min_order_value: int = 1,
    ) -> tuple[EscrowClient, Receipt]:
        """Deploy an escrow for `registry`, opened by `market`, settled by `ledger`, with `tokens`
        allowed (each with `min_order_value` as the least value of an order).

        The market and the ledger are immutable links: pass their predicted addresses when they are
        deployed later (offnet.chain.predict_deployments).
        """
        return cls._deploy(deployer, registry, market, ledger, list(tokens), min_order_value)

    # --- market, ledger, council ----------------------------------------------------------------

    def open_order(self, market: Sender, terms: OrderTerms) -> Receipt:
        """Open an order as the wired market (the RfqMarket does this at award)."""
        return market.transact(self.fn.openOrder(terms.to_tuple()))

    def deliver(self, ledger: Sender, terms: OrderTerms, committed: int, completed: int) -> Receipt:
        """Push a final delivery outcome as the wired ledger."""
        return ledger.transact(self.fn.onDelivered(terms.order_id(), terms.to_tuple(), committed, completed))

    def settle_period(
        self, ledger: Sender, terms: OrderTerms, period: int, metrics: PeriodMetrics
    ) -> Receipt:
        """Push a final in-life outcome of `period` as the wired ledger."""
        return ledger.transact(
            self.fn.onPeriod(terms.order_id(), terms.to_tuple(), period, metrics.to_tuple())
        )

    def fail(self, ledger: Sender, terms: OrderTerms, reason: int) -> Receipt:
        """Push a final failure outcome (seller rejected / failed / cancelled) as the wired ledger."""
        return ledger.transact(self.fn.onOrderFailed(terms.order_id(), terms.to_tuple(), reason))

    def rule_call(self, terms: OrderTerms, milestone: int, buyer_share_bps: int) -> Any:
        """The `rule` call, for the council's executor (a registry proposal's target and calldata)."""
        return self.fn.rule(terms.to_tuple(), milestone, buyer_share_bps)

    def set_token_call(self, token: str, allowed: bool, min_order_value: int = 1) -> Any:
        """The `setToken` call (allow or remove a token, its minimum order value), for the council's arbiter."""
        return self.fn.setToken(token, allowed, min_order_value)

    # --- parties --------------------------------------------------------------------------------

    def top_up(self, buyer: Sender, terms: OrderTerms, months: int) -> Receipt:
        """Fund `months` more months (the buyer approved the escrow beforehand)."""
        return buyer.transact(self.top_up_function(terms, months))

    def top_up_with_permit(
        self, buyer: Sender, token: Contract, terms: OrderTerms, months: int, deadline: int
    ) -> Receipt:
        """Fund `months` more months with an EIP-2612 permit signed by the buyer, in one transaction."""
        permit = sign_permit(buyer.account, token, self.address, months * terms.monthly_charge, deadline)
        return buyer.transact(self.top_up_function(terms, months, permit=permit))

    def top_up_function(self, terms: OrderTerms, months: int, *, permit: Permit | None = None) -> Any:
        """The top-up call itself (to simulate it with `call` before sending, or to send it)."""
        if permit is None:
            return self.fn.topUp(terms.to_tuple(), months)
        return self.fn.topUpWithPermit(
            terms.to_tuple(), months, permit.deadline, permit.v, permit.r, permit.s
        )

    def acknowledge(self, seller: Sender, terms: OrderTerms) -> Receipt:
        """The seller accepts the order (its delivery can settle from now on; cancelling then costs
        the fee and needs notice)."""
        return seller.transact(self.fn.acknowledge(terms.to_tuple()))

    def cancel(self, buyer: Sender, terms: OrderTerms) -> Receipt:
        """The buyer cancels before delivery: at once before the seller acknowledged; afterwards the
        first call asks and a call CANCEL_NOTICE later cancels."""
        return buyer.transact(self.fn.cancel(terms.to_tuple()))

    def cancel_notice(self) -> int:
        """Seconds between the buyer's cancellation request of an acknowledged order and its effect."""
        return call(self.fn.CANCEL_NOTICE())

    def claim_non_delivery(self, sender: Sender, terms: OrderTerms) -> Receipt:
        """Refund the buyer of an order not delivered by its deadline."""
        return sender.transact(self.fn.claimNonDelivery(terms.to_tuple()))

    def claim_period(self, sender: Sender, terms: OrderTerms, period: int) -> Receipt:
        """Release an unreported period to the seller after its deadline."""
        return sender.transact(self.fn.claimPeriod(terms.to_tuple(), period))

    def dispute(self, party: Sender, terms: OrderTerms, milestone: int) -> Receipt:
        """Freeze a milestone's money (0 = delivery) for the council."""
        return party.transact(self.fn.dispute(terms.to_tuple(), milestone))

    def withdraw_refund(self, buyer: Sender, terms: OrderTerms, to: str | None = None) -> Receipt:
        """Pull the refund a cancelled, failed or expired order holds (to the buyer, or to `to`)."""
        return buyer.transact(self.fn.withdrawRefund(terms.to_tuple(), to or buyer.address))

    def withdraw(self, party: Sender, token: str, to: str | None = None) -> Receipt:
        """Withdraw the party's whole balance of `token` (to itself, or to `to`)."""
        if to is None:
            return party.transact(self.fn.withdraw(token))
        return party.transact(self.fn.withdrawTo(token, to))

    # --- views ----------------------------------------------------------------------------------

    def order(self, order_id: bytes) -> OrderView:
        """The stored state of an order."""
        escrowed, status, delivered_at, claims_from, funded, through, window = call(
            self.fn.orderState(order_id)
        )
        return OrderView(escrowed, OrderStatus(status), delivered_at, claims_from, funded, through, window)

    def hold(self, order_id: bytes, milestone: int) -> MilestoneHold:
        """Each party's dispute of a milestone and (delivery) the buyer's cancellation request."""
        return MilestoneHold(*call(self.fn.holdOf(order_id, milestone)))

    def period_end(self, order_id: bytes, period: int) -> int | None:
        """When billing period `period` of a delivered order ends (chain time), or None while the
        order is not delivered (calendar months, offnet.market.periods)."""
        view = self.order(order_id)
        if view.delivered_at == 0:
            return None
        return periods.period_bounds(view.delivered_at, period)[1]

    def period_bounds(self, delivered_at: int, period: int) -> tuple[int, int]:
        """The contract's own (start, end) of a billing period."""
        return tuple(call(self.fn.periodBounds(delivered_at, period)))

    def period_charge(self, monthly_charge: int, delivered_at: int, period: int) -> int:
        """The contract's own charge of a billing period (pro rata for period 1)."""
        return call(self.fn.periodCharge(monthly_charge, delivered_at, period))

    def min_order_value(self, token: str) -> int:
        return call(self.fn.minOrderValue(token))

    def is_period_settled(self, order_id: bytes, period: int) -> bool:
        return call(self.fn.isPeriodSettled(order_id, period))

    def withdrawable(self, token: str, party: str) -> int:
        return call(self.fn.withdrawable(token, party))

    def book(self, token: str) -> tuple[int, int]:
        """What the escrow owes in `token`, rebuilt from its events: (held for orders, withdrawable).

        The contract keeps no running totals (a storage write per payout); OrderOpened, OrderToppedUp,
        MilestoneSettled, Paid and Withdrawn carry every movement, so the sums are exact.
        """
        token = to_checksum_address(token)
        opened = [
            log
            for log in self.logs("OrderOpened")
            if OrderTerms.from_tuple(log["args"]["terms"]).token == token
        ]
        orders = {bytes(log["args"]["orderId"]) for log in opened}

        def moved(name: str, *fields: str) -> int:
            return sum(
                sum(log["args"][f] for f in fields)
                for log in self.logs(name)
                if bytes(log["args"]["orderId"]) in orders
            )

        held = sum(log["args"]["escrowed"] for log in opened) + moved("OrderToppedUp", "amount")
        paid = moved("Paid", "amount") + moved("MilestoneSettled", "toSeller", "toBuyer")
        withdrawn = sum(log["args"]["amount"] for log in self.logs("Withdrawn", token=token))
        return held - paid, paid - withdrawn

    def total_escrowed(self, token: str) -> int:
        """Sum of the open orders' escrowed amounts in `token` (from events, see `book`)."""
        return self.book(token)[0]

    def total_withdrawable(self, token: str) -> int:
        """Sum of the parties' withdrawable balances in `token` (from events, see `book`)."""
        return self.book(token)[1]

    def conservation_gap(self, token: Contract) -> int:
        """The escrow's token balance minus what it owes (open orders + withdrawable): 0 when sound."""
        held, withdrawable = self.book(token.address)
        return call(token.functions.balanceOf(self.address)) - held - withdrawable

    def is_token_allowed(self, token: str) -> bool:
        return call(self.fn.isTokenAllowed(token))

    # --- events ---------------------------------------------------------------------------------

    def terms_of(self, order_id: bytes) -> OrderTerms:
        """The terms of an order, recovered from its OrderOpened event."""
        logs = self.logs("OrderOpened", orderId=order_id)
        if not logs:
            raise LookupError(f"no order 0x{order_id.hex()} was opened on this escrow")
        return OrderTerms.from_tuple(logs[0]["args"]["terms"])

    def money_flow(self, order_id: bytes) -> MoneyFlow:
        """The order's money statement: escrowed, released, credited, refunded, withdrawn."""
        terms = self.terms_of(order_id)
        logs = [
            *self.logs("OrderOpened", orderId=order_id),
            *self.logs("OrderToppedUp", orderId=order_id),
            *self.logs("MilestoneSettled", orderId=order_id),
            *self.logs("Paid", orderId=order_id),
        ]
        logs.sort(key=lambda log: (log["blockNumber"], log["logIndex"]))
        moves = tuple(m for log in logs for m in _money_events(log, terms))

        def withdrawn(party: str) -> int:
            return sum(
                log["args"]["amount"] for log in self.logs("Withdrawn", token=terms.token, party=party)
            )

        return MoneyFlow.of(
            order_id,
            terms.token,
            terms.buyer,
            terms.seller,
            moves,
            withdrawn_by_buyer=withdrawn(terms.buyer),
            withdrawn_by_seller=withdrawn(terms.seller),
        )
