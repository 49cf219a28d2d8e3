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
    uint256 public constant MAX_PARTICIPANTS = 64;

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
        if (rfq.deadline <= block.timestamp) revert RfqDeadlineNotInFuture(rfq.deadline, block.timestamp);
        if (rfq.invited.length > MAX_PARTICIPANTS) revert RfqTooManyInvited(rfq.invited.length, MAX_PARTICIPANTS);
        if (_rfqs[rfqId].status != RfqStatus.None) revert RfqAlreadyPosted(rfqId);
        if (!_registry.isActive(rfq.buyer)) revert RfqBuyerInactive(rfq.buyer);
        if (!_escrow.isTokenAllowed(rfq.token)) revert RfqTokenNotAllowed(rfq.token);
        _rfqs[rfqId] = RfqState({status: RfqStatus.Open, entries: 0, logHash: QuoteLog.seed(rfq.buyer, rfq.token)});
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
    function closeRfq(Rfq calldata rfq, LogEntry[] calldata log) external {
        uint256 rfqId = _idOf(rfq);
        RfqState storage state = _rfqs[rfqId];
        RfqStatus previous = state.status;
        bool pastDeadline = block.timestamp > rfq.deadline;
        if (previous != RfqStatus.Awarded && !(previous == RfqStatus.Open && pastDeadline)) {
            revert RfqNotClosable(rfqId, previous, rfq.deadline);
        }
        _checkLog(rfqId, state, log, QuoteLog.seed(rfq.buyer, rfq.token));
        state.status = RfqStatus.Closed;
        emit RfqClosed(rfqId, previous);

        // Invited providers: answered if they hold a live commitment; silent ones only count as
        // late once the deadline passed (an early award does not blame them).
        for (uint256 i; i < rfq.invited.length; ++i) {
            (bytes32 digest,) = QuoteLog.liveDigest(log, rfq.invited[i]);
            if (digest != bytes32(0)) _ledger.recordQuoteTimeliness(rfq.invited[i], true);
            else if (pastDeadline) _ledger.recordQuoteTimeliness(rfq.invited[i], false);
        }
        // Open RFQs: every provider whose last entry is a live commitment answered on time.
        if (rfq.invited.length == 0) {
            for (uint256 i; i < log.length; ++i) {
                if (log[i].digest != bytes32(0) && QuoteLog.isLastOf(log, i)) {
                    _ledger.recordQuoteTimeliness(log[i].provider, true);
                }
            }
        }
    }

    // --- provider ----------------------------------------------------------------------------------

    /// @inheritdoc IRfqMarket
    function commitQuote(Rfq calldata rfq, address provider, bytes32 digest) external onlyQuoteSigner(provider) {
        if (digest == bytes32(0)) revert QuoteZeroDigest();
        uint256 rfqId = _idOf(rfq);
        RfqState storage state = _beforeDeadline(rfq, rfqId);
        if (rfq.invited.length != 0 && !_isInvited(rfq.invited, provider)) {
            revert QuoteProviderNotInvited(rfqId, provider);
        }
        if (provider == rfq.buyer || !_registry.isActive(provider)) revert QuoteProviderInactive(provider);
        uint16 index = _append(rfqId, state, provider, digest);
        emit QuoteCommitted(rfqId, provider, digest, index);
    }

    /// @inheritdoc IRfqMarket
    function withdrawQuote(Rfq calldata rfq, address provider) external onlyQuoteSigner(provider) {
        uint256 rfqId = _idOf(rfq);
        RfqState storage state = _beforeDeadline(rfq, rfqId);
        uint16 index = _append(rfqId, state, provider, bytes32(0));
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
        return "1.0.0";
    }

    // --- internals ---------------------------------------------------------------------------------

    /// @dev The id of `rfq`, which `quote` must answer (same id, buyer and token).
    function _rfqOfQuote(Rfq calldata rfq, Quote calldata quote) private pure returns (uint256 rfqId) {
        rfqId = _idOf(rfq);
        if (quote.rfqId != rfqId || quote.buyer != rfq.buyer || quote.token != rfq.token) {
            revert QuoteNotForRfq(rfqId, quote.rfqId, quote.buyer, quote.token);
        }
    }

    /// @dev Awards `quote` in RFQ `rfqId` (= quote.rfqId). The caller must be the quote's buyer, and
    /// the log replay, seeded with the quote's buyer and token, proves both are the RFQ's.
    function _award(uint256 rfqId, Quote calldata quote, bytes calldata signature, LogEntry[] calldata log)
        private
        returns (bytes32 orderId)
    {
        if (!_registry.isActive(msg.sender)) revert RfqBuyerInactive(msg.sender);
        RfqState storage state = _open(rfqId);
        bytes32 digest = _verifyQuote(quote, signature);
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

    /// @dev Validity, epoch, signature (admin or quote key) and an active provider; returns the digest.
    function _verifyQuote(Quote calldata quote, bytes calldata signature) private view returns (bytes32 digest) {
        if (block.timestamp > quote.validUntil) revert QuoteExpired(quote.validUntil, block.timestamp);
        address provider = quote.provider;
        uint64 epoch = _epochs[provider];
        if (quote.epoch != epoch) revert QuoteEpochStale(provider, quote.epoch, epoch);
        digest = _hashTypedDataV4(QuoteHash.hash(quote));
        address signer = ECDSA.recover(digest, signature);
        if (!_registry.isActiveQuoteSigner(provider, signer)) {
            // The slow path only names the refusal precisely.
            _checkQuoteSigner(provider, signer);
            revert QuoteProviderInactive(provider);
        }
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

    function _append(uint256 rfqId, RfqState storage state, address provider, bytes32 digest)
        private
        returns (uint16 index)
    {
        index = state.entries;
        if (index >= MAX_PARTICIPANTS) revert QuoteLogFull(rfqId, index);
        state.logHash = QuoteLog.append(state.logHash, provider, digest);
        // Cannot overflow: index < MAX_PARTICIPANTS, far below 2^16.
        unchecked {
            state.entries = index + 1;
        }
    }

    function _checkLog(uint256 rfqId, RfqState storage state, LogEntry[] calldata log, uint192 seed) private view {
        if (log.length != state.entries || QuoteLog.hash(log, seed) != state.logHash) {
            revert QuoteLogMismatch(rfqId, state.entries, log.length);
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

    function _isInvited(address[] calldata invited, address provider) private pure returns (bool) {
        for (uint256 i; i < invited.length; ++i) {
            if (invited[i] == provider) return true;
        }
        return false;
    }

    function _idOf(Rfq calldata rfq) private pure returns (uint256) {
        return uint256(keccak256(abi.encode(rfq)));
    }
}
