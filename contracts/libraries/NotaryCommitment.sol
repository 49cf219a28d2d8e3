// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.29;

/// @title NotaryCommitment
/// @notice The hiding commitment to a financial contract and the short party tags the notary stores.
library NotaryCommitment {
    /// @notice keccak256(salt || keccak256(document)), document = canonical JSON of the contract.
    function compute(bytes32 salt, bytes calldata document) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(salt, keccak256(document)));
    }

    /// @notice A 128-bit tag of a party address: finding another address with the same tag takes
    /// about 2^128 work, so two tags fit the slot two addresses would not.
    function tag(address party) internal pure returns (uint128) {
        return uint128(uint256(keccak256(abi.encode(party))));
    }
}
