"""Quotes as Python values: EIP-712 quote signing and verification, and ranking.

The type strings and field order here mirror contracts/libraries/QuoteHash.sol and the structs of
contracts/interfaces/IRfqMarket.sol; the tests check both directions (Python-signed quotes pass the
contract, and the contract's `quoteDigest` equals `quote_digest` here).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from fractions import Fraction
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address

from offnet.chain.eip712 import Eip712Domain, struct_types
from offnet.market.types import ZERO_HASH, CreditSchedule, OrderTerms, abi_value

QUOTE_DOMAIN_NAME = "offnet RfqMarket"
QUOTE_DOMAIN_VERSION = "1"

CREDIT_FIELDS = [
    ("lateDeliveryBpsPerDay", "uint16"),
    ("lateDeliveryCapBps", "uint16"),
    ("availabilityObjectivePpm", "uint32"),
    ("availabilityCreditBps", "uint16"),
    ("frameDelayObjectiveUs", "uint32"),
    ("frameDelayCreditBps", "uint16"),
    ("frameLossObjectivePpm", "uint32"),
    ("frameLossCreditBps", "uint16"),
    ("timeToRestoreObjectiveSec", "uint32"),
    ("timeToRestoreCreditBps", "uint16"),
    ("monthlyCreditCapBps", "uint16"),
]
QUOTE_FIELDS = [
    ("rfqId", "uint256"),
    ("provider", "address"),
    ("buyer", "address"),
    ("token", "address"),
    ("oneTimeCharge", "uint128"),
    ("monthlyCharge", "uint128"),
    ("termMonths", "uint16"),
    ("installDays", "uint16"),
    ("slaTermsHash", "bytes32"),
    ("credits", "CreditSchedule"),
    ("prepaidMonths", "uint16"),
    ("validUntil", "uint40"),
    ("nonce", "uint256"),
    ("epoch", "uint64"),
    ("contractHash", "bytes32"),
]
QUOTE_TYPES = struct_types(Quote=QUOTE_FIELDS, CreditSchedule=CREDIT_FIELDS)


@dataclass(frozen=True)
class QuoteDomain(Eip712Domain):
    """The EIP-712 domain of one deployed RfqMarket."""

    name: str = QUOTE_DOMAIN_NAME
    version: str = QUOTE_DOMAIN_VERSION


@dataclass(frozen=True)
class Quote:
    """A provider's priced answer to one RFQ, as signed with EIP-712."""

    rfq_id: int
    provider: str
    buyer: str
    token: str
    one_time_charge: int
    monthly_charge: int
    term_months: int
    install_days: int
    sla_terms_hash: bytes
    credits: CreditSchedule
    prepaid_months: int
    valid_until: int
    nonce: int
    epoch: int = 0
    # The seller's commitment to the financial contract (offnet.market.notary.seal_contract): signing
    # the quote signs it, awarding the quote makes it part of the order's terms. Zero: none.
    contract_hash: bytes = ZERO_HASH

    def to_tuple(self) -> tuple[Any, ...]:
        """The struct as web3 expects it (QUOTE_FIELDS gives each field's Solidity type)."""
        return tuple(
            abi_value(getattr(self, f.name), solidity)
            for f, (_, solidity) in zip(fields(self), QUOTE_FIELDS, strict=True)
        )

    def message(self) -> dict[str, Any]:
        """The EIP-712 message (field names of the Solidity struct)."""
        values = self.to_tuple()
        message = {name: value for (name, _), value in zip(QUOTE_FIELDS, values, strict=True)}
        message["credits"] = {name: value for (name, _), value in zip(CREDIT_FIELDS, values[9], strict=True)}
        return message

    @classmethod
    def from_message(cls, message: Mapping[str, Any]) -> Quote:
        """The quote of an EIP-712 message (`message()`'s inverse); KeyError names a missing field."""
        credits = message["credits"]
        values = [message[name] for name, _ in QUOTE_FIELDS]
        values[9] = CreditSchedule(*(credits[name] for name, _ in CREDIT_FIELDS))
        return cls(*values)

    @property
    def total_cost(self) -> int:
        """What the buyer pays over the whole term: the one-time charge plus every monthly charge."""
        return self.one_time_charge + self.monthly_charge * self.term_months

    def order_terms(self, awarded_at: int) -> OrderTerms:
        """The order terms the market builds from this quote at award time `awarded_at`."""
        return OrderTerms(
            self.rfq_id,
            self.buyer,
            self.provider,
            self.token,
            self.one_time_charge,
            self.monthly_charge,
            self.term_months,
            self.install_days,
            self.prepaid_months,
            awarded_at,
            bytes(self.sla_terms_hash),
            self.credits,
            bytes(self.contract_hash),
        )


@dataclass(frozen=True)
class SignedQuote:
    """A quote, its signature and the digest a provider commits on chain."""

    quote: Quote
    signature: bytes
    digest: bytes


def _signable(quote: Quote, domain: QuoteDomain):
    return encode_typed_data(
        domain_data=domain.as_dict(), message_types=QUOTE_TYPES, message_data=quote.message()
    )


