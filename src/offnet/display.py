"""How values are shown to people, one convention for the command line and the explorer: times in
ISO-8601 UTC, token amounts exact with their symbol, ids as 0x hex, enums by name, ratios in per
cent, reputations with their sample size ("new" when there is no history yet).

Standard library only (no web3, no rich): the CLI imports it at start-up and the explorer renders
thousands of cells with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Context, Decimal, InvalidOperation
from enum import Enum

PPM = 1_000_000


def when(timestamp: int | None) -> str:
    """A unix time as ISO-8601 UTC (`2026-11-25T10:00:00Z`); "-" for none (0 is an unset date)."""
    if not timestamp:
        return "-"
    return datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def hex_id(value: int | bytes) -> str:
    """An RFQ, order, report or proposal id (uint256 or bytes32) as 0x + 64 hex digits."""
    if isinstance(value, int):
        return f"0x{value:064x}"
    return "0x" + bytes(value).hex()


def short_id(value: int | bytes | str) -> str:
    """The first ten characters of an id (`0x5c72a1e2`), for tables that link to the whole id."""
    text = value if isinstance(value, str) else hex_id(value)
    return text[:10]


def enum_name(value: Enum) -> str:
    """An enum member as people read it: `ORDER_COMPLETED` -> `order completed`."""
    return value.name.lower().replace("_", " ")


def money(amount: int, decimals: int, symbol: str = "") -> str:
    """Smallest units as a decimal amount, exact, with thousands separators and at least two decimals
    (`2,350.00 tUSD`, `0.000001 tUSD`), and the symbol when given."""
    exact = Context(prec=len(str(abs(int(amount)))) + decimals + 2)  # uint256 amounts, never rounded
    text = f"{Decimal(amount).scaleb(-decimals, context=exact):,.{decimals}f}"
    if "." in text:
        whole, fraction = text.split(".")
        text = f"{whole}.{fraction.rstrip('0').ljust(min(2, decimals), '0')}"
    return f"{text} {symbol}" if symbol else text


@dataclass(frozen=True)
class Token:
    """An ERC-20 token as amounts are shown: its symbol and decimals."""

    address: str
    symbol: str
    decimals: int

    def amount(self, units: int) -> str:
        return money(units, self.decimals, self.symbol)


def percent(ppm: int, places: int = 1) -> str:
    """Parts per million as a percentage (`999500` -> `99.95%` with places=2)."""
    return f"{Decimal(ppm) / Decimal(10_000):.{places}f}%"


def ppm_from_text(text: str) -> int:
    """A score typed as 0.9 or 90% -> parts per million; ValueError outside 0..1."""
    value = text.strip()
    try:
        number = Decimal(value[:-1]) / 100 if value.endswith("%") else Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    if not 0 <= number <= 1:
        raise ValueError(f"{text!r} is outside 0..1 (0 to 100%)")
    return int(number * PPM)


def ratio(part: int, whole: int) -> str:
    """`part` of `whole` as a percentage, "-" when there is nothing to divide."""
    return "-" if not whole else f"{100 * part / whole:.1f}%"


def reputation(ppm: int, samples: int) -> str:
    """A provider's overall reputation with the number of facts behind it; "new" without history."""
    if not samples:
        return "new"
    return f"{percent(ppm)} (n={samples})"


def duration(seconds: int | None) -> str:
    """A time span as people say it: `45 s`, `2 h 05 min`, `3.5 days`; "-" for none."""
    if seconds is None:
        return "-"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3_600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86_400:
        return f"{seconds // 3_600} h {seconds % 3_600 // 60:02d} min"
    return f"{seconds / 86_400:.1f} days"


def days_late(committed: int, actual: int) -> str:
    """A delivery against its committed date: "on time" (early counts as on time) or `1.1 days late`."""
    late = actual - committed
    if late <= 0:
        return "on time"
    return f"{late / 86_400:.1f} days late"
