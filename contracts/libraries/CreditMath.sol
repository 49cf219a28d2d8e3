// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.29;

import {CreditSchedule, PeriodMetrics} from "../types/OrderTypes.sol";

/// @title CreditMath
/// @notice SLA credits of the credit schedule, in basis points of the charge they apply to.
/// @dev A cap of 0 means "no cap below 100 %"; every result is at most 10,000 bps, so a credit
/// never exceeds the charge. A zero objective means the metric is not measured.
library CreditMath {
    uint256 internal constant BPS = 10_000;

    /// @notice Late-delivery credit: lateDeliveryBpsPerDay per whole day after `committed`, capped.
    function lateDeliveryBps(CreditSchedule calldata c, uint256 committed, uint256 completed)
        internal
        pure
        returns (uint256)
    {
        if (completed <= committed) return 0;
        return capped((completed - committed) / 1 days * c.lateDeliveryBpsPerDay, c.lateDeliveryCapBps);
    }

    /// @notice In-life credit of one period: the sum of the credits of every missed objective, capped.
    function periodBps(CreditSchedule calldata c, PeriodMetrics calldata m) internal pure returns (uint256 bps) {
        if (c.availabilityObjectivePpm != 0 && m.availabilityPpm < c.availabilityObjectivePpm) {
            bps += c.availabilityCreditBps;
        }
        if (c.frameDelayObjectiveUs != 0 && m.frameDelayUs > c.frameDelayObjectiveUs) bps += c.frameDelayCreditBps;
        if (c.frameLossObjectivePpm != 0 && m.frameLossPpm > c.frameLossObjectivePpm) bps += c.frameLossCreditBps;
        if (c.timeToRestoreObjectiveSec != 0 && m.timeToRestoreSec > c.timeToRestoreObjectiveSec) {
            bps += c.timeToRestoreCreditBps;
        }
        return capped(bps, c.monthlyCreditCapBps);
    }

    /// @notice `bps` limited to `cap` (0 = no cap) and to 10,000.
    function capped(uint256 bps, uint256 cap) internal pure returns (uint256) {
        uint256 limit = cap == 0 || cap > BPS ? BPS : cap;
        return bps < limit ? bps : limit;
    }

    /// @notice `bps` basis points of `amount`, rounded down (the rounding favours the seller).
    function share(uint256 amount, uint256 bps) internal pure returns (uint256) {
        return amount * bps / BPS;
    }
}
