// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.29;

import {CreditSchedule} from "../types/OrderTypes.sol";

/// @title IRfqMarket
/// @notice Requests for quote, sealed quote commitments and the award of one signed quote, which
/// opens the escrowed order (its terms carry the seller-signed contract commitment) in the same
/// transaction.
/// @dev RFQs are content-addressed like orders: `rfqId = uint256(keccak256(abi.encode(rfq)))` and
/// every call that touches an RFQ passes `Rfq calldata rfq`, checked by hashing. An RFQ invites
/// 1..MAX_INVITED active members in strictly increasing address order. The market stores one slot
/// per RFQ: its status, its deadline, three bits per invitee (how many log entries it made, at most
/// MAX_ENTRIES_PER_PROVIDER, and whether its last one is a live commitment) and a 192-bit running
/// hash of the commitment log (each commitment or withdrawal is appended as `(provider, digest)`, a
/// withdrawal with digest zero). The award replays the log from calldata (the `QuoteCommitted` and
/// `QuoteWithdrawn` events hold it), so no per-commitment storage slot is ever written. Quotes are
/// sealed until the deadline: no entry is appended after it and no award happens before it, so the
/// log an award replays can no longer change. The running hash starts from a seed of the RFQ's
/// buyer and token (`QuoteLog.seed`), so a replayed log also proves who the buyer is and which token
/// settles: `awardQuote` needs no `Rfq` calldata.
interface IRfqMarket {
    // --- types -------------------------------------------------------------------------------------

    /// @notice Where an RFQ stands. Only `Open` RFQs take commitments and awards.
    enum RfqStatus {
        None,
        Open,
        Awarded,
        Cancelled,
        Closed
    }

    /// @notice A request for quote. Its hash is the RFQ id; nothing of it is stored.
    /// @param buyer the member that posts and awards (its admin address)
    /// @param deadline last second at which a commitment is on time (Sonata requestedQuoteCompletionDate)
    /// @param minReputation reputation floor the buyer will consider (enforced off chain by the buyer)
    /// @param token settlement token, allow-listed by the escrow
    /// @param requestHash keccak256 of the canonical JSON of the Sonata quote request
    /// @param productKey keccak256 of the MEF product spec URN
    /// @param locationKey keccak256 of the location key (country, metro or site)
    /// @param invited the providers asked to answer: 1..MAX_INVITED members, strictly increasing
    struct Rfq {
        address buyer;
        uint40 deadline;
        uint32 minReputation;
        address token;
        bytes32 requestHash;
        bytes32 productKey;
        bytes32 locationKey;
        address[] invited;
    }

    /// @notice The one stored slot of an RFQ.
    /// @dev `invitees`: for invitee i (its position in `Rfq.invited`), bits 3i..3i+1 count its log
    /// entries and bit 3i+2 says its last entry is a live commitment.
    struct RfqState {
        RfqStatus status;
        uint32 deadline;
        uint24 invitees;
        uint192 logHash;
    }

    /// @notice A quote signed (EIP-712) by the provider's admin or one of its quote keys.
    /// @dev `nonce` is an unordered nonce: bit `nonce & 255` of word `nonce >> 8` of the provider's
    /// bitmap, set only by `invalidateNonces` (award reads it: a quote names its `rfqId`, and an RFQ
    /// is awarded at most once, so award needs no write to stop a replay); `epoch` must equal the provider's current quote epoch (bumping it cancels every
    /// outstanding quote at once).
    struct Quote {
        uint256 rfqId;
        address provider;
        address buyer;
        address token;
        uint128 oneTimeCharge;
        uint128 monthlyCharge;
        uint16 termMonths;
        uint16 installDays;
        bytes32 slaTermsHash;
        CreditSchedule credits;
        uint16 prepaidMonths;
        uint40 validUntil;
        uint256 nonce;
        uint64 epoch;
        bytes32 contractHash; // commitment to the financial contract (IContractNotary); zero = none
    }

    /// @notice One entry of an RFQ's commitment log; `digest` zero records a withdrawal.
    struct LogEntry {
        address provider;
        bytes32 digest;
    }

    /// @notice An EIP-2612 permit of the buyer for the escrow, run just before the order opens.
    struct Permit {
        uint256 value;
        uint256 deadline;
        uint8 v;
        bytes32 r;
        bytes32 s;
    }

