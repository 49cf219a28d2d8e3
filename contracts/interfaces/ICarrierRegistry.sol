// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.29;

import {IMembership} from "./IMembership.sol";

/// @title ICarrierRegistry
/// @notice The circle of trust of offnet: members (carrier organisations), their admission by
/// sponsors or by the council, suspension and exit, their operational keys, and the council that
/// votes m-of-n and executes its decisions on the registry itself and on the other contracts.
/// @dev A member is identified by the address that applied (or was seeded as a founder); that
/// address is its first admin. The admin can be handed over in two steps; the member id never
/// changes, so orders and reputation keyed by it survive a key rotation. Every view is O(1) and no
/// operation loops over members.
interface ICarrierRegistry is IMembership {
    // --- types -------------------------------------------------------------------------------------

    /// @notice Where an address stands. `None` = never seen; `Left` and `Expelled` are final for
    /// this membership (a member that left may apply again; an expelled one may not).
    enum MemberStatus {
        None,
        Applicant,
        Active,
        Suspended,
        Left,
        Expelled
    }

    /// @notice How a member got in.
    enum AdmissionPath {
        Founder,
        Sponsors,
        Council
    }

    /// @notice The stored state of a member or applicant: one storage slot.
    /// @dev `epoch` grows each time a membership ends; operational keys registered under an older
    /// epoch are dead, so leaving or expulsion revokes every key in O(1).
    struct Member {
        address admin;
        MemberStatus status;
        bool council;
        uint32 epoch;
    }

    /// @notice A pending application: one storage slot.
    /// @dev `round` counts the candidate's applications, so sponsorships of an expired
    /// application do not count for the next one.
    struct Application {
        uint40 expiresAt;
        uint16 sponsors;
        uint32 round;
    }

    /// @notice An operational key (or a rotated admin key) and what it may do: one storage slot.
    struct Key {
        address member;
        uint8 roles;
        uint32 epoch;
    }

    /// @notice A council proposal: one storage slot (the hash of its calldata is kept beside it; the
    /// calldata itself is in the ProposalCreated event and travels with each approval).
    /// @dev `councilEpoch` is the council's composition when it was made: once a seat is given,
    /// taken, suspended or reinstated, open proposals go stale, so approvals of a member that
    /// lost its seat never count.
    struct Proposal {
        address target;
        uint40 expiresAt;
        uint16 approvals;
        bool executed;
        uint32 councilEpoch;
    }

    /// @notice The public profile of a member. Nothing on chain decides on it, so it lives in the
    /// `ProfileUpdated` event only.
    /// @param name display name of the carrier
    /// @param sonataUrl base URL of the carrier's MEF LSO Sonata API
    /// @param products keccak256 of the MEF product spec URNs sold (see `productKey` off chain)
    /// @param countries ISO 3166-1 alpha-2 country codes served, as two ASCII bytes ("FR" = 0x4652)
    /// @param locations optional finer location keys (e.g. keccak256 of a site or metro id)
    struct Profile {
        string name;
        string sonataUrl;
        bytes32[] products;
        bytes2[] countries;
        bytes32[] locations;
    }

    // --- errors ------------------------------------------------------------------------------------

