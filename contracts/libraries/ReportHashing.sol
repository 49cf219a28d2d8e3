// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.29;

import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";
import {Report} from "../interfaces/ISlaLedger.sol";
import {ReportKinds} from "./ReportKinds.sol";

/// @title ReportHashing
/// @notice Report ids, content hashes, batch leaves and the batch Merkle root.
/// @dev A leaf binds the submitting member to the content, so the buyer's and the seller's batches
/// holding the same single report still have different roots. A leaf's preimage is 12 words long
/// and an inner node's 2, so an inner node can never pass for a leaf.
library ReportHashing {
    /// @notice Size of an ABI-encoded Report: 11 words (the struct is static, so inline).
    uint256 internal constant REPORT_SIZE = 352;

    /// @notice What a report is about: keccak256(abi.encode(orderId, kind, key)).
    function idOf(Report calldata report) internal pure returns (bytes32) {
        return ReportKinds.idOf(report.orderId, report.kind, report.key);
    }

    /// @notice What a report says: keccak256(abi.encode(report)).
    function contentOf(Report calldata report) internal pure returns (bytes32) {
        return keccak256(abi.encode(report));
    }

    /// @notice The Merkle leaf of `report` in a batch of `member`.
    /// @dev Equal to keccak256(abi.encode(member, report)) for well-formed calldata, hashed straight
    /// from calldata in scratch memory (no allocation: a batch of 100 pays no memory growth). A report
    /// with dirty padding hashes differently, so it can never match a leaf of a submitted batch, whose
    /// fields were all validated when its events were encoded.
    function leafOf(Report calldata report, address member) internal pure returns (bytes32 leaf) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, member)
            calldatacopy(add(ptr, 0x20), report, REPORT_SIZE)
            leaf := keccak256(ptr, add(REPORT_SIZE, 0x20))
        }
    }

    /// @notice The root of the tree over `nodes` (overwritten): pairs left to right with sorted-pair
    /// keccak (OpenZeppelin Hashes.commutativeKeccak256), an odd last node promoted unchanged.
    /// @dev Proofs verify with OpenZeppelin MerkleProof; `nodes` must not be empty.
    function rootOf(bytes32[] memory nodes) internal pure returns (bytes32) {
        uint256 n = nodes.length;
        while (n > 1) {
            uint256 half = n >> 1;
            for (uint256 i; i < half; ++i) {
                nodes[i] = Hashes.commutativeKeccak256(nodes[2 * i], nodes[2 * i + 1]);
            }
            if (n & 1 == 1) {
                nodes[half] = nodes[n - 1];
                n = half + 1;
            } else {
                n = half;
            }
        }
        return nodes[0];
    }
}
