// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.29;

import {OrderTerms} from "../types/OrderTypes.sol";

/// @title DeliveryTerms
/// @notice The committed delivery date of an order: the ledger's reputation and the escrow's
/// late-delivery credit both measure lateness against it.
library DeliveryTerms {
    /// @notice The date the seller is held to: the earlier of the committed date it reported
    /// (Sonata's first expectedCompletionDate) and the installation interval it signed
    /// (`awardedAt + installDays` days). A seller cannot push its own deadline past its signed terms.
    /// @param terms the order's terms
    /// @param reported the committed completion date of the report (unix seconds)
    /// @return committed unix seconds
    function committedDate(OrderTerms calldata terms, uint256 reported) internal pure returns (uint256 committed) {
        committed = uint256(terms.awardedAt) + uint256(terms.installDays) * 1 days;
        if (reported < committed) committed = reported;
    }
}
