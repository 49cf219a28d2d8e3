// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.29;

import {OrderTerms} from "../types/OrderTypes.sol";

/// @title IContractNotary
/// @notice Commitments to the financial contract of an order, signed by both parties (EIP-712), an
/// encrypted copy for each party in event data, and reveal / verification for settlement.
/// @dev commitment = keccak256(abi.encodePacked(salt, keccak256(document))), document = canonical
/// JSON of the financial contract. It moves no money. Two ways to bind a contract to an order:
/// - at award, at no storage cost: the seller puts the commitment in its EIP-712 quote
///   (`Quote.contractHash`, so its quote signature is its signature over the commitment), the
///   buyer's award transaction accepts it, and it becomes part of the order's terms, hence of the
///   order id. `publishAwardCopy`, `revealAward` and `verifyAward` take those terms and check the
///   order exists in the escrow;
/// - for an existing order (e.g. an amendment), `notarise` takes the order's terms (the escrow must
///   know the order; its buyer and seller are the only parties), and stores the commitment and a
///   128-bit tag of each party (two slots) once both signed `ContractCommitment(bytes32 orderId,
///   address buyer,address seller,bytes32 commitment)`; `publishCopy`, `reveal` and `verify` read
///   that record.
interface IContractNotary {
    /// @notice The stored record of a notarised order.
    struct Record {
        bytes32 commitment;
        uint128 buyerTag;
        uint128 sellerTag;
    }

    // --- errors ------------------------------------------------------------------------------------

    /// @notice A zero address was given where a contract is required.
    error NotaryZeroAddress();
    /// @notice The terms carry no contract commitment (`contractHash` zero).
    error NotaryNoContractInTerms(bytes32 orderId);
    /// @notice No order with these terms was ever opened in the escrow.
    error NotaryNoSuchOrder(bytes32 orderId);
    /// @notice A commitment of zero cannot be notarised.
    error NotaryZeroCommitment(bytes32 orderId);
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

    /// @notice Fires when both parties' signatures over the commitment were verified and stored.
    event ContractNotarised(bytes32 indexed orderId, address indexed buyer, address indexed seller, bytes32 commitment);
    /// @notice Fires when a party publishes the ECIES-encrypted copies (salt || document) for both parties.
    event ContractCopyPublished(
        bytes32 indexed orderId, address indexed publisher, bytes ciphertextForBuyer, bytes ciphertextForSeller
    );
    /// @notice Fires when someone proves on chain that `salt` and `document` match the commitment.
    event ContractRevealed(bytes32 indexed orderId, address indexed revealer, bytes32 salt, bytes document);

    // --- notarisation ------------------------------------------------------------------------------

    /// @notice Stores a commitment for an order the escrow opened, given the `ContractCommitment`
    /// signatures of its buyer and its seller (from the terms: nobody else can notarise for it).
    /// @param terms the order's terms
    /// @param commitment keccak256(salt || keccak256(document))
    /// @param buyerSig the buyer's EIP-712 signature (its admin or a quote key)
    /// @param sellerSig the seller's EIP-712 signature (its admin or a quote key)
    function notarise(OrderTerms calldata terms, bytes32 commitment, bytes calldata buyerSig, bytes calldata sellerSig)
        external;

    /// @notice A party (admin or any operational key) publishes the encrypted copies in event data.
    /// @param orderId the notarised order
    /// @param ciphertextForBuyer ECIES(salt || document) for the buyer's key
    /// @param ciphertextForSeller ECIES(salt || document) for the seller's key
    function publishCopy(bytes32 orderId, bytes calldata ciphertextForBuyer, bytes calldata ciphertextForSeller)
        external;

    /// @notice Proves on chain that a salt and a document match the order's commitment (an event).
    /// @param orderId the notarised order
    /// @param salt the commitment's salt
    /// @param document the canonical JSON of the contract
    function reveal(bytes32 orderId, bytes32 salt, bytes calldata document) external;

    /// @notice `publishCopy` for an awarded order whose terms carry the commitment.
    /// @param terms the order's terms (`contractHash` is the commitment)
    /// @param ciphertextForBuyer ECIES(salt || document) for the buyer's key
    /// @param ciphertextForSeller ECIES(salt || document) for the seller's key
    function publishAwardCopy(
        OrderTerms calldata terms,
        bytes calldata ciphertextForBuyer,
        bytes calldata ciphertextForSeller
    ) external;

    /// @notice `reveal` for an awarded order whose terms carry the commitment.
    /// @param terms the order's terms
    /// @param salt the commitment's salt
    /// @param document the canonical JSON of the contract
    function revealAward(OrderTerms calldata terms, bytes32 salt, bytes calldata document) external;

    /// @notice Whether a salt and a document match the commitment in the terms of an opened order.
    /// @param terms the order's terms
    /// @param salt the commitment's salt
    /// @param document the canonical JSON of the contract
    /// @return matches true when the order exists and the commitment matches
    function verifyAward(OrderTerms calldata terms, bytes32 salt, bytes calldata document)
        external
        view
        returns (bool matches);

    // --- views -------------------------------------------------------------------------------------

    /// @notice Whether a salt and a document match the order's notarised commitment.
    /// @param orderId the order
    /// @param salt the commitment's salt
    /// @param document the canonical JSON of the contract
    /// @return matches true when a commitment is stored and matches
    function verify(bytes32 orderId, bytes32 salt, bytes calldata document) external view returns (bool matches);

    /// @notice The commitment of a salt and a document.
    /// @param salt the salt
    /// @param document the canonical JSON of the contract
    /// @return commitment keccak256(salt || keccak256(document))
    function commitmentOf(bytes32 salt, bytes calldata document) external pure returns (bytes32 commitment);

    /// @notice The stored record of an order.
    /// @param orderId the order
    /// @return record its commitment and party tags (zero commitment when none)
    function recordOf(bytes32 orderId) external view returns (Record memory record);

    /// @notice The EIP-712 digest both parties sign for `notarise`.
    /// @param orderId the order
    /// @param buyer the order's buyer
    /// @param seller the order's seller
    /// @param commitment the commitment
    /// @return digest the digest in this notary's domain
    function contractDigest(bytes32 orderId, address buyer, address seller, bytes32 commitment)
        external
        view
        returns (bytes32 digest);

    /// @notice The escrow whose orders awarded contracts belong to.
    /// @return escrowAddress the OrderEscrow
    function escrow() external view returns (address escrowAddress);

    /// @notice The version of this contract's interface.
    /// @return semver the version string
    function version() external pure returns (string memory semver);
}
