"""What the commands accept: addresses, ids, products, amounts, durations and files, each checked
into a value or refused with one line naming what was expected.

The chain libraries are imported only inside the functions that need them, so a command that only
reads a file starts quickly.
"""

from __future__ import annotations

import json
from typing import Any

from offnet.exceptions import InvalidInput

# Short name a human types for the MEF product specification offnet trades (offnet.market.registry's
# PRODUCT_ALIASES resolves it; named here too so the help texts need no chain library at start-up).
ACCESS_ELINE_ALIAS = "access-eline"


def address(value: str, what: str = "address") -> str:
    """A checksummed address (a mixed-case one must pass its EIP-55 checksum), or a one-line error."""
    from offnet.chain.addresses import checked_address

    return checked_address(value, what)


def bytes32(value: str, what: str) -> bytes:
    """32 bytes from 0x-prefixed hex."""
    text = value[2:] if value.startswith("0x") else value
    try:
        data = bytes.fromhex(text)
    except ValueError:
        data = b""
    if len(data) != 32:
        raise InvalidInput(f"invalid {what}: {value!r} is not 32 bytes of hex")
    return data


def uint256_id(value: str, what: str) -> int:
    """An id typed as 0x hex (as offnet prints it) or in decimal."""
    try:
        number = int(value, 16) if value.lower().startswith("0x") else int(value)
    except ValueError:
        raise InvalidInput(f"invalid {what} {value!r}: 0x hex (as offnet prints it) or decimal") from None
    if not 0 <= number < 2**256:
        raise InvalidInput(f"invalid {what} {value!r}: out of range")
    return number


def product(value: str) -> tuple[str, bytes]:
    """A product alias (access-eline) or MEF spec URN -> (URN, on-chain key)."""
    from offnet.market.registry import product_of

    try:
        return product_of(value)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def reputation_floor(value: str | None) -> int:
    """A reputation floor typed as 0.9 or 90% -> parts per million."""
    if value is None:
        return 0
    from offnet.display import ppm_from_text

    try:
        return ppm_from_text(value)
    except ValueError:
        raise InvalidInput(
            f"invalid reputation {value!r}: give a score from 0 to 1 (0.9) or a percentage (90%)"
        ) from None


def token_amount(value: str, decimals: int, what: str = "amount") -> int:
    """A decimal amount in whole tokens ("1200.50") -> smallest units."""
    from decimal import Decimal, InvalidOperation  # here: a command that reads a file starts without it

    try:
        amount = Decimal(value.replace(",", "")) * 10**decimals
    except InvalidOperation:
        raise InvalidInput(f"invalid {what}: {value!r} is not a number") from None
    if not amount.is_finite() or amount < 0 or amount != amount.to_integral_value():
        raise InvalidInput(f"invalid {what}: {value!r} (at most {decimals} decimals, not negative)")
    return int(amount)


def read_json(path: str, what: str) -> Any:
    """The parsed JSON of a file, or a one-line error."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} not found: {path}") from None
    except IsADirectoryError:
        raise InvalidInput(f"{what} {path} is a folder, not a file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{what} {path} is not valid JSON ({exc})") from None


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}


def duration(value: str) -> int:
    """Seconds from "90", "90s", "15m", "12h", "7d" or "2w"."""
    text = value.strip().lower()
    unit = _UNITS.get(text[-1:])
    number = text[:-1] if unit else text
    if not number.isdigit():
        raise InvalidInput(f"invalid duration {value!r}: e.g. 3600, 15m, 12h, 7d")
    return int(number) * (unit or 1)
