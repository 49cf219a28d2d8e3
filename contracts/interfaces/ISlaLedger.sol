// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.29;

import {OrderTerms, PeriodMetrics} from "../types/OrderTypes.sol";

/// @notice One SLA fact about one order, as an oracle relays it.
/// @dev Field meaning depends on `kind` (see ReportKinds): lifecycle reports use value0/value1 for
/// dates or a reason, period reports use `metrics`, trouble-ticket reports use value0 for the time
/// to restore. `evidenceHash` is keccak-256 of the canonical JSON of the Sonata resource or the
/// measurement the fact was derived from (offnet.sonata.canonical.document_hash).
struct Report {
    bytes32 orderId;
    uint8 kind;
    uint256 key; // billing period (period reports), keccak256 of the ticket id (trouble tickets), 0 otherwise
    uint64 value0;
    uint64 value1;
    PeriodMetrics metrics;
    bytes32 evidenceHash;
}

/// @notice A stored batch: one storage slot in one of its member's lanes. A member's oracles choose
/// the lane of each batch; a lane is reused once its batch outlived the liveness window (rewriting a
/// slot costs a fifth of creating one), which is what keeps a report sent alone cheap.
/// @dev Holds the high 216 bits of the batch's Merkle root: proofs are checked against them.
struct Lane {
    uint40 submittedAt;
    bytes27 root;
}

/// @notice Where a batch is: the member whose oracle submitted it, and the lane it used.
struct BatchRef {
    address member;
    uint64 lane;
}

/// @notice Where a report id stands.
/// @dev `Pending`: a party held the report (it waits for its liveness window and blocks the
/// escrow's timeouts of its milestone meanwhile). For facts that move money (completed, failed,
/// period) the escrow's books are the record of finality; the ledger stores a status only for
/// held, disputed and ruled reports and for the facts that move no money.
enum ReportStatus {
    None,
    Disputed,
    Final,
    Pending
}

/// @notice The stored status of one report id: one slot, written only when a report is held,
/// disputed or ruled, or when a fact that moves no money becomes final.
struct ReportRecord {
    ReportStatus status;
    uint40 since; // when it was held or disputed
}

/// @notice Running reputation aggregates of one provider (the view's form; the ledger stores them
/// in two slots, see SlaLedger: deliveries and periods in one, quotes, failures, disputes and
/// tickets in the other, both opened when the provider acknowledges its first order).
struct Reputation {
    uint32 quotesRequested; // RFQs closed where the provider was invited
    uint32 quotesOnTime; // of which it committed a quote before the deadline
    uint32 ordersDelivered; // deliveries settled by a final report or a ruling
    uint32 ordersOnTime; // of which completed no later than the committed date
    uint32 ordersFailed; // orders refunded by a final rejected / failed report (cancellations are not counted)
    uint32 disputesLost; // council rulings against this member
    uint64 totalDaysLate; // sum over late deliveries of whole days late (rounded up)
    uint32 periodsReported; // periods settled by a final in-life report
    uint32 periodsMeetingObjectives; // of which every measured objective of the credit schedule was met
    uint32 troubleTickets; // final trouble-ticket resolutions
    uint64 availabilitySumPpm; // sum of period availabilities
    uint64 totalRestoreSec; // sum of the tickets' times to restore
}

/// @notice Scores derived from a Reputation, all in parts per million unless named otherwise.
/// A score whose denominator is zero is 0; read the raw counts to tell "no data" from "bad".
struct ReputationScores {
    uint32 quoteTimelinessPpm; // quotesOnTime * 1e6 / quotesRequested
    uint32 onTimeDeliveryPpm; // ordersOnTime * 1e6 / ordersDelivered
    uint32 deliverySuccessPpm; // ordersDelivered * 1e6 / (ordersDelivered + ordersFailed)
    uint32 averageDaysLateMilli; // totalDaysLate * 1000 / ordersDelivered (thousandths of a day)
    uint32 slaCompliancePpm; // periodsMeetingObjectives * 1e6 / periodsReported
    uint32 averageAvailabilityPpm; // availabilitySumPpm / periodsReported
    uint32 averageRestoreSec; // totalRestoreSec / troubleTickets (seconds)
    uint32 overallPpm; // mean of quoteTimeliness, onTimeDelivery, slaCompliance over those with data
}

/// @title ISlaLedger
/// @notice SLA facts relayed by the members' oracles: batched submission committed by Merkle root,
/// optimistic finality (liveness window, counterparty dispute, dual report), council rulings, and
/// reputation aggregates per provider that only final facts and RFQ closings move.
interface ISlaLedger {
    // --- errors ---------------------------------------------------------------------------------

