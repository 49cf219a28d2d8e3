"""What the command line prints and how quickly it starts: one output convention, lazy commands."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

from offnet.cli import output
from offnet.cli.commands import COMMANDS, cli
from offnet.exceptions import ContractRevert


def test_commands__listed_help_is_each_commands_own_first_docstring_line():
    for name, (module, attribute, short) in COMMANDS.items():
        command = getattr(importlib.import_module(module), attribute)
        assert command.help.splitlines()[0] == short, name
    assert list(cli.list_commands(None)) == list(COMMANDS)


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["sonata", "validate", "--help"]])
def test_start_up__imports_no_chain_stack(args):
    probe = (
        "import sys; from offnet.cli.main import main\n"
        f"try: main({args!r})\nexcept SystemExit: pass\n"
        "heavy = [m for m in ('web3', 'eth_account', 'rich', 'pydantic', 'offnet.chain.connect') if m in sys.modules]\n"
        "print('HEAVY', heavy, 'click' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    heavy, has_click = done.stdout.rsplit("HEAVY ", 1)[1].rsplit(" ", 1)
    assert heavy == "[]"
    assert (has_click.strip() == "True") == (args != ["--version"])  # --version answers before click


def test_money__exact_with_symbol_and_two_decimals_at_least():
    assert output.money(2_350_000_000, 6, "tUSD") == "2,350.00 tUSD"
    assert output.money(1, 6, "tUSD") == "0.000001 tUSD"
    assert output.money(10**18, 18) == "1.00"


def test_when__iso_8601_utc():
    assert output.when(1_767_571_200) == "2026-01-05T00:00:00Z" and output.when(0) == "-"


def test_describe_revert__ids_in_hex_enum_names_times_and_amounts_in_the_token():
    from eth_abi import encode
    from eth_utils import keccak

    from offnet.chain.reverts import decode_revert

    def revert(signature: str, types: list[str], values: list) -> ContractRevert:
        return decode_revert(keccak(text=signature)[:4] + encode(types, values))

    rfq = revert("RfqNotOpen(uint256,uint8)", ["uint256", "uint8"], [2**255 + 5, 2])
    assert output.describe_revert(rfq) == f"RfqNotOpen(rfqId=0x{2**255 + 5:064x}, status=awarded)"
    late = revert("QuoteExpired(uint40,uint256)", ["uint40", "uint256"], [1_767_571_200, 1_767_571_260])
    assert (
        output.describe_revert(late)
        == "QuoteExpired(validUntil=2026-01-05T00:00:00Z, nowTime=2026-01-05T00:01:00Z)"
    )
    output._shown_token = output.Token("0x" + "11" * 20, "tUSD", 6)
    try:
        short = revert(
            "ERC20InsufficientBalance(address,uint256,uint256)",
            ["address", "uint256", "uint256"],
            ["0x" + "22" * 20, 5, 2_350_000_000],
        )
        assert "balance=0.000005 tUSD, needed=2,350.00 tUSD" in output.describe_revert(short)
    finally:
        output._shown_token = None


def test_table__fits_80_columns_or_prints_records_and_never_cuts_a_value(capsys):
    address = "0x" + "ab" * 20
    order = "0x" + "cd" * 32
    output.table("narrow", ("provider", "name", "empty"), [(address, "Erin", "-")])
    narrow = capsys.readouterr().out.splitlines()
    assert all(len(line) <= 80 for line in narrow) and address in narrow[-1]
    assert "empty" not in narrow[1]  # a column empty in every row is left out
    output.table("wide", ("order", "provider", "status"), [(order, address, "open")])
    wide = capsys.readouterr().out
    assert all(len(line) <= 80 for line in wide.splitlines())
    assert order in wide and address in wide  # whole, on lines of their own


def test_echo_json__byte_strings_at_any_depth_as_hex(capsys):
    output.echo_json({"id": b"\x01\x02", "rows": [(1, bytearray(b"\xff"))], "name": "x"})
    assert json.loads(capsys.readouterr().out) == {"id": "0x0102", "rows": [[1, "0xff"]], "name": "x"}
