// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.29;

/// @title IContractNotary
/// @notice Commitments to the financial contract of an order, signed by both parties (EIP-712), an
/// encrypted copy for each party in event data, and reveal / verification for settlement.
/// @dev commitment = keccak256(abi.encodePacked(salt, keccak256(document))), document = canonical
/// JSON of the financial contract. The notary stores the commitment and a 128-bit tag of each
/// party (two slots per order); it moves no money.
///
/// Two signed messages exist because an order id includes its award time, which nobody knows
/// before the award transaction is mined:
/// - `ContractCommitment(bytes32 orderId,bytes32 commitment)` for `notarise`, callable by anyone
///   for an existing order once both parties signed;
/// - `AwardCommitment(bytes32 quoteDigest,bytes32 commitment)` for `notariseAward`, called by the
///   market at award: the quote digest identifies the order-to-be (one award per RFQ).
interface IContractNotary {
    /// @notice The stored record of a notarised order.
    struct Record {
        bytes32 commitment;
        uint128 buyerTag;
        uint128 sellerTag;
    }

    // --- errors ------------------------------------------------------------------------------------

    /// @notice `wire` was called by someone other than the deployer.
    error NotaryNotDeployer(address caller);
    /// @notice `wire` was called a second time.
    error NotaryAlreadyWired(address market);
    /// @notice A zero address was given where a contract or party is required.
    error NotaryZeroAddress();
    /// @notice A market-only function was called by another address.
    error NotaryNotMarket(address caller);
    /// @notice A commitment of zero cannot be notarised.
    error NotaryZeroCommitment(bytes32 orderId);
    /// @notice The buyer and the seller are the same member.
    error NotarySameParties(address party);
    /// @notice The order already has a notarised commitment.
    error NotaryAlreadyNotarised(bytes32 orderId, bytes32 commitment);
    /// @notice A signature's signer is neither the party's admin nor one of its quote keys.
    error NotaryWrongSigner(address party, address signer);
    /// @notice No commitment was notarised for the order.
    error NotaryUnknownOrder(bytes32 orderId);
    /// @notice The caller acts for neither party of the order.
    error NotaryNotParty(bytes32 orderId, address caller);
    /// @notice The revealed salt and document do not match the notarised commitment.
    error NotaryRevealMismatch(bytes32 orderId, bytes32 commitment, bytes32 computed);

    // --- events ------------------------------------------------------------------------------------

    /// @notice Fires once, when the deployer wires the market.
    event NotaryWired(address market);
    /// @notice Fires when both parties' signatures over the commitment were verified and stored.
    event ContractNotarised(
        bytes32 indexed orderId, address indexed buyer, address indexed seller, bytes32 commitment
    );
    /// @notice Fires when a party publishes the ECIES-encrypted copies (salt || document) for both parties.
    event ContractCopyPublished(
        bytes32 indexed orderId, address indexed publisher, bytes ciphertextForBuyer, bytes ciphertextForSeller
    );
    /// @notice Fires when someone proves on chain that `salt` and `document` match the commitment.
    event ContractRevealed(bytes32 indexed orderId, address indexed revealer, bytes32 salt, bytes document);

    // --- wiring ------------------------------------------------------------------------------------

    /// @notice The deployer names the market, once.
    function wire(address market) external;

    // --- notarisation ------------------------------------------------------------------------------

    /// @notice Stores `commitment` for `orderId` given both parties' `ContractCommitment` signatures.
    function notarise(
        bytes32 orderId,
        bytes32 commitment,
        address buyer,
        address seller,
        bytes calldata buyerSig,
        bytes calldata sellerSig
    ) external;

    /// @notice The market stores `commitment` for the order it just opened from `quoteDigest`, given
    /// both parties' `AwardCommitment` signatures.
    function notariseAward(
        bytes32 orderId,
        bytes32 quoteDigest,
        bytes32 commitment,
        address buyer,
        address seller,
        bytes calldata buyerSig,
        bytes calldata sellerSig
    ) external;

    /// @notice A party (admin or any operational key) publishes the encrypted copies in event data.
    function publishCopy(bytes32 orderId, bytes calldata ciphertextForBuyer, bytes calldata ciphertextForSeller)
        external;

    /// @notice Proves on chain that `salt` and `document` match the order's commitment (an event).
    function reveal(bytes32 orderId, bytes32 salt, bytes calldata document) external;

    // --- views -------------------------------------------------------------------------------------

    /// @notice True when `salt` and `document` match the order's notarised commitment.
    function verify(bytes32 orderId, bytes32 salt, bytes calldata document) external view returns (bool);

    /// @notice The commitment of `salt` and `document`.
    function commitmentOf(bytes32 salt, bytes calldata document) external pure returns (bytes32);

    /// @notice The stored record of an order (zero commitment when none).
    function recordOf(bytes32 orderId) external view returns (Record memory);

    /// @notice The EIP-712 digest a party signs for `notarise`.
    function contractDigest(bytes32 orderId, bytes32 commitment) external view returns (bytes32);

    /// @notice The EIP-712 digest a party signs for an award-time notarisation.
    function awardDigest(bytes32 quoteDigest, bytes32 commitment) external view returns (bytes32);

    /// @notice The market allowed to call `notariseAward` (zero until wired).
    function market() external view returns (address);

    /// @notice Version of this contract's interface.
    function version() external pure returns (string memory);
}
