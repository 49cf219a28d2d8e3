"""RfqMarket: typed calls for post / commit / withdraw / award / cancel / close, and the commitment log.

The market stores one slot per RFQ (status, deadline, each invitee's entry count and live flag, running
hash of the commitment log); the award takes the whole log, which this client rebuilds from the
QuoteCommitted / QuoteWithdrawn events, so callers never assemble it by hand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import encode
from eth_utils import keccak, to_checksum_address

from offnet.chain import ContractClient, Receipt, Sender
from offnet.chain.permit import Permit
from offnet.chain.tx import call
from offnet.market.quotes import Quote, QuoteDomain, SignedQuote
from offnet.market.types import RfqStatus

ZERO_DIGEST = bytes(32)


_RFQ_ABI = "(address,uint40,uint32,address,bytes32,bytes32,bytes32,address[])"


MAX_INVITED = 6  # IRfqMarket.MAX_INVITED
MAX_ENTRIES_PER_PROVIDER = 3  # IRfqMarket.MAX_ENTRIES_PER_PROVIDER
MIN_QUOTE_WINDOW = 86_400  # IRfqMarket.MIN_QUOTE_WINDOW
MAX_QUOTE_WINDOW = 90 * 86_400  # IRfqMarket.MAX_QUOTE_WINDOW
AWARD_WINDOW = 7 * 86_400  # IRfqMarket.AWARD_WINDOW


@dataclass(frozen=True)
class Rfq:
    """A request for quote; its id is the keccak-256 of its ABI encoding (nothing else is stored).

    The invitees are kept in the order the market requires (strictly increasing addresses), whatever
    order they were given in, so the same RFQ always has the same id.
    """

    buyer: str
    deadline: int
    token: str
    request_hash: bytes
    product_key: bytes
    location_key: bytes
    invited: tuple[str, ...] = ()
    min_reputation: int = 0

    def __post_init__(self) -> None:
        ordered = tuple(sorted((to_checksum_address(a) for a in self.invited), key=lambda a: int(a, 16)))
        object.__setattr__(self, "invited", ordered)

    def to_tuple(self) -> tuple[Any, ...]:
        """The struct as web3 and eth-abi expect it."""
        return (
            to_checksum_address(self.buyer),
            self.deadline,
            self.min_reputation,
            to_checksum_address(self.token),
            bytes(self.request_hash),
            bytes(self.product_key),
            bytes(self.location_key),
            [to_checksum_address(a) for a in self.invited],
        )

    @classmethod
    def from_tuple(cls, values: Sequence[Any] | Mapping[str, Any]) -> Rfq:
        """An RFQ from a decoded struct (the `rfq` argument of RfqPosted, a tuple or a named mapping)."""
        if isinstance(values, Mapping):
            values = [
                values[k]
                for k in (
                    "buyer",
                    "deadline",
                    "minReputation",
                    "token",
                    "requestHash",
                    "productKey",
                    "locationKey",
                    "invited",
                )
            ]
        buyer, deadline, min_rep, token, request_hash, product, location, invited = values
        return cls(
            buyer=to_checksum_address(buyer),
            deadline=deadline,
            token=to_checksum_address(token),
            request_hash=bytes(request_hash),
            product_key=bytes(product),
            location_key=bytes(location),
            invited=tuple(to_checksum_address(a) for a in invited),
            min_reputation=min_rep,
        )

    @property
    def rfq_id(self) -> int:
        """The RFQ id, computed exactly like the market does."""
        return int.from_bytes(keccak(encode([_RFQ_ABI], [self.to_tuple()])), "big")


@dataclass(frozen=True)
class RfqState:
    """The one stored slot of an RFQ."""

    status: RfqStatus
    deadline: int
    invitees: int  # three bits per invitee: entry count (two bits), live commitment (one bit)
    log_hash: int

    def entries_of(self, index: int) -> int:
        """How many log entries invitee `index` made."""
        return (self.invitees >> (3 * index)) & 3

    def live(self, index: int) -> bool:
        """True when the last entry of invitee `index` is a live commitment."""
        return bool((self.invitees >> (3 * index)) & 4)

    @property
    def entries(self) -> int:
        """The length of the commitment log."""
        return sum(self.entries_of(i) for i in range(MAX_INVITED))


@dataclass(frozen=True)
class LogEntry:
    """One entry of an RFQ's commitment log; a zero digest is a withdrawal."""

    provider: str
    digest: bytes

    def to_tuple(self) -> tuple[str, bytes]:
        return (to_checksum_address(self.provider), bytes(self.digest))


