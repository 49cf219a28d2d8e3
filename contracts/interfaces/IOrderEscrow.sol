// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.29;

import {OrderTerms, PeriodMetrics} from "../types/OrderTypes.sol";

/// @title IOrderEscrow
/// @notice The money of offnet orders: ERC-20 escrow per order, the delivery milestone, monthly
/// releases minus SLA credits, refunds, disputes and pull-payment balances.
/// @dev Milestones: 0 is delivery (the one-time charge); 1..termMonths are the billing periods,
/// calendar months in UTC (BillingCalendar): period 1 runs from the delivery to the end of its
/// month and costs the monthly charge pro rata, period k > 1 is the (k - 1)-th whole month after.
///
/// Policy (every waiting state has a timeout, so no money can be stuck):
/// - Open: the seller accepts the order with `acknowledge` (work starts; its books open). The buyer
///   may `cancel` at once for a full refund until then.
/// - Acknowledged (awaiting delivery):
///   * the ledger's final delivery report (`onDelivered`) releases the one-time charge to the
///     seller minus the late-delivery credit (against the earlier of the committed date and the
///     signed installation interval), which goes back to the buyer; the order turns Active;
///   * the ledger's failure report (`onOrderFailed`) refunds everything escrowed to the buyer,
///     minus the cancellation fee when Sonata reports a cancellation: the same outcome as `cancel`;
///   * the buyer may `cancel`: it asks first, and after CANCEL_NOTICE the order is cancelled:
///     CANCELLATION_FEE_BPS of the one-time charge to the seller, the rest back to the buyer;
///   * timeout: from `awardedAt + installDays days + DELIVERY_GRACE` anyone may `claimNonDelivery`,
///     which refunds everything to the buyer (Expired).
///   Neither the cancellation nor the non-delivery claim goes through while the seller's completion
///   report is held or disputed at the ledger (for at most RULING_TIMEOUT), nor while delivery is
///   frozen by a dispute.
/// - Active: each funded period is settled once, never before it ended, by the ledger's final
///   in-life report (`onPeriod`, the period's charge minus credits) or, timeout, by `claimPeriod`
///   REPORT_GRACE after the later of the period's end and the order's `claimsFrom` (delivery
///   finality, or a top-up that funded a period already over), unless a report of that period is
///   held or disputed at the ledger. A final report of an unfunded period waits (reverts) until
///   the buyer funds it with `topUp`. The order is Completed when every period is settled.
/// - Disputes: the buyer and the seller each may `dispute` a milestone once it is due (delivery:
///   from the signed installation date; a period: from its end); a dispute freezes only that
///   milestone against the timeouts for RULING_TIMEOUT. A final ledger report still settles it;
///   the council (its arbiter) may `rule`, splitting the milestone's money.
/// - Payouts never push tokens: they credit per (token, party) balances that each party
///   `withdraw`s, so a token refusing one party cannot block the other. A balance slot, once open,
///   never returns to zero storage (a settlement rewrites it instead of creating it). A refund stays
///   in its closed order (Cancelled, Failed, Expired) until the buyer pulls it with `withdrawRefund`,
///   so closing an order never creates a balance slot either.
interface IOrderEscrow {
    // --- types -------------------------------------------------------------------------------------

    /// @notice Where an order stands.
    enum OrderStatus {
        None,
        Open, // funded, awaiting the seller's acceptance
        Acknowledged, // the seller accepted (started): cancelling costs the cancellation fee
        Active, // delivered; billing periods run
        Completed, // every period of the term settled
        Cancelled, // cancelled by the buyer (or through Sonata) before delivery
        Failed, // the seller rejected or failed it, or the council ruled it undelivered
        Expired // not delivered by the delivery deadline: refunded
    }

    /// @notice Why money moved to a party's withdrawable balance.
    enum Payout {
        Release, // a milestone settled by a final report: its charge to the seller, credits to the buyer
        Refund, // a closed order's escrow, pulled by its buyer (cancel, failure, non-delivery)
        CancellationFee, // the seller's fee when an acknowledged order is cancelled
        Claim, // a period claimed by timeout: its charge to the seller
        Ruling // a council ruling's shares
    }

    /// @notice The mutable state of one order: one storage slot. The terms are never stored.
    /// @dev Period p is settled when p <= settledThrough, or when bit (p - settledThrough - 1)
    /// of settledWindow is set; periods more than 40 beyond settledThrough cannot be settled yet.
    struct OrderState {
        uint96 escrowed; // token units held for this order (closed before delivery: the unpulled refund)
        OrderStatus status;
        uint40 deliveredAt; // the completion date: start of period 1; 0 before delivery
        uint40 claimsFrom; // period claims count from the later of a period's end and this
        uint16 fundedMonths; // periods 1..fundedMonths are (or were) funded
        uint16 settledThrough; // every period up to this one is settled
        uint40 settledWindow; // settled periods after settledThrough
    }

