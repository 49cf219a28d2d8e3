"""Typed access to CarrierRegistry: every call and view, and the keys products and countries go by.

The registry keeps on chain only what contracts decide on (status, keys, council); each member's
profile (name, Sonata URL, products, coverage) lives in `ProfileUpdated` events, which the indexer
(`offnet.indexer`) projects into a queryable directory.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum, IntFlag
from typing import Any

from eth_utils import keccak, to_checksum_address

from offnet.chain import ContractClient, Receipt, Sender
from offnet.chain.tx import call

# MEF LSO Sonata product specification of the Access E-Line OVC (the product offnet trades first).
ACCESS_ELINE_URN = "urn:mef:lso:spec:sonata:access-eline-ovc:v5.0.0:all"

_COUNTRY = re.compile(r"^[A-Z]{2}$")


def product_key(urn: str) -> bytes:
    """The bytes32 key of a MEF product spec URN: keccak-256 of its UTF-8 text."""
    if not urn:
        raise ValueError("a product spec URN cannot be empty")
    return keccak(text=urn)


ACCESS_ELINE = product_key(ACCESS_ELINE_URN)

# Short names people type and read for the MEF product specifications offnet trades.
PRODUCT_ALIASES = {"access-eline": ACCESS_ELINE_URN}
PRODUCT_NAMES = {product_key(urn): alias for alias, urn in PRODUCT_ALIASES.items()}


def product_of(text: str) -> tuple[str, bytes]:
    """A product alias (access-eline) or MEF spec URN -> (URN, on-chain key); ValueError otherwise."""
    urn = PRODUCT_ALIASES.get(text.strip().lower(), text.strip())
    if ":" not in urn:
        raise ValueError(f"unknown product {text!r}: use {', '.join(PRODUCT_ALIASES)} or a MEF spec URN")
    return urn, product_key(urn)


def product_name(key: bytes) -> str:
    """A product key as people read it: its alias, else its 0x hex."""
    return PRODUCT_NAMES.get(bytes(key), "0x" + bytes(key).hex())


def country_code(code: str | bytes) -> bytes:
    """An ISO 3166-1 alpha-2 country code as the two ASCII bytes stored on chain ("FR" -> b"FR")."""
    text = code.decode("ascii") if isinstance(code, bytes) else code
    text = text.upper()
    if not _COUNTRY.match(text):
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    return text.encode("ascii")


def country_text(code: bytes) -> str:
    """The two-letter text of an on-chain bytes2 country code."""
    return bytes(code).decode("ascii")


def location_key(location: str) -> bytes:
    """A bytes32 key for a finer location (a metro, a site id): keccak-256 of its text."""
    return keccak(text=location)


class MemberStatus(IntEnum):
    """ICarrierRegistry.MemberStatus."""

    NONE = 0
    APPLICANT = 1
    ACTIVE = 2
    SUSPENDED = 3
    LEFT = 4
    EXPELLED = 5


class AdmissionPath(IntEnum):
    """ICarrierRegistry.AdmissionPath."""

    FOUNDER = 0
    SPONSORS = 1
    COUNCIL = 2


class Role(IntFlag):
    """What a key may do for its member (RegistryRoles)."""

    QUOTE = 1
    ORACLE = 2
    ADMIN = 4


# --- value types ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """A member's public profile, as published in `ProfileUpdated`."""

    name: str
    sonata_url: str
    products: tuple[bytes, ...] = ()
    countries: tuple[str, ...] = ()
    locations: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "products", tuple(bytes(p) for p in self.products))
        object.__setattr__(self, "countries", tuple(country_text(country_code(c)) for c in self.countries))
        object.__setattr__(self, "locations", tuple(bytes(loc) for loc in self.locations))

    def as_abi(self) -> tuple:
        """The ICarrierRegistry.Profile tuple for a contract call."""
        return (
            self.name,
            self.sonata_url,
            list(self.products),
            [country_code(c) for c in self.countries],
            list(self.locations),
        )

    @classmethod
    def from_abi(cls, value: Any) -> Profile:
        """Build from a decoded Profile tuple (a dict with names or a plain tuple)."""
        if isinstance(value, dict) or hasattr(value, "keys"):
            value = tuple(value[k] for k in ("name", "sonataUrl", "products", "countries", "locations"))
        name, url, products, countries, locations = value
        return cls(name, url, tuple(products), tuple(country_text(c) for c in countries), tuple(locations))


