// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.29;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

import {IContractNotary} from "./interfaces/IContractNotary.sol";
import {IMembership} from "./interfaces/IMembership.sol";
import {IOrderEscrow} from "./interfaces/IOrderEscrow.sol";
import {NotaryCommitment} from "./libraries/NotaryCommitment.sol";
import {OrderId, OrderTerms} from "./types/OrderTypes.sol";

/// @title ContractNotary
/// @notice Hashed financial-contract commitments signed by both parties, an encrypted copy for each
/// party in event data, and reveal / verification for settlement. Moves no money.
contract ContractNotary is IContractNotary, EIP712 {
    bytes32 private constant CONTRACT_COMMITMENT_TYPEHASH =
        keccak256("ContractCommitment(bytes32 orderId,address buyer,address seller,bytes32 commitment)");

    IMembership private immutable _registry;
    IOrderEscrow private immutable _escrow;

    mapping(bytes32 orderId => Record record) private _records;

    // --- caller checks -----------------------------------------------------------------------------

    /// @dev The caller must act (as admin or any operational key) for the buyer or the seller of
    /// the order's notarised record, whose parties are stored as tags.
    modifier onlyRecordParty(bytes32 orderId) {
        Record storage record = _known(orderId);
        uint128 callerTag = NotaryCommitment.tag(_registry.memberOf(msg.sender));
        if (callerTag != record.buyerTag && callerTag != record.sellerTag) revert NotaryNotParty(orderId, msg.sender);
        _;
    }

    /// @dev The caller must act (as admin or any operational key) for the buyer or the seller in
    /// `terms` (the order id is computed only to name a refusal).
    modifier onlyParty(OrderTerms calldata terms) {
        address caller = _registry.memberOf(msg.sender);
        if (caller == address(0) || (caller != terms.buyer && caller != terms.seller)) {
            revert NotaryNotParty(OrderId.compute(terms), msg.sender);
        }
        _;
    }

    constructor(IMembership registry, IOrderEscrow escrow_) EIP712("offnet ContractNotary", "1") {
        if (address(registry) == address(0) || address(escrow_) == address(0)) revert NotaryZeroAddress();
        _registry = registry;
        _escrow = escrow_;
    }

    // --- notarisation ------------------------------------------------------------------------------

    /// @inheritdoc IContractNotary
    function notarise(OrderTerms calldata terms, bytes32 commitment, bytes calldata buyerSig, bytes calldata sellerSig)
        external
    {
        // Only the order's own parties, as the escrow knows them, can bind a contract to it.
        bytes32 orderId = OrderId.compute(terms);
        if (_escrow.orderState(orderId).status == IOrderEscrow.OrderStatus.None) revert NotaryNoSuchOrder(orderId);
        _store(orderId, commitment, terms.buyer, terms.seller, buyerSig, sellerSig);
    }

    /// @inheritdoc IContractNotary
    function publishCopy(bytes32 orderId, bytes calldata ciphertextForBuyer, bytes calldata ciphertextForSeller)
        external
        onlyRecordParty(orderId)
    {
        emit ContractCopyPublished(orderId, msg.sender, ciphertextForBuyer, ciphertextForSeller);
    }

    /// @inheritdoc IContractNotary
    function publishAwardCopy(
        OrderTerms calldata terms,
        bytes calldata ciphertextForBuyer,
        bytes calldata ciphertextForSeller
    ) external onlyParty(terms) {
        bytes32 orderId = _awarded(terms);
        emit ContractCopyPublished(orderId, msg.sender, ciphertextForBuyer, ciphertextForSeller);
    }

    /// @inheritdoc IContractNotary
    function revealAward(OrderTerms calldata terms, bytes32 salt, bytes calldata document) external {
        bytes32 orderId = _awarded(terms);
        bytes32 computed = NotaryCommitment.compute(salt, document);
        if (computed != terms.contractHash) revert NotaryRevealMismatch(orderId, terms.contractHash, computed);
        emit ContractRevealed(orderId, msg.sender, salt, document);
    }

    /// @inheritdoc IContractNotary
    function reveal(bytes32 orderId, bytes32 salt, bytes calldata document) external {
        bytes32 commitment = _known(orderId).commitment;
        bytes32 computed = NotaryCommitment.compute(salt, document);
        if (computed != commitment) revert NotaryRevealMismatch(orderId, commitment, computed);
        emit ContractRevealed(orderId, msg.sender, salt, document);
    }

    // --- views -------------------------------------------------------------------------------------

    /// @inheritdoc IContractNotary
    function verify(bytes32 orderId, bytes32 salt, bytes calldata document) external view returns (bool) {
        bytes32 commitment = _records[orderId].commitment;
        return commitment != bytes32(0) && NotaryCommitment.compute(salt, document) == commitment;
    }

    /// @inheritdoc IContractNotary
    function verifyAward(OrderTerms calldata terms, bytes32 salt, bytes calldata document)
        external
        view
        returns (bool)
    {
        if (terms.contractHash == bytes32(0)) return false;
        if (_escrow.orderState(OrderId.compute(terms)).status == IOrderEscrow.OrderStatus.None) return false;
        return NotaryCommitment.compute(salt, document) == terms.contractHash;
    }

    /// @inheritdoc IContractNotary
    function commitmentOf(bytes32 salt, bytes calldata document) external pure returns (bytes32) {
        return NotaryCommitment.compute(salt, document);
    }

    /// @inheritdoc IContractNotary
    function recordOf(bytes32 orderId) external view returns (Record memory) {
        return _records[orderId];
    }

    /// @inheritdoc IContractNotary
    function contractDigest(bytes32 orderId, address buyer, address seller, bytes32 commitment)
        external
        view
        returns (bytes32)
    {
        return _digest(orderId, buyer, seller, commitment);
    }

    /// @inheritdoc IContractNotary
    function escrow() external view returns (address) {
        return address(_escrow);
    }

    /// @inheritdoc IContractNotary
    function version() external pure returns (string memory) {
        return "1.0.0";
    }

    // --- internals ---------------------------------------------------------------------------------

    /// @dev The EIP-712 digest both parties sign: the order, both parties and the commitment.
    function _digest(bytes32 orderId, address buyer, address seller, bytes32 commitment)
        private
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(keccak256(abi.encode(CONTRACT_COMMITMENT_TYPEHASH, orderId, buyer, seller, commitment)));
    }

    function _store(
        bytes32 orderId,
        bytes32 commitment,
        address buyer,
        address seller,
        bytes calldata buyerSig,
        bytes calldata sellerSig
    ) private {
        if (commitment == bytes32(0)) revert NotaryZeroCommitment(orderId);
        Record storage record = _records[orderId];
        if (record.commitment != bytes32(0)) revert NotaryAlreadyNotarised(orderId, record.commitment);
        bytes32 digest = _digest(orderId, buyer, seller, commitment);
        _checkSigner(buyer, digest, buyerSig);
        _checkSigner(seller, digest, sellerSig);
        record.commitment = commitment;
        record.buyerTag = NotaryCommitment.tag(buyer);
        record.sellerTag = NotaryCommitment.tag(seller);
        emit ContractNotarised(orderId, buyer, seller, commitment);
    }

    /// @dev OpenZeppelin's ECDSA refuses malleable (high-s) and malformed signatures with its own errors.
    function _checkSigner(address party, bytes32 digest, bytes calldata signature) private view {
        address signer = ECDSA.recover(digest, signature);
        if (!_registry.isQuoteSigner(party, signer)) revert NotaryWrongSigner(party, signer);
    }

    /// @dev The id of the opened order of `terms`, which must carry a contract commitment.
    function _awarded(OrderTerms calldata terms) private view returns (bytes32 orderId) {
        orderId = OrderId.compute(terms);
        if (terms.contractHash == bytes32(0)) revert NotaryNoContractInTerms(orderId);
        if (_escrow.orderState(orderId).status == IOrderEscrow.OrderStatus.None) revert NotaryNoSuchOrder(orderId);
    }

    function _known(bytes32 orderId) private view returns (Record storage record) {
        record = _records[orderId];
        if (record.commitment == bytes32(0)) revert NotaryUnknownOrder(orderId);
    }
}
