// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.29;

import {OrderTerms, PeriodMetrics} from "../types/OrderTypes.sol";

/// @title IOrderEscrow
/// @notice The money of offnet orders: ERC-20 escrow per order, the delivery milestone, monthly
/// releases minus SLA credits, refunds, disputes and pull-payment balances.
/// @dev Milestones: 0 is delivery (the one-time charge); 1..termMonths are the billing periods
/// (the monthly charge each). Period p runs from `deliveredAt + (p - 1) * BILLING_PERIOD` to
/// `deliveredAt + p * BILLING_PERIOD`.
///
/// Policy (every waiting state has a timeout, so no money can be stuck):
/// - Open / Acknowledged (awaiting delivery):
///   * the ledger's final delivery report (`onDelivered`) releases the one-time charge to the
///     seller minus the late-delivery credit, which goes back to the buyer; the order turns Active;
///   * the ledger's failure report (`onOrderFailed`: Sonata rejected, failed or cancelled)
///     refunds everything escrowed to the buyer (Failed);
///   * the buyer may `cancel`: a full refund while the seller has not acknowledged the order; once
///     the seller acknowledged (started work), CANCELLATION_FEE_BPS of the one-time charge goes to
///     the seller and the rest back to the buyer (Cancelled);
///   * timeout: from `awardedAt + installDays days + DELIVERY_GRACE` anyone may `claimNonDelivery`,
///     which refunds everything to the buyer (Expired).
/// - Active: each funded period is settled once, never before it ended, by the ledger's final in-life report
///   (`onPeriod`, monthly charge minus credits) or, timeout, by `claimPeriod` from the end of the
///   period plus REPORT_GRACE when no report became final (the full monthly charge to the seller:
///   a buyer who saw an outage has its own oracle report it, which finalises at the ledger when the
///   seller stays silent). Unfunded periods move no money; the buyer funds them with `topUp`. The
///   order is Completed when every period of the term is settled.
/// - Disputes: the buyer or the seller may `dispute` one unsettled milestone; this freezes only
///   that milestone's money against the timeouts (`claimPeriod`, `claimNonDelivery`, `cancel`) for
///   RULING_TIMEOUT. A final ledger report still settles it (the ledger's ruling); the council (the
///   registry executing a proposal) may `rule`, splitting the milestone's money; when neither
///   happens the freeze lapses and the timeouts apply again.
/// - Payouts never push tokens: they credit per (token, party) balances that each party
///   `withdraw`s, so a token refusing one party cannot block the other.
interface IOrderEscrow {
    // --- types -------------------------------------------------------------------------------------

    /// @notice Where an order stands.
    enum OrderStatus {
        None,
        Open, // funded, awaiting delivery
        Acknowledged, // the seller acknowledged (started): cancelling costs the cancellation fee
        Active, // delivered; billing periods run
        Completed, // every period of the term settled
        Cancelled, // cancelled by the buyer before delivery
        Failed, // the seller rejected or failed it, or the council ruled it undelivered
        Expired // not delivered by the delivery deadline: refunded
    }

    /// @notice Why a payout credited a party's withdrawable balance.
    enum Payout {
        Release, // a milestone's charge to the seller (after credits)
        Credit, // an SLA or late-delivery credit back to the buyer
        Refund, // escrow returned to the buyer (cancel, failure, non-delivery)
        CancellationFee, // the seller's fee when the buyer cancels after acknowledgement
        Claim, // a period claimed by the seller after its report deadline
        Ruling // a council ruling's share to either party
    }

    /// @notice Why a final outcome pushed by the ledger moved no money.
    enum Skip {
        None,
        OrderNotAwaitingDelivery, // delivery or failure for an order delivered or closed already
        OrderNotActive, // a period for an order not delivered yet or closed
        PeriodNotFunded, // the buyer has not funded that period
        PeriodSettled // settled already (e.g. claimed after its deadline)
    }

    /// @notice The mutable state of one order: one storage slot. The terms are never stored.
    /// @dev Period p is settled when p <= settledThrough, or when bit (p - settledThrough - 1)
    /// of settledWindow is set; periods more than 64 beyond settledThrough cannot be settled yet.
    struct OrderState {
        uint96 escrowed; // token units held for this order
        OrderStatus status;
        uint40 deliveredAt; // start of period 1; 0 before delivery
        uint16 fundedMonths; // periods 1..fundedMonths are (or were) funded
        uint16 settledThrough; // every period up to this one is settled
        uint64 settledWindow; // settled periods after settledThrough
    }

    // --- errors ------------------------------------------------------------------------------------