@dataclass(frozen=True)
class MemberInfo:
    """The stored record of an address (ICarrierRegistry.Member)."""

    admin: str
    status: MemberStatus
    council: bool
    epoch: int


@dataclass(frozen=True)
class ApplicationInfo:
    """A candidate's current or last application (ICarrierRegistry.Application)."""

    expires_at: int
    sponsors: int
    round: int


@dataclass(frozen=True)
class ProposalInfo:
    """A council proposal: what is stored (the calldata's hash) and its calldata (from ProposalCreated)."""

    proposal_id: int
    target: str
    expires_at: int
    approvals: int
    executed: bool
    council_epoch: int
    data_hash: bytes
    data: bytes


@dataclass(frozen=True)
class Parameters:
    """The registry's governance parameters."""

    council_size: int
    council_threshold: int
    sponsors_required: int
    application_ttl: int
    council_epoch: int


# --- the client -----------------------------------------------------------------------------------


class RegistryClient(ContractClient):
    """Every CarrierRegistry call, typed: views return dataclasses, transactions take a Sender."""

    CONTRACT = "CarrierRegistry"

    @classmethod
    def deploy(
        cls,
        sender: Sender,
        founders: Sequence[str],
        council: Sequence[str],
        *,
        council_threshold: int,
        sponsors_required: int,
        application_ttl: int,
        gas: int | None = None,
    ) -> tuple[RegistryClient, Receipt]:
        """Deploy a registry seeded with `founders`, of which `council` hold seats."""
        return cls._deploy(
            sender,
            [to_checksum_address(f) for f in founders],
            [to_checksum_address(c) for c in council],
            council_threshold,
            sponsors_required,
            application_ttl,
            gas=gas,
        )

    # --- views: the seams ---------------------------------------------------------------------

    def is_active(self, member: str) -> bool:
        return call(self.contract.functions.isActive(member))

    def member_of(self, key: str) -> str | None:
        """The member `key` acts for, or None."""
        member = call(self.contract.functions.memberOf(key))
        return None if int(member, 16) == 0 else member

    def is_quote_signer(self, member: str, key: str) -> bool:
        return call(self.contract.functions.isQuoteSigner(member, key))

    def is_oracle(self, member: str, key: str) -> bool:
        return call(self.contract.functions.isOracle(member, key))

    def is_council(self, member: str) -> bool:
        return call(self.contract.functions.isCouncil(member))

    def version(self) -> str:
        return call(self.contract.functions.version())

    # --- views: state -------------------------------------------------------------------------

    def member_info(self, account: str) -> MemberInfo:
        admin, status, council, epoch = call(self.contract.functions.memberInfo(account))
        return MemberInfo(admin=admin, status=MemberStatus(status), council=council, epoch=epoch)

    def key_of(self, key: str) -> tuple[str | None, Role]:
        """The member `key` acts for and its roles, or (None, Role(0))."""
        member, roles = call(self.contract.functions.keyOf(key))
        return (None if int(member, 16) == 0 else member), Role(roles)

    def application(self, candidate: str) -> ApplicationInfo:
        expires_at, sponsors, round_ = call(self.contract.functions.applicationOf(candidate))
        return ApplicationInfo(expires_at=expires_at, sponsors=sponsors, round=round_)

    def has_sponsored(self, candidate: str, sponsor_member: str) -> bool:
        return call(self.contract.functions.hasSponsored(candidate, sponsor_member))

    def pending_admin(self, member: str) -> str | None:
        pending = call(self.contract.functions.pendingAdmin(member))
        return None if int(pending, 16) == 0 else pending

    def proposal(self, proposal_id: int) -> ProposalInfo:
        stored, data_hash = call(self.contract.functions.proposalOf(proposal_id))
        target, expires_at, approvals, executed, council_epoch = stored
        data = self.proposal_data(proposal_id) if int(target, 16) else b""
        return ProposalInfo(
            proposal_id, target, expires_at, approvals, executed, council_epoch, bytes(data_hash), data
        )

    def proposal_data(self, proposal_id: int) -> bytes:
        """The calldata of a proposal, from its ProposalCreated event (the registry stores its hash only)."""
        created = self.logs("ProposalCreated", proposalId=proposal_id)
        if not created:
            raise LookupError(f"no proposal {proposal_id} was created on this registry")
        return bytes(created[0]["args"]["data"])

    def has_approved(self, proposal_id: int, member: str) -> bool:
        return call(self.contract.functions.hasApproved(proposal_id, member))

    def proposal_count(self) -> int:
        return call(self.contract.functions.proposalCount())

    def parameters(self) -> Parameters:
        return Parameters(*call(self.contract.functions.parameters()))

    def proposal_lifetime(self) -> int:
        return call(self.contract.functions.PROPOSAL_LIFETIME())

    # --- transactions: admission, members, keys -------------------------------------------------

    def apply(self, sender: Sender, profile: Profile) -> Receipt:
        """Apply for membership as `sender` (the future admin and member id)."""
        return sender.transact(self.contract.functions.applyToJoin(profile.as_abi()))

    def sponsor(self, sender: Sender, candidate: str) -> Receipt:
        return sender.transact(self.contract.functions.sponsor(candidate))

    def update_profile(self, sender: Sender, profile: Profile) -> Receipt:
        return sender.transact(self.contract.functions.updateProfile(profile.as_abi()))

    def leave(self, sender: Sender) -> Receipt:
        return sender.transact(self.contract.functions.leave())

    def add_key(self, sender: Sender, key: str, roles: Role) -> Receipt:
        return sender.transact(self.contract.functions.addKey(key, int(roles)))

    def revoke_key(self, sender: Sender, key: str) -> Receipt:
        return sender.transact(self.contract.functions.revokeKey(key))

    def rotate_key(self, sender: Sender, old_key: str, new_key: str) -> Receipt:
        return sender.transact(self.contract.functions.rotateKey(old_key, new_key))

    def propose_admin(self, sender: Sender, new_admin: str | None) -> Receipt:
        """Name the member's next admin (None cancels a pending handover)."""
        return sender.transact(self.contract.functions.proposeAdmin(new_admin or "0x" + "00" * 20))

    def accept_admin(self, sender: Sender, member: str) -> Receipt:
        return sender.transact(self.contract.functions.acceptAdmin(member))

    # --- transactions: council ----------------------------------------------------------------

    def propose(self, sender: Sender, target: str, data: bytes | str) -> tuple[int, Receipt]:
        """Propose that the registry calls `target` with `data`; returns the proposal id."""
        receipt = sender.transact(self.contract.functions.propose(target, data))
        created = [e for e in self.emitted(receipt) if e.name == "ProposalCreated"]
        return created[0].args["proposalId"], receipt

    def approve(self, sender: Sender, proposal_id: int, data: bytes | None = None) -> Receipt:
        """Approve a proposal; its calldata (read from ProposalCreated unless given) travels with the
        approval, and the call runs at once when the threshold is reached."""
        data = self.proposal_data(proposal_id) if data is None else data
        return sender.transact(self.contract.functions.approve(proposal_id, data))

    def execute(self, sender: Sender, proposal_id: int, data: bytes | None = None) -> Receipt:
        """Execute an approved proposal that did not run yet (its calldata as for `approve`)."""
        data = self.proposal_data(proposal_id) if data is None else data
        return sender.transact(self.contract.functions.execute(proposal_id, data))

    def council_call(self, function: str, *args: Any) -> bytes:
        """Calldata of one of the registry's council-only functions, for `propose(registry, data)`."""
        return bytes.fromhex(self.contract.encode_abi(function, args=list(args))[2:])

    def propose_to_registry(self, sender: Sender, function: str, *args: Any) -> tuple[int, Receipt]:
        """Propose a call of the registry's own council-only `function` (admit, suspend, ...)."""
        return self.propose(sender, self.address, self.council_call(function, *args))

    def propose_admit(self, sender: Sender, candidate: str) -> tuple[int, Receipt]:
        return self.propose_to_registry(sender, "admit", candidate)

    def propose_suspend(self, sender: Sender, member: str) -> tuple[int, Receipt]:
        return self.propose_to_registry(sender, "suspend", member)

    def propose_reinstate(self, sender: Sender, member: str) -> tuple[int, Receipt]:
        return self.propose_to_registry(sender, "reinstate", member)

    def propose_expel(self, sender: Sender, member: str) -> tuple[int, Receipt]:
        return self.propose_to_registry(sender, "expel", member)

    def propose_council_seat(self, sender: Sender, member: str, seated: bool) -> tuple[int, Receipt]:
        return self.propose_to_registry(sender, "setCouncilSeat", member, seated)

    def propose_council_threshold(self, sender: Sender, threshold: int) -> tuple[int, Receipt]:
        return self.propose_to_registry(sender, "setCouncilThreshold", threshold)

    def propose_sponsors_required(self, sender: Sender, sponsors_required: int) -> tuple[int, Receipt]:
        return self.propose_to_registry(sender, "setSponsorsRequired", sponsors_required)
