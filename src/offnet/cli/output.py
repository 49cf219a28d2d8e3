"""What the commands print, one convention everywhere: times in ISO-8601 UTC, token amounts with the
token's symbol, ids as 0x hex, enums by name (the values formatted by offnet.display, which the
explorer shares), tables that fit the terminal (80 columns when piped)
without cutting an address or an id, and `--json` with every field in full.

Heavy modules (rich, web3, the market's codecs) are imported only by the functions that need them, so
a command that prints a table or a line starts quickly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from offnet.chain import Receipt
    from offnet.deployment import Suite
    from offnet.display import Token as Token
    from offnet.display import enum_name as enum_name
    from offnet.display import hex_id as hex_id
    from offnet.display import money as money
    from offnet.display import when as when
    from offnet.exceptions import ContractRevert

# The values' formats are offnet.display's (shared with the explorer), re-exported for the commands
# and imported when first asked for: a command that prints none of them starts without them.
_DISPLAY = frozenset({"Token", "enum_name", "hex_id", "money", "when"})


def __getattr__(name: str) -> Any:
    if name in _DISPLAY:
        from offnet import display

        return getattr(display, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


json_option = click.option("--json", "as_json", is_flag=True, help="machine-readable output, every field")

PIPED_WIDTH = 80  # what a table must fit when the output is not a terminal
GAP = "  "


# --- plain lines ----------------------------------------------------------------------------------


def say(text: str) -> None:
    """One line on stdout."""
    click.echo(text)


def prose(text: str) -> None:
    """Text wrapped to the width at spaces (an id or an address is never split)."""
    import textwrap

    click.echo(textwrap.fill(text, _width(), break_long_words=False, break_on_hyphens=False))


def note(text: str) -> None:
    """One line on stderr (progress and transaction receipts under --json)."""
    click.echo(text, err=True)


def echo_json(data: Any) -> None:
    """`data` as indented JSON (byte strings as 0x hex)."""
    click.echo(json.dumps(data, indent=2, default=_bytes_as_hex))


def _bytes_as_hex(value: Any) -> Any:
    # The market's codec (and the chain libraries under it) load only when there are bytes to show.
    if isinstance(value, bytes | bytearray):
        from offnet.market.codec import to_hex

        return to_hex(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


# --- values ---------------------------------------------------------------------------------------


def lane_hex(lane: int) -> str:
    """A ledger lane (uint64) as 0x hex."""
    return f"0x{lane:x}"


_tokens: dict[str, Token] = {}
_shown_token: Token | None = None  # the token amounts in a refusal are shown in


def token_of(suite: Suite, address: str) -> Token:
    """The token at `address` (6 decimals and `units` when it does not say); refusals of this command
    show their amounts in it."""
    global _shown_token
    if address not in _tokens:
        from offnet.chain.tokens import read_token

        _tokens[address] = read_token(suite.chain, address)
    _shown_token = _tokens[address]
    return _tokens[address]


# --- tables ---------------------------------------------------------------------------------------


def _width() -> int:
    import sys

    if sys.stdout.isatty():
        import shutil  # its archive formats load compression modules every command would pay for

        return shutil.get_terminal_size((PIPED_WIDTH, 24)).columns
    return PIPED_WIDTH


def _numeric(text: str) -> bool:
    head = text.split(" ")[0].replace(",", "").replace(".", "").replace("%", "").lstrip("-+")
    return bool(head) and head.isdigit()


def table(
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    caption: str | None = None,
) -> None:
    """Rows under a title, columns aligned (numbers to the right). Nothing is ever cut: when the
    columns do not fit the width, each row is printed as a block of `column: value` lines instead.
    Columns empty in every row are left out."""
    cells = [[str(v) for v in row] for row in rows]
    keep = [i for i in range(len(columns)) if any(row[i] not in ("", "-") for row in cells)] or list(
        range(len(columns))
    )
    headers = [columns[i] for i in keep]
    cells = [[row[i] for i in keep] for row in cells]
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(headers)]
    right = [
        bool(cells) and all(_numeric(row[i]) or row[i] == "-" for row in cells) for i in range(len(headers))
    ]
    prose(title)
    if not cells:
        say("  (none)")
    elif sum(widths) + len(GAP) * (len(widths) - 1) + 2 <= _width():

        def line(values: Sequence[str]) -> str:
            return (
                "  "
                + GAP.join(
                    v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right, strict=True)
                ).rstrip()
            )

        say(line(headers))
        say("  " + GAP.join("-" * w for w in widths))
        for row in cells:
            say(line(row))
    else:
        for index, row in enumerate(cells):
            if index:
                say("")
            _named(dict(zip(headers, row, strict=True)))
    if caption:
        prose(caption)


def _named(values: dict[str, Any]) -> None:
    """`name  value` lines; a value too long for the width goes whole on the next line, indented."""
    label = max((len(k) for k in values), default=0)
    width = _width()
    for key, value in values.items():
        if isinstance(value, list | tuple):  # one item a line, aligned under the first
            items = [str(v) for v in value] or ["-"]
            say(f"  {key.ljust(label)}  {items[0]}")
            for item in items[1:]:
                say(f"  {' ' * label}  {item}")
            continue
        line = f"  {key.ljust(label)}  {value}"
        if len(line) > width and len(str(value)) + 4 <= width:
            say(f"  {key}")
            say(f"    {value}")
        else:
            say(line)


def fields(title: str, values: dict[str, Any]) -> None:
    """Named values, one per line (a value is never cut)."""
    prose(title)
    _named(values)


# --- transactions ---------------------------------------------------------------------------------


@contextmanager
def waiting(description: str) -> Iterator[None]:
    """A spinner on stderr while something waits (a transaction, a sync)."""
    from rich.console import Console

    with Console(stderr=True).status(description, spinner="dots"):
        yield


def send(label: str, transact: Callable[[], Receipt]) -> Receipt:
    """Send a transaction behind a spinner; print its hash and gas used (on stderr under --json)."""
    from web3.exceptions import Web3RPCError

    from offnet.exceptions import TransactionRejected

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
    line = f"{label}: tx {receipt.tx_hash} block {receipt.block_number} gas used {receipt.gas_used:,}"
    (note if as_json else say)(line)
    return receipt


# --- refusals -------------------------------------------------------------------------------------

# Arguments of the contracts' custom errors that are unix times, and token amounts.
TIME_ARGUMENTS = {
    "deadline",
    "nowTime",
    "validUntil",
    "expiresAt",
    "until",
    "availableAt",
    "endsAt",
    "freeAt",
    "finalAt",
    "endedAt",
}
AMOUNT_ARGUMENTS = {"allowance", "needed", "balance", "amount", "expected", "received"}
ID_ARGUMENTS = {"rfqId", "quoteRfqId"}


def _enum(internal_type: str) -> Any:
    from offnet.market import registry, types

    name = internal_type.rsplit(".", 1)[-1]
    return getattr(types, name, None) or getattr(registry, name, None)


def _argument(param: dict | None, name: str, value: Any) -> str:
    from offnet.display import hex_id, when
    from offnet.exceptions import show_value

    internal = (param or {}).get("internalType", "")
    if internal.startswith("enum "):
        enum = _enum(internal[5:])
        if enum is not None:
            try:
                return enum(value).name.lower()
            except ValueError:
                pass
    if name in ID_ARGUMENTS and isinstance(value, int):
        return hex_id(value)
    if name == "lane" and isinstance(value, int):
        return lane_hex(value)
    if name == "kind" and isinstance(value, int):
        from offnet.market.types import ReportKind

        try:
            return ReportKind(value).name.lower()
        except ValueError:
            return str(value)
    if name in TIME_ARGUMENTS and isinstance(value, int):
        return when(value)
    if name in AMOUNT_ARGUMENTS and isinstance(value, int) and _shown_token is not None:
        return _shown_token.amount(value)
    return show_value(value)


def describe_revert(exc: ContractRevert) -> str:
    """A contract's refusal as people read it: `RfqNotOpen(rfqId=0x5c..., status=awarded)`."""
    from offnet.chain.reverts import error_inputs

    params = {p["name"]: p for p in error_inputs(exc.data) or []}
    inner = ", ".join(f"{k}={_argument(params.get(k), k, v)}" for k, v in exc.arguments.items())
    return f"{exc.name}({inner})"