    /// @notice What freezes one milestone against the timeouts: each party's dispute (each party
    /// disputes a milestone at most once) and, for delivery, the buyer's cancellation request.
    struct MilestoneHold {
        uint40 buyerDisputedAt;
        uint40 sellerDisputedAt;
        uint40 cancelRequestedAt; // delivery only: when the buyer asked to cancel
    }

    // --- errors ------------------------------------------------------------------------------------

    /// @notice An address that must be set was zero.
    error EscrowZeroAddress();
    /// @notice A market-only function was called by another address.
    error EscrowNotMarket(address caller);
    /// @notice A ledger-only function was called by another address.
    error EscrowNotLedger(address caller);
    /// @notice A council-only function was called other than by its arbiter.
    error EscrowNotCouncil(address caller);
    /// @notice A buyer-only function was called by another address.
    error EscrowNotBuyer(bytes32 orderId, address caller);
    /// @notice A seller-only function was called by an address that is neither the seller nor one of its keys.
    error EscrowNotSeller(bytes32 orderId, address caller);
    /// @notice Only the buyer or the seller of the order may do this.
    error EscrowNotParty(bytes32 orderId, address caller);
    /// @notice The token is not on the allow-list.
    error EscrowTokenNotAllowed(address token);
    /// @notice Buyer and seller must be two distinct non-zero addresses.
    error EscrowInvalidParties(address buyer, address seller);
    /// @notice More months prepaid than the term has.
    error EscrowPrepaidExceedsTerm(uint16 prepaidMonths, uint16 termMonths);
    /// @notice The whole order (one-time charge plus every month of the term) exceeds 2^96 - 1 units.
    error EscrowAmountTooLarge(uint256 amount);
    /// @notice The whole order is worth less than the token's minimum order value (at least 1 unit):
    /// an order without value could build reputation for free.
    error EscrowOrderTooSmall(uint256 amount, uint256 minimum);
    /// @notice An order with these terms was opened already.
    error EscrowOrderExists(bytes32 orderId);
    /// @notice No order was opened with these terms.
    error EscrowUnknownOrder(bytes32 orderId);
    /// @notice The order's status does not allow this.
    error EscrowWrongStatus(bytes32 orderId, OrderStatus status);
    /// @notice The token moved `received` units into the escrow instead of `expected`
    /// (fee-on-transfer and rebasing tokens are refused).
    error EscrowTransferShortfall(address token, uint256 expected, uint256 received);
    /// @notice A top-up of zero months, or beyond the term.
    error EscrowInvalidTopUp(bytes32 orderId, uint16 months, uint16 fundedMonths, uint16 termMonths);
    /// @notice The period is not in 1..termMonths.
    error EscrowInvalidPeriod(bytes32 orderId, uint16 period, uint16 termMonths);
    /// @notice The period has not been funded by the buyer: its report waits for the top-up.
    error EscrowPeriodNotFunded(bytes32 orderId, uint16 period, uint16 fundedMonths);
    /// @notice The period was settled already.
    error EscrowPeriodSettled(bytes32 orderId, uint16 period);
    /// @notice The billing period has not ended yet: its money cannot move before `endsAt`.
    error EscrowPeriodNotOver(bytes32 orderId, uint16 period, uint256 endsAt);
    /// @notice The period is more than 40 periods after the oldest unsettled one; settle (or
    /// claim) the older periods first.
    error EscrowPeriodBeyondWindow(bytes32 orderId, uint16 period, uint16 settledThrough);
    /// @notice The timeout of this milestone has not passed yet.
    error EscrowTooEarly(bytes32 orderId, uint16 milestone, uint256 availableAt);
    /// @notice The milestone is frozen by a dispute until `until`.
    error EscrowMilestoneFrozen(bytes32 orderId, uint16 milestone, uint256 until);
    /// @notice A report of the milestone is held or disputed at the ledger: its timeout waits
    /// until the report is final or ruled, or until `until`.
    error EscrowReportPending(bytes32 orderId, uint16 milestone, uint256 until);
    /// @notice The caller disputed this milestone already (each party disputes a milestone once).
    error EscrowDisputeExists(bytes32 orderId, uint16 milestone, address party);
    /// @notice A milestone can be disputed only once it is due, from `dueAt`.
    error EscrowNotDue(bytes32 orderId, uint16 milestone, uint256 dueAt);
    /// @notice The council may only rule on a disputed milestone.
    error EscrowNoDispute(bytes32 orderId, uint16 milestone);
    /// @notice A share above 10,000 basis points.
    error EscrowInvalidShare(uint16 buyerShareBps);
    /// @notice The party has no withdrawable balance in this token.
    error EscrowNothingToWithdraw(address token, address party);
    /// @notice The seller has not acknowledged the order: its delivery cannot settle before it accepts it.
    error EscrowNotAcknowledged(bytes32 orderId);
    /// @notice The order was never delivered: no period or in-life fact of it can count.
    error EscrowNotDelivered(bytes32 orderId);
    /// @notice The buyer asked to cancel; the cancellation can take effect from `effectiveAt`.
    error EscrowCancelNoticeRunning(bytes32 orderId, uint256 effectiveAt);