    // --- errors ------------------------------------------------------------------------------------

    /// @notice A constructor address was zero.
    error RfqZeroAddress();
    /// @notice The caller is not the RFQ's buyer (post, award and cancel are the buyer's).
    error RfqNotBuyer(uint256 rfqId, address caller);
    /// @notice The buyer is not an active member of the registry.
    error RfqBuyerInactive(address buyer);
    /// @notice The deadline must leave providers at least MIN_QUOTE_WINDOW and at most MAX_QUOTE_WINDOW.
    error RfqDeadlineOutOfRange(uint40 deadline, uint256 earliest, uint256 latest);
    /// @notice An RFQ invites 1..`max` providers.
    error RfqInvitedCount(uint256 invited, uint256 max);
    /// @notice The invitees are not in strictly increasing address order (a repeated invitee is refused here).
    error RfqInviteesNotSorted(uint256 index);
    /// @notice The buyer cannot invite itself.
    error RfqInviteeNotEligible(address invitee);
    /// @notice The same RFQ (same hash) was posted before.
    error RfqAlreadyPosted(uint256 rfqId);
    /// @notice The RFQ is not open (never posted, awarded, cancelled or closed).
    error RfqNotOpen(uint256 rfqId, RfqStatus status);
    /// @notice The RFQ cannot be closed: it is open and its deadline has not passed, or it is
    /// neither awarded nor open.
    error RfqNotClosable(uint256 rfqId, RfqStatus status, uint40 deadline);
    /// @notice Only the buyer may close an open RFQ until its award window ends at `until`.
    error RfqAwardWindow(uint256 rfqId, uint256 until);
    /// @notice Quotes are sealed until the deadline: nothing can be awarded before it.
    error RfqBeforeDeadline(uint256 rfqId, uint40 deadline);
    /// @notice A commitment or withdrawal came after the RFQ's deadline.
    error QuoteAfterDeadline(uint256 rfqId, uint40 deadline, uint256 nowTime);
    /// @notice The provider is not invited to this RFQ.
    error QuoteProviderNotInvited(uint256 rfqId, address provider);
    /// @notice The provider is not an active member.
    error QuoteProviderInactive(address provider);
    /// @notice `signer` is neither the provider's admin nor one of its quote keys.
    error QuoteWrongSigner(address provider, address signer);
    /// @notice A commitment of digest zero (zero is how withdrawals are logged).
    error QuoteZeroDigest();
    /// @notice The provider made its `max` log entries in this RFQ already.
    error QuoteEntriesExhausted(uint256 rfqId, address provider, uint256 max);
    /// @notice The provider has no live commitment to withdraw.
    error QuoteNothingToWithdraw(uint256 rfqId, address provider);
    /// @notice The log passed in calldata is not the RFQ's commitment log.
    error QuoteLogMismatch(uint256 rfqId, uint256 entries, uint256 given);
    /// @notice The quote's digest is not the provider's live commitment for this RFQ.
    error QuoteNotCommitted(uint256 rfqId, address provider, bytes32 digest);
    /// @notice The quote names another RFQ, buyer or token than the RFQ it is awarded in.
    error QuoteNotForRfq(uint256 rfqId, uint256 quoteRfqId, address quoteBuyer, address quoteToken);
    /// @notice The quote's validity ended.
    error QuoteExpired(uint40 validUntil, uint256 nowTime);
    /// @notice The quote's nonce was invalidated by the provider.
    error QuoteNonceUsed(address provider, uint256 nonce);
    /// @notice The quote was signed under an older quote epoch of the provider (bulk-cancelled).
    error QuoteEpochStale(address provider, uint64 quoteEpoch, uint64 currentEpoch);

    // --- events ------------------------------------------------------------------------------------