    /// @notice An address that must be set was zero.
    error EscrowZeroAddress();
    /// @notice A market-only function was called by another address.
    error EscrowNotMarket(address caller);
    /// @notice A ledger-only function was called by another address.
    error EscrowNotLedger(address caller);
    /// @notice A council-only function was called other than by the registry executing a proposal.
    error EscrowNotCouncil(address caller);
    /// @notice A buyer-only function was called by another address.
    error EscrowNotBuyer(bytes32 orderId, address caller);
    /// @notice A seller-only function was called by another address.
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
    /// @notice The period has not been funded by the buyer.
    error EscrowPeriodNotFunded(bytes32 orderId, uint16 period, uint16 fundedMonths);
    /// @notice The period was settled already.
    error EscrowPeriodSettled(bytes32 orderId, uint16 period);
    /// @notice The billing period has not ended yet: its money cannot move before `endsAt`.
    error EscrowPeriodNotOver(bytes32 orderId, uint16 period, uint256 endsAt);
    /// @notice The period is more than 64 periods after the oldest unsettled one; settle (or
    /// claim) the older periods first.
    error EscrowPeriodBeyondWindow(bytes32 orderId, uint16 period, uint16 settledThrough);
    /// @notice The timeout of this milestone has not passed yet.
    error EscrowTooEarly(bytes32 orderId, uint16 milestone, uint256 availableAt);
    /// @notice The milestone is frozen by a dispute until `until`.
    error EscrowMilestoneFrozen(bytes32 orderId, uint16 milestone, uint256 until);
    /// @notice The milestone was disputed already.
    error EscrowDisputeExists(bytes32 orderId, uint16 milestone);
    /// @notice The council may only rule on a disputed milestone.
    error EscrowNoDispute(bytes32 orderId, uint16 milestone);
    /// @notice A share above 10,000 basis points.
    error EscrowInvalidShare(uint16 buyerShareBps);
    /// @notice The party has no withdrawable balance in this token.
    error EscrowNothingToWithdraw(address token, address party);

    // --- events ------------------------------------------------------------------------------------

    /// @notice Fires when the council (or the constructor) adds or removes a token from the allow-list.
    event TokenAllowanceChanged(address indexed token, bool allowed);
    /// @notice Fires when the market opens an order; carries the full terms (they are not stored).
    event OrderOpened(bytes32 indexed orderId, OrderTerms terms, uint256 escrowed);
    /// @notice Fires when the buyer funds more months.
    event OrderToppedUp(bytes32 indexed orderId, address indexed payer, uint256 amount, uint16 fundedMonths);
    /// @notice Fires when the seller acknowledges the order (it started work).
    event OrderAcknowledged(bytes32 indexed orderId);
    /// @notice Fires when delivery is settled; periods count from `deliveredAt`.
    event OrderDelivered(bytes32 indexed orderId, uint40 deliveredAt);
    /// @notice Fires when an order reaches a final status.
    event OrderClosed(bytes32 indexed orderId, OrderStatus status, uint8 reason);
    /// @notice Fires when a milestone is settled; `creditBps` went back to the buyer.
    event MilestoneSettled(bytes32 indexed orderId, uint16 indexed milestone, uint256 creditBps);
    /// @notice Fires for every credit to a party's withdrawable balance.
    event Paid(bytes32 indexed orderId, address indexed party, uint256 amount, Payout reason, uint16 milestone);
    /// @notice Fires when a party withdraws its balance.
    event Withdrawn(address indexed token, address indexed party, address to, uint256 amount);
    /// @notice Fires when the buyer or the seller disputes a milestone; it is frozen until `until`.
    event DisputeOpened(bytes32 indexed orderId, uint16 indexed milestone, address by, uint256 until);
    /// @notice Fires when the council rules on a disputed milestone.
    event DisputeRuled(bytes32 indexed orderId, uint16 indexed milestone, uint16 buyerShareBps);
    /// @notice Fires when a final outcome from the ledger arrives for a milestone that cannot move
    /// money any more (or yet); the outcome is recorded at the ledger, the escrow does nothing.
    event OutcomeIgnored(bytes32 indexed orderId, uint16 milestone, Skip why);

    // --- wiring and council ------------------------------------------------------------------------

    /// @notice Adds or removes a settlement token; the council only (its arbiter).
    /// @dev Removing a token refuses new orders and top-ups in it; open orders settle and withdraw normally.
    /// @param token the ERC-20 token
    /// @param allowed true to allow it, false to remove it
    function setTokenAllowed(address token, bool allowed) external;

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
    /// (lateDeliveryBpsPerDay per whole day after `committedDate`, capped by lateDeliveryCapBps);
    /// the ledger only. Ignored (OutcomeIgnored) when the order no longer awaits delivery.
    /// @param terms the order's terms
    /// @param committedDate the committed completion date (unix seconds)
    /// @param completionDate the reported completion date (unix seconds)
    function onDelivered(OrderTerms calldata terms, uint40 committedDate, uint40 completionDate) external;