    // --- events ------------------------------------------------------------------------------------

    /// @notice Fires when the council (or the constructor) allows or removes a token, or changes
    /// its minimum order value.
    event TokenAllowanceChanged(address indexed token, bool allowed, uint256 minOrderValue);
    /// @notice Fires when the market opens an order; carries the full terms (they are not stored).
    event OrderOpened(bytes32 indexed orderId, OrderTerms terms, uint256 escrowed);
    /// @notice Fires when the buyer funds more months.
    event OrderToppedUp(bytes32 indexed orderId, address indexed payer, uint256 amount, uint16 fundedMonths);
    /// @notice Fires when the seller acknowledges the order (it accepted it and started work).
    event OrderAcknowledged(bytes32 indexed orderId);
    /// @notice Fires when the buyer asks to cancel an acknowledged order; it can take effect at `effectiveAt`.
    event CancellationRequested(bytes32 indexed orderId, uint256 effectiveAt);
    /// @notice Fires when delivery is settled; period 1 starts at `deliveredAt`.
    event OrderDelivered(bytes32 indexed orderId, uint40 deliveredAt);
    /// @notice Fires when an order reaches a final status.
    event OrderClosed(bytes32 indexed orderId, OrderStatus status, uint8 reason);
    /// @notice Fires when a milestone is settled: `toSeller` and `toBuyer` were credited to their
    /// balances (`toBuyer`: SLA or late-delivery credits, the unused part of a partial first month,
    /// or a ruling's share), `reason` is Release (a final report), Claim (a timeout) or Ruling.
    event MilestoneSettled(
        bytes32 indexed orderId, uint16 indexed milestone, uint256 toSeller, uint256 toBuyer, Payout reason
    );
    /// @notice Fires for a cancellation fee credited to the seller, and for a refund its buyer pulls.
    event Paid(bytes32 indexed orderId, address indexed party, uint256 amount, Payout reason, uint16 milestone);
    /// @notice Fires when a party withdraws its balance.
    event Withdrawn(address indexed token, address indexed party, address to, uint256 amount);
    /// @notice Fires when the buyer or the seller disputes a milestone; it is frozen until `until`.
    event DisputeOpened(bytes32 indexed orderId, uint16 indexed milestone, address by, uint256 until);
    /// @notice Fires when the council rules on a disputed milestone.
    event DisputeRuled(bytes32 indexed orderId, uint16 indexed milestone, uint16 buyerShareBps);

    // --- wiring and council ------------------------------------------------------------------------

    /// @notice Allows a settlement token with its minimum order value, or removes it; the council
    /// only (its arbiter).
    /// @dev Removing a token refuses new orders and top-ups in it; open orders settle and withdraw normally.
    /// @param token the ERC-20 token
    /// @param allowed true to allow it, false to remove it
    /// @param minimum the least value (one-time charge plus the whole term) of an order in it
    function setToken(address token, bool allowed, uint96 minimum) external;

    /// @notice Splits the money of a disputed milestone: `buyerShareBps` of it to the buyer, the rest
    /// to the seller; the council only. For milestone 0 a 10,000 bps share means "never delivered":
    /// everything escrowed is refunded (Failed); any other share settles delivery as of now.
    /// @param terms the order's terms
    /// @param milestone 0 (delivery) or a billing period 1..termMonths
    /// @param buyerShareBps the buyer's share, 0..10,000
    function rule(OrderTerms calldata terms, uint16 milestone, uint16 buyerShareBps) external;

    // --- market and ledger -------------------------------------------------------------------------