    /// @notice Fires when a buyer posts an RFQ; carries everything a provider's oracle needs.
    event RfqPosted(uint256 indexed rfqId, bytes32 indexed productKey, bytes32 indexed locationKey, Rfq rfq);
    /// @notice Fires when a provider commits the digest of its signed quote; `index` is the entry's
    /// position in the RFQ's commitment log.
    event QuoteCommitted(uint256 indexed rfqId, address indexed provider, bytes32 digest, uint16 index);
    /// @notice Fires when a provider withdraws its commitment (a log entry with digest zero).
    event QuoteWithdrawn(uint256 indexed rfqId, address indexed provider, uint16 index);
    /// @notice Fires when the buyer awards a quote and its order opens in the escrow.
    event RfqAwarded(uint256 indexed rfqId, bytes32 indexed orderId, address indexed provider, bytes32 digest);
    /// @notice Fires when the buyer cancels an open RFQ.
    event RfqCancelled(uint256 indexed rfqId);
    /// @notice Fires when an awarded RFQ, or an open one past its deadline, is closed and the quote
    /// timeliness of every invitee was recorded.
    event RfqClosed(uint256 indexed rfqId, RfqStatus previous);
    /// @notice Fires when a provider invalidates nonces (`mask` bits of word `word`).
    event NoncesInvalidated(address indexed provider, uint256 word, uint256 mask);
    /// @notice Fires when a provider bumps its quote epoch, cancelling every outstanding quote.
    event QuoteEpochBumped(address indexed provider, uint64 epoch);

    // --- buyer -------------------------------------------------------------------------------------

    /// @notice Posts an RFQ; the caller must be `rfq.buyer`, an active member, inviting 1..MAX_INVITED
    /// other addresses in strictly increasing order (no one twice), with a deadline MIN_QUOTE_WINDOW
    /// to MAX_QUOTE_WINDOW away. The token is checked at award: an RFQ in a token the escrow does not
    /// take can never be awarded and blames nobody when it closes.
    /// @param rfq the request for quote (its hash is its id; nothing of it is stored)
    /// @return rfqId uint256(keccak256(abi.encode(rfq)))
    function postRfq(Rfq calldata rfq) external returns (uint256 rfqId);

    /// @notice Awards the committed quote: verifies it, opens the order in the escrow (pulling the
    /// buyer's funds). The quote's `contractHash`, signed by the seller with the quote and accepted
    /// by the buyer's transaction, becomes part of the order's terms: the notarised contract.
    /// @dev The buyer must be an active member (a suspended buyer cannot award), and the deadline
    /// must have passed (quotes are sealed until then).
    /// @param rfq the RFQ the quote answers
    /// @param quote the provider's quote
    /// @param signature the provider's EIP-712 signature of `quote` (its admin or a quote key)
    /// @param log the RFQ's whole commitment log, in order (from QuoteCommitted / QuoteWithdrawn)
    /// @return orderId the id of the order opened in the escrow (the hash of its terms)
    function award(Rfq calldata rfq, Quote calldata quote, bytes calldata signature, LogEntry[] calldata log)
        external
        returns (bytes32 orderId);

    /// @notice `award` without the RFQ in calldata (the cheaper path): the RFQ is `quote.rfqId`, and
    /// its buyer and token are proven by the log replay, whose hash is seeded with them.
    /// @dev A quote whose buyer or token is not the RFQ's fails with `QuoteLogMismatch`; `award`
    /// names that case precisely (`QuoteNotForRfq`).
    /// @param quote the provider's quote
    /// @param signature the provider's EIP-712 signature of `quote`
    /// @param log the RFQ's whole commitment log, in order
    /// @return orderId the id of the order opened in the escrow
    function awardQuote(Quote calldata quote, bytes calldata signature, LogEntry[] calldata log)
        external
        returns (bytes32 orderId);

    /// @notice `award` preceded by the buyer's EIP-2612 permit for the escrow (a failed permit is
    /// ignored, so a front-run permit does not block the award).
    /// @param rfq the RFQ the quote answers
    /// @param quote the provider's quote
    /// @param signature the provider's EIP-712 signature of `quote`
    /// @param log the RFQ's whole commitment log, in order
    /// @param permit the buyer's permit of the settlement token for the escrow
    /// @return orderId the id of the order opened in the escrow
    function awardWithPermit(
        Rfq calldata rfq,
        Quote calldata quote,
        bytes calldata signature,
        LogEntry[] calldata log,
        Permit calldata permit
    ) external returns (bytes32 orderId);

    /// @notice The buyer cancels an open RFQ.
    /// @param rfq the RFQ to cancel
    function cancelRfq(Rfq calldata rfq) external;

