"""JSON forms of the market's values: one hex convention for every byte string offnet writes as JSON.

Byte strings are `0x`-prefixed lower-case hex; addresses stay checksummed text. The oracle's database,
its HTTP endpoints, the CLI's `--json` output and the demo's files all use these functions, so a value
written by one part reads back in another.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from eth_utils import to_checksum_address

from offnet.exceptions import InvalidInput
from offnet.market.quotes import CREDIT_FIELDS, QUOTE_FIELDS, Quote, SignedQuote
from offnet.market.rfq import Rfq
from offnet.market.types import OrderTerms, PeriodMetrics, ReportKind, SlaReport


def to_hex(value: bytes) -> str:
    """`0x` + the hex of `value`."""
    return "0x" + bytes(value).hex()


def from_hex(text: Any, size: int | None = None, what: str = "value") -> bytes:
    """The bytes of `0x`-prefixed hex, optionally of an exact size; InvalidInput otherwise."""
    if not isinstance(text, str) or not text.startswith("0x"):
        raise InvalidInput(f"{what}: expected 0x-prefixed hex, got {text!r}")
    try:
        data = bytes.fromhex(text[2:])
    except ValueError:
        raise InvalidInput(f"{what}: {text!r} is not hex") from None
    if size is not None and len(data) != size:
        raise InvalidInput(f"{what}: expected {size} bytes, got {len(data)}")
    return data


def jsonable(value: Any) -> Any:
    """`value` with every byte string, at any depth of lists, tuples and dicts, as hex text."""
    if isinstance(value, (bytes, bytearray)):
        return to_hex(value)
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


# --- order terms and reports -----------------------------------------------------------------------


def terms_to_json(terms: OrderTerms) -> list:
    """OrderTerms as JSON data: the ABI tuple, byte strings as hex."""
    return jsonable(terms.to_tuple())


def terms_from_json(data: list) -> OrderTerms:
    """OrderTerms from `terms_to_json`'s form."""
    *head, credits, contract_hash = data
    head[10] = from_hex(head[10], 32, "slaTermsHash")
    return OrderTerms.from_tuple([*head, tuple(credits), from_hex(contract_hash, 32, "contractHash")])


def report_to_json(report: SlaReport) -> dict:
    """An SLA report's fields with hex bytes, plus its id."""
    return {
        "reportId": to_hex(report.report_id),
        "orderId": to_hex(report.order_id),
        "kind": int(report.kind),
        "key": report.key,
        "value0": report.value0,
        "value1": report.value1,
        "metrics": list(report.metrics.to_tuple()),
        "evidenceHash": to_hex(report.evidence_hash),
    }


def report_from_json(data: dict) -> SlaReport:
    """An SLA report from `report_to_json`'s form."""
    return SlaReport(
        order_id=from_hex(data["orderId"], 32, "orderId"),
        kind=ReportKind(data["kind"]),
        key=data["key"],
        value0=data["value0"],
        value1=data["value1"],
        metrics=PeriodMetrics(*data["metrics"]),
        evidence_hash=from_hex(data["evidenceHash"], 32, "evidenceHash"),
    )


# --- RFQs and quotes ----------------------------------------------------------------------------------


def rfq_to_json(rfq: Rfq) -> dict:
    """An RFQ's fields (snake case), byte strings as hex."""
    return jsonable(asdict(rfq))


def rfq_from_json(data: dict) -> Rfq:
    """An RFQ from `rfq_to_json`'s form."""
    return Rfq(
        buyer=to_checksum_address(data["buyer"]),
        deadline=int(data["deadline"]),
        token=to_checksum_address(data["token"]),
        request_hash=from_hex(data["request_hash"], 32, "request_hash"),
        product_key=from_hex(data["product_key"], 32, "product_key"),
        location_key=from_hex(data["location_key"], 32, "location_key"),
        invited=tuple(to_checksum_address(a) for a in data["invited"]),
        min_reputation=int(data["min_reputation"]),
    )


def quote_to_json(quote: Quote) -> dict:
    """A quote as its EIP-712 message (the Solidity field names), byte strings and the RFQ id as hex."""
    message = jsonable(quote.message())
    message["rfqId"] = f"0x{quote.rfq_id:064x}"
    return message


def quote_from_json(data: Any) -> Quote:
    """A quote from `quote_to_json`'s form; a missing, unknown or malformed field is refused."""
    if not isinstance(data, dict):
        raise InvalidInput("a quote must be a JSON object")
    known = {name for name, _ in QUOTE_FIELDS}
    unknown = set(data) - known
    if unknown:
        raise InvalidInput(f"unknown quote fields: {', '.join(sorted(unknown))}")
    try:
        values = dict(data)
        rfq_id = values["rfqId"]
        values["rfqId"] = int(rfq_id, 16) if isinstance(rfq_id, str) else int(rfq_id)
        for name in ("provider", "buyer", "token"):
            values[name] = to_checksum_address(values[name])
        for name in ("slaTermsHash", "contractHash"):
            values[name] = from_hex(values.get(name, "0x" + "00" * 32), 32, name)
        values["credits"] = {name: int(values["credits"][name]) for name, _ in CREDIT_FIELDS}
        for name, solidity in QUOTE_FIELDS:
            if solidity.startswith("uint") and name != "rfqId":
                values[name] = int(values[name])
        return Quote.from_message(values)
    except KeyError as missing:
        raise InvalidInput(f"quote field {missing} is missing") from None
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"malformed quote: {exc}") from None


def signed_quote_to_json(signed: SignedQuote) -> dict:
    """A signed quote: the quote, its signature and its digest."""
    return {
        "quote": quote_to_json(signed.quote),
        "signature": to_hex(signed.signature),
        "digest": to_hex(signed.digest),
    }


def signed_quote_from_json(data: dict) -> SignedQuote:
    """A signed quote from `signed_quote_to_json`'s form."""
    return SignedQuote(
        quote_from_json(data["quote"]),
        from_hex(data["signature"], 65, "signature"),
        from_hex(data["digest"], 32, "digest"),
    )
