// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.29;

/// @title RegistryRoles
/// @notice What a key may do for its member, as bit flags in one byte.
/// @dev An operational key holds QUOTE, ORACLE or both; ADMIN marks a member's admin key and
/// implies both (an admin may always sign quotes and reports for its own member).
library RegistryRoles {
    uint8 internal constant QUOTE = 1;
    uint8 internal constant ORACLE = 2;
    uint8 internal constant ADMIN = 4;
    uint8 internal constant OPERATIONAL = QUOTE | ORACLE;

    /// @notice True for a non-empty set of operational roles (no admin bit, no unknown bit).
    function isOperational(uint8 roles) internal pure returns (bool) {
        return roles != 0 && roles & ~OPERATIONAL == 0;
    }

    /// @notice True when the roles allow signing quotes.
    function canQuote(uint8 roles) internal pure returns (bool) {
        return roles & (QUOTE | ADMIN) != 0;
    }

    /// @notice True when the roles allow signing and submitting SLA reports.
    function canReport(uint8 roles) internal pure returns (bool) {
        return roles & (ORACLE | ADMIN) != 0;
    }

    /// @notice True when the roles are those of an admin key.
    function isAdmin(uint8 roles) internal pure returns (bool) {
        return roles & ADMIN != 0;
    }
}
