// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.29;

/// @title BillingCalendar
/// @notice Billing periods of an order are calendar months (UTC), as carriers bill them: period 1
/// runs from the delivery to the end of the delivery's month and is charged pro rata; period k > 1
/// is the (k - 1)-th whole calendar month after the delivery's month.
/// @dev Date arithmetic on unix seconds with the days-from-civil / civil-from-days algorithms
/// (proleptic Gregorian calendar, March-based years so that the leap day is the last day of a
/// year). offnet.market.periods is the Python mirror; a test compares both over many dates.
library BillingCalendar {
    uint256 internal constant DAY = 1 days;

    /// @notice The start (00:00 UTC on the 1st) of the calendar month `monthsAhead` months after the
    /// month that contains `timestamp`.
    /// @param timestamp unix seconds
    /// @param monthsAhead whole months to move forward (0 = the month of `timestamp`)
    /// @return start unix seconds
    function monthStart(uint256 timestamp, uint256 monthsAhead) internal pure returns (uint256 start) {
        (uint256 year, uint256 month) = _yearMonth(timestamp / DAY);
        // Cannot overflow: years and months of uint40 timestamps are tiny.
        unchecked {
            uint256 index = year * 12 + (month - 1) + monthsAhead;
            return _daysFromCivil(index / 12, index % 12 + 1) * DAY;
        }
    }

    /// @notice When billing period `period` (1-based) of an order delivered at `deliveredAt` starts and ends.
    /// @param deliveredAt the completion date (unix seconds): the start of period 1
    /// @param period the billing period, from 1
    /// @return start the first second of the period
    /// @return end the first second after the period
    function bounds(uint256 deliveredAt, uint256 period) internal pure returns (uint256 start, uint256 end) {
        start = period <= 1 ? deliveredAt : monthStart(deliveredAt, period - 1);
        end = monthStart(deliveredAt, period);
    }

    /// @notice What period `period` costs: the monthly charge, pro rata (by seconds of its calendar
    /// month, rounded down) for the first, partial, month.
    /// @param monthlyCharge the charge of one whole month
    /// @param deliveredAt the completion date (unix seconds)
    /// @param period the billing period, from 1
    /// @return amount token units
    function charge(uint256 monthlyCharge, uint256 deliveredAt, uint256 period) internal pure returns (uint256 amount) {
        if (period != 1) return monthlyCharge;
        uint256 monthBegins = monthStart(deliveredAt, 0);
        uint256 monthEnds = monthStart(deliveredAt, 1);
        return monthlyCharge * (monthEnds - deliveredAt) / (monthEnds - monthBegins);
    }

    /// @dev Days since 1970-01-01 of year-month-01 (month 1..12).
    function _daysFromCivil(uint256 year, uint256 month) private pure returns (uint256) {
        // Cannot underflow or overflow: year >= 1970 for any uint40 timestamp, and the terms are small.
        unchecked {
            if (month <= 2) year -= 1;
            uint256 era = year / 400;
            uint256 yearOfEra = year - era * 400;
            uint256 shifted = month > 2 ? month - 3 : month + 9;
            uint256 dayOfYear = (153 * shifted + 2) / 5; // the 1st of the month
            uint256 dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear;
            return era * 146_097 + dayOfEra - 719_468;
        }
    }

    /// @dev Year and month (1..12) of day `day` since 1970-01-01.
    function _yearMonth(uint256 day) private pure returns (uint256 year, uint256 month) {
        // Cannot underflow or overflow: the terms are bounded by the proleptic calendar's own ranges.
        unchecked {
            uint256 z = day + 719_468;
            uint256 era = z / 146_097;
            uint256 dayOfEra = z - era * 146_097;
            uint256 yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365;
            uint256 dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
            uint256 shifted = (5 * dayOfYear + 2) / 153;
            month = shifted < 10 ? shifted + 3 : shifted - 9;
            year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
        }
    }
}