    /// @notice A constructor link is the zero address.
    error SlaZeroAddress();
    /// @notice `caller` is not the market (recordQuoteTimeliness is the market's alone).
    error SlaNotMarket(address caller);
    /// @notice `caller` is not the registry, through which the council rules.
    error SlaNotCouncil(address caller);
    /// @notice `key` is not an oracle key of an active member (`member` is what the registry says it belongs to).
    error SlaNotOracle(address key, address member);
    /// @notice submit was called with no report.
    error SlaEmptyBatch();
    /// @notice Report `index` of a batch has a kind the ledger does not know.
    error SlaUnknownKind(uint256 index, uint8 kind);
    /// @notice The report's orderId is not the hash of the terms passed with it.
    error SlaOrderMismatch(bytes32 orderId, bytes32 termsHash);
    /// @notice The order's buyer and seller are the same member: it cannot build reputation.
    error SlaSelfDealing(address member);
    /// @notice The lane of `member` holds no batch.
    error SlaUnknownBatch(address member, uint64 lane);
    /// @notice The lane's batch still has a liveness window running until `freeAt`: it cannot be replaced.
    error SlaLaneBusy(address member, uint64 lane, uint256 freeAt);
    /// @notice The batch's `member` is neither buyer nor seller of the order.
    error SlaNotAParty(address member);
    /// @notice The proof does not place the report of `reportId` in the batch of `member`'s lane.
    error SlaInvalidProof(bytes32 reportId, address member, uint64 lane);
    /// @notice The liveness window of the report still runs until `finalAt`.
    error SlaLivenessRunning(bytes32 reportId, uint256 finalAt);
    /// @notice The liveness window of the report ended at `endedAt`: too late to dispute it.
    error SlaLivenessOver(bytes32 reportId, uint256 endedAt);
    /// @notice The report is under dispute: only a council ruling can make it final.
    error SlaReportDisputed(bytes32 reportId);
    /// @notice The report is already final.
    error SlaReportFinal(bytes32 reportId);
    /// @notice resolve was called for a report that is not under dispute.
    error SlaNotDisputed(bytes32 reportId);
    /// @notice Both batches of a matched finality come from the same member.
    error SlaSameParty(address member);
    /// @notice The two reports of a conflict have different ids.
    error SlaDifferentReports(bytes32 reportIdA, bytes32 reportIdB);
    /// @notice The two reports of a conflict have the same content: there is no conflict.
    error SlaNoConflict(bytes32 reportId);
    /// @notice `caller` (member `member`) is not the counterparty of the batch's submitter.
    error SlaNotCounterparty(address caller, address member);
    /// @notice The report's values cannot be right for its kind (see ReportKinds.isValid).
    error SlaInvalidReport(bytes32 reportId, uint8 kind);
    /// @notice A ruling names `loser`, who is neither party of the order.
    error SlaLoserNotAParty(address loser);
    /// @notice `caller` is not the escrow (opening a provider's reputation record is the escrow's alone).
    error SlaNotEscrow(address caller);
    /// @notice The liveness window must be positive and at most MAX_LIVENESS_WINDOW.
    error SlaInvalidLivenessWindow(uint256 window, uint256 max);
    /// @notice Only a completion or a billing-period report can be held.
    error SlaNotHoldable(bytes32 reportId, uint8 kind);
    /// @notice Both batches of a conflict come from the same member: a conflict is the buyer's
    /// content against the seller's.
    error SlaConflictNotBetweenParties(address member);
    /// @notice The order's delivery is not final yet, so in-life facts about it cannot count.
    error SlaOrderNotDelivered(bytes32 orderId);

    // --- events ---------------------------------------------------------------------------------

