"""RfqMarket: typed calls for post / commit / withdraw / award / cancel / close, and the commitment log.

The market stores one slot per RFQ (status, entry count, running hash of the commitment log); award
and close take the whole log, which this client rebuilds from the QuoteCommitted / QuoteWithdrawn
events, so callers never assemble it by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_utils import to_checksum_address
from web3.contract import Contract
from web3.logs import DISCARD

from offnet.chain import Chain, Receipt, Sender, load_artifact
from offnet.chain.permit import Permit
from offnet.chain.tx import call
from offnet.market.quotes import Quote, QuoteDomain, Rfq, SignedQuote

MARKET_CONTRACT = "RfqMarket"
ZERO_DIGEST = bytes(32)


class RfqStatus(IntEnum):
    NONE = 0
    OPEN = 1
    AWARDED = 2
    CANCELLED = 3
    CLOSED = 4


@dataclass(frozen=True)
class RfqState:
    """The one stored slot of an RFQ."""

    status: RfqStatus
    entries: int
    log_hash: int


@dataclass(frozen=True)
class LogEntry:
    """One entry of an RFQ's commitment log; a zero digest is a withdrawal."""

    provider: str
    digest: bytes

    def to_tuple(self) -> tuple[str, bytes]:
        return (to_checksum_address(self.provider), bytes(self.digest))


class RfqClient:
    """Typed calls to one deployed RfqMarket; each transaction is sent by the Sender passed in."""

    def __init__(self, chain: Chain, contract: Contract):
        self.chain = chain
        self.contract = contract

    @classmethod
    def at(cls, chain: Chain, address: str) -> RfqClient:
        """The client of the market deployed at `address`."""
        abi = load_artifact(MARKET_CONTRACT).abi
        return cls(chain, chain.w3.eth.contract(address=to_checksum_address(address), abi=abi))

    @classmethod
    def deploy(cls, deployer: Sender, registry: str, escrow: str, ledger: str) -> tuple[RfqClient, Receipt]:
        """Deploy a market linked to the registry, escrow and ledger."""
        contract, receipt = deployer.deploy(load_artifact(MARKET_CONTRACT), registry, escrow, ledger)
        return cls(deployer.chain, contract), receipt

    @property
    def address(self) -> str:
        return self.contract.address

    @property
    def fn(self) -> Any:
        """The raw web3 functions."""
        return self.contract.functions

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
            receipt = buyer.transact(self.fn.awardQuote(*args[1:]))
        elif permit is None:
            # A quote for another RFQ: the full entry point names the mismatch (QuoteNotForRfq).
            receipt = buyer.transact(self.fn.award(*args))
        else:
            receipt = buyer.transact(
                self.fn.awardWithPermit(*args, (permit.value, permit.deadline, permit.v, permit.r, permit.s))
            )
        awarded = self.events(receipt, "RfqAwarded")
        return bytes(awarded[0]["orderId"]), receipt

    def cancel(self, buyer: Sender, rfq: Rfq) -> Receipt:
        """Cancel an open RFQ as its buyer."""
        return buyer.transact(self.fn.cancelRfq(rfq.to_tuple()))

    def close(self, sender: Sender, rfq: Rfq, *, log: Sequence[LogEntry] | None = None) -> Receipt:
        """Close an awarded or expired RFQ (anyone), recording quote timeliness in the ledger."""
        entries = [e.to_tuple() for e in (self.log(rfq.rfq_id) if log is None else log)]
        return sender.transact(self.fn.closeRfq(rfq.to_tuple(), entries))

    # --- provider --------------------------------------------------------------------------------

    def commit(self, signer: Sender, rfq: Rfq, signed: SignedQuote) -> Receipt:
        """Commit the digest of `signed` for its provider (sent by its admin or a quote key)."""
        return signer.transact(self.fn.commitQuote(rfq.to_tuple(), signed.quote.provider, signed.digest))

    def withdraw(self, signer: Sender, rfq: Rfq, provider: str) -> Receipt:
        """Withdraw the provider's commitment before the deadline."""
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
        status, entries, log_hash = call(self.fn.rfqState(rfq_id))
        return RfqState(RfqStatus(status), entries, log_hash)

    def on_chain_digest(self, quote: Quote) -> bytes:
        """The contract's own EIP-712 digest of `quote`."""
        return bytes(call(self.fn.quoteDigest(quote.to_tuple())))

    def nonce_used(self, provider: str, nonce: int) -> bool:
        return bool(call(self.fn.nonceBitmap(provider, nonce >> 8)) >> (nonce & 0xFF) & 1)

    def quote_epoch(self, provider: str) -> int:
        return call(self.fn.quoteEpoch(provider))

    # --- events ----------------------------------------------------------------------------------

    def events(self, receipt: Receipt, name: str) -> list[dict[str, Any]]:
        """The arguments of every `name` event the market emitted in a transaction."""
        decoded = getattr(self.contract.events, name)().process_receipt(receipt.raw, errors=DISCARD)
        return [dict(e["args"]) for e in decoded if e["address"] == self.address]

    def _logs(self, name: str, **filters: Any) -> list[Any]:
        return list(getattr(self.contract.events, name)().get_logs(from_block=0, argument_filters=filters))

    def log(self, rfq_id: int) -> list[LogEntry]:
        """The RFQ's commitment log, in order, rebuilt from its events."""
        indexed: dict[int, LogEntry] = {}
        for e in self._logs("QuoteCommitted", rfqId=rfq_id):
            indexed[e["args"]["index"]] = LogEntry(e["args"]["provider"], bytes(e["args"]["digest"]))
        for e in self._logs("QuoteWithdrawn", rfqId=rfq_id):
            indexed[e["args"]["index"]] = LogEntry(e["args"]["provider"], ZERO_DIGEST)
        return [indexed[i] for i in sorted(indexed)]

    def posted(self, rfq_id: int) -> Rfq:
        """The RFQ as posted, recovered from its RfqPosted event."""
        logs = self._logs("RfqPosted", rfqId=rfq_id)
        if not logs:
            raise LookupError(f"no RFQ {rfq_id} was posted on this market")
        return Rfq.from_tuple(logs[0]["args"]["rfq"])
