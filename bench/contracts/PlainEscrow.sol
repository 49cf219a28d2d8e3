// SPDX-License-Identifier: MIT
pragma solidity 0.8.29;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title PlainEscrow
/// @notice Benchmark anchor only (never deployed by offnet): the cheapest escrow a team would write
///         next to EAS attestations. The buyer deposits, the buyer alone releases to the seller; no
///         SLA logic, no credits, no disputes. It exists so `make bench` can price offnet's lifecycle
///         against "attestations + a plain escrow".
contract PlainEscrow {
    using SafeERC20 for IERC20;

    struct Deal {
        address buyer;
        address seller;
        IERC20 token;
        uint128 held;
    }

    mapping(bytes32 dealId => Deal) private _deals;

    error PlainEscrowNotBuyer(bytes32 dealId, address caller);
    error PlainEscrowExists(bytes32 dealId);
    error PlainEscrowShort(bytes32 dealId, uint256 held, uint256 asked);

    event Opened(bytes32 indexed dealId, address indexed buyer, address indexed seller, uint256 amount);
    event Deposited(bytes32 indexed dealId, uint256 amount);
    event Released(bytes32 indexed dealId, uint256 amount);

    /// @notice Open a deal and pull the first deposit from the buyer.
    function open(bytes32 dealId, address seller, IERC20 token, uint128 amount) external {
        if (_deals[dealId].buyer != address(0)) revert PlainEscrowExists(dealId);
        _deals[dealId] = Deal(msg.sender, seller, token, amount);
        emit Opened(dealId, msg.sender, seller, amount);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Add funds to a deal (the buyer only).
    function deposit(bytes32 dealId, uint128 amount) external {
        Deal storage deal = _deals[dealId];
        if (deal.buyer != msg.sender) revert PlainEscrowNotBuyer(dealId, msg.sender);
        deal.held += amount;
        emit Deposited(dealId, amount);
        deal.token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Pay the seller straight away (the buyer only).
    function release(bytes32 dealId, uint128 amount) external {
        Deal storage deal = _deals[dealId];
        if (deal.buyer != msg.sender) revert PlainEscrowNotBuyer(dealId, msg.sender);
        if (deal.held < amount) revert PlainEscrowShort(dealId, deal.held, amount);
        unchecked {
            deal.held -= amount; // checked just above: held >= amount
        }
        emit Released(dealId, amount);
        deal.token.safeTransfer(deal.seller, amount);
    }

    function version() external pure returns (string memory) {
        return "bench-1";
    }
}