    /// @notice Fires once per submit call that stored a new batch, before its reports' events.
    event BatchSubmitted(bytes32 indexed root, address indexed member, uint64 lane, address key, uint256 reports);
    /// @notice Fires for each report of a newly stored batch, with the full report (its id is
    /// keccak256(abi.encode(orderId, kind, key))). It names no batch: the report belongs to the
    /// nearest BatchSubmitted before it in the same transaction (a submit call emits nothing else
    /// between them).
    event ReportSubmitted(
        bytes32 indexed orderId,
        uint8 kind,
        uint256 key,
        uint64 value0,
        uint64 value1,
        PeriodMetrics metrics,
        bytes32 evidenceHash
    );
    /// @notice Fires when a report becomes final (after liveness, by dual report, or by ruling).
    event ReportFinalized(bytes32 indexed reportId, bytes32 indexed orderId, bytes32 contentHash, uint8 kind);
    /// @notice Fires when a report is disputed, by the counterparty or by two conflicting contents.
    event ReportDisputed(bytes32 indexed reportId, bytes32 indexed orderId, address disputer, bytes32 contentHash);
    /// @notice Fires when the council rules on a disputed report; `loser` is 0 when nobody is blamed.
    event DisputeResolved(bytes32 indexed reportId, bytes32 indexed orderId, bytes32 contentHash, address loser);
    /// @notice Fires when a party's report is held: until it is final, disputed and ruled, or
    /// RULING_TIMEOUT passed, the escrow's timeouts of its milestone wait.
    event ReportHeld(bytes32 indexed reportId, bytes32 indexed orderId, address by, bytes32 contentHash);
    /// @notice Fires when the market records whether `provider` answered an RFQ on time.
    event QuoteTimelinessRecorded(address indexed provider, bool answeredOnTime);
    // --- reports --------------------------------------------------------------------------------

    /// @notice Commits a batch of reports by the Merkle root of their leaves
    /// (leaf = keccak256(abi.encode(member, report)), pairs hashed sorted, odd nodes promoted).
    /// @dev The caller must be an oracle key of an active member; the batch goes into `laneId` of that
    /// member. Submitting the batch its lane already holds changes nothing and emits nothing (a relay
    /// retry); a lane whose batch is still within its liveness window cannot be overwritten
    /// (SlaLaneBusy). Reports are not checked against orders here: the order terms are checked at
    /// finality and dispute. A report whose batch was overwritten before it became final has to be
    /// submitted again.
    /// @param laneId which of the member's lanes holds the batch
    /// @param reports the batch, at least one report of a known kind
    /// @return root the batch's Merkle root
    function submit(uint64 laneId, Report[] calldata reports) external returns (bytes32 root);

    /// @notice Makes a report final once the liveness window of its batch is over, pushes the
    /// outcome into the escrow and updates the provider's reputation. Anyone may call it.
    /// @dev A report whose fact is settled already (final, or its milestone settled by a timeout or
    /// a ruling) is a no-op: returns false, emits nothing, counts nothing. A fact the escrow cannot
    /// take yet (a period not over or not funded, a delivery before the seller acknowledged) reverts
    /// with the escrow's error and can be finalised later.
    /// @param terms the order's terms (their hash is the report's orderId)
    /// @param report the report
    /// @param batch where the batch holding it is
    /// @param proof the report's Merkle proof in that batch
    /// @return finalized false when the report was final already
    function finalize(
        OrderTerms calldata terms,
        Report calldata report,
        BatchRef calldata batch,
        bytes32[] calldata proof
    ) external returns (bool finalized);

    /// @notice Makes a report final at once when the buyer's and the seller's batches both hold it.
    /// @dev A report whose fact is settled already is a no-op (returns false).
    /// @param terms the order's terms
    /// @param report the report both parties submitted
    /// @param batchA one party's batch
    /// @param proofA the report's proof in batch A
    /// @param batchB the other party's batch
    /// @param proofB the report's proof in batch B
    /// @return finalized false when the report was final already
    function finalizeMatched(
        OrderTerms calldata terms,
        Report calldata report,
        BatchRef calldata batchA,
        bytes32[] calldata proofA,
        BatchRef calldata batchB,
        bytes32[] calldata proofB
    ) external returns (bool finalized);

    /// @notice Holds a completion or billing-period report of a party within its liveness window:
    /// until it is final (or disputed and ruled, or RULING_TIMEOUT passed) the buyer cannot cancel
    /// or claim non-delivery (completion), nobody can claim the period (period). Anyone may call it;
    /// holding a held or disputed report changes nothing.
    /// @param terms the order's terms
    /// @param report the report
    /// @param batch where the batch holding it is
    /// @param proof the report's proof in that batch
    function hold(OrderTerms calldata terms, Report calldata report, BatchRef calldata batch, bytes32[] calldata proof)
        external;

    /// @notice The counterparty of the batch's member disputes a report within its liveness window.
    /// @dev The caller must be an oracle key of the active counterparty.
    /// @param terms the order's terms
    /// @param report the disputed report
    /// @param batch where the batch holding it is
    /// @param proof the report's proof in that batch
    function dispute(
        OrderTerms calldata terms,
        Report calldata report,
        BatchRef calldata batch,
        bytes32[] calldata proof
    ) external;