    /// @notice The constructor got an empty founder list, a zero address or an invalid parameter.
    error RegistryInvalidSetup(
        uint256 founders, uint256 council, uint16 councilThreshold, uint16 sponsorsRequired, uint32 applicationTtl
    );
    /// @notice The founder at `index` is the zero address or appears earlier in the list.
    error RegistryInvalidFounder(uint256 index, address founder);
    /// @notice A council seat was given to an address that is not a founder, or twice.
    error RegistryInvalidCouncilSeat(address member);
    /// @notice The caller is not the admin of an active or suspended member.
    error RegistryNotMemberAdmin(address caller);
    /// @notice The member (or sponsor) must be active for this (a suspended member cannot leave).
    error RegistryMemberNotActive(address member, MemberStatus status);
    /// @notice The member must be suspended for this (reinstatement).
    error RegistryMemberNotSuspended(address member, MemberStatus status);
    /// @notice The address is not a current member (active or suspended).
    error RegistryNotMember(address account, MemberStatus status);
    /// @notice The address already is an applicant, a member, or otherwise cannot apply.
    error RegistryCannotApply(address candidate, MemberStatus status);
    /// @notice The address is an operational key of a member and cannot join or change hands.
    error RegistryKeyInUse(address key, address member);
    /// @notice The address is (or was) a member or applicant itself and cannot be another's key.
    error RegistryKeyIsMember(address key, MemberStatus status);
    /// @notice The key is not an operational key of the caller's member.
    error RegistryNotMemberKey(address key, address member);
    /// @notice Roles must be a non-empty subset of ROLE_QUOTE | ROLE_ORACLE.
    error RegistryInvalidRoles(uint8 roles);
    /// @notice The zero address cannot be an operational key.
    error RegistryInvalidKey(address key);
    /// @notice A profile needs a display name and a Sonata URL.
    error RegistryProfileIncomplete(uint256 nameLength, uint256 sonataUrlLength);
    /// @notice There is no pending application for the candidate.
    error RegistryNoApplication(address candidate, MemberStatus status);
    /// @notice The candidate's application expired at `expiresAt`.
    error RegistryApplicationExpired(address candidate, uint40 expiresAt);
    /// @notice The sponsor already sponsored this application.
    error RegistryAlreadySponsored(address candidate, address sponsor);
    /// @notice No admin handover is pending for the member to this caller.
    error RegistryNotPendingAdmin(address member, address caller);
    /// @notice The caller is not an active council member.
    error RegistryNotCouncil(address caller);
    /// @notice A council-only function was called other than through an executed proposal.
    error RegistryOnlyCouncilExecution(address caller);
    /// @notice The change would leave fewer voting (active) council seats than `threshold`: the
    /// council could never pass anything again.
    error RegistryInvalidThreshold(uint16 threshold, uint16 councilSize);
    /// @notice The member already has (or already lacks) a council seat.
    error RegistryCouncilSeatUnchanged(address member, bool seated);
    /// @notice The number of sponsors required must be at least one.
    error RegistryInvalidSponsorsRequired(uint16 sponsorsRequired);
    /// @notice No proposal has this id.
    error RegistryUnknownProposal(uint256 proposalId);
    /// @notice The proposal expired at `expiresAt` without being executed.
    error RegistryProposalExpired(uint256 proposalId, uint40 expiresAt);
    /// @notice The council changed (`currentEpoch`) since the proposal was made (`proposalEpoch`).
    error RegistryProposalStale(uint256 proposalId, uint32 proposalEpoch, uint32 currentEpoch);
    /// @notice The proposal was executed already.
    error RegistryProposalAlreadyExecuted(uint256 proposalId);
    /// @notice The council member already approved this proposal.
    error RegistryAlreadyApproved(uint256 proposalId, address member);
    /// @notice The proposal has `approvals` of the `threshold` approvals it needs.
    error RegistryProposalNotApproved(uint256 proposalId, uint16 approvals, uint16 threshold);
    /// @notice The proposal's target call reverted; `returnData` is what the target reverted with.
    error RegistryProposalCallFailed(uint256 proposalId, address target, bytes returnData);
    /// @notice A proposal must name a contract (or the registry) as its target.
    error RegistryInvalidTarget(address target);
    /// @notice The calldata passed to approve or execute a proposal is not the proposed calldata
    /// (`dataHash` is the hash of what was passed).
    error RegistryProposalDataMismatch(uint256 proposalId, bytes32 dataHash);

    // --- events ------------------------------------------------------------------------------------