class RfqClient(ContractClient):
    """Typed calls to one deployed RfqMarket; each transaction is sent by the Sender passed in."""

    CONTRACT = "RfqMarket"

    @classmethod
    def deploy(cls, deployer: Sender, registry: str, escrow: str, ledger: str) -> tuple[RfqClient, Receipt]:
        """Deploy a market linked to the registry, escrow and ledger."""
        return cls._deploy(deployer, registry, escrow, ledger)

    @property
    def domain(self) -> QuoteDomain:
        """The EIP-712 domain quotes for this market are signed in."""
        return QuoteDomain(chain_id=self.chain.chain_id, verifying_contract=self.address)

    # --- buyer -----------------------------------------------------------------------------------

    def post(self, buyer: Sender, rfq: Rfq) -> tuple[int, Receipt]:
        """Post `rfq` as its buyer; returns its id."""
        return rfq.rfq_id, buyer.transact(self.fn.postRfq(rfq.to_tuple()))

    def award(
        self,
        buyer: Sender,
        rfq: Rfq,
        signed: SignedQuote,
        *,
        permit: Permit | None = None,
        log: Sequence[LogEntry] | None = None,
    ) -> tuple[bytes, Receipt]:
        """Award `signed` (the log is read from events unless given); returns the order id.

        A quote carrying a `contract_hash` notarises that contract: the hash becomes part of the
        order's terms (see ContractNotary's award functions for the copies and the reveal).
        """
        receipt = buyer.transact(self.award_function(rfq, signed, permit=permit, log=log))
        return self.awarded_order(receipt), receipt

    def award_function(
        self,
        rfq: Rfq,
        signed: SignedQuote,
        *,
        permit: Permit | None = None,
        log: Sequence[LogEntry] | None = None,
    ) -> Any:
        """The award call itself (to simulate it with `call` before sending, or to send it)."""
        entries = [e.to_tuple() for e in (self.log(rfq.rfq_id) if log is None else log)]
        quote = signed.quote
        args = (rfq.to_tuple(), quote.to_tuple(), signed.signature, entries)
        answers_rfq = (quote.rfq_id, quote.buyer.lower(), quote.token.lower()) == (
            rfq.rfq_id,
            rfq.buyer.lower(),
            rfq.token.lower(),
        )
        if permit is None and answers_rfq:
            # The cheaper entry point: the RFQ travels as its id inside the quote (~5k gas less).
            return self.fn.awardQuote(*args[1:])
        if permit is None:
            # A quote for another RFQ: the full entry point names the mismatch (QuoteNotForRfq).
            return self.fn.award(*args)
        return self.fn.awardWithPermit(*args, (permit.value, permit.deadline, permit.v, permit.r, permit.s))

    def awarded_order(self, receipt: Receipt) -> bytes:
        """The id of the order an award transaction opened."""
        return bytes(self.events(receipt, "RfqAwarded")[0]["orderId"])

    def cancel(self, buyer: Sender, rfq: Rfq) -> Receipt:
        """Cancel an open RFQ as its buyer."""
        return buyer.transact(self.fn.cancelRfq(rfq.to_tuple()))

    def close(self, sender: Sender, rfq: Rfq) -> Receipt:
        """Close an RFQ, recording each invitee's quote timeliness in the ledger: anyone closes an
        awarded RFQ; an open one past its deadline, its buyer until the award window ends, then anyone."""
        return sender.transact(self.fn.closeRfq(rfq.to_tuple()))

    # --- provider --------------------------------------------------------------------------------

    def commit(self, signer: Sender, rfq: Rfq, signed: SignedQuote) -> Receipt:
        """Commit the digest of `signed` for its provider (sent by its admin or a quote key)."""
        return signer.transact(self.fn.commitQuote(rfq.to_tuple(), signed.quote.provider, signed.digest))

    def withdraw(self, signer: Sender, rfq: Rfq, provider: str) -> Receipt:
        """Withdraw the provider's live commitment before the deadline."""
        return signer.transact(self.fn.withdrawQuote(rfq.to_tuple(), provider))

    def invalidate_nonces(self, signer: Sender, provider: str, nonces: Sequence[int]) -> list[Receipt]:
        """Cancel quotes by nonce: one transaction per bitmap word touched."""
        words: dict[int, int] = {}
        for nonce in nonces:
            words[nonce >> 8] = words.get(nonce >> 8, 0) | (1 << (nonce & 0xFF))
        return [
            signer.transact(self.fn.invalidateNonces(provider, word, mask))
            for word, mask in sorted(words.items())
        ]

    def bump_epoch(self, signer: Sender, provider: str) -> Receipt:
        """Cancel every outstanding quote of `provider` at once."""
        return signer.transact(self.fn.bumpQuoteEpoch(provider))

    # --- views -----------------------------------------------------------------------------------

    def state(self, rfq_id: int) -> RfqState:
        status, deadline, invitees, log_hash = call(self.fn.rfqState(rfq_id))
        return RfqState(RfqStatus(status), deadline, invitees, log_hash)

    def on_chain_digest(self, quote: Quote) -> bytes:
        """The contract's own EIP-712 digest of `quote`."""
        return bytes(call(self.fn.quoteDigest(quote.to_tuple())))

    def nonce_used(self, provider: str, nonce: int) -> bool:
        return bool(call(self.fn.nonceBitmap(provider, nonce >> 8)) >> (nonce & 0xFF) & 1)

    def quote_epoch(self, provider: str) -> int:
        return call(self.fn.quoteEpoch(provider))

    # --- events ---------------------------------------------------------------------------------

    def log(self, rfq_id: int) -> list[LogEntry]:
        """The RFQ's commitment log, in order, rebuilt from its events."""
        indexed: dict[int, LogEntry] = {}
        for e in self.logs("QuoteCommitted", rfqId=rfq_id):
            indexed[e["args"]["index"]] = LogEntry(e["args"]["provider"], bytes(e["args"]["digest"]))
        for e in self.logs("QuoteWithdrawn", rfqId=rfq_id):
            indexed[e["args"]["index"]] = LogEntry(e["args"]["provider"], ZERO_DIGEST)
        return [indexed[i] for i in sorted(indexed)]

    def posted(self, rfq_id: int) -> Rfq:
        """The RFQ as posted, recovered from its RfqPosted event."""
        logs = self.logs("RfqPosted", rfqId=rfq_id)
        if not logs:
            raise LookupError(f"no RFQ {rfq_id} was posted on this market")
        return Rfq.from_tuple(logs[0]["args"]["rfq"])
