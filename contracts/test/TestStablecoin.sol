// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.29;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title TestStablecoin
/// @notice The settlement token of local chains and tests: a 6-decimal dollar with EIP-2612 permit.
/// @dev Anyone can mint; it is never deployed where its units would be worth something.
contract TestStablecoin is ERC20, ERC20Permit {
    constructor() ERC20("Test USD", "tUSD") ERC20Permit("Test USD") {}

    /// @notice Creates `amount` tokens for `to` (test chains only).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @inheritdoc ERC20
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @notice Version of this contract's interface.
    function version() external pure returns (string memory) {
        return "1.0.0";
    }
}