    /// @notice Closes an RFQ and records in the SLA ledger, once per invitee that is an active member,
    /// whether it held a live commitment (nothing when the escrow does not take the RFQ's token):
    /// anyone may close an awarded RFQ, the buyer an open one after its deadline, and anyone an open
    /// one after the award window (AWARD_WINDOW after the deadline) ended.
    /// @param rfq the RFQ to close
    function closeRfq(Rfq calldata rfq) external;

    // --- provider ----------------------------------------------------------------------------------

    /// @notice Commits (or replaces) an invited provider's sealed quote digest before the deadline;
    /// the caller must be its admin or one of its quote keys and the provider active. Each provider
    /// appends at most MAX_ENTRIES_PER_PROVIDER entries to an RFQ's log.
    /// @param rfq the RFQ the quote answers
    /// @param provider the quoting member
    /// @param digest the EIP-712 digest of the signed quote (`quoteDigest`)
    function commitQuote(Rfq calldata rfq, address provider, bytes32 digest) external;

    /// @notice Withdraws the provider's live commitment before the deadline (logged with digest
    /// zero); the same checks as `commitQuote`.
    /// @param rfq the RFQ
    /// @param provider the quoting member
    function withdrawQuote(Rfq calldata rfq, address provider) external;

    /// @notice Marks nonces of the provider used, cancelling the quotes that carry them.
    /// @param provider the quoting member (the caller is its admin or a quote key)
    /// @param word the bitmap word (nonce >> 8)
    /// @param mask the bits to set (1 << (nonce & 255) for each nonce)
    function invalidateNonces(address provider, uint256 word, uint256 mask) external;

    /// @notice Cancels every outstanding quote of the provider by bumping its quote epoch.
    /// @param provider the quoting member (the caller is its admin or a quote key)
    /// @return epoch the new epoch
    function bumpQuoteEpoch(address provider) external returns (uint64 epoch);

    // --- views -------------------------------------------------------------------------------------

    /// @notice The id of an RFQ.
    /// @param rfq the RFQ
    /// @return rfqId uint256(keccak256(abi.encode(rfq)))
    function rfqIdOf(Rfq calldata rfq) external pure returns (uint256 rfqId);

    /// @notice The stored state of an RFQ.
    /// @param rfqId the RFQ id
    /// @return state its status, log length and log hash (zero when never posted)
    function rfqState(uint256 rfqId) external view returns (RfqState memory state);

    /// @notice The EIP-712 digest a provider signs and commits for a quote.
    /// @param quote the quote
    /// @return digest the digest in this market's domain (chain id and address)
    function quoteDigest(Quote calldata quote) external view returns (bytes32 digest);

    /// @notice One word of the provider's nonce bitmap.
    /// @param provider the quoting member
    /// @param word the word index (nonce >> 8)
    /// @return bits the used-nonce bits of that word
    function nonceBitmap(address provider, uint256 word) external view returns (uint256 bits);

    /// @notice The provider's current quote epoch.
    /// @param provider the quoting member
    /// @return epoch quotes signed under another epoch cannot be awarded
    function quoteEpoch(address provider) external view returns (uint64 epoch);

    /// @notice The registry, escrow and ledger this market was deployed with.
    /// @return registry the membership seam
    /// @return escrow the OrderEscrow orders open in
    /// @return ledger the SlaLedger quote timeliness goes to
    function links() external view returns (address registry, address escrow, address ledger);

    /// @notice The most providers an RFQ may invite.
    /// @return max the bound
    function MAX_INVITED() external view returns (uint256 max);

    /// @notice The most log entries (commitments and withdrawals) one provider may make in one RFQ.
    /// @return max the bound
    function MAX_ENTRIES_PER_PROVIDER() external view returns (uint256 max);

    /// @notice The least time between posting an RFQ and its deadline.
    /// @return window seconds
    function MIN_QUOTE_WINDOW() external view returns (uint256 window);

    /// @notice The most time between posting an RFQ and its deadline.
    /// @return window seconds
    function MAX_QUOTE_WINDOW() external view returns (uint256 window);

    /// @notice How long after its deadline only the buyer may close an open RFQ (to award it first).
    /// @return window seconds
    function AWARD_WINDOW() external view returns (uint256 window);

    /// @notice The version of this contract's interface.
    /// @return semver the version string
    function version() external pure returns (string memory semver);
}
