// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.29;

/// @title IMembership
/// @notice What RfqMarket, OrderEscrow, SlaLedger and ContractNotary trust the registry for, and
/// nothing more: who is an active member, which key acts for which member and in which role, and
/// which address executes the council's decisions.
/// @dev Every view is O(1). A contract that holds an `IMembership` cannot reach the registry's
/// admission, key or council functions through it, so this file is the whole trust boundary.
interface IMembership {
    /// @notice Whether a member is admitted and not suspended.
    /// @param member the member id (the address it joined with)
    /// @return active true when `member` is admitted and not suspended
    function isActive(address member) external view returns (bool active);

    /// @notice The member a key acts for. A member's admin resolves to the member, an operational
    /// key to its member, anything else to address(0). Suspended members still resolve.
    /// @param key any address
    /// @return member the member `key` acts for, or address(0)
    function memberOf(address key) external view returns (address member);

    /// @notice Whether a key may sign quotes for a member: its admin or one of its quote keys.
    /// @param member the member id
    /// @param key the signing address
    /// @return allowed true when `key` signs quotes for `member` (suspended members included)
    function isQuoteSigner(address member, address key) external view returns (bool allowed);

    /// @notice Whether a key may sign quotes for a member that is active: one call for the award.
    /// @param member the member id
    /// @param key the signing address
    /// @return allowed true when `key` signs quotes for `member` and `member` is active
    function isActiveQuoteSigner(address member, address key) external view returns (bool allowed);

    /// @notice Whether an award may go ahead, in one call: the buyer is active, and `signer` signs
    /// quotes for `provider`, which is active too.
    /// @param buyer the awarding member
    /// @param provider the quoting member
    /// @param signer the address that signed the quote
    /// @return allowed true when all three hold
    function canAward(address buyer, address provider, address signer) external view returns (bool allowed);

    /// @notice The active member whose oracle key (or admin) a key is: one call for the hot paths
    /// that need both answers (key authorised, member active).
    /// @param key the submitting address
    /// @return member the active member `key` reports for, or address(0)
    function activeOracleMember(address key) external view returns (address member);

    /// @notice The arbiter: the address through which the council acts. Council-only functions of
    /// the other contracts (rulings, the token allow-list) accept exactly this caller, the registry
    /// executing an approved proposal.
    /// @return executor the council's executor
    function arbiter() external view returns (address executor);
}