def quote_digest(quote: Quote, domain: QuoteDomain) -> bytes:
    """The EIP-712 digest of `quote` in `domain` (what the provider commits)."""
    signable = _signable(quote, domain)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def sign_quote(signer: LocalAccount, quote: Quote, domain: QuoteDomain) -> SignedQuote:
    """Sign `quote` with the provider's admin or quote key."""
    signed = signer.sign_message(_signable(quote, domain))
    return SignedQuote(quote, bytes(signed.signature), bytes(signed.message_hash))


def recover_quote_signer(quote: Quote, signature: bytes, domain: QuoteDomain) -> str:
    """The address that signed `quote` in `domain` (check it against the registry's quote signers)."""
    return Account.recover_message(_signable(quote, domain), signature=signature)


# --- ranking ---------------------------------------------------------------------------------------

# Like-for-like bases for comparing quotes whose terms differ:
#   monthly: cost per month over the quote's own term (one-time charge spread over it + monthly);
#   term: cost over the term the buyer requested (one-time charge + monthly x requested months).
RANKING_BASES = ("monthly", "term")


def comparable_cost(quote: Quote, basis: str = "monthly", term_months: int | None = None) -> Fraction:
    """What `quote` costs on `basis` (see RANKING_BASES), in token units (exact)."""
    if basis == "monthly":
        return Fraction(quote.total_cost, max(quote.term_months, 1))
    if basis == "term":
        if not term_months or term_months < 1:
            raise ValueError("ranking over the requested term needs the term in months")
        return Fraction(quote.one_time_charge + quote.monthly_charge * term_months)
    raise ValueError(f"unknown ranking basis {basis!r}: {' or '.join(RANKING_BASES)}")


def describe_basis(basis: str, term_months: int | None = None) -> str:
    """The basis in words, for the people reading a ranking."""
    if basis == "term":
        return (
            f"cost over the requested {term_months} months (one-time charge + {term_months} monthly charges)"
        )
    return "cost per month over each quote's own term (one-time charge spread over the term + monthly)"


@dataclass(frozen=True)
class RankedQuote:
    """One quote in a ranking, with the figures that placed it and a sentence explaining them."""

    rank: int
    quote: SignedQuote
    total_cost: int  # one-time + monthly x the quote's own term
    reputation: float
    cost_score: float
    reputation_score: float
    score: float
    explanation: str = field(default="")
    basis_cost: int = 0  # the like-for-like cost the ranking compared (token units, rounded)


def rank_quotes(
    quotes: Sequence[SignedQuote],
    reputation: Mapping[str, float],
    *,
    reputation_weight: float = 0.3,
    decimals: int = 6,
    basis: str = "monthly",
    term_months: int | None = None,
) -> list[RankedQuote]:
    """Order quotes best first by like-for-like cost (see RANKING_BASES) and the provider's reputation.

    cost_score = cheapest cost / this cost (1.0 for the cheapest); reputation_score = this
    provider's reputation / the best reputation among the quoting providers (unknown providers
    count as 0); score = (1 - w) * cost_score + w * reputation_score. Ties go to the cheaper quote.
    """
    if not 0 <= reputation_weight <= 1:
        raise ValueError(f"reputation_weight must be within [0, 1], got {reputation_weight}")
    if not quotes:
        return []
    reps = {
        q.quote.provider: float(reputation.get(to_checksum_address(q.quote.provider), 0.0)) for q in quotes
    }
    costs = {id(q): comparable_cost(q.quote, basis, term_months) for q in quotes}
    cheapest = min(costs.values())
    best_rep = max(reps.values())
    scored = []
    for signed in quotes:
        cost = costs[id(signed)]
        cost_score = 1.0 if cost == 0 else float(cheapest / cost)
        rep = reps[signed.quote.provider]
        rep_score = rep / best_rep if best_rep > 0 else 0.0
        score = (1 - reputation_weight) * cost_score + reputation_weight * rep_score
        scored.append((score, cost, signed, rep, cost_score, rep_score))
    scored.sort(key=lambda s: (-s[0], s[1]))
    unit = 10**decimals
    per = "/month" if basis == "monthly" else f" over {term_months} months"
    ranked = []
    for i, (score, cost, signed, rep, cost_score, rep_score) in enumerate(scored, start=1):
        q = signed.quote
        extra = (
            "cheapest" if cost == cheapest else f"{float(cost - cheapest) / unit:,.2f} more than the cheapest"
        )
        explanation = (
            f"#{i} {q.provider}: {float(cost) / unit:,.2f}{per} "
            f"({q.one_time_charge / unit:,.2f} once + {q.monthly_charge / unit:,.2f}/month "
            f"for {q.term_months} months; {extra}), "
            f"reputation {rep:g} ({rep_score:.0%} of the best) -> score {score:.3f} = "
            f"{1 - reputation_weight:.2f} x cost {cost_score:.3f} "
            f"+ {reputation_weight:.2f} x reputation {rep_score:.3f}"
        )
        ranked.append(
            RankedQuote(i, signed, q.total_cost, rep, cost_score, rep_score, score, explanation, round(cost))
        )
    return ranked