    /// @notice Final in-life report of `period`: releases the monthly charge minus the SLA credits of
    /// `m` (capped by monthlyCreditCapBps); the ledger only. Ignored when the order is not active,
    /// the period is not funded or is settled already.
    /// @param terms the order's terms
    /// @param period the billing period, 1..termMonths
    /// @param m the period's measurements
    function onPeriod(OrderTerms calldata terms, uint16 period, PeriodMetrics calldata m) external;

    /// @notice Final failure report (Sonata rejected, failed or cancelled): refunds everything
    /// escrowed to the buyer; the ledger only. Ignored once delivered or closed.
    /// @param terms the order's terms
    /// @param reason the ReportKinds FAILURE_* code
    function onOrderFailed(OrderTerms calldata terms, uint8 reason) external;

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

    /// @notice The seller acknowledges the order (work started): from now on cancelling costs the fee.
    /// @param terms the order's terms
    function acknowledge(OrderTerms calldata terms) external;

    /// @notice The buyer cancels before delivery (see the cancellation policy above).
    /// @param terms the order's terms
    function cancel(OrderTerms calldata terms) external;

    /// @notice Anyone refunds the buyer of an order not delivered by its delivery deadline.
    /// @param terms the order's terms
    function claimNonDelivery(OrderTerms calldata terms) external;

    /// @notice Anyone releases a funded period to the seller when no report settled it by its deadline.
    /// @param terms the order's terms
    /// @param period the billing period, 1..termMonths
    function claimPeriod(OrderTerms calldata terms, uint16 period) external;

    /// @notice The buyer or the seller disputes a milestone, freezing its money.
    /// @param terms the order's terms
    /// @param milestone 0 (delivery) or a billing period 1..termMonths
    function dispute(OrderTerms calldata terms, uint16 milestone) external;

    /// @notice Sends the caller's whole balance of a token to the caller.
    /// @param token the token
    function withdraw(address token) external;

    /// @notice Sends the caller's whole balance of a token to another address (e.g. when the token
    /// blocks the caller).
    /// @param token the token
    /// @param to the recipient
    function withdrawTo(address token, address to) external;

    // --- views -------------------------------------------------------------------------------------

    /// @notice Length of a billing period.
    /// @return period seconds
    function BILLING_PERIOD() external view returns (uint256 period);

    /// @notice Time after the end of a period before the seller may claim it unreported.
    /// @return grace seconds
    function REPORT_GRACE() external view returns (uint256 grace);

    /// @notice Time after the committed installation interval before the buyer may claim a refund.
    /// @return grace seconds
    function DELIVERY_GRACE() external view returns (uint256 grace);

    /// @notice How long a dispute freezes its milestone against the timeouts.
    /// @return timeout seconds
    function RULING_TIMEOUT() external view returns (uint256 timeout);

    /// @notice Share of the one-time charge the seller keeps when the buyer cancels after acknowledgement.
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

    /// @notice The stored state of an order.
    /// @param orderId the order id
    /// @return state the order's one slot (zero when never opened)
    function orderState(bytes32 orderId) external view returns (OrderState memory state);

    /// @notice Whether a billing period of an order is settled.
    /// @param orderId the order id
    /// @param period the billing period
    /// @return settled true when its money moved
    function isPeriodSettled(bytes32 orderId, uint16 period) external view returns (bool settled);

    /// @notice When a milestone was disputed.
    /// @param orderId the order id
    /// @param milestone 0 (delivery) or a billing period
    /// @return openedAt the dispute's time, 0 when never disputed
    function disputedAt(bytes32 orderId, uint16 milestone) external view returns (uint256 openedAt);

    /// @notice What a party can withdraw in a token.
    /// @param token the token
    /// @param party the party
    /// @return amount token units
    function withdrawable(address token, address party) external view returns (uint256 amount);

    /// @notice The late-delivery credit `onDelivered` would apply.
    /// @param terms the order's terms
    /// @param committedDate the committed completion date
    /// @param completionDate the completion date
    /// @return bps the credit in basis points of the one-time charge
    function lateDeliveryCreditBps(OrderTerms calldata terms, uint40 committedDate, uint40 completionDate)
        external
        pure
        returns (uint256 bps);

    /// @notice The in-life credit `onPeriod` would apply for some measurements.
    /// @param terms the order's terms
    /// @param m the period's measurements
    /// @return bps the credit in basis points of the monthly charge
    function periodCreditBps(OrderTerms calldata terms, PeriodMetrics calldata m) external pure returns (uint256 bps);
}
