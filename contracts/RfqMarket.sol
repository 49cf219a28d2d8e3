// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.29;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";

import {IRfqMarket} from "./interfaces/IRfqMarket.sol";
import {IMembership} from "./interfaces/IMembership.sol";
import {IOrderEscrow} from "./interfaces/IOrderEscrow.sol";
import {ISlaLedger} from "./interfaces/ISlaLedger.sol";
import {OrderTerms} from "./types/OrderTypes.sol";
import {QuoteHash} from "./libraries/QuoteHash.sol";
import {QuoteLog} from "./libraries/QuoteLog.sol";
import {NonceBitmap} from "./libraries/NonceBitmap.sol";

/// @title RfqMarket
/// @notice Requests for quote, sealed quote commitments and the award of one signed quote, which
/// opens the escrowed order (whose terms carry the seller-signed contract commitment) in the same
/// transaction.
contract RfqMarket is IRfqMarket, EIP712 {
    /// @inheritdoc IRfqMarket
    uint256 public constant MAX_INVITED = 6;
    /// @inheritdoc IRfqMarket
    uint256 public constant MAX_ENTRIES_PER_PROVIDER = 3;
    /// @inheritdoc IRfqMarket
    uint256 public constant MIN_QUOTE_WINDOW = 1 days;
    /// @inheritdoc IRfqMarket
    uint256 public constant MAX_QUOTE_WINDOW = 90 days;
    /// @inheritdoc IRfqMarket
    uint256 public constant AWARD_WINDOW = 7 days;

    /// @dev An invitee's three bits in RfqState.invitees: its entry count (two bits) and its live flag.
    uint256 private constant COUNT_MASK = 3;
    uint256 private constant LIVE_BIT = 4;

    IMembership private immutable _registry;
    IOrderEscrow private immutable _escrow;
    ISlaLedger private immutable _ledger;

    mapping(uint256 rfqId => RfqState state) private _rfqs;
    mapping(address provider => mapping(uint256 word => uint256 bits)) private _nonces;
    mapping(address provider => uint64 epoch) private _epochs;

    // --- caller checks -----------------------------------------------------------------------------

    /// @dev The caller must be the RFQ's buyer (the id is computed only to name a refusal).
    modifier onlyBuyer(Rfq calldata rfq) {
        if (msg.sender != rfq.buyer) revert RfqNotBuyer(_idOf(rfq), msg.sender);
        _;
    }

    /// @dev The caller must be the buyer the quote names (which the award then proves is the RFQ's).
    modifier onlyQuoteBuyer(Quote calldata quote) {
        if (msg.sender != quote.buyer) revert RfqNotBuyer(quote.rfqId, msg.sender);
        _;
    }

    /// @dev The caller must be the provider's admin or one of its quote keys.
    modifier onlyQuoteSigner(address provider) {
        _checkQuoteSigner(provider, msg.sender);
        _;
    }

    /// @dev The caller must be the provider's admin or one of its quote keys, and the provider active:
    /// one registry call on the happy path, a second one only to name a refusal.
    modifier onlyActiveQuoteSigner(address provider) {
        if (!_registry.isActiveQuoteSigner(provider, msg.sender)) {
            _checkQuoteSigner(provider, msg.sender);
            revert QuoteProviderInactive(provider);
        }
        _;
    }

    /// @dev Runs the buyer's EIP-2612 permit for the escrow first. A permit someone front-ran is
    /// already spent: the allowance it set is what counts, so a failed permit is ignored.
    modifier withPermit(Rfq calldata rfq, Permit calldata permit) {
        try IERC20Permit(rfq.token)
            .permit(rfq.buyer, address(_escrow), permit.value, permit.deadline, permit.v, permit.r, permit.s) {}
            catch {}
        _;
    }

    constructor(IMembership registry, IOrderEscrow escrow, ISlaLedger ledger) EIP712("offnet RfqMarket", "1") {
        if (address(registry) == address(0) || address(escrow) == address(0) || address(ledger) == address(0)) {
            revert RfqZeroAddress();
        }
        _registry = registry;
        _escrow = escrow;
        _ledger = ledger;
    }

    // --- buyer -------------------------------------------------------------------------------------

    /// @inheritdoc IRfqMarket
    function postRfq(Rfq calldata rfq) external onlyBuyer(rfq) returns (uint256 rfqId) {
        rfqId = _idOf(rfq);
        uint256 earliest = block.timestamp + MIN_QUOTE_WINDOW;
        uint256 latest = block.timestamp + MAX_QUOTE_WINDOW;
        if (rfq.deadline < earliest || rfq.deadline > latest) {
            revert RfqDeadlineOutOfRange(rfq.deadline, earliest, latest);
        }
        address[] calldata invited = rfq.invited;
        if (invited.length == 0 || invited.length > MAX_INVITED) revert RfqInvitedCount(invited.length, MAX_INVITED);
        if (_rfqs[rfqId].status != RfqStatus.None) revert RfqAlreadyPosted(rfqId);
        if (!_registry.isActive(rfq.buyer)) revert RfqBuyerInactive(rfq.buyer);
        // Unique (strictly increasing) members other than the buyer: nobody can be asked twice. An
        // invitee that is not an active member cannot answer, and is not counted when the RFQ closes.
        address previous;
        for (uint256 i; i < invited.length; ++i) {
            address invitee = invited[i];
            if (invitee <= previous) revert RfqInviteesNotSorted(i);
            if (invitee == rfq.buyer) revert RfqInviteeNotEligible(invitee);
            previous = invitee;
        }
        // The token is checked where money moves (the award); an RFQ in a token the escrow does not
        // take can never be awarded, and blames nobody when it closes.
        _rfqs[rfqId] = RfqState({
            status: RfqStatus.Open,
            deadline: uint32(rfq.deadline),
            invitees: 0,
            logHash: QuoteLog.seed(rfq.buyer, rfq.token)
        });
        emit RfqPosted(rfqId, rfq.productKey, rfq.locationKey, rfq);
    }

    /// @inheritdoc IRfqMarket
    function award(Rfq calldata rfq, Quote calldata quote, bytes calldata signature, LogEntry[] calldata log)
        external
        onlyQuoteBuyer(quote)
        returns (bytes32 orderId)
    {
        return _award(_rfqOfQuote(rfq, quote), quote, signature, log);
    }

    /// @inheritdoc IRfqMarket
    function awardQuote(Quote calldata quote, bytes calldata signature, LogEntry[] calldata log)
        external
        onlyQuoteBuyer(quote)
        returns (bytes32 orderId)
    {
        return _award(quote.rfqId, quote, signature, log);
    }

    /// @inheritdoc IRfqMarket
    function awardWithPermit(
        Rfq calldata rfq,
        Quote calldata quote,
        bytes calldata signature,
        LogEntry[] calldata log,
        Permit calldata permit
    ) external withPermit(rfq, permit) onlyQuoteBuyer(quote) returns (bytes32 orderId) {
        return _award(_rfqOfQuote(rfq, quote), quote, signature, log);
    }

    /// @inheritdoc IRfqMarket
    function cancelRfq(Rfq calldata rfq) external onlyBuyer(rfq) {
        uint256 rfqId = _idOf(rfq);
        RfqState storage state = _open(rfqId);
        state.status = RfqStatus.Cancelled;
        emit RfqCancelled(rfqId);
    }

    /// @inheritdoc IRfqMarket
    function closeRfq(Rfq calldata rfq) external {
        uint256 rfqId = _idOf(rfq);
        RfqState storage state = _rfqs[rfqId];
        RfqStatus previous = state.status;
        if (previous == RfqStatus.Open) {
            if (block.timestamp <= rfq.deadline) revert RfqNotClosable(rfqId, previous, rfq.deadline);
            // The buyer awards after the deadline: nobody else can end the RFQ under it meanwhile.
            uint256 until = uint256(rfq.deadline) + AWARD_WINDOW;
            if (msg.sender != rfq.buyer && block.timestamp <= until) revert RfqAwardWindow(rfqId, until);
        } else if (previous != RfqStatus.Awarded) {
            revert RfqNotClosable(rfqId, previous, rfq.deadline);
        }
        state.status = RfqStatus.Closed;
        emit RfqClosed(rfqId, previous);

        // An RFQ in a token the escrow does not take could never be awarded: it blames nobody.
        if (!_escrow.isTokenAllowed(rfq.token)) return;
        // Every invitee once, if it is an active member (one that is not could not answer): it
        // answered when its last entry is a live commitment.
        uint256 invitees = state.invitees;
        for (uint256 i; i < rfq.invited.length; ++i) {
            address invitee = rfq.invited[i];
            if (_registry.isActive(invitee)) {
                _ledger.recordQuoteTimeliness(invitee, (invitees >> (3 * i)) & LIVE_BIT != 0);
            }
        }
    }

    // --- provider ----------------------------------------------------------------------------------

    /// @inheritdoc IRfqMarket
    function commitQuote(Rfq calldata rfq, address provider, bytes32 digest) external onlyActiveQuoteSigner(provider) {
        if (digest == bytes32(0)) revert QuoteZeroDigest();
        uint256 rfqId = _idOf(rfq);
        RfqState storage state = _beforeDeadline(rfq, rfqId);
        uint16 index = _append(rfqId, state, _inviteeIndex(rfq, rfqId, provider), provider, digest);
        emit QuoteCommitted(rfqId, provider, digest, index);
    }

    /// @inheritdoc IRfqMarket
    function withdrawQuote(Rfq calldata rfq, address provider) external onlyActiveQuoteSigner(provider) {
        uint256 rfqId = _idOf(rfq);
        RfqState storage state = _beforeDeadline(rfq, rfqId);
        uint256 slot = _inviteeIndex(rfq, rfqId, provider);
        if ((state.invitees >> (3 * slot)) & LIVE_BIT == 0) revert QuoteNothingToWithdraw(rfqId, provider);
        uint16 index = _append(rfqId, state, slot, provider, bytes32(0));
        emit QuoteWithdrawn(rfqId, provider, index);
    }

    /// @inheritdoc IRfqMarket
    function invalidateNonces(address provider, uint256 word, uint256 mask) external onlyQuoteSigner(provider) {
        _nonces[provider][word] |= mask;
        emit NoncesInvalidated(provider, word, mask);
    }

    /// @inheritdoc IRfqMarket
    function bumpQuoteEpoch(address provider) external onlyQuoteSigner(provider) returns (uint64 epoch) {
        epoch = _epochs[provider] + 1;
        _epochs[provider] = epoch;
        emit QuoteEpochBumped(provider, epoch);
    }

    // --- views -------------------------------------------------------------------------------------

    /// @inheritdoc IRfqMarket
    function rfqIdOf(Rfq calldata rfq) external pure returns (uint256) {
        return _idOf(rfq);
    }

    /// @inheritdoc IRfqMarket
    function rfqState(uint256 rfqId) external view returns (RfqState memory) {
        return _rfqs[rfqId];
    }

    /// @inheritdoc IRfqMarket
    function quoteDigest(Quote calldata quote) external view returns (bytes32) {
        return _hashTypedDataV4(QuoteHash.hash(quote));
    }

    /// @inheritdoc IRfqMarket
    function nonceBitmap(address provider, uint256 word) external view returns (uint256) {
        return _nonces[provider][word];
    }

    /// @inheritdoc IRfqMarket
    function quoteEpoch(address provider) external view returns (uint64) {
        return _epochs[provider];
    }

    /// @inheritdoc IRfqMarket
    function links() external view returns (address registry, address escrow, address ledger) {
        return (address(_registry), address(_escrow), address(_ledger));
    }

    /// @inheritdoc IRfqMarket
    function version() external pure returns (string memory) {
        return "2.0.0";
    }

    // --- internals ---------------------------------------------------------------------------------

    /// @dev The id of `rfq`, which `quote` must answer (same id, buyer and token).
    function _rfqOfQuote(Rfq calldata rfq, Quote calldata quote) private pure returns (uint256 rfqId) {
        rfqId = _idOf(rfq);
        if (quote.rfqId != rfqId || quote.buyer != rfq.buyer || quote.token != rfq.token) {
            revert QuoteNotForRfq(rfqId, quote.rfqId, quote.buyer, quote.token);
        }
    }

    /// @dev Awards `quote` in RFQ `rfqId` (= quote.rfqId) after its deadline. The caller is the
    /// quote's buyer, and the log replay, seeded with the quote's buyer and token, proves both are
    /// the RFQ's.
    function _award(uint256 rfqId, Quote calldata quote, bytes calldata signature, LogEntry[] calldata log)
        private
        returns (bytes32 orderId)
    {
        RfqState storage state = _open(rfqId);
        uint32 deadline = state.deadline;
        // Sealed until the deadline: the log is final, so nobody's entry can break the replay.
        if (block.timestamp <= deadline) revert RfqBeforeDeadline(rfqId, deadline);
        (bytes32 digest, address signer) = _verifyQuote(quote, signature);
        // One registry call: the buyer is active (a suspended buyer cannot award), the signer may sign
        // for the provider, and the provider is active.
        if (!_registry.canAward(msg.sender, quote.provider, signer)) {
            // The slow path only names the refusal precisely.
            if (!_registry.isActive(msg.sender)) revert RfqBuyerInactive(msg.sender);
            _checkQuoteSigner(quote.provider, signer);
            revert QuoteProviderInactive(quote.provider);
        }
        _checkLog(rfqId, state, log, QuoteLog.seed(quote.buyer, quote.token));
        (bytes32 live,) = QuoteLog.liveDigest(log, quote.provider);
        if (live != digest) revert QuoteNotCommitted(rfqId, quote.provider, digest);
        // Read-only: the quote names its RFQ, which this status write lets be awarded once, so the
        // nonce only has to carry the provider's cancellations (no ~20k bitmap write per award).
        _checkNonce(quote.provider, quote.nonce);
        state.status = RfqStatus.Awarded;

        orderId = _escrow.openOrder(_termsOf(quote));
        emit RfqAwarded(rfqId, orderId, quote.provider, digest);
    }

    /// @dev Validity and epoch of the quote; its EIP-712 digest and the address that signed it.
    function _verifyQuote(Quote calldata quote, bytes calldata signature)
        private
        view
        returns (bytes32 digest, address signer)
    {
        if (block.timestamp > quote.validUntil) revert QuoteExpired(quote.validUntil, block.timestamp);
        address provider = quote.provider;
        uint64 epoch = _epochs[provider];
        if (quote.epoch != epoch) revert QuoteEpochStale(provider, quote.epoch, epoch);
        digest = _hashTypedDataV4(QuoteHash.hash(quote));
        signer = ECDSA.recover(digest, signature);
    }

    function _termsOf(Quote calldata quote) private view returns (OrderTerms memory) {
        return OrderTerms({
            rfqId: quote.rfqId,
            buyer: quote.buyer,
            seller: quote.provider,
            token: quote.token,
            oneTimeCharge: quote.oneTimeCharge,
            monthlyCharge: quote.monthlyCharge,
            termMonths: quote.termMonths,
            installDays: quote.installDays,
            prepaidMonths: quote.prepaidMonths,
            awardedAt: uint40(block.timestamp),
            slaTermsHash: quote.slaTermsHash,
            credits: quote.credits,
            contractHash: quote.contractHash
        });
    }

    function _checkNonce(address provider, uint256 nonce) private view {
        (uint256 word, uint256 mask) = NonceBitmap.locate(nonce);
        if (_nonces[provider][word] & mask != 0) revert QuoteNonceUsed(provider, nonce);
    }

    /// @dev Appends `(provider, digest)` to the log of invitee `slot`: counts the entry against its
    /// bound, sets or clears its live flag; returns the entry's position in the log.
    function _append(uint256 rfqId, RfqState storage state, uint256 slot, address provider, bytes32 digest)
        private
        returns (uint16 index)
    {
        uint256 invitees = state.invitees;
        uint256 shift = 3 * slot;
        uint256 count = (invitees >> shift) & COUNT_MASK;
        if (count >= MAX_ENTRIES_PER_PROVIDER) revert QuoteEntriesExhausted(rfqId, provider, MAX_ENTRIES_PER_PROVIDER);
        index = uint16(_entries(invitees));
        uint256 bits = (count + 1) | (digest == bytes32(0) ? 0 : LIVE_BIT);
        state.invitees = uint24((invitees & ~(7 << shift)) | (bits << shift));
        state.logHash = QuoteLog.append(state.logHash, provider, digest);
    }

    /// @dev The number of entries in the log: the invitees' counts added up.
    function _entries(uint256 invitees) private pure returns (uint256 total) {
        for (uint256 i; i < MAX_INVITED; ++i) {
            total += (invitees >> (3 * i)) & COUNT_MASK;
        }
    }

    function _checkLog(uint256 rfqId, RfqState storage state, LogEntry[] calldata log, uint192 seed) private view {
        uint256 entries = _entries(state.invitees);
        if (log.length != entries || QuoteLog.hash(log, seed) != state.logHash) {
            revert QuoteLogMismatch(rfqId, entries, log.length);
        }
    }

    function _open(uint256 rfqId) private view returns (RfqState storage state) {
        state = _rfqs[rfqId];
        if (state.status != RfqStatus.Open) revert RfqNotOpen(rfqId, state.status);
    }

    function _beforeDeadline(Rfq calldata rfq, uint256 rfqId) private view returns (RfqState storage state) {
        state = _open(rfqId);
        if (block.timestamp > rfq.deadline) revert QuoteAfterDeadline(rfqId, rfq.deadline, block.timestamp);
    }

    function _checkQuoteSigner(address provider, address signer) private view {
        if (!_registry.isQuoteSigner(provider, signer)) revert QuoteWrongSigner(provider, signer);
    }

    /// @dev The provider's position in the RFQ's invitees.
    function _inviteeIndex(Rfq calldata rfq, uint256 rfqId, address provider) private pure returns (uint256) {
        for (uint256 i; i < rfq.invited.length; ++i) {
            if (rfq.invited[i] == provider) return i;
        }
        revert QuoteProviderNotInvited(rfqId, provider);
    }

    function _idOf(Rfq calldata rfq) private pure returns (uint256) {
        return uint256(keccak256(abi.encode(rfq)));
    }
}
