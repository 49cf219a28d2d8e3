// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.29;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

import {
    ISlaLedger,
    BatchRef,
    Lane,
    Report,
    ReportStatus,
    Reputation,
    ReputationScores
} from "./interfaces/ISlaLedger.sol";
import {IMembership} from "./interfaces/IMembership.sol";
import {IOrderEscrow} from "./interfaces/IOrderEscrow.sol";
import {ReportHashing} from "./libraries/ReportHashing.sol";
import {ReportKinds} from "./libraries/ReportKinds.sol";
import {ReputationMath} from "./libraries/ReputationMath.sol";
import {OrderId, OrderTerms} from "./types/OrderTypes.sol";

/// @title SlaLedger
/// @notice SLA facts relayed by the members' oracles, final by liveness, dual report or council
/// ruling; final facts move reputation and are pushed into the escrow in the same transaction.
/// @dev Storage per batch: one slot in a lane its member reuses. Storage per order: one word of fact statuses (two bits per
/// lifecycle fact and billing period), written only on dispute or finality; trouble tickets take a
/// slot each. Storage per provider: two reputation slots. Everything else is event data.
contract SlaLedger is ISlaLedger {
    using ReportHashing for Report;

    IMembership private immutable _registry;
    address private immutable _arbiter;
    IOrderEscrow private immutable _escrow;
    address private immutable _market;
    uint32 private immutable _livenessWindow;

    mapping(address member => mapping(uint64 lane => Lane batch)) private _lanes;
    mapping(bytes32 orderId => uint256 facts) private _orderFacts; // see ReportKinds.packedShift
    mapping(bytes32 reportId => ReportStatus status) private _unpacked; // facts without a packed field
    mapping(address provider => Reputation reputation) private _reputations;

    // --- caller checks -----------------------------------------------------------------------------

    /// @dev The council acts only through its executor (the registry running an approved proposal).
    modifier onlyCouncil() {
        if (msg.sender != _arbiter) revert SlaNotCouncil(msg.sender);
        _;
    }

    modifier onlyMarket() {
        if (msg.sender != _market) revert SlaNotMarket(msg.sender);
        _;
    }

    /// @param registry the CarrierRegistry (oracle keys; its `arbiter()` rules on disputes)
    /// @param escrow the OrderEscrow final outcomes are pushed into
    /// @param market the RfqMarket, the only recorder of quote timeliness
    /// @param livenessWindow_ seconds a report can be disputed before it may become final
    /// @dev The links are immutable: the deployment predicts the addresses of the contracts
    /// deployed after this one.
    constructor(IMembership registry, IOrderEscrow escrow, address market, uint32 livenessWindow_) {
        if (address(registry) == address(0) || address(escrow) == address(0) || market == address(0)) {
            revert SlaZeroAddress();
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
                root,
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
        ReportStatus status = _statusOf(report, reportId);
        if (status == ReportStatus.Final) return false;
        _checkOrder(terms, report);
        uint256 submittedAt = _provenBatch(terms, report, reportId, batch, proof);
        if (status == ReportStatus.Disputed) revert SlaReportDisputed(reportId);
        uint256 finalAt = submittedAt + _livenessWindow;
        if (block.timestamp < finalAt) revert SlaLivenessRunning(reportId, finalAt);
        _makeFinal(terms, report, reportId);
        return true;
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
        ReportStatus status = _statusOf(report, reportId);
        if (status == ReportStatus.Final) return false;
        _checkOrder(terms, report);
        // Both are parties and the parties differ (_checkOrder), so distinct members are buyer and seller.
        if (batchA.member == batchB.member) revert SlaSameParty(batchA.member);
        _provenBatch(terms, report, reportId, batchA, proofA);
        _provenBatch(terms, report, reportId, batchB, proofB);
        if (status == ReportStatus.Disputed) revert SlaReportDisputed(reportId);
        _makeFinal(terms, report, reportId);
        return true;
    }

    /// @inheritdoc ISlaLedger
    function dispute(
        OrderTerms calldata terms,
        Report calldata report,
        BatchRef calldata batch,
        bytes32[] calldata proof
    ) external {
        bytes32 reportId = report.idOf();
        _checkOrder(terms, report);
        uint256 submittedAt = _provenBatch(terms, report, reportId, batch, proof);
        address member = _callerOracleMember();
        address counterparty = batch.member == terms.buyer ? terms.seller : terms.buyer;
        if (member != counterparty) revert SlaNotCounterparty(msg.sender, member);
        _checkOpen(report, reportId);
        uint256 endedAt = submittedAt + _livenessWindow;
        if (block.timestamp >= endedAt) revert SlaLivenessOver(reportId, endedAt);
        _setStatus(report, reportId, ReportStatus.Disputed);
        emit ReportDisputed(reportId, report.orderId, member, report.contentOf());
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
        _checkOrder(terms, reportA);
        uint256 firstAt = _provenBatch(terms, reportA, reportId, batchA, proofA);
        uint256 secondAt = _provenBatch(terms, reportB, reportId, batchB, proofB);
        _checkOpen(reportA, reportId);
        // A content submitted late cannot reopen a fact whose first report already outlived its window.
        uint256 endedAt = (firstAt < secondAt ? firstAt : secondAt) + _livenessWindow;
        if (block.timestamp >= endedAt) revert SlaLivenessOver(reportId, endedAt);
        _setStatus(reportA, reportId, ReportStatus.Disputed);
        emit ReportDisputed(reportId, reportA.orderId, address(0), contentB);
    }

    /// @inheritdoc ISlaLedger
    function resolve(OrderTerms calldata terms, Report calldata report, address loser) external onlyCouncil {
        bytes32 reportId = report.idOf();
        _checkOrder(terms, report);
        if (_statusOf(report, reportId) != ReportStatus.Disputed) revert SlaNotDisputed(reportId);
        if (loser != address(0)) {
            if (loser != terms.buyer && loser != terms.seller) revert SlaLoserNotAParty(loser);
            _reputations[loser].disputesLost += 1;
        }
        emit DisputeResolved(reportId, report.orderId, report.contentOf(), loser);
        _makeFinal(terms, report, reportId);
    }

    // --- reputation -----------------------------------------------------------------------------

    /// @inheritdoc ISlaLedger
    function recordQuoteTimeliness(address provider, bool answeredOnTime) external onlyMarket {
        Reputation storage r = _reputations[provider];
        r.quotesRequested += 1;
        if (answeredOnTime) r.quotesOnTime += 1;
        emit QuoteTimelinessRecorded(provider, answeredOnTime);
    }

    /// @inheritdoc ISlaLedger
    function reputation(address provider)
        external
        view
        returns (Reputation memory raw, ReputationScores memory scores)
    {
        raw = _reputations[provider];
        scores = ReputationMath.scores(raw);
    }

    // --- views ----------------------------------------------------------------------------------

    /// @inheritdoc ISlaLedger
    function lane(address member, uint64 laneId) external view returns (Lane memory) {
        return _lanes[member][laneId];
    }

    /// @inheritdoc ISlaLedger
    function reportStatus(bytes32 orderId, uint8 kind, uint32 key) external view returns (ReportStatus) {
        (bool packed, uint256 shift) = ReportKinds.packedShift(kind, key);
        if (packed) return ReportStatus((_orderFacts[orderId] >> shift) & 3);
        return _unpacked[keccak256(abi.encode(orderId, kind, key))];
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
        return "1.0.0";
    }

    // --- internals ------------------------------------------------------------------------------

    /// @dev The active member whose oracle key (or admin) the caller is; reverts otherwise.
    function _callerOracleMember() private view returns (address member) {
        member = _registry.activeOracleMember(msg.sender);
        if (member == address(0)) revert SlaNotOracle(msg.sender, _registry.memberOf(msg.sender));
    }

    /// @dev The report is about the order of `terms`, an order between two different members.
    function _checkOrder(OrderTerms calldata terms, Report calldata report) private pure {
        bytes32 termsHash = OrderId.compute(terms);
        if (report.orderId != termsHash) revert SlaOrderMismatch(report.orderId, termsHash);
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

    /// @dev Where the report stands: in its order's fact word, or per report id.
    function _statusOf(Report calldata report, bytes32 reportId) private view returns (ReportStatus) {
        (bool packed, uint256 shift) = ReportKinds.packedShift(report.kind, report.key);
        if (packed) return ReportStatus((_orderFacts[report.orderId] >> shift) & 3);
        return _unpacked[reportId];
    }

    /// @dev Records where the report stands (the only per-order / per-report write).
    function _setStatus(Report calldata report, bytes32 reportId, ReportStatus status) private {
        (bool packed, uint256 shift) = ReportKinds.packedShift(report.kind, report.key);
        if (packed) {
            uint256 facts = _orderFacts[report.orderId];
            _orderFacts[report.orderId] = (facts & ~(uint256(3) << shift)) | (uint256(status) << shift);
        } else {
            _unpacked[reportId] = status;
        }
    }

    /// @dev The report is neither final nor already disputed.
    function _checkOpen(Report calldata report, bytes32 reportId) private view {
        ReportStatus status = _statusOf(report, reportId);
        if (status == ReportStatus.Final) revert SlaReportFinal(reportId);
        if (status == ReportStatus.Disputed) revert SlaReportDisputed(reportId);
    }

    /// @dev Records finality, moves the seller's reputation and pushes the outcome into the escrow.
    function _makeFinal(OrderTerms calldata terms, Report calldata report, bytes32 reportId) private {
        uint8 kind = report.kind;
        if (!ReportKinds.isValid(report, terms)) revert SlaInvalidReport(reportId, kind);
        IOrderEscrow escrow = _escrow;

        if (kind == ReportKinds.ORDER_COMPLETED || kind == ReportKinds.ORDER_FAILED) {
            uint8 other = kind == ReportKinds.ORDER_COMPLETED ? ReportKinds.ORDER_FAILED : ReportKinds.ORDER_COMPLETED;
            (, uint256 otherShift) = ReportKinds.packedShift(other, 0);
            if ((_orderFacts[report.orderId] >> otherShift) & 3 == uint256(ReportStatus.Final)) {
                revert SlaOutcomeAlreadyFinal(report.orderId, other);
            }
        }
        _setStatus(report, reportId, ReportStatus.Final);
        emit ReportFinalized(reportId, report.orderId, report.contentOf(), kind);

        Reputation storage r = _reputations[terms.seller];
        if (kind == ReportKinds.ORDER_COMPLETED) {
            uint256 late = ReputationMath.daysLate(report.value0, report.value1);
            r.ordersDelivered += 1;
            if (late == 0) r.ordersOnTime += 1;
            else r.totalDaysLate += uint64(late);
            escrow.onDelivered(terms, uint40(report.value0), uint40(report.value1));
        } else if (kind == ReportKinds.ORDER_FAILED) {
            if (report.value0 != ReportKinds.FAILURE_CANCELLED) r.ordersFailed += 1;
            escrow.onOrderFailed(terms, uint8(report.value0));
        } else if (kind == ReportKinds.PERIOD) {
            _requireDelivered(report.orderId);
            r.periodsReported += 1;
            r.availabilitySumPpm += report.metrics.availabilityPpm;
            if (ReputationMath.meetsObjectives(report.metrics, terms.credits)) r.periodsMeetingObjectives += 1;
            escrow.onPeriod(terms, uint16(report.key), report.metrics);
        } else if (kind == ReportKinds.TROUBLE_TICKET) {
            _requireDelivered(report.orderId);
            r.troubleTickets += 1;
            r.totalRestoreSec += report.value0;
        }
        // Acknowledged and in-progress facts are recorded for the timeline; they move nothing.
    }

    /// @dev In-life facts count only for an order whose delivery is final, which the escrow accepted:
    /// made-up terms can then never move anyone's reputation.
    function _requireDelivered(bytes32 orderId) private view {
        (, uint256 shift) = ReportKinds.packedShift(ReportKinds.ORDER_COMPLETED, 0);
        if ((_orderFacts[orderId] >> shift) & 3 != uint256(ReportStatus.Final)) revert SlaOrderNotDelivered(orderId);
    }
}
