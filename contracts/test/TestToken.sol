// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.29;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title TestToken
/// @notice Base of the test-only tokens: anyone can mint, 6 decimals like the dollar stablecoins.
/// @dev Never deployed where its units would be worth something.
abstract contract TestToken is ERC20 {
    constructor(string memory name_, string memory symbol_) ERC20(name_, symbol_) {}

    /// @notice Creates `amount` tokens for `to` (test chains only).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @inheritdoc ERC20
    function decimals() public pure virtual override returns (uint8) {
        return 6;
    }

    /// @notice Version of this contract's interface.
    function version() external pure returns (string memory) {
        return "1.0.0";
    }
}
