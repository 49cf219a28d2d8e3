"""What the market commands share: suite clients, input parsing, tables, JSON, transactions."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import click
from eth_utils import is_address, to_checksum_address
from rich.console import Console
from rich.table import Table
from web3.exceptions import Web3RPCError

from offnet.chain import Receipt
from offnet.cli.options import ChainOptions
from offnet.deployment import Suite
from offnet.market.escrow import EscrowClient
from offnet.market.ledger import LedgerClient
from offnet.market.notary import NotaryClient
from offnet.market.registry import ACCESS_ELINE_URN, RegistryClient, product_key
from offnet.market.rfq import RfqClient

console = Console()
err_console = Console(stderr=True)

json_option = click.option("--json", "as_json", is_flag=True, help="machine-readable output")

# Short names a human types for the MEF product specifications offnet trades.
PRODUCT_ALIASES = {"access-eline": ACCESS_ELINE_URN}


class InvalidInput(ValueError):
    """An argument or file the user gave cannot be used as it is."""


class TransactionRejected(ValueError):
    """The node refused a transaction before running it (insufficient funds for gas, fee too low...)."""


@dataclass
class Clients:
    """Typed clients of every contract of the deployed suite."""

    suite: Suite
    registry: RegistryClient
    market: RfqClient
    escrow: EscrowClient
    ledger: LedgerClient
    notary: NotaryClient

    @classmethod
    def of(cls, opts: ChainOptions) -> Clients:
        suite = opts.suite()
        chain = suite.chain
        return cls(
            suite,
            RegistryClient(chain, suite.registry.address),
            RfqClient(chain, suite.market),
            EscrowClient(chain, suite.escrow),
            LedgerClient(chain, suite.ledger),
            NotaryClient(chain, suite.notary),
        )


# --- input ------------------------------------------------------------------------------------------


def address(value: str, what: str = "address") -> str:
    """A checksummed address, or a one-line error naming what was expected."""
    if not isinstance(value, str) or not is_address(value):
        raise InvalidInput(f"invalid {what}: {value!r} is not a 0x-prefixed 20-byte address")
    return to_checksum_address(value)


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


def product(value: str) -> tuple[str, bytes]:
    """A product alias (access-eline) or MEF spec URN -> (URN, on-chain key)."""
    urn = PRODUCT_ALIASES.get(value.lower(), value)
    if ":" not in urn:
        raise InvalidInput(f"unknown product {value!r}: use {', '.join(PRODUCT_ALIASES)} or a MEF spec URN")
    return urn, product_key(urn)


def reputation_floor(value: str | None) -> int:
    """A reputation floor typed as 0.9 or 90% -> parts per million."""
    if value is None:
        return 0
    text = value.strip()
    try:
        number = Decimal(text[:-1]) / 100 if text.endswith("%") else Decimal(text)
    except InvalidOperation:
        number = Decimal(-1)
    if not 0 <= number <= 1:
        raise InvalidInput(
            f"invalid reputation {value!r}: give a score from 0 to 1 (0.9) or a percentage (90%)"
        )
    return int(number * 1_000_000)


def token_amount(value: str, decimals: int, what: str = "amount") -> int:
    """A decimal amount in whole tokens ("1200.50") -> smallest units."""
    try:
        amount = Decimal(value) * 10**decimals
    except InvalidOperation:
        raise InvalidInput(f"invalid {what}: {value!r} is not a number") from None
    if amount < 0 or amount != amount.to_integral_value():
        raise InvalidInput(f"invalid {what}: {value!r} (at most {decimals} decimals, not negative)")
    return int(amount)


def read_json(path: str, what: str) -> Any:
    """The parsed JSON of a file, or a one-line error."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} not found: {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{what} {path} is not valid JSON ({exc})") from None


# --- output -----------------------------------------------------------------------------------------


def hexstr(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def money(amount: int, decimals: int) -> str:
    return f"{Decimal(amount) / Decimal(10**decimals):,.{decimals}f}"


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=_jsonable))


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return hexstr(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def table(
    title: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]], caption: str | None = None
) -> None:
    out = Table(title=title, caption=caption)
    for i, column in enumerate(columns):
        out.add_column(column, overflow="fold", no_wrap=i == 0)  # the first column holds ids: keep them whole
    for row in rows:
        out.add_row(*(str(v) for v in row))
    console.print(out)


def fields(title: str, values: dict[str, Any]) -> None:
    """A two-column table of named values."""
    table(title, ("field", "value"), list(values.items()))


@contextmanager
def waiting(description: str) -> Iterator[None]:
    """A spinner on stderr while something waits (a transaction, a sync)."""
    with err_console.status(description, spinner="dots"):
        yield


def send(label: str, transact: Callable[[], Receipt]) -> Receipt:
    """Send a transaction behind a spinner; print its hash and gas used (on stderr under --json)."""
    with waiting(f"{label}: waiting for confirmation"):
        try:
            receipt = transact()
        except Web3RPCError as exc:  # the node refused the transaction itself (funds, fees, nonce)
            message = exc.rpc_response.get("error", {}).get("message") if exc.rpc_response else None
            raise TransactionRejected(
                f"{label}: the node rejected the transaction: {message or exc}"
            ) from None
    context = click.get_current_context(silent=True)
    as_json = bool(context and context.params.get("as_json"))
    (err_console if as_json else console).print(
        f"{label}: tx {receipt.tx_hash} block {receipt.block_number} gas used {receipt.gas_used:,}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    return receipt


def decimals_of(clients: Clients, token: str) -> int:
    """A token's decimals (6 when it does not say)."""
    abi = [
        {
            "name": "decimals",
            "type": "function",
            "stateMutability": "view",
            "inputs": [],
            "outputs": [{"name": "", "type": "uint8"}],
        }
    ]
    try:
        return clients.suite.chain.w3.eth.contract(address=token, abi=abi).functions.decimals().call()
    except Exception:  # a token without decimals(): show raw units as micro-units
        return 6


def my_address(opts: ChainOptions) -> str:
    """The address of --account (read from its keystore, no password) or of --private-key-env."""
    if opts.account and not opts.private_key_env:
        from offnet.wallet.keystore import Keystore

        return to_checksum_address(Keystore(opts.keystore_dir).address(opts.account))
    return opts.signer().address


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}


def duration(value: str) -> int:
    """Seconds from "90", "90s", "15m", "12h", "7d" or "2w"."""
    text = value.strip().lower()
    unit = _UNITS.get(text[-1:])
    number = text[:-1] if unit else text
    if not number.isdigit():
        raise InvalidInput(f"invalid duration {value!r}: e.g. 3600, 15m, 12h, 7d")
    return int(number) * (unit or 1)
