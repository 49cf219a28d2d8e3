"""JSON forms of the market's value objects, for the oracle database and its HTTP endpoints."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from eth_utils import to_checksum_address

from offnet.market.escrow import CreditSchedule
from offnet.market.quotes import Quote, Rfq, SignedQuote


def _hex(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (list, tuple)):
        return [_hex(v) for v in value]
    if isinstance(value, dict):
        return {k: _hex(v) for k, v in value.items()}
    return value


def _bytes(text: str) -> bytes:
    if not isinstance(text, str) or not text.startswith("0x"):
        raise ValueError(f"expected 0x-prefixed hex, got {text!r}")
    return bytes.fromhex(text[2:])


def quote_to_json(quote: Quote) -> dict:
    return _hex(asdict(quote))


def quote_from_json(data: dict) -> Quote:
    names = {f.name for f in fields(Quote)}
    unknown = set(data) - names
    if unknown:
        raise ValueError(f"unknown quote fields: {', '.join(sorted(unknown))}")
    values = dict(data)
    values["credits"] = CreditSchedule(**values["credits"])
    values["sla_terms_hash"] = _bytes(values["sla_terms_hash"])
    if "contract_hash" in values:
        values["contract_hash"] = _bytes(values["contract_hash"])
    for name in ("provider", "buyer", "token"):
        values[name] = to_checksum_address(values[name])
    return Quote(**values)


def signed_quote_to_json(signed: SignedQuote) -> dict:
    return {
        "quote": quote_to_json(signed.quote),
        "signature": _hex(signed.signature),
        "digest": _hex(signed.digest),
    }


def signed_quote_from_json(data: dict) -> SignedQuote:
    return SignedQuote(quote_from_json(data["quote"]), _bytes(data["signature"]), _bytes(data["digest"]))


def rfq_to_json(rfq: Rfq) -> dict:
    return _hex(asdict(rfq))


def rfq_from_json(data: dict) -> Rfq:
    return Rfq(
        buyer=to_checksum_address(data["buyer"]),
        deadline=int(data["deadline"]),
        token=to_checksum_address(data["token"]),
        request_hash=_bytes(data["request_hash"]),
        product_key=_bytes(data["product_key"]),
        location_key=_bytes(data["location_key"]),
        invited=tuple(to_checksum_address(a) for a in data["invited"]),
        min_reputation=int(data["min_reputation"]),
    )