    /// @notice Opens the order of `terms` and pulls oneTimeCharge + prepaidMonths * monthlyCharge
    /// from the buyer (who approved the escrow, or permitted it just before); the market only.
    /// @param terms the order's terms (awardedAt = the award's block time)
    /// @return orderId keccak256(abi.encode(terms))
    function openOrder(OrderTerms calldata terms) external returns (bytes32 orderId);

    /// @notice Final delivery report: releases the one-time charge minus the late-delivery credit
    /// (lateDeliveryBpsPerDay per whole day after the committed date, capped by lateDeliveryCapBps);
    /// the ledger only. Reverts while the seller has not acknowledged the order.
    /// @param orderId the order id (the ledger checked it is the hash of `terms`)
    /// @param terms the order's terms
    /// @param committedDate the committed completion date the report carries (unix seconds)
    /// @param completionDate the reported completion date (unix seconds)
    /// @return applied false when the order no longer awaited delivery (nothing moved)
    function onDelivered(bytes32 orderId, OrderTerms calldata terms, uint40 committedDate, uint40 completionDate)
        external
        returns (bool applied);

    /// @notice Final in-life report of `period`: releases the period's charge minus the SLA credits
    /// of `m` (capped by monthlyCreditCapBps); the ledger only. Reverts when the order was never
    /// delivered, the period is not over or not funded (the report waits).
    /// @param orderId the order id
    /// @param terms the order's terms
    /// @param period the billing period, 1..termMonths
    /// @param m the period's measurements
    /// @return applied false when the period was settled already (nothing moved)
    function onPeriod(bytes32 orderId, OrderTerms calldata terms, uint16 period, PeriodMetrics calldata m)
        external
        returns (bool applied);

    /// @notice Final failure report (Sonata rejected, failed or cancelled): refunds everything
    /// escrowed to the buyer, minus the cancellation fee for a cancellation of an acknowledged order;
    /// the ledger only.
    /// @param orderId the order id
    /// @param terms the order's terms
    /// @param reason the ReportKinds FAILURE_* code
    /// @return applied false when the order no longer awaited delivery (nothing moved)
    function onOrderFailed(bytes32 orderId, OrderTerms calldata terms, uint8 reason) external returns (bool applied);

    // --- parties -----------------------------------------------------------------------------------

    /// @notice The buyer funds more months (it approved the escrow beforehand).
    /// @param terms the order's terms
    /// @param months how many more months, up to the term
    function topUp(OrderTerms calldata terms, uint16 months) external;