    /// @notice Anyone puts a report id under dispute by showing two different contents for it, one
    /// in a batch of the buyer and one in a batch of the seller, within the liveness window of the
    /// earlier batch.
    /// @param terms the order's terms
    /// @param reportA one content
    /// @param batchA the batch holding it
    /// @param proofA its proof
    /// @param reportB another content for the same report id
    /// @param batchB the batch holding it
    /// @param proofB its proof
    function disputeConflict(
        OrderTerms calldata terms,
        Report calldata reportA,
        BatchRef calldata batchA,
        bytes32[] calldata proofA,
        Report calldata reportB,
        BatchRef calldata batchB,
        bytes32[] calldata proofB
    ) external;

    /// @notice The council's ruling on a disputed report, executed by its arbiter: `report` is the
    /// content found true and becomes final; `loser` (buyer, seller, or 0) counts a dispute lost.
    /// @param terms the order's terms
    /// @param report the content found true
    /// @param loser the party blamed, or address(0)
    function resolve(OrderTerms calldata terms, Report calldata report, address loser) external;

    // --- reputation -----------------------------------------------------------------------------

    /// @notice The escrow opens a provider's reputation record when it accepts an order (its slots
    /// then only ever get rewritten); a record already open is left as it is.
    /// @param provider the seller
    function openRecord(address provider) external;

    /// @notice The market records, when an RFQ closes, whether an invited provider answered on time.
    /// @param provider the provider
    /// @param answeredOnTime true when it held a live commitment at the deadline
    function recordQuoteTimeliness(address provider, bool answeredOnTime) external;

    /// @notice Raw aggregates of a provider and the scores derived from them (see ReputationScores).
    /// @param provider the provider
    /// @return raw the running aggregates
    /// @return scores the derived scores
    function reputation(address provider) external view returns (Reputation memory raw, ReputationScores memory scores);

    // --- views ----------------------------------------------------------------------------------

    /// @notice The batch in a lane of a member.
    /// @param member the member
    /// @param laneId the lane
    /// @return batch its submission time and root prefix (zero when none)
    function lane(address member, uint64 laneId) external view returns (Lane memory batch);

    /// @notice Where the fact about (`orderId`, `kind`, `key`) stands. For a completion, a failure
    /// or a period without a stored record, Final means the escrow settled that milestone (by a
    /// report, a timeout or a ruling).
    /// @param orderId the order id
    /// @param kind the ReportKinds kind
    /// @param key the period, ticket key or 0
    /// @return status none, disputed, final or pending
    function reportStatus(bytes32 orderId, uint8 kind, uint256 key) external view returns (ReportStatus status);

    /// @notice The stored record of a report id (held, disputed or ruled reports, and final facts
    /// that move no money); the escrow reads it before a timeout.
    /// @param reportId the report id
    /// @return record its status and when it was held or disputed
    function recordOf(bytes32 reportId) external view returns (ReportRecord memory record);

    /// @notice The content-derived id of a report.
    /// @param report the report
    /// @return reportId keccak256(abi.encode(orderId, kind, key))
    function reportIdOf(Report calldata report) external pure returns (bytes32 reportId);

    /// @notice What two parties must agree on.
    /// @param report the report
    /// @return contentHash keccak256(abi.encode(report))
    function contentHashOf(Report calldata report) external pure returns (bytes32 contentHash);

    /// @notice The Merkle leaf of a report in a batch of a member.
    /// @param member the submitting member
    /// @param report the report
    /// @return leaf keccak256(abi.encode(member, report))
    function leafOf(address member, Report calldata report) external pure returns (bytes32 leaf);

    /// @notice Seconds after submission during which the counterparty may dispute.
    /// @return window seconds
    function livenessWindow() external view returns (uint32 window);

    /// @notice The longest liveness window a ledger accepts (the escrow's report grace covers it).
    /// @return window seconds
    function MAX_LIVENESS_WINDOW() external view returns (uint256 window);

    /// @notice The registry, the escrow and the market this ledger was deployed with.
    /// @return registry the membership seam
    /// @return escrow the OrderEscrow outcomes are pushed into
    /// @return market the RfqMarket that records quote timeliness
    function links() external view returns (address registry, address escrow, address market);

    /// @notice The version of this contract's interface.
    /// @return semver the version string
    function version() external pure returns (string memory semver);
}