    /// @notice Fires when a candidate applies (again); its profile follows in `ProfileUpdated`.
    event ApplicationFiled(address indexed candidate, uint32 round, uint40 expiresAt);
    /// @notice Fires when an active member sponsors an application; `sponsors` is the new count.
    event ApplicationSponsored(address indexed candidate, address indexed sponsor, uint16 sponsors);
    /// @notice Fires when a founder is seeded or an applicant is admitted (by sponsors or council).
    event MemberAdmitted(address indexed member, AdmissionPath path);
    /// @notice Fires when a member or applicant publishes its profile (at application or later).
    /// @dev The profile replaces the previous one entirely, so an indexer keeps only the latest.
    event ProfileUpdated(address indexed member, Profile profile);
    /// @notice Fires when the council suspends an active member.
    event MemberSuspended(address indexed member);
    /// @notice Fires when the council reinstates a suspended member.
    event MemberReinstated(address indexed member);
    /// @notice Fires when the council expels a member; all its keys die with the membership.
    event MemberExpelled(address indexed member);
    /// @notice Fires when a member leaves; all its keys die with the membership.
    event MemberLeft(address indexed member);
    /// @notice Fires when a member's admin authorises an operational key.
    event KeyAdded(address indexed member, address indexed key, uint8 roles);
    /// @notice Fires when a member's admin revokes an operational key (also as half of a rotation).
    event KeyRevoked(address indexed member, address indexed key);
    /// @notice Fires when an admin proposes a new admin (`proposed` = 0 cancels the handover).
    event AdminHandoverProposed(address indexed member, address indexed current, address indexed proposed);
    /// @notice Fires when the proposed admin accepts and takes over the member.
    event AdminChanged(address indexed member, address indexed previous, address indexed current);
    /// @notice Fires when the council gives or takes a council seat (also for founders at deployment).
    event CouncilSeatChanged(address indexed member, bool seated, uint16 councilSize);
    /// @notice Fires when the number of approvals a proposal needs changes (also at deployment).
    event CouncilThresholdChanged(uint16 threshold);
    /// @notice Fires when the number of sponsors that admit a candidate changes (also at deployment).
    event SponsorsRequiredChanged(uint16 sponsorsRequired);
    /// @notice Fires when a council member proposes a call; the proposer's approval is counted.
    event ProposalCreated(
        uint256 indexed proposalId, address indexed proposer, address indexed target, bytes data, uint40 expiresAt
    );
    /// @notice Fires when a council member approves a proposal; `approvals` is the new count.
    event ProposalApproved(uint256 indexed proposalId, address indexed member, uint16 approvals);
    /// @notice Fires when an approved proposal's call has been performed successfully.
    event ProposalExecuted(uint256 indexed proposalId, bytes returnData);

    // --- views ------------------------------------------------------------------------------------
    // The seams the other contracts read (isActive, memberOf, isQuoteSigner, isActiveQuoteSigner,
    // activeOracleMember, arbiter) are declared on IMembership.

    /// @notice Whether a key may sign and submit SLA reports for a member: its admin or an oracle key.
    /// @param member the member id
    /// @param key the submitting address
    /// @return allowed true when `key` reports for `member` (suspended members included)
    function isOracle(address member, address key) external view returns (bool allowed);

    /// @notice Whether a member holds a council seat and is active (only those vote).
    /// @param member the member id
    /// @return seated true when `member` is an active council member
    function isCouncil(address member) external view returns (bool seated);

    /// @notice The stored record of an address.
    /// @param account any address
    /// @return member its status, admin, council seat and membership epoch (zero when never seen)
    function memberInfo(address account) external view returns (Member memory member);

    /// @notice The member a key acts for, and its roles.
    /// @param key any address
    /// @return member the member `key` acts for, or address(0)
    /// @return roles its RegistryRoles flags (ROLE_ADMIN for an admin), or 0
    function keyOf(address key) external view returns (address member, uint8 roles);

    /// @notice The candidate's current (or last) application.
    /// @param candidate the applicant
    /// @return application its expiry, sponsorship count and round
    function applicationOf(address candidate) external view returns (Application memory application);

    /// @notice Whether a member sponsored the candidate's current application.
    /// @param candidate the applicant
    /// @param sponsorMember the sponsoring member
    /// @return sponsored true when `sponsorMember` sponsored the current round
    function hasSponsored(address candidate, address sponsorMember) external view returns (bool sponsored);

    /// @notice The admin a member proposed as its successor.
    /// @param member the member id
    /// @return proposed the pending admin, or address(0)
    function pendingAdmin(address member) external view returns (address proposed);

    /// @notice A council proposal and the hash of its calldata.
    /// @param proposalId the proposal id (1..proposalCount())
    /// @return proposal the stored proposal (zero when unknown)
    /// @return dataHash keccak256 of the calldata the registry calls its target with
    function proposalOf(uint256 proposalId) external view returns (Proposal memory proposal, bytes32 dataHash);

    /// @notice Whether a council member approved a proposal.
    /// @param proposalId the proposal id
    /// @param member the council member
    /// @return approved true when `member` approved `proposalId`
    function hasApproved(uint256 proposalId, address member) external view returns (bool approved);

    /// @notice The number of proposals ever made; ids run from 1 to this.
    /// @return count the number of proposals
    function proposalCount() external view returns (uint256 count);

    /// @notice The council's and the admission's parameters.
    /// @return councilSize voting council seats (seated members that are active)
    /// @return councilThreshold approvals that execute a proposal
    /// @return sponsorsRequired sponsorships that admit an applicant
    /// @return applicationTtl seconds an application stays open
    /// @return councilEpoch moves whenever the set of voting council members changes
    function parameters()
        external
        view
        returns (
            uint16 councilSize,
            uint16 councilThreshold,
            uint16 sponsorsRequired,
            uint32 applicationTtl,
            uint32 councilEpoch
        );

