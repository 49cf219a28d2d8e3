// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.29;

/// @title NonceBitmap
/// @notice Unordered nonces: nonce n is bit `n & 255` of word `n >> 8`, so quotes can be awarded or
/// cancelled in any order and one stuck quote blocks nothing.
library NonceBitmap {
    /// @notice The bitmap word index and the single-bit mask of `nonce`.
    function locate(uint256 nonce) internal pure returns (uint256 word, uint256 mask) {
        return (nonce >> 8, uint256(1) << (nonce & 0xff));
    }
}
