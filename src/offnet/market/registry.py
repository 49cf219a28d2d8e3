"""Typed access to CarrierRegistry: every call, decoded events, and a member directory rebuilt from events.

The registry keeps on chain only what contracts decide on (status, keys, council); each member's
profile (name, Sonata URL, products, coverage) lives in `ProfileUpdated` events. `MemberDirectory`
replays the registry's events into an in-memory directory, incrementally and resumably, and
answers "which active members sell product P in country C" without one call per member.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, IntFlag
from typing import Any

from eth_utils import keccak, to_checksum_address
from web3._utils.events import get_event_data
from web3.contract import Contract

from offnet.chain import Chain, Receipt, Sender, load_artifact
from offnet.chain.tx import call

CONTRACT_NAME = "CarrierRegistry"

# MEF LSO Sonata product specification of the Access E-Line OVC (the product offnet trades first).
ACCESS_ELINE_URN = "urn:mef:lso:spec:sonata:access-eline-ovc:v5.0.0:all"

_COUNTRY = re.compile(r"^[A-Z]{2}$")


def product_key(urn: str) -> bytes:
    """The bytes32 key of a MEF product spec URN: keccak-256 of its UTF-8 text."""
    if not urn:
        raise ValueError("a product spec URN cannot be empty")
    return keccak(text=urn)


ACCESS_ELINE = product_key(ACCESS_ELINE_URN)


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
    """A council proposal and its calldata."""

    proposal_id: int
    target: str
    expires_at: int
    approvals: int
    executed: bool
    council_epoch: int
    data: bytes


@dataclass(frozen=True)
class Parameters:
    """The registry's governance parameters."""

    council_size: int
    council_threshold: int
    sponsors_required: int
    application_ttl: int
    council_epoch: int


@dataclass(frozen=True)
class RegistryEvent:
    """One decoded registry event with where it happened."""

    name: str
    args: dict[str, Any]
    block_number: int
    log_index: int
    tx_hash: str


# --- event decoding -------------------------------------------------------------------------------


class EventDecoder:
    """Decodes raw logs of one contract address into RegistryEvents, skipping foreign logs."""

    def __init__(self, contract: Contract):
        self.contract = contract
        self._by_topic = {}
        for entry in contract.abi:
            if entry.get("type") == "event":
                signature = f"{entry['name']}({','.join(_abi_type(p) for p in entry['inputs'])})"
                self._by_topic[keccak(text=signature)] = entry

    def decode(self, logs: Iterable[Any]) -> list[RegistryEvent]:
        """Decode the logs emitted by this contract, in the order given."""
        events = []
        address = self.contract.address.lower()
        for log in logs:
            if str(log["address"]).lower() != address or not log["topics"]:
                continue
            abi = self._by_topic.get(bytes(log["topics"][0]))
            if abi is None:
                continue
            data = get_event_data(self.contract.w3.codec, abi, log)
            events.append(
                RegistryEvent(
                    name=data["event"],
                    args=dict(data["args"]),
                    block_number=data["blockNumber"],
                    log_index=data["logIndex"],
                    tx_hash="0x" + bytes(data["transactionHash"]).hex(),
                )
            )
        return events


def _abi_type(param: dict) -> str:
    if param["type"].startswith("tuple"):
        return f"({','.join(_abi_type(c) for c in param['components'])}){param['type'][5:]}"
    return param["type"]


# --- the client -----------------------------------------------------------------------------------


class RegistryClient:
    """Every CarrierRegistry call, typed: views return dataclasses, transactions take a Sender."""

    def __init__(self, chain: Chain, address: str):
        self.chain = chain
        self.contract = chain.w3.eth.contract(
            address=to_checksum_address(address), abi=load_artifact(CONTRACT_NAME).abi
        )
        self.decoder = EventDecoder(self.contract)

    @property
    def address(self) -> str:
        return self.contract.address

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
        artifact = load_artifact(CONTRACT_NAME)
        factory = sender.chain.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        data = factory.constructor(
            [to_checksum_address(f) for f in founders],
            [to_checksum_address(c) for c in council],
            council_threshold,
            sponsors_required,
            application_ttl,
        ).data_in_transaction
        receipt = sender.send({"data": data}, gas=gas)
        return cls(sender.chain, receipt.contract_address), receipt

    def events(self, receipt: Receipt) -> list[RegistryEvent]:
        """The registry events a transaction emitted."""
        return self.decoder.decode(receipt.raw["logs"])

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
        stored, data = call(self.contract.functions.proposalOf(proposal_id))
        target, expires_at, approvals, executed, council_epoch = stored
        return ProposalInfo(proposal_id, target, expires_at, approvals, executed, council_epoch, bytes(data))

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
        created = [e for e in self.events(receipt) if e.name == "ProposalCreated"]
        return created[0].args["proposalId"], receipt

    def approve(self, sender: Sender, proposal_id: int) -> Receipt:
        return sender.transact(self.contract.functions.approve(proposal_id))

    def execute(self, sender: Sender, proposal_id: int) -> Receipt:
        return sender.transact(self.contract.functions.execute(proposal_id))

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


