// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.29;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {TestToken} from "./TestToken.sol";

/// @title TestStablecoin
/// @notice The settlement token of local chains and tests: a 6-decimal dollar with EIP-2612 permit.
/// @dev Anyone can mint (TestToken); it is never deployed where its units would be worth something.
contract TestStablecoin is TestToken, ERC20Permit {
    constructor() TestToken("Test USD", "tUSD") ERC20Permit("Test USD") {}

    /// @inheritdoc TestToken
    function decimals() public pure override(ERC20, TestToken) returns (uint8) {
        return super.decimals();
    }
}
