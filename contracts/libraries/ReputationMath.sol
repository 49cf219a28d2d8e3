// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.29;

import {CreditSchedule, PeriodMetrics} from "../types/OrderTypes.sol";
import {Reputation, ReputationScores} from "../interfaces/ISlaLedger.sol";

/// @title ReputationMath
/// @notice Pure rules behind reputation: lateness, objectives met, and the derived scores.
library ReputationMath {
    uint256 internal constant PPM = 1_000_000;
    uint256 internal constant DAY = 1 days;

    /// @notice Whole days (rounded up) that `completionDate` is after `committedDate`; 0 when on time.
    function daysLate(uint256 committedDate, uint256 completionDate) internal pure returns (uint256) {
        if (completionDate <= committedDate) return 0;
        // Safe: completionDate > committedDate, and both are below 2^64.
        unchecked {
            return (completionDate - committedDate + DAY - 1) / DAY;
        }
    }

    /// @notice True when the period met every objective the credit schedule measures (a zero
    /// objective is not measured): availability at least, delay, loss and time to restore at most.
    function meetsObjectives(PeriodMetrics calldata m, CreditSchedule calldata c) internal pure returns (bool) {
        return (c.availabilityObjectivePpm == 0 || m.availabilityPpm >= c.availabilityObjectivePpm)
            && (c.frameDelayObjectiveUs == 0 || m.frameDelayUs <= c.frameDelayObjectiveUs)
            && (c.frameLossObjectivePpm == 0 || m.frameLossPpm <= c.frameLossObjectivePpm)
            && (c.timeToRestoreObjectiveSec == 0 || m.timeToRestoreSec <= c.timeToRestoreObjectiveSec);
    }

    /// @notice `part * 1e6 / whole`, 0 when `whole` is 0.
    function ratioPpm(uint256 part, uint256 whole) internal pure returns (uint32) {
        if (whole == 0) return 0;
        return uint32(part * PPM / whole); // part <= whole in every use, so the result fits
    }

    /// @notice The derived scores of `r`; every formula is documented on ReputationScores.
    function scores(Reputation memory r) internal pure returns (ReputationScores memory s) {
        s.quoteTimelinessPpm = ratioPpm(r.quotesOnTime, r.quotesRequested);
        s.onTimeDeliveryPpm = ratioPpm(r.ordersOnTime, r.ordersDelivered);
        s.deliverySuccessPpm = ratioPpm(r.ordersDelivered, uint256(r.ordersDelivered) + r.ordersFailed);
        s.slaCompliancePpm = ratioPpm(r.periodsMeetingObjectives, r.periodsReported);
        if (r.ordersDelivered != 0) {
            s.averageDaysLateMilli = uint32(_cap(uint256(r.totalDaysLate) * 1000 / r.ordersDelivered));
        }
        if (r.periodsReported != 0) s.averageAvailabilityPpm = uint32(r.availabilitySumPpm / r.periodsReported);
        if (r.troubleTickets != 0) s.averageRestoreSec = uint32(_cap(r.totalRestoreSec / r.troubleTickets));

        uint256 sum;
        uint256 parts;
        if (r.quotesRequested != 0) (sum, parts) = (sum + s.quoteTimelinessPpm, parts + 1);
        if (r.ordersDelivered != 0) (sum, parts) = (sum + s.onTimeDeliveryPpm, parts + 1);
        if (r.periodsReported != 0) (sum, parts) = (sum + s.slaCompliancePpm, parts + 1);
        if (parts != 0) s.overallPpm = uint32(sum / parts);
    }

    function _cap(uint256 value) private pure returns (uint256) {
        return value > type(uint32).max ? type(uint32).max : value;
    }
}
