// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.29;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @title NonReentrant (Cancun build)
/// @notice The reentrancy guard of the Cancun build: its lock lives in transient storage (EIP-1153).
/// @dev The build picks this file or its Shanghai twin through the `evm/` import remapping; both
/// offer the same `nonReentrant` modifier and the same `ReentrancyGuardReentrantCall()` refusal.
abstract contract NonReentrant is ReentrancyGuardTransient {}