    /// @notice The version of this contract's interface.
    /// @return semver the version string
    function version() external pure returns (string memory semver);

    // --- admission ---------------------------------------------------------------------------------

    /// @notice The caller applies for membership with its profile; it becomes the member's admin
    /// when admitted. A member that left may apply again; an expired application may be renewed.
    /// @dev Named `applyToJoin` because `apply` is a reserved word in Solidity.
    /// @param profile the applicant's public profile (published in `ProfileUpdated`)
    function applyToJoin(Profile calldata profile) external;

    /// @notice An active member's admin sponsors a candidate (one vote per member per application);
    /// the candidate is admitted when the votes reach the required number of sponsors.
    /// @param candidate the applicant
    function sponsor(address candidate) external;

    // --- members and keys --------------------------------------------------------------------------

    /// @notice The member's admin publishes a new profile (replaces the previous one).
    /// @param profile the new profile
    function updateProfile(Profile calldata profile) external;

    /// @notice The member's admin ends an active membership; every key of the member stops
    /// resolving. A suspended member cannot leave (it would escape the council's decision).
    function leave() external;

    /// @notice The member's admin authorises an operational key.
    /// @param key the new key: never a member, applicant or another member's key
    /// @param roles RegistryRoles.QUOTE, ORACLE or both
    function addKey(address key, uint8 roles) external;

    /// @notice The member's admin revokes one of its operational keys.
    /// @param key the key to revoke
    function revokeKey(address key) external;

    /// @notice The member's admin replaces an operational key by another with the same roles, atomically.
    /// @param oldKey the key to revoke
    /// @param newKey the key that takes its roles
    function rotateKey(address oldKey, address newKey) external;

    /// @notice The member's admin names its successor; nothing changes until the successor accepts.
    /// @param newAdmin the successor (address(0) cancels a pending handover)
    function proposeAdmin(address newAdmin) external;

    /// @notice The proposed admin of a member takes over; the previous admin key stops resolving.
    /// @param member the member whose admin the caller was proposed as
    function acceptAdmin(address member) external;

    // --- council -----------------------------------------------------------------------------------

    /// @notice A council member proposes that the registry calls a target with some calldata (the
    /// registry itself for its council-only functions); counts as the proposer's approval, and runs
    /// the call at once when one approval is the threshold. Only the calldata's hash is stored.
    /// @param target the contract to call
    /// @param data the calldata
    /// @return proposalId the new proposal's id
    function propose(address target, bytes calldata data) external returns (uint256 proposalId);

    /// @notice A council member approves; the call is made from the calldata passed here as soon
    /// as the threshold is reached.
    /// @param proposalId the proposal to approve
    /// @param data the proposal's calldata (from ProposalCreated; its hash must match)
    function approve(uint256 proposalId, bytes calldata data) external;

    /// @notice A council member executes a proposal that has enough approvals but was not executed
    /// yet (e.g. after the threshold was lowered).
    /// @param proposalId the proposal to execute
    /// @param data the proposal's calldata (its hash must match)
    function execute(uint256 proposalId, bytes calldata data) external;

    // --- council-only (callable only by the registry executing an approved proposal) ----------------

    /// @notice Admits a pending, unexpired applicant.
    /// @param candidate the applicant
    function admit(address candidate) external;

    /// @notice Suspends an active member: it stays a member but `isActive` is false; a suspended
    /// council seat stops voting (refused if the voting seats would fall below the threshold).
    /// @param member the member to suspend
    function suspend(address member) external;

    /// @notice Reinstates a suspended member.
    /// @param member the member to reinstate
    function reinstate(address member) external;

    /// @notice Expels an active or suspended member for good.
    /// @param member the member to expel
    function expel(address member) external;

    /// @notice Gives or takes a council seat.
    /// @param member an active member (to seat) or a seated member (to unseat)
    /// @param seated true to give the seat, false to take it
    function setCouncilSeat(address member, bool seated) external;

    /// @notice Sets how many council approvals execute a proposal.
    /// @param threshold 1..council size
    function setCouncilThreshold(uint16 threshold) external;

    /// @notice Sets how many sponsors admit a candidate.
    /// @param sponsorsRequired at least 1
    function setSponsorsRequired(uint16 sponsorsRequired) external;
}
