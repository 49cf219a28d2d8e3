// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.29;

import {ICarrierRegistry} from "./interfaces/ICarrierRegistry.sol";
import {IMembership} from "./interfaces/IMembership.sol";
import {RegistryRoles} from "./libraries/RegistryRoles.sol";

/// @title CarrierRegistry
/// @notice The circle of trust: who is a member, which keys act for it, and the m-of-n council
/// that admits, suspends and expels members and executes rulings on the other offnet contracts.
/// @dev Storage holds only what contracts decide on (status, keys, council seats, votes); profiles
/// live in events. Nothing loops over members, so every operation costs the same with ten members
/// or ten thousand.
contract CarrierRegistry is ICarrierRegistry {
    /// @notice How long a council proposal can gather approvals.
    uint40 public constant PROPOSAL_LIFETIME = 7 days;
    /// @notice Role flag of a quote-signing key.
    uint8 public constant ROLE_QUOTE = RegistryRoles.QUOTE;
    /// @notice Role flag of an oracle key (signs and submits SLA reports).
    uint8 public constant ROLE_ORACLE = RegistryRoles.ORACLE;
    /// @notice Role flag of an admin key (reported by `keyOf` for a handed-over admin).
    uint8 public constant ROLE_ADMIN = RegistryRoles.ADMIN;

    // --- storage -----------------------------------------------------------------------------------

    mapping(address member => Member) private _members;
    mapping(address candidate => Application) private _applications;
    /// @dev The application round a sponsor last sponsored; equal to the current round = voted.
    mapping(address candidate => mapping(address sponsor => uint32 round)) private _sponsorships;
    mapping(address key => Key) private _keys;
    mapping(address member => address proposed) private _pendingAdmins;
    mapping(uint256 proposalId => Proposal) private _proposals;
    /// @dev keccak256 of the proposal's calldata: the data itself travels in calldata and events.
    mapping(uint256 proposalId => bytes32 dataHash) private _proposalHashes;
    mapping(uint256 proposalId => mapping(address member => bool approved)) private _approvals;
    uint256 private _proposalCount;
    /// @dev Voting seats: seats whose member is active (a suspended seat holder votes again once reinstated).
    uint16 private _councilSize;
    uint16 private _councilThreshold;
    uint16 private _sponsorsRequired;
    uint32 private _applicationTtl;
    uint32 private _councilEpoch;

    // --- caller checks -----------------------------------------------------------------------------
    // Every check of who may call is a modifier; functions that act for the caller's member
    // resolve it with `_callerAdmin()` / `_callerCouncil()`, which revert the same way.

    /// @dev Council-only functions run only inside `_execute`, where the registry calls itself.
    modifier onlyCouncilExecution() {
        if (msg.sender != address(this)) revert RegistryOnlyCouncilExecution(msg.sender);
        _;
    }

    /// @dev The caller must be the admin `member` proposed as its successor.
    modifier onlyPendingAdmin(address member) {
        if (msg.sender == address(0) || _pendingAdmins[member] != msg.sender) {
            revert RegistryNotPendingAdmin(member, msg.sender);
        }
        _;
    }

    // --- construction ------------------------------------------------------------------------------

    /// @param founders the founding members (each its own first admin)
    /// @param council the founders that hold a council seat
    /// @param councilThreshold approvals that execute a proposal (1..council.length)
    /// @param sponsorsRequired sponsorships that admit an applicant (at least 1)
    /// @param applicationTtl seconds an application stays open
    constructor(
        address[] memory founders,
        address[] memory council,
        uint16 councilThreshold,
        uint16 sponsorsRequired,
        uint32 applicationTtl
    ) {
        if (
            founders.length == 0 || council.length == 0 || council.length > type(uint16).max || councilThreshold == 0
                || councilThreshold > council.length || sponsorsRequired == 0 || applicationTtl == 0
        ) {
            revert RegistryInvalidSetup(
                founders.length, council.length, councilThreshold, sponsorsRequired, applicationTtl
            );
        }
        // Bounded by the deployer's own input, run once: the only loops of the contract.
        for (uint256 i; i < founders.length; ++i) {
            address founder = founders[i];
            Member storage m = _members[founder];
            if (founder == address(0) || m.status != MemberStatus.None) revert RegistryInvalidFounder(i, founder);
            m.admin = founder;
            m.status = MemberStatus.Active;
            emit MemberAdmitted(founder, AdmissionPath.Founder);
        }
        for (uint256 i; i < council.length; ++i) {
            Member storage m = _members[council[i]];
            if (m.status != MemberStatus.Active || m.council) revert RegistryInvalidCouncilSeat(council[i]);
            m.council = true;
            // Cannot overflow: council.length <= type(uint16).max was checked above.
            emit CouncilSeatChanged(council[i], true, uint16(i + 1));
        }
        _councilSize = uint16(council.length);
        _councilThreshold = councilThreshold;
        _sponsorsRequired = sponsorsRequired;
        _applicationTtl = applicationTtl;
        emit CouncilThresholdChanged(councilThreshold);
        emit SponsorsRequiredChanged(sponsorsRequired);
    }

    // --- views: the seams --------------------------------------------------------------------------

    /// @inheritdoc IMembership
    function isActive(address member) external view returns (bool) {
        return _members[member].status == MemberStatus.Active;
    }

    /// @inheritdoc IMembership
    function canAward(address buyer, address provider, address signer) external view returns (bool) {
        if (_members[buyer].status != MemberStatus.Active) return false;
        (address owner, uint8 roles) = _resolve(signer);
        return owner != address(0) && owner == provider && RegistryRoles.canQuote(roles)
            && _members[owner].status == MemberStatus.Active;
    }

    /// @inheritdoc IMembership
    function memberOf(address key) external view returns (address member) {
        (member,) = _resolve(key);
    }

    /// @inheritdoc IMembership
    function isQuoteSigner(address member, address key) external view returns (bool) {
        (address owner, uint8 roles) = _resolve(key);
        return owner != address(0) && owner == member && RegistryRoles.canQuote(roles);
    }

    /// @inheritdoc ICarrierRegistry
    function isOracle(address member, address key) external view returns (bool) {
        (address owner, uint8 roles) = _resolve(key);
        return owner != address(0) && owner == member && RegistryRoles.canReport(roles);
    }

    /// @inheritdoc IMembership
    function activeOracleMember(address key) external view returns (address member) {
        (address owner, uint8 roles) = _resolve(key);
        if (owner != address(0) && RegistryRoles.canReport(roles) && _members[owner].status == MemberStatus.Active) {
            return owner;
        }
        return address(0);
    }

    /// @inheritdoc IMembership
    function isActiveQuoteSigner(address member, address key) external view returns (bool) {
        (address owner, uint8 roles) = _resolve(key);
        return owner != address(0) && owner == member && RegistryRoles.canQuote(roles)
            && _members[owner].status == MemberStatus.Active;
    }

    /// @inheritdoc ICarrierRegistry
    function isCouncil(address member) public view returns (bool) {
        Member storage m = _members[member];
        return m.council && m.status == MemberStatus.Active;
    }

    /// @inheritdoc IMembership
    function arbiter() external view returns (address) {
        return address(this);
    }

    /// @inheritdoc ICarrierRegistry
    function version() external pure returns (string memory) {
        return "1.0.0";
    }

    // --- views: state ------------------------------------------------------------------------------

    /// @inheritdoc ICarrierRegistry
    function memberInfo(address account) external view returns (Member memory) {
        return _members[account];
    }

    /// @inheritdoc ICarrierRegistry
    function keyOf(address key) external view returns (address member, uint8 roles) {
        return _resolve(key);
    }

    /// @inheritdoc ICarrierRegistry
    function applicationOf(address candidate) external view returns (Application memory) {
        return _applications[candidate];
    }

    /// @inheritdoc ICarrierRegistry
    function hasSponsored(address candidate, address sponsorMember) external view returns (bool) {
        uint32 round = _applications[candidate].round;
        return round != 0 && _sponsorships[candidate][sponsorMember] == round;
    }

    /// @inheritdoc ICarrierRegistry
    function pendingAdmin(address member) external view returns (address) {
        return _pendingAdmins[member];
    }

    /// @inheritdoc ICarrierRegistry
    function proposalOf(uint256 proposalId) external view returns (Proposal memory proposal, bytes32 dataHash) {
        return (_proposals[proposalId], _proposalHashes[proposalId]);
    }

    /// @inheritdoc ICarrierRegistry
    function hasApproved(uint256 proposalId, address member) external view returns (bool) {
        return _approvals[proposalId][member];
    }

    /// @inheritdoc ICarrierRegistry
    function proposalCount() external view returns (uint256) {
        return _proposalCount;
    }

    /// @inheritdoc ICarrierRegistry
    function parameters()
        external
        view
        returns (
            uint16 councilSize,
            uint16 councilThreshold,
            uint16 sponsorsRequired,
            uint32 applicationTtl,
            uint32 councilEpoch
        )
    {
        return (_councilSize, _councilThreshold, _sponsorsRequired, _applicationTtl, _councilEpoch);
    }

    // --- admission ---------------------------------------------------------------------------------

    /// @inheritdoc ICarrierRegistry
    function applyToJoin(Profile calldata profile) external {
        address candidate = msg.sender;
        Member storage m = _members[candidate];
        Application storage a = _applications[candidate];
        MemberStatus status = m.status;
        bool renewable = status == MemberStatus.None || status == MemberStatus.Left
            || (status == MemberStatus.Applicant && a.expiresAt <= block.timestamp);
        if (!renewable) revert RegistryCannotApply(candidate, status);
        (address owner,) = _resolve(candidate);
        if (owner != address(0)) revert RegistryKeyInUse(candidate, owner);
        _checkProfile(profile);

        uint32 round = a.round + 1;
        uint40 expiresAt = uint40(block.timestamp) + _applicationTtl;
        m.status = MemberStatus.Applicant;
        a.round = round;
        a.expiresAt = expiresAt;
        a.sponsors = 0;
        emit ApplicationFiled(candidate, round, expiresAt);
        emit ProfileUpdated(candidate, profile);
    }

    /// @inheritdoc ICarrierRegistry
    function sponsor(address candidate) external {
        address sponsorMember = _callerAdmin();
        MemberStatus sponsorStatus = _members[sponsorMember].status;
        if (sponsorStatus != MemberStatus.Active) revert RegistryMemberNotActive(sponsorMember, sponsorStatus);
        Application storage a = _openApplication(candidate);
        uint32 round = a.round;
        if (_sponsorships[candidate][sponsorMember] == round) {
            revert RegistryAlreadySponsored(candidate, sponsorMember);
        }

        _sponsorships[candidate][sponsorMember] = round;
        uint16 sponsors = a.sponsors + 1;
        a.sponsors = sponsors;
        emit ApplicationSponsored(candidate, sponsorMember, sponsors);
        if (sponsors >= _sponsorsRequired) _admit(candidate, AdmissionPath.Sponsors);
    }

    // --- members and keys --------------------------------------------------------------------------

    /// @inheritdoc ICarrierRegistry
    function updateProfile(Profile calldata profile) external {
        address member = _callerAdmin();
        _checkProfile(profile);
        emit ProfileUpdated(member, profile);
    }

    /// @inheritdoc ICarrierRegistry
    function leave() external {
        address member = _callerAdmin();
        // A suspended member cannot leave into a state it could apply again from.
        MemberStatus status = _members[member].status;
        if (status != MemberStatus.Active) revert RegistryMemberNotActive(member, status);
        _endMembership(member, MemberStatus.Left);
        emit MemberLeft(member);
    }

    /// @inheritdoc ICarrierRegistry
    function addKey(address key, uint8 roles) external {
        address member = _callerAdmin();
        _addKey(member, key, roles);
    }

    /// @inheritdoc ICarrierRegistry
    function revokeKey(address key) external {
        address member = _callerAdmin();
        _revokeKey(member, key);
    }

    /// @inheritdoc ICarrierRegistry
    function rotateKey(address oldKey, address newKey) external {
        address member = _callerAdmin();
        uint8 roles = _revokeKey(member, oldKey);
        _addKey(member, newKey, roles);
    }

    /// @inheritdoc ICarrierRegistry
    function proposeAdmin(address newAdmin) external {
        address member = _callerAdmin();
        if (newAdmin != address(0)) _checkAdminCandidate(member, newAdmin);
        _pendingAdmins[member] = newAdmin;
        emit AdminHandoverProposed(member, msg.sender, newAdmin);
    }

    /// @inheritdoc ICarrierRegistry
    function acceptAdmin(address member) external onlyPendingAdmin(member) {
        Member storage m = _members[member];
        if (!_isCurrent(m.status)) revert RegistryNotMember(member, m.status);
        // The key may have been taken since the proposal: check again.
        _checkAdminCandidate(member, msg.sender);

        address previous = m.admin;
        // The member's own address needs no key record: it resolves through `_members`.
        if (previous != member) delete _keys[previous];
        if (msg.sender != member) _keys[msg.sender] = Key(member, RegistryRoles.ADMIN, m.epoch);
        m.admin = msg.sender;
        delete _pendingAdmins[member];
        emit AdminChanged(member, previous, msg.sender);
    }

    // --- council -----------------------------------------------------------------------------------

    /// @inheritdoc ICarrierRegistry
    function propose(address target, bytes calldata data) external returns (uint256 proposalId) {
        address member = _callerCouncil();
        if (target != address(this) && target.code.length == 0) revert RegistryInvalidTarget(target);
        // Cannot overflow: one proposal per transaction.
        unchecked {
            proposalId = ++_proposalCount;
        }
        uint40 expiresAt = uint40(block.timestamp) + PROPOSAL_LIFETIME;
        _proposals[proposalId] = Proposal(target, expiresAt, 1, false, _councilEpoch);
        _proposalHashes[proposalId] = keccak256(data);
        _approvals[proposalId][member] = true;
        emit ProposalCreated(proposalId, member, target, data, expiresAt);
        emit ProposalApproved(proposalId, member, 1);
        if (_councilThreshold <= 1) _execute(proposalId, target, data);
    }

    /// @inheritdoc ICarrierRegistry
    function approve(uint256 proposalId, bytes calldata data) external {
        address member = _callerCouncil();
        Proposal storage p = _openProposal(proposalId, data);
        if (_approvals[proposalId][member]) revert RegistryAlreadyApproved(proposalId, member);
        _approvals[proposalId][member] = true;
        uint16 approvals = p.approvals + 1;
        p.approvals = approvals;
        emit ProposalApproved(proposalId, member, approvals);
        if (approvals >= _councilThreshold) _execute(proposalId, p.target, data);
    }

    /// @inheritdoc ICarrierRegistry
    function execute(uint256 proposalId, bytes calldata data) external {
        _callerCouncil();
        Proposal storage p = _openProposal(proposalId, data);
        uint16 threshold = _councilThreshold;
        if (p.approvals < threshold) revert RegistryProposalNotApproved(proposalId, p.approvals, threshold);
        _execute(proposalId, p.target, data);
    }

    // --- council-only ------------------------------------------------------------------------------

    /// @inheritdoc ICarrierRegistry
    function admit(address candidate) external onlyCouncilExecution {
        _openApplication(candidate);
        _admit(candidate, AdmissionPath.Council);
    }

    /// @inheritdoc ICarrierRegistry
    function suspend(address member) external onlyCouncilExecution {
        Member storage m = _members[member];
        if (m.status != MemberStatus.Active) revert RegistryMemberNotActive(member, m.status);
        m.status = MemberStatus.Suspended;
        if (m.council) {
            // A suspended seat does not vote: the council must still reach its threshold without it.
            _councilSize = _shrunkCouncil(_councilSize);
            _councilChanged();
        }
        emit MemberSuspended(member);
    }

    /// @inheritdoc ICarrierRegistry
    function reinstate(address member) external onlyCouncilExecution {
        Member storage m = _members[member];
        if (m.status != MemberStatus.Suspended) revert RegistryMemberNotSuspended(member, m.status);
        m.status = MemberStatus.Active;
        if (m.council) {
            _councilSize += 1;
            _councilChanged();
        }
        emit MemberReinstated(member);
    }

    /// @inheritdoc ICarrierRegistry
    function expel(address member) external onlyCouncilExecution {
        _endMembership(member, MemberStatus.Expelled);
        emit MemberExpelled(member);
    }

    /// @inheritdoc ICarrierRegistry
    function setCouncilSeat(address member, bool seated) external onlyCouncilExecution {
        Member storage m = _members[member];
        if (m.council == seated) revert RegistryCouncilSeatUnchanged(member, seated);
        uint16 size = _councilSize;
        if (seated) {
            if (m.status != MemberStatus.Active) revert RegistryMemberNotActive(member, m.status);
            size += 1;
        } else if (m.status == MemberStatus.Active) {
            size = _shrunkCouncil(size); // a suspended seat does not count among the voting seats
        }
        m.council = seated;
        _councilSize = size;
        _councilChanged();
        emit CouncilSeatChanged(member, seated, size);
    }

    /// @inheritdoc ICarrierRegistry
    function setCouncilThreshold(uint16 threshold) external onlyCouncilExecution {
        if (threshold == 0 || threshold > _councilSize) revert RegistryInvalidThreshold(threshold, _councilSize);
        _councilThreshold = threshold;
        emit CouncilThresholdChanged(threshold);
    }

    /// @inheritdoc ICarrierRegistry
    function setSponsorsRequired(uint16 sponsorsRequired) external onlyCouncilExecution {
        if (sponsorsRequired == 0) revert RegistryInvalidSponsorsRequired(sponsorsRequired);
        _sponsorsRequired = sponsorsRequired;
        emit SponsorsRequiredChanged(sponsorsRequired);
    }

    // --- internals ---------------------------------------------------------------------------------

    /// @dev Active and suspended members are current: their keys resolve and their admin acts.
    function _isCurrent(MemberStatus status) private pure returns (bool) {
        return status == MemberStatus.Active || status == MemberStatus.Suspended;
    }

    /// @dev The member a key acts for, with its roles; a key registered under an older epoch of
    /// its member (the membership ended since) resolves to nobody.
    function _resolve(address key) private view returns (address member, uint8 roles) {
        Key memory k = _keys[key];
        if (k.member != address(0)) {
            Member storage owner = _members[k.member];
            if (owner.epoch == k.epoch && _isCurrent(owner.status)) return (k.member, k.roles);
        }
        Member storage own = _members[key];
        if (own.admin == key && _isCurrent(own.status)) return (key, RegistryRoles.ADMIN);
        return (address(0), 0);
    }

    /// @dev The member whose admin is the caller (active or suspended), or a revert.
    function _callerAdmin() private view returns (address member) {
        uint8 roles;
        (member, roles) = _resolve(msg.sender);
        if (member == address(0) || !RegistryRoles.isAdmin(roles)) revert RegistryNotMemberAdmin(msg.sender);
    }

    /// @dev The active council member whose admin is the caller, or a revert.
    function _callerCouncil() private view returns (address member) {
        (address owner, uint8 roles) = _resolve(msg.sender);
        if (owner == address(0) || !RegistryRoles.isAdmin(roles) || !isCouncil(owner)) {
            revert RegistryNotCouncil(msg.sender);
        }
        return owner;
    }

    function _openApplication(address candidate) private view returns (Application storage a) {
        MemberStatus status = _members[candidate].status;
        if (status != MemberStatus.Applicant) revert RegistryNoApplication(candidate, status);
        a = _applications[candidate];
        if (a.expiresAt <= block.timestamp) revert RegistryApplicationExpired(candidate, a.expiresAt);
    }

    /// @dev An open proposal whose calldata is `data`.
    function _openProposal(uint256 proposalId, bytes calldata data) private view returns (Proposal storage p) {
        p = _proposals[proposalId];
        if (p.target == address(0)) revert RegistryUnknownProposal(proposalId);
        bytes32 dataHash = keccak256(data);
        if (_proposalHashes[proposalId] != dataHash) revert RegistryProposalDataMismatch(proposalId, dataHash);
        if (p.executed) revert RegistryProposalAlreadyExecuted(proposalId);
        uint32 epoch = _councilEpoch;
        if (p.councilEpoch != epoch) revert RegistryProposalStale(proposalId, p.councilEpoch, epoch);
        if (p.expiresAt <= block.timestamp) revert RegistryProposalExpired(proposalId, p.expiresAt);
    }

    function _checkProfile(Profile calldata profile) private pure {
        uint256 nameLength = bytes(profile.name).length;
        uint256 urlLength = bytes(profile.sonataUrl).length;
        if (nameLength == 0 || urlLength == 0) revert RegistryProfileIncomplete(nameLength, urlLength);
    }

    /// @dev `newAdmin` may be the member's own address, one of its operational keys, or a fresh
    /// address that is nobody's key and was never a member or applicant.
    function _checkAdminCandidate(address member, address newAdmin) private view {
        if (newAdmin == member) return;
        MemberStatus status = _members[newAdmin].status;
        if (status != MemberStatus.None) revert RegistryKeyIsMember(newAdmin, status);
        (address owner,) = _resolve(newAdmin);
        if (owner != address(0) && owner != member) revert RegistryKeyInUse(newAdmin, owner);
    }

    function _addKey(address member, address key, uint8 roles) private {
        if (!RegistryRoles.isOperational(roles)) revert RegistryInvalidRoles(roles);
        if (key == address(0)) revert RegistryInvalidKey(key);
        MemberStatus status = _members[key].status;
        if (status != MemberStatus.None) revert RegistryKeyIsMember(key, status);
        (address owner,) = _resolve(key);
        if (owner != address(0)) revert RegistryKeyInUse(key, owner);
        _keys[key] = Key(member, roles, _members[member].epoch);
        emit KeyAdded(member, key, roles);
    }

    function _revokeKey(address member, address key) private returns (uint8 roles) {
        address owner;
        (owner, roles) = _resolve(key);
        if (owner != member || RegistryRoles.isAdmin(roles)) revert RegistryNotMemberKey(key, member);
        delete _keys[key];
        emit KeyRevoked(member, key);
    }

    function _admit(address candidate, AdmissionPath path) private {
        Member storage m = _members[candidate];
        m.status = MemberStatus.Active;
        m.admin = candidate;
        // The round stays: sponsorships of this application must never count again.
        Application storage a = _applications[candidate];
        a.expiresAt = 0;
        a.sponsors = 0;
        emit MemberAdmitted(candidate, path);
    }

    /// @dev Leaving and expulsion: the seat is given up (if the council can spare it), and the
    /// epoch moves on so every key of this membership stops resolving at once.
    function _endMembership(address member, MemberStatus finalStatus) private {
        Member storage m = _members[member];
        if (!_isCurrent(m.status)) revert RegistryNotMember(member, m.status);
        if (m.council) {
            uint16 size = _councilSize;
            if (m.status == MemberStatus.Active) size = _shrunkCouncil(size);
            m.council = false;
            _councilSize = size;
            _councilChanged();
            emit CouncilSeatChanged(member, false, size);
        }
        m.status = finalStatus;
        m.epoch += 1;
        delete _pendingAdmins[member];
    }

    /// @dev Open proposals go stale: their approvals were counted among another set of voters.
    function _councilChanged() private {
        _councilEpoch += 1;
    }

    /// @dev The number of voting seats after losing one; refuses to go below the threshold, so the
    /// council can always still pass a proposal (governance never locks itself).
    function _shrunkCouncil(uint16 size) private view returns (uint16) {
        uint16 threshold = _councilThreshold;
        if (size <= threshold) revert RegistryInvalidThreshold(threshold, size - 1);
        // Cannot underflow: size > threshold >= 1.
        unchecked {
            return size - 1;
        }
    }

    /// @dev Marks the proposal executed before the call (no re-entrant double execution), calls the
    /// target with the calldata the caller passed (its hash was checked), and bubbles a failed call
    /// up as RegistryProposalCallFailed, undoing the whole transaction.
    function _execute(uint256 proposalId, address target, bytes calldata data) private {
        _proposals[proposalId].executed = true;
        (bool ok, bytes memory returnData) = target.call(data);
        if (!ok) revert RegistryProposalCallFailed(proposalId, target, returnData);
        emit ProposalExecuted(proposalId, returnData);
    }
}
