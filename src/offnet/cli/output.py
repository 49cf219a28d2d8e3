"""What the commands print: tables, JSON, token amounts, and transactions sent behind a spinner."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from web3.exceptions import Web3RPCError

from offnet.chain import Receipt
from offnet.deployment import Suite
from offnet.exceptions import TransactionRejected
from offnet.market.codec import jsonable

console = Console()
err_console = Console(stderr=True)

json_option = click.option("--json", "as_json", is_flag=True, help="machine-readable output")


def money(amount: int, decimals: int) -> str:
    return f"{Decimal(amount) / Decimal(10**decimals):,.{decimals}f}"


def iso(moment: int) -> str:
    """A unix time as ISO-8601 UTC ("-" for 0, an unset date)."""
    if not moment:
        return "-"
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def echo_json(data: Any) -> None:
    click.echo(json.dumps(jsonable(data), indent=2))


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
                f"{label}: the node refused the transaction: {message or exc}"
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


def decimals_of(suite: Suite, token: str) -> int:
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
        return suite.chain.w3.eth.contract(address=token, abi=abi).functions.decimals().call()
    except Exception:  # a token without decimals(): show raw units as micro-units
        return 6