    /// @notice The buyer funds more months with an EIP-2612 permit in the same transaction.
    /// @dev A permit that fails (e.g. front-run, so the allowance exists already) is ignored; the
    /// pull then needs the allowance.
    /// @param terms the order's terms
    /// @param months how many more months, up to the term
    /// @param deadline the permit's deadline
    /// @param v the permit signature's v
    /// @param r the permit signature's r
    /// @param s the permit signature's s
    function topUpWithPermit(OrderTerms calldata terms, uint16 months, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external;

    /// @notice The seller (its admin or any of its keys) accepts the order (work starts): from now on
    /// cancelling costs the fee and needs notice. Opens both parties' balance slots and the seller's reputation record, so no
    /// settlement of the order ever creates a storage slot.
    /// @param terms the order's terms
    function acknowledge(OrderTerms calldata terms) external;

    /// @notice The buyer cancels before delivery: at once with a full refund before the seller
    /// acknowledged; afterwards a first call asks (CancellationRequested) and a call from
    /// CANCEL_NOTICE later cancels, the seller keeping the cancellation fee.
    /// @param terms the order's terms
    function cancel(OrderTerms calldata terms) external;

    /// @notice Anyone refunds the buyer of an order not delivered by its delivery deadline.
    /// @param terms the order's terms
    function claimNonDelivery(OrderTerms calldata terms) external;

    /// @notice Anyone releases a funded period to the seller when no report settled it by its deadline.
    /// @param terms the order's terms
    /// @param period the billing period, 1..termMonths
    function claimPeriod(OrderTerms calldata terms, uint16 period) external;

    /// @notice The buyer or the seller disputes a due milestone, freezing its money (once each).
    /// @param terms the order's terms
    /// @param milestone 0 (delivery) or a billing period 1..termMonths
    function dispute(OrderTerms calldata terms, uint16 milestone) external;

    /// @notice The buyer pulls the refund a cancelled, failed or expired order holds, to `to`.
    /// @param terms the order's terms
    /// @param to the recipient
    function withdrawRefund(OrderTerms calldata terms, address to) external;

    /// @notice Sends the caller's whole balance of a token to the caller.
    /// @param token the token
    function withdraw(address token) external;

    /// @notice Sends the caller's whole balance of a token to another address (e.g. when the token
    /// blocks the caller).
    /// @param token the token
    /// @param to the recipient
    function withdrawTo(address token, address to) external;

    // --- views -------------------------------------------------------------------------------------

    /// @notice Time after the later of a period's end and the order's `claimsFrom` before the seller
    /// may claim the period unreported: it covers the worst honest reporting lag.
    /// @return grace seconds
    function REPORT_GRACE() external view returns (uint256 grace);

    /// @notice Time after the signed installation interval before anyone may claim a refund.
    /// @return grace seconds
    function DELIVERY_GRACE() external view returns (uint256 grace);

    /// @notice How long a dispute (or a held or disputed ledger report) freezes a milestone's timeouts.
    /// @return timeout seconds
    function RULING_TIMEOUT() external view returns (uint256 timeout);

    /// @notice How long after asking an acknowledged order's cancellation takes effect at the earliest.
    /// @return notice seconds
    function CANCEL_NOTICE() external view returns (uint256 notice);

    /// @notice Share of the one-time charge the seller keeps when an acknowledged order is cancelled.
    /// @return bps basis points
    function CANCELLATION_FEE_BPS() external view returns (uint256 bps);

    /// @notice The version of this contract's interface.
    /// @return semver the version string
    function version() external pure returns (string memory semver);

    /// @notice The registry this escrow was deployed with (its arbiter rules and allow-lists).
    /// @return registryAddress the registry
    function registry() external view returns (address registryAddress);

    /// @notice The market allowed to open orders (fixed at deployment).
    /// @return marketAddress the RfqMarket
    function market() external view returns (address marketAddress);

    /// @notice The ledger allowed to push final outcomes (fixed at deployment).
    /// @return ledgerAddress the SlaLedger
    function ledger() external view returns (address ledgerAddress);

    /// @notice Whether new orders and top-ups may use a token.
    /// @param token the token
    /// @return allowed true when allow-listed
    function isTokenAllowed(address token) external view returns (bool allowed);

    /// @notice The least value of an order in a token.
    /// @param token the token
    /// @return minimum token units (at least 1 for an allowed token)
    function minOrderValue(address token) external view returns (uint256 minimum);

    /// @notice The stored state of an order.
    /// @param orderId the order id
    /// @return state the order's one slot (zero when never opened)
    function orderState(bytes32 orderId) external view returns (OrderState memory state);

    /// @notice Whether a billing period of an order is settled.
    /// @param orderId the order id
    /// @param period the billing period
    /// @return settled true when its money moved
    function isPeriodSettled(bytes32 orderId, uint16 period) external view returns (bool settled);

    /// @notice What freezes a milestone: each party's dispute time and the cancellation request.
    /// @param orderId the order id
    /// @param milestone 0 (delivery) or a billing period
    /// @return hold the stored times (0 when none)
    function holdOf(bytes32 orderId, uint16 milestone) external view returns (MilestoneHold memory hold);

    /// @notice What a party can withdraw in a token.
    /// @param token the token
    /// @param party the party
    /// @return amount token units
    function withdrawable(address token, address party) external view returns (uint256 amount);

    /// @notice When a billing period of an order delivered at `deliveredAt` starts and ends.
    /// @param deliveredAt the completion date (unix seconds)
    /// @param period the billing period, from 1
    /// @return start the period's first second
    /// @return end the first second after it
    function periodBounds(uint40 deliveredAt, uint16 period) external pure returns (uint256 start, uint256 end);

    /// @notice What a billing period costs before credits: the monthly charge, pro rata for period 1.
    /// @param monthlyCharge the charge of one whole month
    /// @param deliveredAt the completion date (unix seconds)
    /// @param period the billing period, from 1
    /// @return amount token units
    function periodCharge(uint128 monthlyCharge, uint40 deliveredAt, uint16 period)
        external
        pure
        returns (uint256 amount);

    /// @notice The late-delivery credit `onDelivered` would apply.
    /// @param terms the order's terms
    /// @param committedDate the committed completion date a report carries
    /// @param completionDate the completion date
    /// @return bps the credit in basis points of the one-time charge
    function lateDeliveryCreditBps(OrderTerms calldata terms, uint40 committedDate, uint40 completionDate)
        external
        pure
        returns (uint256 bps);

    /// @notice The in-life credit `onPeriod` would apply for some measurements.
    /// @param terms the order's terms
    /// @param m the period's measurements
    /// @return bps the credit in basis points of the period's charge
    function periodCreditBps(OrderTerms calldata terms, PeriodMetrics calldata m) external pure returns (uint256 bps);
}
