// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.29;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {TestToken} from "./TestToken.sol";

/// @title HostileToken
/// @notice Base of the test-only tokens that misbehave on purpose: a mintable 6-decimal TestToken.
/// @dev Used by the escrow tests to show that a hostile token can neither block the other party
/// nor break the escrow's accounting.
abstract contract HostileToken is TestToken {
    constructor(string memory name_, string memory symbol_) TestToken(name_, symbol_) {}
}

/// @title FalseReturningToken
/// @notice Returns false (without reverting) from transfer and transferFrom while `failing` is set.
contract FalseReturningToken is HostileToken {
    /// @notice True while transfers return false.
    bool public failing;

    constructor() HostileToken("False Returning", "tFALSE") {}

    /// @notice Makes transfers return false (true) or work again (false).
    function setFailing(bool failing_) external {
        failing = failing_;
    }

    /// @inheritdoc ERC20
    function transfer(address to, uint256 value) public override returns (bool) {
        if (failing) return false;
        return super.transfer(to, value);
    }

    /// @inheritdoc ERC20
    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        if (failing) return false;
        return super.transferFrom(from, to, value);
    }
}

/// @title BlocklistToken
/// @notice Reverts every transfer to a blocked address, like the blocklists of some stablecoins.
contract BlocklistToken is HostileToken {
    /// @notice A transfer to `to` was refused because `to` is blocked.
    error BlocklistTokenBlocked(address to);

    /// @notice True when transfers to the address revert.
    mapping(address account => bool blocked) public blocked;

    constructor() HostileToken("Blocklist", "tBLOCK") {}

    /// @notice Blocks (or unblocks) transfers to `account`.
    function setBlocked(address account, bool blocked_) external {
        blocked[account] = blocked_;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (blocked[to]) revert BlocklistTokenBlocked(to);
        super._update(from, to, value);
    }
}

/// @title FeeOnTransferToken
/// @notice Burns 1 % of every transfer, so the recipient receives less than was sent.
contract FeeOnTransferToken is HostileToken {
    constructor() HostileToken("Fee On Transfer", "tFEE") {}

    function _update(address from, address to, uint256 value) internal override {
        if (from == address(0) || to == address(0)) {
            super._update(from, to, value);
            return;
        }
        uint256 fee = value / 100;
        super._update(from, address(0), fee);
        super._update(from, to, value - fee);
    }
}

/// @title ReentrantToken
/// @notice Calls back an armed target with armed calldata during its next transfer, bubbling up
/// any revert of the callback: shows that the escrow refuses re-entry.
contract ReentrantToken is HostileToken {
    address private _target;
    bytes private _data;

    constructor() HostileToken("Reentrant", "tREENTER") {}

    /// @notice Arms one callback: the next transfer calls `target` with `data` first.
    function arm(address target, bytes calldata data) external {
        _target = target;
        _data = data;
    }

    function _update(address from, address to, uint256 value) internal override {
        address target = _target;
        if (target != address(0) && from != address(0) && to != address(0)) {
            _target = address(0);
            (bool ok, bytes memory ret) = target.call(_data);
            if (!ok) {
                assembly ("memory-safe") {
                    revert(add(ret, 0x20), mload(ret))
                }
            }
        }
        super._update(from, to, value);
    }
}
