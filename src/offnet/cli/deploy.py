"""`offnet deploy`: the whole suite from packaged artifacts, wired, with its manifest."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from offnet.chain.connect import ANVIL, EMBEDDED
from offnet.chain.tx import Sender
from offnet.cli.options import ChainOptions, chain_options
from offnet.deployment import SuiteConfig, deploy_suite
from offnet.testing.accounts import funded_account

console = Console()


@click.command()
@chain_options
@click.option(
    "--config", "config_file", type=click.Path(path_type=Path), help="YAML file of SuiteConfig fields"
)
@click.option("--founder", "founders", multiple=True, help="founding member admin address (repeatable)")
@click.option(
    "--council", "council", multiple=True, help="council member address, one of the founders (repeatable)"
)
@click.option("--threshold", type=int, help="council approvals needed (m of n)")
@click.option("--sponsors", type=int, help="sponsors needed to admit an applicant")
@click.option("--token", "tokens", multiple=True, help="allow-listed settlement token (repeatable)")
@click.option("--keep", is_flag=True, help="with --chain anvil: leave anvil running and print its URL")
@click.option("--json", "as_json", is_flag=True, help="print the manifest as JSON")
def deploy(
    opts: ChainOptions, config_file, founders, council, threshold, sponsors, tokens, keep, as_json
) -> None:
    """Deploy CarrierRegistry, OrderEscrow, SlaLedger, ContractNotary and RfqMarket, wired together."""
    config = SuiteConfig.from_file(config_file) if config_file else SuiteConfig()
    overrides = {
        k: list(v) for k, v in (("founders", founders), ("council", council), ("tokens", tokens)) if v
    }
    overrides |= {k: v for k, v in (("council_threshold", threshold), ("sponsors_required", sponsors)) if v}
    config = SuiteConfig.model_validate({**config.model_dump(), **overrides})
    if keep and (opts.chain_kind != ANVIL or opts.rpc):
        raise click.UsageError("--keep only applies to --chain anvil")

    chain = opts.chain()
    account = opts.signer(required=not chain.is_local)
    if account is None:
        if not config.founders:
            raise click.UsageError("on a local chain without --account, name the founders with --founder")
        account = funded_account(chain)  # a throwaway deployer: it keeps no power after wiring
    sender = Sender(chain, account)

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task("deploying", total=None)
        suite = deploy_suite(
            chain, sender, config, progress=lambda msg: progress.update(task, description=msg)
        )
    manifest = suite.manifest
    saved = None if opts.chain_kind == EMBEDDED and not opts.rpc else manifest.save(opts.deployments)

    if keep and chain.anvil:
        chain.anvil.detach()
    if as_json:
        click.echo(manifest.to_json())
    else:
        table = Table(title=f"offnet suite on chain {manifest.chain_id}")
        for column in ("contract", "address", "block", "gas"):
            table.add_column(column)
        for name, deployed in manifest.contracts.items():
            table.add_row(name, deployed.address, str(deployed.block), f"{manifest.gas[f'deploy {name}']:,}")
        console.print(table)
        console.print(f"manifest: {saved or 'not saved (embedded chain ends with this command)'}")
    if keep and chain.anvil:
        click.echo(f"anvil left running at {chain.url} (pid {chain.anvil.pid}); use --rpc {chain.url}")