# --- the directory rebuilt from events --------------------------------------------------------------


@dataclass
class DirectoryEntry:
    """What the events say about one member or applicant."""

    address: str
    status: MemberStatus = MemberStatus.NONE
    admin: str | None = None
    council: bool = False
    admitted_via: AdmissionPath | None = None
    profile: Profile | None = None
    keys: dict[str, Role] = field(default_factory=dict)

    @property
    def name(self) -> str | None:
        return self.profile.name if self.profile else None

    @property
    def sonata_url(self) -> str | None:
        return self.profile.sonata_url if self.profile else None

    def sells(self, product: bytes, country: str) -> bool:
        profile = self.profile
        return profile is not None and product in profile.products and country in profile.countries


class MemberDirectory:
    """The member list rebuilt from registry events, synced incrementally from block to block.

    `next_block` is the first block not yet applied; it moves only after a whole range has been
    fetched and applied, so a failed sync can simply be retried. `to_dict()` / `from_dict()` save
    and restore the directory with its cursor, to resume where a previous process stopped.
    """

    def __init__(self, chain: Chain, address: str, *, from_block: int = 0):
        self.chain = chain
        self.client = RegistryClient(chain, address)
        self.next_block = from_block
        self.entries: dict[str, DirectoryEntry] = {}
        self.council_threshold: int | None = None
        self.sponsors_required: int | None = None

    # --- syncing ------------------------------------------------------------------------------

    def sync(self, to_block: int | None = None, *, chunk: int = 5_000) -> int:
        """Apply the events up to `to_block` (default: latest), `chunk` blocks at a time; returns how many."""
        latest = self.chain.w3.eth.block_number
        last = latest if to_block is None else min(to_block, latest)
        applied = 0
        while self.next_block <= last:
            end = min(self.next_block + chunk - 1, last)
            logs = self.chain.w3.eth.get_logs(
                {"address": self.client.address, "fromBlock": self.next_block, "toBlock": end}
            )
            events = self.client.decoder.decode(logs)
            for event in events:
                self.apply(event)
            applied += len(events)
            self.next_block = end + 1
        return applied

    def apply(self, event: RegistryEvent) -> None:
        """Apply one registry event to the directory (events must come in chain order)."""
        handler = getattr(self, f"_on_{event.name}", None)
        if handler is not None:
            handler(event.args)

    def _entry(self, address: str) -> DirectoryEntry:
        address = to_checksum_address(address)
        if address not in self.entries:
            self.entries[address] = DirectoryEntry(address=address)
        return self.entries[address]

    def _on_ApplicationFiled(self, args: dict) -> None:
        entry = self._entry(args["candidate"])
        entry.status, entry.keys, entry.council = MemberStatus.APPLICANT, {}, False

    def _on_ProfileUpdated(self, args: dict) -> None:
        self._entry(args["member"]).profile = Profile.from_abi(args["profile"])

    def _on_MemberAdmitted(self, args: dict) -> None:
        entry = self._entry(args["member"])
        entry.status, entry.admin = MemberStatus.ACTIVE, entry.address
        entry.admitted_via = AdmissionPath(args["path"])

    def _on_MemberSuspended(self, args: dict) -> None:
        self._entry(args["member"]).status = MemberStatus.SUSPENDED

    def _on_MemberReinstated(self, args: dict) -> None:
        self._entry(args["member"]).status = MemberStatus.ACTIVE

    def _end(self, member: str, status: MemberStatus) -> None:
        entry = self._entry(member)
        entry.status, entry.keys, entry.council = status, {}, False

    def _on_MemberLeft(self, args: dict) -> None:
        self._end(args["member"], MemberStatus.LEFT)

    def _on_MemberExpelled(self, args: dict) -> None:
        self._end(args["member"], MemberStatus.EXPELLED)

    def _on_KeyAdded(self, args: dict) -> None:
        self._entry(args["member"]).keys[to_checksum_address(args["key"])] = Role(args["roles"])

    def _on_KeyRevoked(self, args: dict) -> None:
        self._entry(args["member"]).keys.pop(to_checksum_address(args["key"]), None)

    def _on_AdminChanged(self, args: dict) -> None:
        self._entry(args["member"]).admin = to_checksum_address(args["current"])

    def _on_CouncilSeatChanged(self, args: dict) -> None:
        self._entry(args["member"]).council = bool(args["seated"])

    def _on_CouncilThresholdChanged(self, args: dict) -> None:
        self.council_threshold = args["threshold"]

    def _on_SponsorsRequiredChanged(self, args: dict) -> None:
        self.sponsors_required = args["sponsorsRequired"]

    # --- queries ------------------------------------------------------------------------------

    def member(self, address: str) -> DirectoryEntry | None:
        return self.entries.get(to_checksum_address(address))

    def members(self, status: MemberStatus | None = MemberStatus.ACTIVE) -> list[DirectoryEntry]:
        """Entries with `status` (None: all), ordered by address."""
        return [e for _, e in sorted(self.entries.items()) if status is None or e.status == status]

    def providers(self, product: bytes | str, country: str | bytes) -> list[DirectoryEntry]:
        """Active members that sell `product` (key or URN) in `country`, ordered by address."""
        key = product_key(product) if isinstance(product, str) else bytes(product)
        code = country_text(country_code(country))
        return [e for e in self.members(MemberStatus.ACTIVE) if e.sells(key, code)]

    def member_of(self, key: str) -> str | None:
        """The member a key acts for according to the events (admin or operational key)."""
        key = to_checksum_address(key)
        for entry in self.entries.values():
            if entry.status in (MemberStatus.ACTIVE, MemberStatus.SUSPENDED) and (
                entry.admin == key or key in entry.keys
            ):
                return entry.address
        return None

    # --- saving and resuming ------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy of the directory and its cursor."""
        return {
            "registry": self.client.address,
            "next_block": self.next_block,
            "council_threshold": self.council_threshold,
            "sponsors_required": self.sponsors_required,
            "entries": [_entry_to_dict(e) for _, e in sorted(self.entries.items())],
        }

    @classmethod
    def from_dict(cls, chain: Chain, data: dict[str, Any]) -> MemberDirectory:
        """Restore a directory saved with to_dict(); the next sync continues at its cursor."""
        directory = cls(chain, data["registry"], from_block=data["next_block"])
        directory.council_threshold = data["council_threshold"]
        directory.sponsors_required = data["sponsors_required"]
        for item in data["entries"]:
            entry = _entry_from_dict(item)
            directory.entries[entry.address] = entry
        return directory


