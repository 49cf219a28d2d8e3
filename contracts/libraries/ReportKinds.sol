// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.29;

import {OrderTerms} from "../types/OrderTypes.sol";
import {Report} from "../interfaces/ISlaLedger.sol";

/// @title ReportKinds
/// @notice The kinds of SLA report, what their fields mean, and the sanity checks a report must
/// pass before it can become final.
/// @dev Lifecycle facts (acknowledged, in progress, completed, failed) happen once per order, so
/// their key is 0 and two different contents for them are a conflict. Period reports are keyed by
/// the billing period (1 = the month of delivery, see BillingCalendar), trouble tickets by the full
/// keccak256 of the Sonata ticket id (no ticket key can be ground to collide with another).
library ReportKinds {
    /// @notice Sonata order acknowledged; value0 = event time.
    uint8 internal constant ORDER_ACKNOWLEDGED = 1;
    /// @notice Order in progress; value0 = the committed (first) expectedCompletionDate.
    uint8 internal constant ORDER_IN_PROGRESS = 2;
    /// @notice Order completed; value0 = the committed expectedCompletionDate, value1 = completionDate.
    uint8 internal constant ORDER_COMPLETED = 3;
    /// @notice Order rejected, failed or cancelled; value0 = FAILURE_* reason, value1 = event time.
    uint8 internal constant ORDER_FAILED = 4;
    /// @notice In-life measurements of billing period `key`, in `metrics`.
    uint8 internal constant PERIOD = 5;
    /// @notice Trouble ticket `key` resolved; value0 = time to restore (s), value1 = resolutionDate.
    uint8 internal constant TROUBLE_TICKET = 6;

    /// @notice Failure reasons of ORDER_FAILED (and of IOrderEscrow.onOrderFailed).
    uint8 internal constant FAILURE_REJECTED = 1;
    uint8 internal constant FAILURE_FAILED = 2;
    uint8 internal constant FAILURE_CANCELLED = 3;

    uint256 private constant PPM = 1_000_000;

    /// @notice The id of the fact about (`orderId`, `kind`, `key`): what every report of it shares.
    /// @param orderId the order
    /// @param kind the report kind
    /// @param key the billing period, the ticket key or 0
    /// @return reportId keccak256(abi.encode(orderId, kind, key))
    function idOf(bytes32 orderId, uint8 kind, uint256 key) internal pure returns (bytes32 reportId) {
        return keccak256(abi.encode(orderId, kind, key));
    }

    /// @notice True for the kinds whose final fact moves money in the escrow (completed, failed,
    /// period): their finality is recorded by the escrow's books, not by the ledger.
    function movesMoney(uint8 kind) internal pure returns (bool) {
        return kind == ORDER_COMPLETED || kind == ORDER_FAILED || kind == PERIOD;
    }

    /// @notice True for a kind the ledger knows.
    function isKnown(uint8 kind) internal pure returns (bool) {
        return kind >= ORDER_ACKNOWLEDGED && kind <= TROUBLE_TICKET;
    }

    /// @notice True when the report's fields are possible for its kind and the order's terms.
    function isValid(Report calldata report, OrderTerms calldata terms) internal pure returns (bool) {
        uint8 kind = report.kind;
        if (kind == ORDER_ACKNOWLEDGED || kind == ORDER_IN_PROGRESS) {
            return report.key == 0 && report.value0 <= type(uint40).max;
        }
        if (kind == ORDER_COMPLETED) {
            return report.key == 0 && report.value0 != 0 && report.value1 != 0 && report.value0 <= type(uint40).max
                && report.value1 <= type(uint40).max;
        }
        if (kind == ORDER_FAILED) {
            return report.key == 0 && report.value0 >= FAILURE_REJECTED && report.value0 <= FAILURE_CANCELLED;
        }
        if (kind == PERIOD) {
            return report.key >= 1 && report.key <= terms.termMonths && report.metrics.availabilityPpm <= PPM
                && report.metrics.frameLossPpm <= PPM;
        }
        if (kind == TROUBLE_TICKET) {
            return report.key != 0 && report.value0 <= type(uint32).max;
        }
        return false;
    }
}
