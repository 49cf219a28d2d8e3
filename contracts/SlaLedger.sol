// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.29;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

import {
    ISlaLedger,
    BatchRef,
    Lane,
    Report,
    ReportRecord,
    ReportStatus,
    Reputation,
    ReputationScores
} from "./interfaces/ISlaLedger.sol";
import {IMembership} from "./interfaces/IMembership.sol";
import {IOrderEscrow} from "./interfaces/IOrderEscrow.sol";
import {DeliveryTerms} from "./libraries/DeliveryTerms.sol";
import {ReportHashing} from "./libraries/ReportHashing.sol";
import {ReportKinds} from "./libraries/ReportKinds.sol";
import {ReputationMath} from "./libraries/ReputationMath.sol";
import {OrderId, OrderTerms} from "./types/OrderTypes.sol";

/// @title SlaLedger
/// @notice SLA facts relayed by the members' oracles, final by liveness, dual report or council
/// ruling; final facts are pushed into the escrow and move reputation in the same transaction.
/// @dev Storage per batch: one slot in a lane its member reuses. Storage per report id: one slot,
/// only for held, disputed or ruled reports and for final facts that move no money (acknowledged,
/// in progress, trouble tickets); the finality of a completion, a failure or a period is the
/// escrow's settlement of its milestone, which happens once. Storage per provider: two reputation
/// slots, opened when it acknowledges its first order. So no finality creates a storage slot for
/// a fact that moves money. Everything else is event data.
contract SlaLedger is ISlaLedger {
    using ReportHashing for Report;

    /// @inheritdoc ISlaLedger
    uint256 public constant MAX_LIVENESS_WINDOW = 7 days;

    /// @dev Delivery and in-life aggregates: the slot every finality that moves money rewrites.
    struct Performance {
        uint32 ordersDelivered;
        uint32 ordersOnTime;
        uint32 totalDaysLate;
        uint32 periodsReported;
        uint32 periodsMeetingObjectives;
        uint64 availabilitySumPpm;
        bool open;
    }

    /// @dev Quotes, failures, disputes and tickets.
    struct Commerce {
        uint32 quotesRequested;
        uint32 quotesOnTime;
        uint32 ordersFailed;
        uint32 disputesLost;
        uint32 troubleTickets;
        uint64 totalRestoreSec;
        bool open;
    }

    IMembership private immutable _registry;
    address private immutable _arbiter;
    IOrderEscrow private immutable _escrow;
    address private immutable _market;
    uint32 private immutable _livenessWindow;

    mapping(address member => mapping(uint64 lane => Lane batch)) private _lanes;
    mapping(bytes32 reportId => ReportRecord record) private _records;
    mapping(address provider => Performance performance) private _performance;
    mapping(address provider => Commerce commerce) private _commerce;

    // --- caller checks -----------------------------------------------------------------------------

    /// @dev The council acts only through its arbiter (the registry running an approved proposal).
    modifier onlyCouncil() {
        if (msg.sender != _arbiter) revert SlaNotCouncil(msg.sender);
        _;
    }

    modifier onlyMarket() {
        if (msg.sender != _market) revert SlaNotMarket(msg.sender);
        _;
    }

    modifier onlyEscrow() {
        if (msg.sender != address(_escrow)) revert SlaNotEscrow(msg.sender);
        _;
    }

    /// @param registry the CarrierRegistry (oracle keys; its `arbiter()` rules on disputes)
    /// @param escrow the OrderEscrow final outcomes are pushed into
    /// @param market the RfqMarket, the only recorder of quote timeliness
    /// @param livenessWindow_ seconds a report can be disputed before it may become final
    /// (at most MAX_LIVENESS_WINDOW, which the escrow's report grace covers)
    /// @dev The links are immutable: the deployment predicts the addresses of the contracts
    /// deployed after this one.
    constructor(IMembership registry, IOrderEscrow escrow, address market, uint32 livenessWindow_) {
        if (address(registry) == address(0) || address(escrow) == address(0) || market == address(0)) {
            revert SlaZeroAddress();
        }
        if (livenessWindow_ == 0 || livenessWindow_ > MAX_LIVENESS_WINDOW) {
            revert SlaInvalidLivenessWindow(livenessWindow_, MAX_LIVENESS_WINDOW);
        }
        _registry = registry;
        _arbiter = registry.arbiter();
        _escrow = escrow;
        _market = market;
        _livenessWindow = livenessWindow_;
    }

    // --- reports --------------------------------------------------------------------------------

    /// @inheritdoc ISlaLedger
    function submit(uint64 laneId, Report[] calldata reports) external returns (bytes32 root) {
        address member = _callerOracleMember();
        uint256 count = reports.length;
        if (count == 0) revert SlaEmptyBatch();
        bytes32[] memory nodes = new bytes32[](count);
        for (uint256 i; i < count; ++i) {
            Report calldata report = reports[i];
            if (!ReportKinds.isKnown(report.kind)) revert SlaUnknownKind(i, report.kind);
            nodes[i] = report.leafOf(member);
        }
        root = ReportHashing.rootOf(nodes);
        Lane memory held = _lanes[member][laneId];
        if (held.submittedAt != 0) {
            if (held.root == bytes27(root)) return root; // the same batch again: a relay retry
            uint256 freeAt = uint256(held.submittedAt) + _livenessWindow;
            if (block.timestamp < freeAt) revert SlaLaneBusy(member, laneId, freeAt);
        }
        _lanes[member][laneId] = Lane({submittedAt: uint40(block.timestamp), root: bytes27(root)});
        emit BatchSubmitted(root, member, laneId, msg.sender, count);
        for (uint256 i; i < count; ++i) {
            Report calldata report = reports[i];
            emit ReportSubmitted(
                report.orderId,
                report.kind,
                report.key,
                report.value0,
                report.value1,
                report.metrics,
                report.evidenceHash
            );
        }
    }

    /// @inheritdoc ISlaLedger
    function finalize(
        OrderTerms calldata terms,
        Report calldata report,
        BatchRef calldata batch,
        bytes32[] calldata proof
    ) external returns (bool finalized) {
        bytes32 reportId = report.idOf();
        ReportStatus status = _records[reportId].status;
        if (status == ReportStatus.Final) return false;
        bytes32 orderId = _checkOrder(terms, report);
        uint256 submittedAt = _provenBatch(terms, report, reportId, batch, proof);
        if (status == ReportStatus.Disputed) revert SlaReportDisputed(reportId);
        uint256 finalAt = submittedAt + _livenessWindow;
        if (block.timestamp < finalAt) revert SlaLivenessRunning(reportId, finalAt);
        return _finalizeUncontested(orderId, terms, report, reportId, status);
    }

    /// @inheritdoc ISlaLedger
    function finalizeMatched(
        OrderTerms calldata terms,
        Report calldata report,
        BatchRef calldata batchA,
        bytes32[] calldata proofA,
        BatchRef calldata batchB,
        bytes32[] calldata proofB
    ) external returns (bool finalized) {
        bytes32 reportId = report.idOf();
        ReportStatus status = _records[reportId].status;
        if (status == ReportStatus.Final) return false;
        bytes32 orderId = _checkOrder(terms, report);
        // Both are parties and the parties differ (_checkOrder), so distinct members are buyer and seller.
        if (batchA.member == batchB.member) revert SlaSameParty(batchA.member);
        _provenBatch(terms, report, reportId, batchA, proofA);
        _provenBatch(terms, report, reportId, batchB, proofB);
        if (status == ReportStatus.Disputed) revert SlaReportDisputed(reportId);
        return _finalizeUncontested(orderId, terms, report, reportId, status);
    }

    /// @inheritdoc ISlaLedger
    function hold(OrderTerms calldata terms, Report calldata report, BatchRef calldata batch, bytes32[] calldata proof)
        external
    {
        bytes32 reportId = report.idOf();
        uint8 kind = report.kind;
        if (kind != ReportKinds.ORDER_COMPLETED && kind != ReportKinds.PERIOD) revert SlaNotHoldable(reportId, kind);
        ReportStatus status = _records[reportId].status;
        if (status == ReportStatus.Final) revert SlaReportFinal(reportId);
        if (status != ReportStatus.None) return; // held or disputed already: nothing to add
        bytes32 orderId = _checkOrder(terms, report);
        uint256 submittedAt = _provenBatch(terms, report, reportId, batch, proof);
        if (!ReportKinds.isValid(report, terms)) revert SlaInvalidReport(reportId, kind);
        uint256 endedAt = submittedAt + _livenessWindow;
        if (block.timestamp >= endedAt) revert SlaLivenessOver(reportId, endedAt);
        _records[reportId] = ReportRecord(ReportStatus.Pending, uint40(block.timestamp));
        emit ReportHeld(reportId, orderId, msg.sender, report.contentOf());
    }

    /// @inheritdoc ISlaLedger
    function dispute(
        OrderTerms calldata terms,
        Report calldata report,
        BatchRef calldata batch,
        bytes32[] calldata proof
    ) external {
        bytes32 reportId = report.idOf();
        bytes32 orderId = _checkOrder(terms, report);
        uint256 submittedAt = _provenBatch(terms, report, reportId, batch, proof);
        address member = _callerOracleMember();
        address counterparty = batch.member == terms.buyer ? terms.seller : terms.buyer;
        if (member != counterparty) revert SlaNotCounterparty(msg.sender, member);
        _checkOpen(reportId);
        uint256 endedAt = submittedAt + _livenessWindow;
        if (block.timestamp >= endedAt) revert SlaLivenessOver(reportId, endedAt);
        _records[reportId] = ReportRecord(ReportStatus.Disputed, uint40(block.timestamp));
        emit ReportDisputed(reportId, orderId, member, report.contentOf());
    }

    /// @inheritdoc ISlaLedger
    function disputeConflict(
        OrderTerms calldata terms,
        Report calldata reportA,
        BatchRef calldata batchA,
        bytes32[] calldata proofA,
        Report calldata reportB,
        BatchRef calldata batchB,
        bytes32[] calldata proofB
    ) external {
        bytes32 reportId = reportA.idOf();
        bytes32 idB = reportB.idOf();
        if (reportId != idB) revert SlaDifferentReports(reportId, idB);
        bytes32 contentB = reportB.contentOf();
        if (reportA.contentOf() == contentB) revert SlaNoConflict(reportId);
        bytes32 orderId = _checkOrder(terms, reportA);
        // The buyer's content against the seller's: a party cannot reopen a fact with two of its own.
        if (batchA.member == batchB.member) revert SlaConflictNotBetweenParties(batchA.member);
        uint256 firstAt = _provenBatch(terms, reportA, reportId, batchA, proofA);
        uint256 secondAt = _provenBatch(terms, reportB, reportId, batchB, proofB);
        _checkOpen(reportId);
        // A content submitted late cannot reopen a fact whose first report already outlived its window.
        uint256 endedAt = (firstAt < secondAt ? firstAt : secondAt) + _livenessWindow;
        if (block.timestamp >= endedAt) revert SlaLivenessOver(reportId, endedAt);
        _records[reportId] = ReportRecord(ReportStatus.Disputed, uint40(block.timestamp));
        emit ReportDisputed(reportId, orderId, address(0), contentB);
    }

    /// @inheritdoc ISlaLedger
    function resolve(OrderTerms calldata terms, Report calldata report, address loser) external onlyCouncil {
        bytes32 reportId = report.idOf();
        bytes32 orderId = _checkOrder(terms, report);
        if (_records[reportId].status != ReportStatus.Disputed) revert SlaNotDisputed(reportId);
        if (loser != address(0)) {
            if (loser != terms.buyer && loser != terms.seller) revert SlaLoserNotAParty(loser);
            _commerce[loser].disputesLost += 1;
        }
        emit DisputeResolved(reportId, orderId, report.contentOf(), loser);
        _records[reportId] = ReportRecord(ReportStatus.Final, 0);
        _makeFinal(orderId, terms, report, reportId);
    }

    // --- reputation -----------------------------------------------------------------------------

    /// @inheritdoc ISlaLedger
    function openRecord(address provider) external onlyEscrow {
        Performance storage performance = _performance[provider];
        if (!performance.open) performance.open = true;
        Commerce storage commerce = _commerce[provider];
        if (!commerce.open) commerce.open = true;
    }

    /// @inheritdoc ISlaLedger
    function recordQuoteTimeliness(address provider, bool answeredOnTime) external onlyMarket {
        Commerce storage c = _commerce[provider];
        c.quotesRequested += 1;
        if (answeredOnTime) c.quotesOnTime += 1;
        emit QuoteTimelinessRecorded(provider, answeredOnTime);
    }

    /// @inheritdoc ISlaLedger
    function reputation(address provider)
        external
        view
        returns (Reputation memory raw, ReputationScores memory scores)
    {
        Performance memory p = _performance[provider];
        Commerce memory c = _commerce[provider];
        raw = Reputation({
            quotesRequested: c.quotesRequested,
            quotesOnTime: c.quotesOnTime,
            ordersDelivered: p.ordersDelivered,
            ordersOnTime: p.ordersOnTime,
            ordersFailed: c.ordersFailed,
            disputesLost: c.disputesLost,
            totalDaysLate: p.totalDaysLate,
            periodsReported: p.periodsReported,
            periodsMeetingObjectives: p.periodsMeetingObjectives,
            troubleTickets: c.troubleTickets,
            availabilitySumPpm: p.availabilitySumPpm,
            totalRestoreSec: c.totalRestoreSec
        });
        scores = ReputationMath.scores(raw);
    }

    // --- views ----------------------------------------------------------------------------------

    /// @inheritdoc ISlaLedger
    function lane(address member, uint64 laneId) external view returns (Lane memory) {
        return _lanes[member][laneId];
    }

    /// @inheritdoc ISlaLedger
    function reportStatus(bytes32 orderId, uint8 kind, uint256 key) external view returns (ReportStatus) {
        ReportStatus status = _records[ReportKinds.idOf(orderId, kind, key)].status;
        if (status != ReportStatus.None || !ReportKinds.movesMoney(kind)) return status;
        IOrderEscrow.OrderState memory o = _escrow.orderState(orderId);
        bool settled;
        if (kind == ReportKinds.ORDER_COMPLETED) {
            settled = o.deliveredAt != 0;
        } else if (kind == ReportKinds.ORDER_FAILED) {
            settled = o.status == IOrderEscrow.OrderStatus.Failed || o.status == IOrderEscrow.OrderStatus.Cancelled;
        } else {
            settled = key <= type(uint16).max && _escrow.isPeriodSettled(orderId, uint16(key));
        }
        return settled ? ReportStatus.Final : ReportStatus.None;
    }

    /// @inheritdoc ISlaLedger
    function recordOf(bytes32 reportId) external view returns (ReportRecord memory) {
        return _records[reportId];
    }

    /// @inheritdoc ISlaLedger
    function reportIdOf(Report calldata report) external pure returns (bytes32) {
        return report.idOf();
    }

    /// @inheritdoc ISlaLedger
    function contentHashOf(Report calldata report) external pure returns (bytes32) {
        return report.contentOf();
    }

    /// @inheritdoc ISlaLedger
    function leafOf(address member, Report calldata report) external pure returns (bytes32) {
        return report.leafOf(member);
    }

    /// @inheritdoc ISlaLedger
    function livenessWindow() external view returns (uint32) {
        return _livenessWindow;
    }

    /// @inheritdoc ISlaLedger
    function links() external view returns (address registry, address escrow, address market) {
        return (address(_registry), address(_escrow), _market);
    }

    /// @inheritdoc ISlaLedger
    function version() external pure returns (string memory) {
        return "2.0.0";
    }

    // --- internals ------------------------------------------------------------------------------

    /// @dev The active member whose oracle key (or admin) the caller is; reverts otherwise.
    function _callerOracleMember() private view returns (address member) {
        member = _registry.activeOracleMember(msg.sender);
        if (member == address(0)) revert SlaNotOracle(msg.sender, _registry.memberOf(msg.sender));
    }

    /// @dev The report is about the order of `terms`, an order between two different members.
    function _checkOrder(OrderTerms calldata terms, Report calldata report) private pure returns (bytes32 orderId) {
        orderId = OrderId.compute(terms);
        if (report.orderId != orderId) revert SlaOrderMismatch(report.orderId, orderId);
        if (terms.buyer == terms.seller) revert SlaSelfDealing(terms.buyer);
    }

    /// @dev The batch was submitted by a party of the order, is still in its lane, and holds
    /// `report`; returns when it was submitted.
    function _provenBatch(
        OrderTerms calldata terms,
        Report calldata report,
        bytes32 reportId,
        BatchRef calldata batch,
        bytes32[] calldata proof
    ) private view returns (uint256 submittedAt) {
        address member = batch.member;
        if (member != terms.buyer && member != terms.seller) revert SlaNotAParty(member);
        Lane memory held = _lanes[member][batch.lane];
        if (held.submittedAt == 0) revert SlaUnknownBatch(member, batch.lane);
        bytes32 root = MerkleProof.processProofCalldata(proof, report.leafOf(member));
        if (bytes27(root) != held.root) revert SlaInvalidProof(reportId, member, batch.lane);
        return held.submittedAt;
    }

    /// @dev The report is neither final nor already disputed.
    function _checkOpen(bytes32 reportId) private view {
        ReportStatus status = _records[reportId].status;
        if (status == ReportStatus.Final) revert SlaReportFinal(reportId);
        if (status == ReportStatus.Disputed) revert SlaReportDisputed(reportId);
    }

    /// @dev Finality without a ruling: a held report's record is cleared once its fact settled.
    function _finalizeUncontested(
        bytes32 orderId,
        OrderTerms calldata terms,
        Report calldata report,
        bytes32 reportId,
        ReportStatus status
    ) private returns (bool finalized) {
        finalized = _makeFinal(orderId, terms, report, reportId);
        if (finalized && status == ReportStatus.Pending && ReportKinds.movesMoney(report.kind)) {
            delete _records[reportId];
        }
    }

    /// @dev Pushes the outcome into the escrow and, when it took effect, moves the seller's
    /// reputation; a fact the escrow settled already (or that settles nothing) takes no effect.
    function _makeFinal(bytes32 orderId, OrderTerms calldata terms, Report calldata report, bytes32 reportId)
        private
        returns (bool applied)
    {
        uint8 kind = report.kind;
        if (!ReportKinds.isValid(report, terms)) revert SlaInvalidReport(reportId, kind);
        address seller = terms.seller;
        if (kind == ReportKinds.ORDER_COMPLETED) {
            applied = _escrow.onDelivered(orderId, terms, uint40(report.value0), uint40(report.value1));
            if (applied) {
                uint256 committed = DeliveryTerms.committedDate(terms, report.value0);
                uint256 late = ReputationMath.daysLate(committed, report.value1);
                Performance storage p = _performance[seller];
                p.ordersDelivered += 1;
                if (late == 0) p.ordersOnTime += 1;
                else p.totalDaysLate += uint32(late);
            }
        } else if (kind == ReportKinds.ORDER_FAILED) {
            applied = _escrow.onOrderFailed(orderId, terms, uint8(report.value0));
            if (applied && report.value0 != ReportKinds.FAILURE_CANCELLED) _commerce[seller].ordersFailed += 1;
        } else if (kind == ReportKinds.PERIOD) {
            applied = _escrow.onPeriod(orderId, terms, uint16(report.key), report.metrics);
            if (applied) {
                Performance storage p = _performance[seller];
                p.periodsReported += 1;
                p.availabilitySumPpm += report.metrics.availabilityPpm;
                if (ReputationMath.meetsObjectives(report.metrics, terms.credits)) p.periodsMeetingObjectives += 1;
            }
        } else {
            // Facts that move no money: the ledger records their finality itself.
            if (kind == ReportKinds.TROUBLE_TICKET) {
                // In-life facts count only for an order the escrow delivered (by report or ruling).
                if (_escrow.orderState(orderId).deliveredAt == 0) revert SlaOrderNotDelivered(orderId);
                Commerce storage c = _commerce[seller];
                c.troubleTickets += 1;
                c.totalRestoreSec += report.value0;
            }
            _records[reportId] = ReportRecord(ReportStatus.Final, 0);
            applied = true;
        }
        if (applied) emit ReportFinalized(reportId, orderId, report.contentOf(), kind);
    }
}
