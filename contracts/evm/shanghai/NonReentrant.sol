// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.29;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

/// @title NonReentrant (Shanghai build)
/// @notice The reentrancy guard of the Shanghai build: its lock lives in an ordinary storage slot,
/// for chains without transient storage (EIP-1153).
/// @dev The build picks this file or its Cancun twin through the `evm/` import remapping; both
/// offer the same `nonReentrant` modifier and the same `ReentrancyGuardReentrantCall()` refusal.
abstract contract NonReentrant is ReentrancyGuard {}
