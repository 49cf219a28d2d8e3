// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.29;

import {IRfqMarket} from "../interfaces/IRfqMarket.sol";

/// @title QuoteLog
/// @notice The running hash of an RFQ's commitment log: each commitment or withdrawal is appended as
/// `(provider, digest)`, and award / close replay the log from calldata.
/// @dev 192 bits of keccak-256 leave a second-preimage search at 2^192 work, far out of reach, and
/// let the hash share the RFQ's one storage slot with its status and entry count.
library QuoteLog {
    /// @notice The hash of an empty log of an RFQ of `buyer` settled in `token`: binding both into
    /// the log lets a replayed log prove them.
    function seed(address buyer, address token) internal pure returns (uint192) {
        return uint192(uint256(keccak256(abi.encode(buyer, token))));
    }

    /// @notice The log hash after appending `(provider, digest)` to a log hashed `previous`.
    function append(uint192 previous, address provider, bytes32 digest) internal pure returns (uint192) {
        return uint192(uint256(keccak256(abi.encode(previous, provider, digest))));
    }

    /// @notice The hash of a whole log, starting from `start` (the RFQ's seed).
    function hash(IRfqMarket.LogEntry[] calldata log, uint192 start) internal pure returns (uint192 h) {
        h = start;
        for (uint256 i; i < log.length; ++i) {
            h = append(h, log[i].provider, log[i].digest);
        }
    }

    /// @notice The live commitment of `provider` in the log: its last entry's digest (zero when it
    /// never committed or withdrew last), and whether it appears at all.
    function liveDigest(IRfqMarket.LogEntry[] calldata log, address provider)
        internal
        pure
        returns (bytes32 digest, bool seen)
    {
        for (uint256 i = log.length; i > 0; --i) {
            if (log[i - 1].provider == provider) return (log[i - 1].digest, true);
        }
    }
}