def _entry_to_dict(entry: DirectoryEntry) -> dict[str, Any]:
    profile = entry.profile
    return {
        "address": entry.address,
        "status": int(entry.status),
        "admin": entry.admin,
        "council": entry.council,
        "admitted_via": None if entry.admitted_via is None else int(entry.admitted_via),
        "profile": None
        if profile is None
        else {
            "name": profile.name,
            "sonata_url": profile.sonata_url,
            "products": ["0x" + p.hex() for p in profile.products],
            "countries": list(profile.countries),
            "locations": ["0x" + loc.hex() for loc in profile.locations],
        },
        "keys": {k: int(r) for k, r in sorted(entry.keys.items())},
    }


def _entry_from_dict(item: dict[str, Any]) -> DirectoryEntry:
    p = item["profile"]
    profile = (
        None
        if p is None
        else Profile(
            p["name"],
            p["sonata_url"],
            tuple(bytes.fromhex(x[2:]) for x in p["products"]),
            tuple(p["countries"]),
            tuple(bytes.fromhex(x[2:]) for x in p["locations"]),
        )
    )
    return DirectoryEntry(
        address=item["address"],
        status=MemberStatus(item["status"]),
        admin=item["admin"],
        council=item["council"],
        admitted_via=None if item["admitted_via"] is None else AdmissionPath(item["admitted_via"]),
        profile=profile,
        keys={k: Role(r) for k, r in item["keys"].items()},
    )


__all__ = [
    "ACCESS_ELINE",
    "ACCESS_ELINE_URN",
    "AdmissionPath",
    "ApplicationInfo",
    "DirectoryEntry",
    "MemberDirectory",
    "MemberInfo",
    "MemberStatus",
    "Parameters",
    "Profile",
    "ProposalInfo",
    "RegistryClient",
    "RegistryEvent",
    "Role",
    "country_code",
    "country_text",
    "location_key",
    "product_key",
]
