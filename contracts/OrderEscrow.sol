// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.29;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {NonReentrant} from "evm/NonReentrant.sol";
import {ICarrierRegistry} from "./interfaces/ICarrierRegistry.sol";
import {IOrderEscrow} from "./interfaces/IOrderEscrow.sol";
import {CreditMath} from "./libraries/CreditMath.sol";
import {OrderId, OrderTerms, PeriodMetrics} from "./types/OrderTypes.sol";

/// @title OrderEscrow
/// @notice Holds the buyer's money of each order and pays it out as the SlaLedger's final reports,
/// the parties' timeouts and the council's rulings decide. See IOrderEscrow for the full policy.
/// @dev Conservation: for every token, balanceOf(this) == the sum of the orders' `escrowed` plus the
/// sum of the parties' withdrawable balances. Every payout moves an amount from one order's
/// `escrowed` to withdrawable balances within the same call, and only `withdraw` sends tokens out.
/// The sums are not kept on chain (they would cost a storage write per payout): the events
/// (OrderOpened, OrderToppedUp, Paid, Withdrawn) reconstruct them, and the tests check the
/// equality after every step.
contract OrderEscrow is IOrderEscrow, NonReentrant {
    using SafeERC20 for IERC20;

    /// @inheritdoc IOrderEscrow
    uint256 public constant BILLING_PERIOD = 30 days;
    /// @inheritdoc IOrderEscrow
    uint256 public constant REPORT_GRACE = 20 days;
    /// @inheritdoc IOrderEscrow
    uint256 public constant DELIVERY_GRACE = 30 days;
    /// @inheritdoc IOrderEscrow
    uint256 public constant RULING_TIMEOUT = 60 days;
    /// @inheritdoc IOrderEscrow
    uint256 public constant CANCELLATION_FEE_BPS = 1_000;

    uint16 private constant DELIVERY = 0;

    ICarrierRegistry private immutable _registry;
    address private immutable _market;
    address private immutable _ledger;

    mapping(address token => bool allowed) private _allowedTokens;
    mapping(bytes32 orderId => OrderState state) private _orders;
    mapping(address token => mapping(address party => uint256 amount)) private _balances;
    mapping(bytes32 orderId => mapping(uint16 milestone => uint256 openedAt)) private _disputes;

    /// @param registry_ the CarrierRegistry; its address is the council's executor
    /// @param market_ the RfqMarket, the only opener of orders
    /// @param ledger_ the SlaLedger, the only source of final outcomes
    /// @param allowedTokens the initial settlement tokens
    /// @dev The links are immutable (the deployment predicts the addresses of the contracts deployed
    /// after this one): reading them costs nothing on the hot paths.
    constructor(ICarrierRegistry registry_, address market_, address ledger_, address[] memory allowedTokens) {
        if (address(registry_) == address(0) || market_ == address(0) || ledger_ == address(0)) {
            revert EscrowZeroAddress();
        }
        _registry = registry_;
        _market = market_;
        _ledger = ledger_;
        for (uint256 i = 0; i < allowedTokens.length; ++i) {
            _setTokenAllowed(allowedTokens[i], true);
        }
    }

    // --- wiring and council --------------------------------------------------------------------

    /// @inheritdoc IOrderEscrow
    function setTokenAllowed(address token, bool allowed) external {
        _onlyCouncil();
        _setTokenAllowed(token, allowed);
    }

    /// @inheritdoc IOrderEscrow
    function rule(OrderTerms calldata terms, uint16 milestone, uint16 buyerShareBps) external nonReentrant {
        _onlyCouncil();
        if (buyerShareBps > CreditMath.BPS) revert EscrowInvalidShare(buyerShareBps);
        (bytes32 orderId, OrderState memory o) = _load(terms);
        if (_disputes[orderId][milestone] == 0) revert EscrowNoDispute(orderId, milestone);
        if (milestone == DELIVERY) {
            _requireAwaitingDelivery(orderId, o);
            if (buyerShareBps == CreditMath.BPS) {
                _refundAll(orderId, terms, o, OrderStatus.Failed, Payout.Ruling, 0);
            } else {
                _settleDelivery(orderId, terms, o, uint40(block.timestamp), buyerShareBps, Payout.Ruling);
            }
        } else {
            _requireSettleablePeriod(orderId, terms, o, milestone);
            _settlePeriod(orderId, terms, o, milestone, buyerShareBps, Payout.Ruling);
        }
        emit DisputeRuled(orderId, milestone, buyerShareBps);
    }

    // --- market and ledger ---------------------------------------------------------------------

    /// @inheritdoc IOrderEscrow
    function openOrder(OrderTerms calldata terms) external nonReentrant returns (bytes32 orderId) {
        if (msg.sender != _market) revert EscrowNotMarket(msg.sender);
        orderId = OrderId.compute(terms);
        if (_orders[orderId].status != OrderStatus.None) revert EscrowOrderExists(orderId);
        if (terms.buyer == address(0) || terms.seller == address(0) || terms.buyer == terms.seller) {
            revert EscrowInvalidParties(terms.buyer, terms.seller);
        }
        if (terms.prepaidMonths > terms.termMonths) revert EscrowPrepaidExceedsTerm(terms.prepaidMonths, terms.termMonths);
        // The whole order fits 96 bits, so no top-up can overflow an order's `escrowed`.
        uint256 whole = terms.oneTimeCharge + uint256(terms.termMonths) * terms.monthlyCharge;
        if (whole > type(uint96).max) revert EscrowAmountTooLarge(whole);
        if (!_allowedTokens[terms.token]) revert EscrowTokenNotAllowed(terms.token);

        uint256 amount = terms.oneTimeCharge + uint256(terms.prepaidMonths) * terms.monthlyCharge;
        _orders[orderId] = OrderState({
            escrowed: uint96(amount),
            status: OrderStatus.Open,
            deliveredAt: 0,
            fundedMonths: terms.prepaidMonths,
            settledThrough: 0,
            settledWindow: 0
        });
        emit OrderOpened(orderId, terms, amount);
        _pull(terms.token, terms.buyer, amount);
    }

    /// @inheritdoc IOrderEscrow
    function onDelivered(OrderTerms calldata terms, uint40 committedDate, uint40 completionDate)
        external
        nonReentrant
    {
        if (msg.sender != _ledger) revert EscrowNotLedger(msg.sender);
        (bytes32 orderId, OrderState memory o) = _load(terms);
        if (!_awaitingDelivery(o.status)) {
            emit OutcomeIgnored(orderId, DELIVERY, Skip.OrderNotAwaitingDelivery);
            return;
        }
        uint256 creditBps = CreditMath.lateDeliveryBps(terms.credits, committedDate, completionDate);
        // Periods count from the completion date, which cannot precede the award nor follow now.
        uint40 start = completionDate;
        if (start < terms.awardedAt) start = terms.awardedAt;
        if (start > block.timestamp) start = uint40(block.timestamp);
        _settleDelivery(orderId, terms, o, start, creditBps, Payout.Credit);
    }

    /// @inheritdoc IOrderEscrow
    function onPeriod(OrderTerms calldata terms, uint16 period, PeriodMetrics calldata m) external nonReentrant {
        if (msg.sender != _ledger) revert EscrowNotLedger(msg.sender);
        (bytes32 orderId, OrderState memory o) = _load(terms);
        if (period == 0 || period > terms.termMonths) revert EscrowInvalidPeriod(orderId, period, terms.termMonths);
        Skip why = _periodSkip(o, period);
        if (why != Skip.None) {
            emit OutcomeIgnored(orderId, period, why);
            return;
        }
        _requireInWindow(orderId, o, period);
        _settlePeriod(orderId, terms, o, period, CreditMath.periodBps(terms.credits, m), Payout.Credit);
    }

    /// @inheritdoc IOrderEscrow
    function onOrderFailed(OrderTerms calldata terms, uint8 reason) external nonReentrant {
        if (msg.sender != _ledger) revert EscrowNotLedger(msg.sender);
        (bytes32 orderId, OrderState memory o) = _load(terms);
        if (!_awaitingDelivery(o.status)) {
            emit OutcomeIgnored(orderId, DELIVERY, Skip.OrderNotAwaitingDelivery);
            return;
        }
        _refundAll(orderId, terms, o, OrderStatus.Failed, Payout.Refund, reason);
    }

    // --- parties -------------------------------------------------------------------------------

    /// @inheritdoc IOrderEscrow
    function topUp(OrderTerms calldata terms, uint16 months) external nonReentrant {
        _topUp(terms, months);
    }

    /// @inheritdoc IOrderEscrow
    function topUpWithPermit(OrderTerms calldata terms, uint16 months, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
        nonReentrant
    {
        // A failed permit (front-run or unsupported) is not fatal: the pull checks the allowance.
        try IERC20Permit(terms.token).permit(
            terms.buyer, address(this), uint256(months) * terms.monthlyCharge, deadline, v, r, s
        ) {} catch {}
        _topUp(terms, months);
    }

    /// @inheritdoc IOrderEscrow
    function acknowledge(OrderTerms calldata terms) external nonReentrant {
        (bytes32 orderId, OrderState memory o) = _load(terms);
        if (msg.sender != terms.seller) revert EscrowNotSeller(orderId, msg.sender);
        if (o.status != OrderStatus.Open) revert EscrowWrongStatus(orderId, o.status);
        o.status = OrderStatus.Acknowledged;
        _orders[orderId] = o;
        emit OrderAcknowledged(orderId);
    }

    /// @inheritdoc IOrderEscrow
    function cancel(OrderTerms calldata terms) external nonReentrant {
        (bytes32 orderId, OrderState memory o) = _load(terms);
        if (msg.sender != terms.buyer) revert EscrowNotBuyer(orderId, msg.sender);
        _requireAwaitingDelivery(orderId, o);
        _requireNotFrozen(orderId, DELIVERY);
        uint256 fee = o.status == OrderStatus.Acknowledged
            ? CreditMath.share(terms.oneTimeCharge, CANCELLATION_FEE_BPS)
            : 0;
        uint256 refund = o.escrowed - fee;
        _closeAndPay(orderId, o, OrderStatus.Cancelled, 0);
        _pay(orderId, terms.token, terms.seller, fee, Payout.CancellationFee, DELIVERY);
        _pay(orderId, terms.token, terms.buyer, refund, Payout.Refund, DELIVERY);
    }

    /// @inheritdoc IOrderEscrow
    function claimNonDelivery(OrderTerms calldata terms) external nonReentrant {
        (bytes32 orderId, OrderState memory o) = _load(terms);
        _requireAwaitingDelivery(orderId, o);
        uint256 deadline = uint256(terms.awardedAt) + uint256(terms.installDays) * 1 days + DELIVERY_GRACE;
        if (block.timestamp < deadline) revert EscrowTooEarly(orderId, DELIVERY, deadline);
        _requireNotFrozen(orderId, DELIVERY);
        _refundAll(orderId, terms, o, OrderStatus.Expired, Payout.Refund, 0);
    }

    /// @inheritdoc IOrderEscrow
    function claimPeriod(OrderTerms calldata terms, uint16 period) external nonReentrant {
        (bytes32 orderId, OrderState memory o) = _load(terms);
        _requireSettleablePeriod(orderId, terms, o, period);
        uint256 claimableAt = uint256(o.deliveredAt) + uint256(period) * BILLING_PERIOD + REPORT_GRACE;
        if (block.timestamp < claimableAt) revert EscrowTooEarly(orderId, period, claimableAt);
        _requireNotFrozen(orderId, period);
        _settlePeriod(orderId, terms, o, period, 0, Payout.Claim);
    }

    /// @inheritdoc IOrderEscrow
    function dispute(OrderTerms calldata terms, uint16 milestone) external nonReentrant {
        (bytes32 orderId, OrderState memory o) = _load(terms);
        if (msg.sender != terms.buyer && msg.sender != terms.seller) revert EscrowNotParty(orderId, msg.sender);
        if (milestone == DELIVERY) _requireAwaitingDelivery(orderId, o);
        else _requireSettleablePeriod(orderId, terms, o, milestone);
        if (_disputes[orderId][milestone] != 0) revert EscrowDisputeExists(orderId, milestone);
        _disputes[orderId][milestone] = block.timestamp;
        emit DisputeOpened(orderId, milestone, msg.sender, block.timestamp + RULING_TIMEOUT);
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
        return "1.0.0";
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
        return _ledger;
    }

    /// @inheritdoc IOrderEscrow
    function isTokenAllowed(address token) external view returns (bool) {
        return _allowedTokens[token];
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
    function disputedAt(bytes32 orderId, uint16 milestone) external view returns (uint256) {
        return _disputes[orderId][milestone];
    }

    /// @inheritdoc IOrderEscrow
    function withdrawable(address token, address party) external view returns (uint256) {
        return _balances[token][party];
    }

    /// @inheritdoc IOrderEscrow
    function lateDeliveryCreditBps(OrderTerms calldata terms, uint40 committedDate, uint40 completionDate)
        external
        pure
        returns (uint256)
    {
        return CreditMath.lateDeliveryBps(terms.credits, committedDate, completionDate);
    }

    /// @inheritdoc IOrderEscrow
    function periodCreditBps(OrderTerms calldata terms, PeriodMetrics calldata m) external pure returns (uint256) {
        return CreditMath.periodBps(terms.credits, m);
    }

    // --- internals: orders ---------------------------------------------------------------------

    function _load(OrderTerms calldata terms) private view returns (bytes32 orderId, OrderState memory o) {
        orderId = OrderId.compute(terms);
        o = _orders[orderId];
        if (o.status == OrderStatus.None) revert EscrowUnknownOrder(orderId);
    }

    function _topUp(OrderTerms calldata terms, uint16 months) private {
        (bytes32 orderId, OrderState memory o) = _load(terms);
        if (msg.sender != terms.buyer) revert EscrowNotBuyer(orderId, msg.sender);
        if (o.status > OrderStatus.Active) revert EscrowWrongStatus(orderId, o.status);
        if (months == 0 || uint256(o.fundedMonths) + months > terms.termMonths) {
            revert EscrowInvalidTopUp(orderId, months, o.fundedMonths, terms.termMonths);
        }
        if (!_allowedTokens[terms.token]) revert EscrowTokenNotAllowed(terms.token);
        uint256 amount = uint256(months) * terms.monthlyCharge;
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
        Payout buyerReason
    ) private {
        o.deliveredAt = deliveredAt;
        o.status = terms.termMonths == 0 ? OrderStatus.Completed : OrderStatus.Active;
        _splitMilestone(orderId, terms, o, DELIVERY, terms.oneTimeCharge, buyerBps, buyerReason);
        emit OrderDelivered(orderId, deliveredAt);
        if (o.status == OrderStatus.Completed) emit OrderClosed(orderId, OrderStatus.Completed, 0);
    }

    /// @dev A period settled: the monthly charge splits `buyerBps` to the buyer, the rest to the seller.
    function _settlePeriod(
        bytes32 orderId,
        OrderTerms calldata terms,
        OrderState memory o,
        uint16 period,
        uint256 buyerBps,
        Payout reason
    ) private {
        uint256 endsAt = uint256(o.deliveredAt) + uint256(period) * BILLING_PERIOD;
        if (block.timestamp < endsAt) revert EscrowPeriodNotOver(orderId, period, endsAt);
        _markSettled(o, period);
        if (o.settledThrough == terms.termMonths) o.status = OrderStatus.Completed;
        _splitMilestone(orderId, terms, o, period, terms.monthlyCharge, buyerBps, reason);
        if (o.status == OrderStatus.Completed) emit OrderClosed(orderId, OrderStatus.Completed, 0);
    }

    /// @dev Stores `o` with `amount` less escrowed, moves `amount` to the parties' balances and
    /// emits the events. `reason` is Credit (SLA outcome), Claim (all to the seller) or Ruling.
    function _splitMilestone(
        bytes32 orderId,
        OrderTerms calldata terms,
        OrderState memory o,
        uint16 milestone,
        uint256 amount,
        uint256 buyerBps,
        Payout reason
    ) private {
        uint256 toBuyer = CreditMath.share(amount, buyerBps);
        // Cannot underflow: the milestone's amount is part of `escrowed` while it is unsettled
        // (delivery: the one-time charge; a period: funded, so its monthly charge is held).
        unchecked {
            o.escrowed -= uint96(amount);
        }
        _orders[orderId] = o;
        emit MilestoneSettled(orderId, milestone, buyerBps);
        _pay(orderId, terms.token, terms.seller, amount - toBuyer, reason == Payout.Credit ? Payout.Release : reason,
            milestone);
        _pay(orderId, terms.token, terms.buyer, toBuyer, reason, milestone);
    }

    /// @dev Everything escrowed back to the buyer; the order closes with `status`.
    function _refundAll(
        bytes32 orderId,
        OrderTerms calldata terms,
        OrderState memory o,
        OrderStatus status,
        Payout reason,
        uint8 code
    ) private {
        uint256 amount = o.escrowed;
        _closeAndPay(orderId, o, status, code);
        _pay(orderId, terms.token, terms.buyer, amount, reason, DELIVERY);
    }

    /// @dev Closes the order with nothing left escrowed; the caller pays the parties.
    function _closeAndPay(bytes32 orderId, OrderState memory o, OrderStatus status, uint8 code) private {
        o.escrowed = 0;
        o.status = status;
        _orders[orderId] = o;
        emit OrderClosed(orderId, status, code);
    }

    // --- internals: periods --------------------------------------------------------------------

    function _awaitingDelivery(OrderStatus status) private pure returns (bool) {
        return status == OrderStatus.Open || status == OrderStatus.Acknowledged;
    }

    function _requireAwaitingDelivery(bytes32 orderId, OrderState memory o) private pure {
        if (!_awaitingDelivery(o.status)) revert EscrowWrongStatus(orderId, o.status);
    }

    /// @dev Why a (valid) period cannot be settled, or Skip.None.
    function _periodSkip(OrderState memory o, uint16 period) private pure returns (Skip) {
        if (o.status != OrderStatus.Active) return Skip.OrderNotActive;
        if (period > o.fundedMonths) return Skip.PeriodNotFunded;
        if (_isSettled(o, period)) return Skip.PeriodSettled;
        return Skip.None;
    }

    function _requireSettleablePeriod(bytes32 orderId, OrderTerms calldata terms, OrderState memory o, uint16 period)
        private
        pure
    {
        if (period == 0 || period > terms.termMonths) revert EscrowInvalidPeriod(orderId, period, terms.termMonths);
        Skip why = _periodSkip(o, period);
        if (why == Skip.OrderNotActive) revert EscrowWrongStatus(orderId, o.status);
        if (why == Skip.PeriodNotFunded) revert EscrowPeriodNotFunded(orderId, period, o.fundedMonths);
        if (why == Skip.PeriodSettled) revert EscrowPeriodSettled(orderId, period);
        _requireInWindow(orderId, o, period);
    }

    function _requireInWindow(bytes32 orderId, OrderState memory o, uint16 period) private pure {
        // period > settledThrough here (it is not settled).
        if (period - o.settledThrough > 64) revert EscrowPeriodBeyondWindow(orderId, period, o.settledThrough);
    }

    function _isSettled(OrderState memory o, uint16 period) private pure returns (bool) {
        if (period <= o.settledThrough) return true;
        uint256 offset = period - o.settledThrough - 1;
        return offset < 64 && (o.settledWindow >> offset) & 1 == 1;
    }

    /// @dev Sets the period's bit, then slides the window past every leading settled period.
    function _markSettled(OrderState memory o, uint16 period) private pure {
        uint64 window = o.settledWindow | (uint64(1) << (period - o.settledThrough - 1));
        uint16 through = o.settledThrough;
        // Bounded by the 64 bits of the window; cannot overflow: settledThrough <= termMonths.
        unchecked {
            while (window & 1 == 1) {
                window >>= 1;
                ++through;
            }
        }
        o.settledWindow = window;
        o.settledThrough = through;
    }

    function _requireNotFrozen(bytes32 orderId, uint16 milestone) private view {
        uint256 openedAt = _disputes[orderId][milestone];
        if (openedAt != 0 && block.timestamp < openedAt + RULING_TIMEOUT) {
            revert EscrowMilestoneFrozen(orderId, milestone, openedAt + RULING_TIMEOUT);
        }
    }

    // --- internals: money ----------------------------------------------------------------------

    function _onlyCouncil() private view {
        if (msg.sender != address(_registry)) revert EscrowNotCouncil(msg.sender);
    }

    function _setTokenAllowed(address token, bool allowed) private {
        if (token == address(0)) revert EscrowZeroAddress();
        _allowedTokens[token] = allowed;
        emit TokenAllowanceChanged(token, allowed);
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

    /// @dev Credits `amount` to the party's withdrawable balance.
    function _pay(bytes32 orderId, address token, address party, uint256 amount, Payout reason, uint16 milestone)
        private
    {
        if (amount == 0) return;
        _balances[token][party] += amount;
        emit Paid(orderId, party, amount, reason, milestone);
    }

    function _withdraw(address token, address to) private {
        uint256 amount = _balances[token][msg.sender];
        if (amount == 0) revert EscrowNothingToWithdraw(token, msg.sender);
        _balances[token][msg.sender] = 0;
        emit Withdrawn(token, msg.sender, to, amount);
        IERC20(token).safeTransfer(to, amount);
    }
}
