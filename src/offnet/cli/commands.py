"""The `offnet` command group: every subcommand by name, imported only when it runs.

A command's module (and what it needs: web3, rich, pydantic...) is imported only when that command
runs, so `offnet --help` lists them all without importing any. `COMMANDS` holds each command's
one-line help for the listing; a test checks it against the command's own docstring.
"""

from __future__ import annotations

import importlib

import click

from offnet import __version__

# name: (module, attribute, one-line help shown by `offnet --help`), in the order listed there.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "account": (
        "offnet.cli.account",
        "account",
        "Local accounts: encrypted keystores (scrypt) that sign transactions and EIP-712 messages.",
    ),
    "deploy": (
        "offnet.cli.deploy",
        "deploy",
        "Deploy CarrierRegistry, OrderEscrow, SlaLedger, ContractNotary and RfqMarket, wired together.",
    ),
    "carrier": (
        "offnet.cli.carrier",
        "carrier",
        "Membership of the carrier registry: apply, sponsor, council votes, keys.",
    ),
    "providers": (
        "offnet.cli.providers",
        "providers",
        "Active members selling a product in a country, best reputation first.",
    ),
    "rfq": (
        "offnet.cli.rfq",
        "rfq",
        "Requests for quote: a hash of the Sonata quote request on chain, the detail off chain.",
    ),
    "quote": (
        "offnet.cli.quote",
        "quote",
        "Quotes: sign (writes the file the buyer receives), commit the digest on chain, withdraw.",
    ),
    "award": (
        "offnet.cli.award",
        "award",
        "Rank QUOTE_FILES (signed quotes for one RFQ) like for like and award one; the order opens in escrow.",
    ),
    "order": (
        "offnet.cli.order",
        "order",
        "Escrowed orders opened by awards.",
    ),
    "sla": (
        "offnet.cli.sla",
        "sla",
        "SLA facts on the ledger: submit, show, finalise and dispute reports.",
    ),
    "reputation": (
        "offnet.cli.reputation",
        "reputation",
        "PROVIDER's quote timeliness, delivery, SLA compliance and overall score.",
    ),
    "contract": (
        "offnet.cli.contract",
        "contract",
        "The financial contract notarised at award: hash on chain, encrypted copies in events.",
    ),
    "sonata": (
        "offnet.cli.sonata",
        "sonata",
        "MEF LSO Sonata documents and the reference seller.",
    ),
    "dev": (
        "offnet.cli.dev",
        "dev",
        "Local development chains only (anvil, Ganache, embedded): fund, mint, move time.",
    ),
    "oracle": (
        "offnet.cli.oracle",
        "oracle",
        "Run and inspect a carrier's oracle relay (Sonata events in, SLA reports on chain).",
    ),
    "explorer": (
        "offnet.cli.explorer",
        "explorer",
        "Serve the marketplace explorer: providers, RFQs, orders, contract check, council (and /api/...).",
    ),
    "demo": (
        "offnet.cli.demo",
        "demo",
        "Run a whole marketplace: six carriers trade circuits through RFQs, orders, SLA reports and payouts.",
    ),
    "artifacts": (
        "offnet.cli.artifacts",
        "artifacts",
        "List the compiled contracts shipped in this package (both EVM builds).",
    ),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported when they run, listed from COMMANDS without importing."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attribute, _ = COMMANDS[cmd_name]
        return getattr(importlib.import_module(module), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, short) for name, (_, _, short) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="offnet")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """offnet: buy and sell off-net circuits among carriers, on chain, through MEF LSO Sonata."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
