// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.29;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {NonReentrant} from "evm/NonReentrant.sol";
import {IMembership} from "./interfaces/IMembership.sol";
import {IOrderEscrow} from "./interfaces/IOrderEscrow.sol";
import {ISlaLedger, ReportRecord, ReportStatus} from "./interfaces/ISlaLedger.sol";
import {BillingCalendar} from "./libraries/BillingCalendar.sol";
import {CreditMath} from "./libraries/CreditMath.sol";
import {DeliveryTerms} from "./libraries/DeliveryTerms.sol";
import {ReportKinds} from "./libraries/ReportKinds.sol";
import {OrderId, OrderTerms, PeriodMetrics} from "./types/OrderTypes.sol";

/// @title OrderEscrow
/// @notice Holds the buyer's money of each order and pays it out as the SlaLedger's final reports,
/// the parties' timeouts and the council's rulings decide. See IOrderEscrow for the full policy.
/// @dev Conservation: for every token, balanceOf(this) == the sum of the orders' `escrowed` plus the
/// sum of the parties' withdrawable balances. Every payout moves an amount from one order's
/// `escrowed` to withdrawable balances within the same call; an order closed before delivery keeps
/// its buyer's refund in `escrowed` until the buyer pulls it (`withdrawRefund`), which, with
/// `withdraw`, is the only way tokens go out.
/// The sums are not kept on chain (they would cost a storage write per payout): the events
/// (OrderOpened, OrderToppedUp, MilestoneSettled, Paid, Withdrawn) reconstruct them, and the tests
/// check the equality after every step.
contract OrderEscrow is IOrderEscrow, NonReentrant {
    using SafeERC20 for IERC20;

    /// @inheritdoc IOrderEscrow
    uint256 public constant REPORT_GRACE = 20 days;
    /// @inheritdoc IOrderEscrow
    uint256 public constant DELIVERY_GRACE = 30 days;
    /// @inheritdoc IOrderEscrow
    uint256 public constant RULING_TIMEOUT = 60 days;
    /// @inheritdoc IOrderEscrow
    uint256 public constant CANCEL_NOTICE = 7 days;
    /// @inheritdoc IOrderEscrow
    uint256 public constant CANCELLATION_FEE_BPS = 1_000;

    uint16 private constant DELIVERY = 0;
    /// @dev Periods settled out of order are kept in a 40-bit window after `settledThrough`.
    uint256 private constant WINDOW = 40;

    /// @dev An allow-listed token and the least value of an order in it: one slot.
    struct TokenPolicy {
        bool allowed;
        uint96 minOrderValue;
    }

    IMembership private immutable _registry;
    address private immutable _arbiter;
    address private immutable _market;
    ISlaLedger private immutable _ledger;

    mapping(address token => TokenPolicy policy) private _tokens;
    mapping(bytes32 orderId => OrderState state) private _orders;
    /// @dev withdrawable + 1 once a party's slot is open (0 = never opened): a withdrawal leaves 1,
    /// so a later settlement rewrites the slot instead of creating it.
    mapping(address token => mapping(address party => uint256 stored)) private _balances;
    mapping(bytes32 orderId => mapping(uint16 milestone => MilestoneHold hold)) private _holds;

    // --- caller checks ---------------------------------------------------------------------------

    /// @dev The council acts only through its arbiter (the registry running an approved proposal).
    modifier onlyCouncil() {
        _checkCouncil();
        _;
    }

    modifier onlyMarket() {
        if (msg.sender != _market) revert EscrowNotMarket(msg.sender);
        _;
    }

    modifier onlyLedger() {
        if (msg.sender != address(_ledger)) revert EscrowNotLedger(msg.sender);
        _;
    }

    /// @dev The order id is computed only to name a refusal.
    modifier onlyBuyer(OrderTerms calldata terms) {
        if (msg.sender != terms.buyer) revert EscrowNotBuyer(OrderId.compute(terms), msg.sender);
        _;
    }

    /// @dev The seller's admin or one of its operational keys (its oracle acknowledges orders).
    modifier onlySeller(OrderTerms calldata terms) {
        if (msg.sender != terms.seller && _registry.memberOf(msg.sender) != terms.seller) {
            revert EscrowNotSeller(OrderId.compute(terms), msg.sender);
        }
        _;
    }

    modifier onlyParty(OrderTerms calldata terms) {
        if (msg.sender != terms.buyer && msg.sender != terms.seller) {
            revert EscrowNotParty(OrderId.compute(terms), msg.sender);
        }
        _;
    }

    /// @param registry_ the CarrierRegistry; its `arbiter()` is the only caller of the council functions
    /// @param market_ the RfqMarket, the only opener of orders
    /// @param ledger_ the SlaLedger, the only source of final outcomes and of held reports
    /// @param allowedTokens the initial settlement tokens
    /// @param minimum the least value of an order in each of them (at least 1)
    /// @dev The links are immutable (the deployment predicts the addresses of the contracts deployed
    /// after this one): reading them costs nothing on the hot paths.
    constructor(
        IMembership registry_,
        address market_,
        ISlaLedger ledger_,
        address[] memory allowedTokens,
        uint96 minimum
    ) {
        if (address(registry_) == address(0) || market_ == address(0) || address(ledger_) == address(0)) {
            revert EscrowZeroAddress();
        }
        _registry = registry_;
        _arbiter = registry_.arbiter();
        _market = market_;
        _ledger = ledger_;
        for (uint256 i = 0; i < allowedTokens.length; ++i) {
            _setToken(allowedTokens[i], true, minimum);
        }
    }

    // --- wiring and council --------------------------------------------------------------------

    /// @inheritdoc IOrderEscrow
    function setToken(address token, bool allowed, uint96 minimum) external onlyCouncil {
        _setToken(token, allowed, minimum);
    }

    /// @inheritdoc IOrderEscrow
    function rule(OrderTerms calldata terms, uint16 milestone, uint16 buyerShareBps) external nonReentrant onlyCouncil {
        if (buyerShareBps > CreditMath.BPS) revert EscrowInvalidShare(buyerShareBps);
        (bytes32 orderId, OrderState memory o) = _load(terms);
        MilestoneHold memory h = _holds[orderId][milestone];
        if (h.buyerDisputedAt == 0 && h.sellerDisputedAt == 0) revert EscrowNoDispute(orderId, milestone);
        if (milestone == DELIVERY) {
            _requireAwaitingDelivery(orderId, o);
            if (buyerShareBps == CreditMath.BPS) {
                _close(orderId, o, OrderStatus.Failed, 0);
            } else {
                _settleDelivery(orderId, terms, o, uint40(block.timestamp), buyerShareBps, Payout.Ruling);
                // A ruled delivery counts at the ledger like a reported one: open the seller's record.
                _ledger.openRecord(terms.seller);
            }
        } else {
            _requireSettleablePeriod(orderId, terms, o, milestone);
            _settlePeriod(orderId, terms, o, milestone, buyerShareBps, Payout.Ruling);
        }
        emit DisputeRuled(orderId, milestone, buyerShareBps);
    }

    // --- market and ledger ---------------------------------------------------------------------

    /// @inheritdoc IOrderEscrow
    function openOrder(OrderTerms calldata terms) external nonReentrant onlyMarket returns (bytes32 orderId) {
        orderId = OrderId.compute(terms);
        if (_orders[orderId].status != OrderStatus.None) revert EscrowOrderExists(orderId);
        if (terms.buyer == address(0) || terms.seller == address(0) || terms.buyer == terms.seller) {
            revert EscrowInvalidParties(terms.buyer, terms.seller);
        }
        if (terms.prepaidMonths > terms.termMonths) {
            revert EscrowPrepaidExceedsTerm(terms.prepaidMonths, terms.termMonths);
        }
        // The whole order fits 96 bits, so no top-up can overflow an order's `escrowed`.
        uint256 whole = terms.oneTimeCharge + uint256(terms.termMonths) * terms.monthlyCharge;
        if (whole > type(uint96).max) revert EscrowAmountTooLarge(whole);
        TokenPolicy memory policy = _tokens[terms.token];
        if (!policy.allowed) revert EscrowTokenNotAllowed(terms.token);
        if (whole < policy.minOrderValue) revert EscrowOrderTooSmall(whole, policy.minOrderValue);

        uint256 amount = terms.oneTimeCharge + uint256(terms.prepaidMonths) * terms.monthlyCharge;
        _orders[orderId] = OrderState({
            escrowed: uint96(amount),
            status: OrderStatus.Open,
            deliveredAt: 0,
            claimsFrom: 0,
            fundedMonths: terms.prepaidMonths,
            settledThrough: 0,
            settledWindow: 0
        });
        emit OrderOpened(orderId, terms, amount);
        _pull(terms.token, terms.buyer, amount);
    }

    /// @inheritdoc IOrderEscrow
    function onDelivered(bytes32 orderId, OrderTerms calldata terms, uint40 committedDate, uint40 completionDate)
        external
        nonReentrant
        onlyLedger
        returns (bool applied)
    {
        OrderState memory o = _stored(orderId);
        if (!_awaitingDelivery(o.status)) return false;
        if (o.status == OrderStatus.Open) revert EscrowNotAcknowledged(orderId);
        uint256 committed = DeliveryTerms.committedDate(terms, committedDate);
        uint256 creditBps = CreditMath.lateDeliveryBps(terms.credits, committed, completionDate);
        // Period 1 starts at the completion date, which cannot precede the award nor follow now.
        uint40 start = completionDate;
        if (start < terms.awardedAt) start = terms.awardedAt;
        if (start > block.timestamp) start = uint40(block.timestamp);
        _settleDelivery(orderId, terms, o, start, creditBps, Payout.Release);
        return true;
    }

    /// @inheritdoc IOrderEscrow
    function onPeriod(bytes32 orderId, OrderTerms calldata terms, uint16 period, PeriodMetrics calldata m)
        external
        nonReentrant
        onlyLedger
        returns (bool applied)
    {
        OrderState memory o = _stored(orderId);
        if (period == 0 || period > terms.termMonths) revert EscrowInvalidPeriod(orderId, period, terms.termMonths);
        if (o.deliveredAt == 0) revert EscrowNotDelivered(orderId);
        if (_isSettled(o, period)) return false;
        // A final fact of an unfunded period waits for the top-up: its credit always applies.
        if (period > o.fundedMonths) revert EscrowPeriodNotFunded(orderId, period, o.fundedMonths);
        _requireInWindow(orderId, o, period);
        _settlePeriod(orderId, terms, o, period, CreditMath.periodBps(terms.credits, m), Payout.Release);
        return true;
    }

    /// @inheritdoc IOrderEscrow
    function onOrderFailed(bytes32 orderId, OrderTerms calldata terms, uint8 reason)
        external
        nonReentrant
        onlyLedger
        returns (bool applied)
    {
        OrderState memory o = _stored(orderId);
        if (!_awaitingDelivery(o.status)) return false;
        if (reason == ReportKinds.FAILURE_CANCELLED) {
            // Cancelled through Sonata: the same outcome as `cancel`.
            _cancel(orderId, terms, o, reason);
        } else {
            _close(orderId, o, OrderStatus.Failed, reason);
        }
        return true;
    }

    // --- parties -------------------------------------------------------------------------------

    /// @inheritdoc IOrderEscrow
    function topUp(OrderTerms calldata terms, uint16 months) external nonReentrant onlyBuyer(terms) {
        _topUp(terms, months);
    }

    /// @inheritdoc IOrderEscrow
    function topUpWithPermit(OrderTerms calldata terms, uint16 months, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
        nonReentrant
        onlyBuyer(terms)
    {
        // A failed permit (front-run or unsupported) is not fatal: the pull checks the allowance.
        try IERC20Permit(terms.token)
            .permit(terms.buyer, address(this), uint256(months) * terms.monthlyCharge, deadline, v, r, s) {}
            catch {}
        _topUp(terms, months);
    }

    /// @inheritdoc IOrderEscrow
    function acknowledge(OrderTerms calldata terms) external nonReentrant onlySeller(terms) {
        (bytes32 orderId, OrderState memory o) = _load(terms);
        if (o.status != OrderStatus.Open) revert EscrowWrongStatus(orderId, o.status);
        o.status = OrderStatus.Acknowledged;
        _orders[orderId] = o;
        // Every later settlement rewrites these slots instead of creating them.
        _openBalance(terms.token, terms.seller);
        _openBalance(terms.token, terms.buyer);
        _ledger.openRecord(terms.seller);
        emit OrderAcknowledged(orderId);
    }

    /// @inheritdoc IOrderEscrow
    function cancel(OrderTerms calldata terms) external nonReentrant onlyBuyer(terms) {
        (bytes32 orderId, OrderState memory o) = _load(terms);
        _requireAwaitingDelivery(orderId, o);
        if (o.status == OrderStatus.Acknowledged) {
            // Work started: the buyer asks, and the seller has CANCEL_NOTICE to show its delivery.
            MilestoneHold storage h = _holds[orderId][DELIVERY];
            uint256 askedAt = h.cancelRequestedAt;
            if (askedAt == 0) {
                h.cancelRequestedAt = uint40(block.timestamp);
                emit CancellationRequested(orderId, block.timestamp + CANCEL_NOTICE);
                return;
            }
            if (block.timestamp < askedAt + CANCEL_NOTICE) {
                revert EscrowCancelNoticeRunning(orderId, askedAt + CANCEL_NOTICE);
            }
            _requireNotFrozen(orderId, DELIVERY);
            _requireNoPendingReport(orderId, ReportKinds.ORDER_COMPLETED, 0, DELIVERY);
        }
        _cancel(orderId, terms, o, 0);
    }

    /// @inheritdoc IOrderEscrow
    function claimNonDelivery(OrderTerms calldata terms) external nonReentrant {
        (bytes32 orderId, OrderState memory o) = _load(terms);
        _requireAwaitingDelivery(orderId, o);
        uint256 deadline = uint256(terms.awardedAt) + uint256(terms.installDays) * 1 days + DELIVERY_GRACE;
        if (block.timestamp < deadline) revert EscrowTooEarly(orderId, DELIVERY, deadline);
        _requireNotFrozen(orderId, DELIVERY);
        _requireNoPendingReport(orderId, ReportKinds.ORDER_COMPLETED, 0, DELIVERY);
        _close(orderId, o, OrderStatus.Expired, 0);
    }

    /// @inheritdoc IOrderEscrow
    function claimPeriod(OrderTerms calldata terms, uint16 period) external nonReentrant {
        (bytes32 orderId, OrderState memory o) = _load(terms);
        _requireSettleablePeriod(orderId, terms, o, period);
        (, uint256 end) = BillingCalendar.bounds(o.deliveredAt, period);
        uint256 from = end > o.claimsFrom ? end : o.claimsFrom;
        if (block.timestamp < from + REPORT_GRACE) revert EscrowTooEarly(orderId, period, from + REPORT_GRACE);
        _requireNotFrozen(orderId, period);
        _requireNoPendingReport(orderId, ReportKinds.PERIOD, period, period);
        _settlePeriod(orderId, terms, o, period, 0, Payout.Claim);
    }

    /// @inheritdoc IOrderEscrow
    function dispute(OrderTerms calldata terms, uint16 milestone) external nonReentrant onlyParty(terms) {
        (bytes32 orderId, OrderState memory o) = _load(terms);
        uint256 dueAt;
        if (milestone == DELIVERY) {
            _requireAwaitingDelivery(orderId, o);
            dueAt = uint256(terms.awardedAt) + uint256(terms.installDays) * 1 days;
        } else {
            _requireSettleablePeriod(orderId, terms, o, milestone);
            (, dueAt) = BillingCalendar.bounds(o.deliveredAt, milestone);
        }
        if (block.timestamp < dueAt) revert EscrowNotDue(orderId, milestone, dueAt);
        MilestoneHold storage h = _holds[orderId][milestone];
        if (msg.sender == terms.buyer) {
            if (h.buyerDisputedAt != 0) revert EscrowDisputeExists(orderId, milestone, msg.sender);
            h.buyerDisputedAt = uint40(block.timestamp);
        } else {
            if (h.sellerDisputedAt != 0) revert EscrowDisputeExists(orderId, milestone, msg.sender);
            h.sellerDisputedAt = uint40(block.timestamp);
        }
        emit DisputeOpened(orderId, milestone, msg.sender, block.timestamp + RULING_TIMEOUT);
    }

    /// @inheritdoc IOrderEscrow
    function withdrawRefund(OrderTerms calldata terms, address to) external nonReentrant onlyBuyer(terms) {
        if (to == address(0)) revert EscrowZeroAddress();
        (bytes32 orderId, OrderState memory o) = _load(terms);
        if (!_closedBeforeDelivery(o.status)) revert EscrowWrongStatus(orderId, o.status);
        uint256 amount = o.escrowed;
        if (amount == 0) revert EscrowNothingToWithdraw(terms.token, msg.sender);
        o.escrowed = 0;
        _orders[orderId] = o;
        emit Paid(orderId, msg.sender, amount, Payout.Refund, DELIVERY);
        emit Withdrawn(terms.token, msg.sender, to, amount);
        IERC20(terms.token).safeTransfer(to, amount);
    }

    /// @inheritdoc IOrderEscrow
    function withdraw(address token) external nonReentrant {
        _withdraw(token, msg.sender);
    }

    /// @inheritdoc IOrderEscrow
    function withdrawTo(address token, address to) external nonReentrant {
        if (to == address(0)) revert EscrowZeroAddress();
        _withdraw(token, to);
    }

    // --- views ---------------------------------------------------------------------------------

    /// @inheritdoc IOrderEscrow
    function version() external pure returns (string memory) {
        return "2.0.0";
    }

    /// @inheritdoc IOrderEscrow
    function registry() external view returns (address) {
        return address(_registry);
    }

    /// @inheritdoc IOrderEscrow
    function market() external view returns (address) {
        return _market;
    }

    /// @inheritdoc IOrderEscrow
    function ledger() external view returns (address) {
        return address(_ledger);
    }

    /// @inheritdoc IOrderEscrow
    function isTokenAllowed(address token) external view returns (bool) {
        return _tokens[token].allowed;
    }

    /// @inheritdoc IOrderEscrow
    function minOrderValue(address token) external view returns (uint256) {
        return _tokens[token].minOrderValue;
    }

    /// @inheritdoc IOrderEscrow
    function orderState(bytes32 orderId) external view returns (OrderState memory) {
        return _orders[orderId];
    }

    /// @inheritdoc IOrderEscrow
    function isPeriodSettled(bytes32 orderId, uint16 period) external view returns (bool) {
        return _isSettled(_orders[orderId], period);
    }

    /// @inheritdoc IOrderEscrow
    function holdOf(bytes32 orderId, uint16 milestone) external view returns (MilestoneHold memory) {
        return _holds[orderId][milestone];
    }

    /// @inheritdoc IOrderEscrow
    function withdrawable(address token, address party) external view returns (uint256) {
        uint256 stored = _balances[token][party];
        return stored == 0 ? 0 : stored - 1;
    }

    /// @inheritdoc IOrderEscrow
    function periodBounds(uint40 deliveredAt, uint16 period) external pure returns (uint256 start, uint256 end) {
        return BillingCalendar.bounds(deliveredAt, period);
    }

    /// @inheritdoc IOrderEscrow
    function periodCharge(uint128 monthlyCharge, uint40 deliveredAt, uint16 period) external pure returns (uint256) {
        return BillingCalendar.charge(monthlyCharge, deliveredAt, period);
    }

    /// @inheritdoc IOrderEscrow
    function lateDeliveryCreditBps(OrderTerms calldata terms, uint40 committedDate, uint40 completionDate)
        external
        pure
        returns (uint256)
    {
        return CreditMath.lateDeliveryBps(
            terms.credits, DeliveryTerms.committedDate(terms, committedDate), completionDate
        );
    }

    /// @inheritdoc IOrderEscrow
    function periodCreditBps(OrderTerms calldata terms, PeriodMetrics calldata m) external pure returns (uint256) {
        return CreditMath.periodBps(terms.credits, m);
    }

    // --- internals: orders ---------------------------------------------------------------------

    function _load(OrderTerms calldata terms) private view returns (bytes32 orderId, OrderState memory o) {
        orderId = OrderId.compute(terms);
        o = _stored(orderId);
    }

    /// @dev The order of an id the ledger computed from the terms it checked.
    function _stored(bytes32 orderId) private view returns (OrderState memory o) {
        o = _orders[orderId];
        if (o.status == OrderStatus.None) revert EscrowUnknownOrder(orderId);
    }

    function _topUp(OrderTerms calldata terms, uint16 months) private {
        (bytes32 orderId, OrderState memory o) = _load(terms);
        if (o.status > OrderStatus.Active) revert EscrowWrongStatus(orderId, o.status);
        if (months == 0 || uint256(o.fundedMonths) + months > terms.termMonths) {
            revert EscrowInvalidTopUp(orderId, months, o.fundedMonths, terms.termMonths);
        }
        if (!_tokens[terms.token].allowed) revert EscrowTokenNotAllowed(terms.token);
        uint256 amount = uint256(months) * terms.monthlyCharge;
        if (o.deliveredAt != 0) {
            // Funding a period that is over already: its claim waits REPORT_GRACE from now, so the
            // report that waited for the funds settles it first.
            (, uint256 firstEnd) = BillingCalendar.bounds(o.deliveredAt, o.fundedMonths + 1);
            if (firstEnd <= block.timestamp) o.claimsFrom = uint40(block.timestamp);
        }
        // Cannot overflow: fundedMonths <= termMonths, and the whole order fits 96 bits (checked at open).
        unchecked {
            o.fundedMonths += months;
            o.escrowed += uint96(amount);
        }
        _orders[orderId] = o;
        emit OrderToppedUp(orderId, msg.sender, amount, o.fundedMonths);
        _pull(terms.token, terms.buyer, amount);
    }

    /// @dev Delivery settled: the one-time charge splits `buyerBps` to the buyer, the rest to the seller.
    function _settleDelivery(
        bytes32 orderId,
        OrderTerms calldata terms,
        OrderState memory o,
        uint40 deliveredAt,
        uint256 buyerBps,
        Payout reason
    ) private {
        o.deliveredAt = deliveredAt;
        o.claimsFrom = uint40(block.timestamp);
        o.status = terms.termMonths == 0 ? OrderStatus.Completed : OrderStatus.Active;
        uint256 amount = terms.oneTimeCharge;
        uint256 toBuyer = CreditMath.share(amount, buyerBps);
        // Cannot underflow: the one-time charge is held until delivery settles.
        unchecked {
            o.escrowed -= uint96(amount);
        }
        _orders[orderId] = o;
        emit OrderDelivered(orderId, deliveredAt);
        _settled(orderId, terms, DELIVERY, amount - toBuyer, toBuyer, reason);
        if (o.status == OrderStatus.Completed) emit OrderClosed(orderId, OrderStatus.Completed, 0);
    }

    /// @dev A period settled: its charge (pro rata for period 1) splits `buyerBps` to the buyer, the
    /// rest to the seller; the unused part of the funded monthly charge goes back to the buyer.
    function _settlePeriod(
        bytes32 orderId,
        OrderTerms calldata terms,
        OrderState memory o,
        uint16 period,
        uint256 buyerBps,
        Payout reason
    ) private {
        (, uint256 end) = BillingCalendar.bounds(o.deliveredAt, period);
        if (block.timestamp < end) revert EscrowPeriodNotOver(orderId, period, end);
        _markSettled(o, period);
        if (o.settledThrough == terms.termMonths) o.status = OrderStatus.Completed;
        uint256 funded = terms.monthlyCharge;
        uint256 charge = BillingCalendar.charge(funded, o.deliveredAt, period);
        uint256 toSeller = charge - CreditMath.share(charge, buyerBps);
        // Cannot underflow: a funded, unsettled period's monthly charge is part of `escrowed`.
        unchecked {
            o.escrowed -= uint96(funded);
        }
        _orders[orderId] = o;
        _settled(orderId, terms, period, toSeller, funded - toSeller, reason);
        if (o.status == OrderStatus.Completed) emit OrderClosed(orderId, OrderStatus.Completed, 0);
    }

    /// @dev Credits both shares of a settled milestone and says so in one event.
    function _settled(
        bytes32 orderId,
        OrderTerms calldata terms,
        uint16 milestone,
        uint256 toSeller,
        uint256 toBuyer,
        Payout reason
    ) private {
        emit MilestoneSettled(orderId, milestone, toSeller, toBuyer, reason);
        _credit(terms.token, terms.seller, toSeller);
        _credit(terms.token, terms.buyer, toBuyer);
    }

    /// @dev Cancellation (by the buyer or through Sonata): a full refund before the seller
    /// acknowledged, the cancellation fee to the seller afterwards.
    function _cancel(bytes32 orderId, OrderTerms calldata terms, OrderState memory o, uint8 code) private {
        uint256 fee =
            o.status == OrderStatus.Acknowledged ? CreditMath.share(terms.oneTimeCharge, CANCELLATION_FEE_BPS) : 0;
        // Cannot underflow: the one-time charge is held until delivery, and the fee is a share of it.
        unchecked {
            o.escrowed -= uint96(fee);
        }
        _close(orderId, o, OrderStatus.Cancelled, code);
        _pay(orderId, terms.token, terms.seller, fee, Payout.CancellationFee);
    }

    /// @dev The order closes with `status`; what it still holds is its buyer's refund (withdrawRefund).
    function _close(bytes32 orderId, OrderState memory o, OrderStatus status, uint8 code) private {
        o.status = status;
        _orders[orderId] = o;
        emit OrderClosed(orderId, status, code);
    }

    function _closedBeforeDelivery(OrderStatus status) private pure returns (bool) {
        return status == OrderStatus.Cancelled || status == OrderStatus.Failed || status == OrderStatus.Expired;
    }

    // --- internals: milestones -----------------------------------------------------------------

    function _awaitingDelivery(OrderStatus status) private pure returns (bool) {
        return status == OrderStatus.Open || status == OrderStatus.Acknowledged;
    }

    function _requireAwaitingDelivery(bytes32 orderId, OrderState memory o) private pure {
        if (!_awaitingDelivery(o.status)) revert EscrowWrongStatus(orderId, o.status);
    }

    function _requireSettleablePeriod(bytes32 orderId, OrderTerms calldata terms, OrderState memory o, uint16 period)
        private
        pure
    {
        if (period == 0 || period > terms.termMonths) revert EscrowInvalidPeriod(orderId, period, terms.termMonths);
        if (o.status != OrderStatus.Active) revert EscrowWrongStatus(orderId, o.status);
        if (period > o.fundedMonths) revert EscrowPeriodNotFunded(orderId, period, o.fundedMonths);
        if (_isSettled(o, period)) revert EscrowPeriodSettled(orderId, period);
        _requireInWindow(orderId, o, period);
    }

    function _requireInWindow(bytes32 orderId, OrderState memory o, uint16 period) private pure {
        // period > settledThrough here (it is not settled).
        if (period - o.settledThrough > WINDOW) revert EscrowPeriodBeyondWindow(orderId, period, o.settledThrough);
    }

    function _isSettled(OrderState memory o, uint16 period) private pure returns (bool) {
        if (period <= o.settledThrough) return true;
        uint256 offset = period - o.settledThrough - 1;
        return offset < WINDOW && (o.settledWindow >> offset) & 1 == 1;
    }

    /// @dev Sets the period's bit, then slides the window past every leading settled period.
    function _markSettled(OrderState memory o, uint16 period) private pure {
        uint40 window = o.settledWindow | (uint40(1) << (period - o.settledThrough - 1));
        uint16 through = o.settledThrough;
        // Bounded by the 40 bits of the window; cannot overflow: settledThrough <= termMonths.
        unchecked {
            while (window & 1 == 1) {
                window >>= 1;
                ++through;
            }
        }
        o.settledWindow = window;
        o.settledThrough = through;
    }

    /// @dev Each party's dispute freezes the milestone for RULING_TIMEOUT.
    function _requireNotFrozen(bytes32 orderId, uint16 milestone) private view {
        MilestoneHold memory h = _holds[orderId][milestone];
        uint256 latest = h.buyerDisputedAt > h.sellerDisputedAt ? h.buyerDisputedAt : h.sellerDisputedAt;
        if (latest != 0 && block.timestamp < latest + RULING_TIMEOUT) {
            revert EscrowMilestoneFrozen(orderId, milestone, latest + RULING_TIMEOUT);
        }
    }

    /// @dev A report of the milestone held or disputed at the ledger stops its timeout until it is
    /// final or ruled, for at most RULING_TIMEOUT (a hold cannot freeze money forever).
    function _requireNoPendingReport(bytes32 orderId, uint8 kind, uint256 key, uint16 milestone) private view {
        ReportRecord memory record = _ledger.recordOf(ReportKinds.idOf(orderId, kind, key));
        if (record.status == ReportStatus.Pending || record.status == ReportStatus.Disputed) {
            uint256 until = uint256(record.since) + RULING_TIMEOUT;
            if (block.timestamp < until) revert EscrowReportPending(orderId, milestone, until);
        }
    }

    // --- internals: money ----------------------------------------------------------------------

    function _checkCouncil() private view {
        if (msg.sender != _arbiter) revert EscrowNotCouncil(msg.sender);
    }

    function _setToken(address token, bool allowed, uint96 minimum) private {
        if (token == address(0)) revert EscrowZeroAddress();
        if (minimum == 0) minimum = 1;
        _tokens[token] = TokenPolicy(allowed, minimum);
        emit TokenAllowanceChanged(token, allowed, minimum);
    }

    /// @dev Pulls exactly `amount` from `from`, refusing tokens that deliver less.
    function _pull(address token, address from, uint256 amount) private {
        if (amount == 0) return;
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(from, address(this), amount);
        uint256 afterwards = IERC20(token).balanceOf(address(this));
        if (afterwards < before || afterwards - before != amount) {
            revert EscrowTransferShortfall(token, amount, afterwards < before ? 0 : afterwards - before);
        }
    }

    /// @dev Opens a party's balance slot (withdrawable 0) if it never was.
    function _openBalance(address token, address party) private {
        if (_balances[token][party] == 0) _balances[token][party] = 1;
    }

    /// @dev Credits `amount` to the party's withdrawable balance (no event: the caller emits one).
    function _credit(address token, address party, uint256 amount) private {
        if (amount == 0) return;
        uint256 stored = _balances[token][party];
        _balances[token][party] = (stored == 0 ? 1 : stored) + amount;
    }

    /// @dev Credits `amount` with its own Paid event (refunds and cancellation fees).
    function _pay(bytes32 orderId, address token, address party, uint256 amount, Payout reason) private {
        if (amount == 0) return;
        _credit(token, party, amount);
        emit Paid(orderId, party, amount, reason, DELIVERY);
    }

    function _withdraw(address token, address to) private {
        uint256 stored = _balances[token][msg.sender];
        if (stored <= 1) revert EscrowNothingToWithdraw(token, msg.sender);
        uint256 amount = stored - 1;
        _balances[token][msg.sender] = 1;
        emit Withdrawn(token, msg.sender, to, amount);
        IERC20(token).safeTransfer(to, amount);
    }
}
