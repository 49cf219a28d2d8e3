"""`offnet deploy`: the whole suite from packaged artifacts, wired, with its manifest.

The chain is probed first: the Cancun build where it runs MCOPY and transient storage, the Shanghai
build where it stops at PUSH0, and a one-line refusal naming what is missing anywhere older.
"""

from __future__ import annotations

import click
from click.core import ParameterSource

from offnet.cli.options import ChainOptions, chain_options, path_option
from offnet.cli.output import fields, note, say, table


@click.command()
@chain_options
@path_option("--config", "config_file", help="YAML file of SuiteConfig fields")
@click.option("--founder", "founders", multiple=True, help="founding member admin address (repeatable)")
@click.option(
    "--council", "council", multiple=True, help="council member address, one of the founders (repeatable)"
)
@click.option("--threshold", type=int, help="council approvals needed (m of n)")
@click.option("--sponsors", type=int, help="sponsors needed to admit an applicant")
@click.option("--token", "tokens", multiple=True, help="allow-listed settlement token (repeatable)")
@click.option(
    "--keep", is_flag=True, help="with --chain anvil or ganache: leave the node running and print its URL"
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    help="with --chain anvil or ganache: the port the node listens on [default: a free one]",
)
@click.option("--json", "as_json", is_flag=True, help="print the manifest as JSON")
def deploy(
    opts: ChainOptions, config_file, founders, council, threshold, sponsors, tokens, keep, port, as_json
) -> None:
    """Deploy CarrierRegistry, OrderEscrow, SlaLedger, ContractNotary and RfqMarket, wired together."""
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from offnet.chain.tx import Sender
    from offnet.deployment import SuiteConfig, deploy_suite
    from offnet.testing.accounts import funded_account

    context = click.get_current_context()
    if (
        context.get_parameter_source("chain_kind") == ParameterSource.COMMANDLINE
        and context.get_parameter_source("rpc") == ParameterSource.ENVIRONMENT
    ):
        opts.rpc = None  # `--chain anvil` typed here starts that node, whatever OFFNET_RPC says
    starts_node = opts.chain_kind != "embedded" and not opts.rpc
    if (keep or port) and not starts_node:
        raise click.UsageError("--keep and --port apply to a node deploy starts: --chain anvil or ganache")
    opts.port = port
    config = SuiteConfig.from_file(config_file) if config_file else SuiteConfig()
    addresses = {
        k: [opts.address_of(a, f"--{k.rstrip('s')}") for a in v]
        for k, v in (("founders", founders), ("council", council))
        if v
    }
    overrides = {**addresses, **({"tokens": list(tokens)} if tokens else {})}
    overrides |= {k: v for k, v in (("council_threshold", threshold), ("sponsors_required", sponsors)) if v}
    config = SuiteConfig.model_validate({**config.model_dump(), **overrides})

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
    saved = None if opts.chain_kind == "embedded" and not opts.rpc else manifest.save(opts.deployments)
    if keep and chain.node:
        chain.node.detach()
    if as_json:
        click.echo(manifest.to_json())
    else:
        table(
            f"offnet suite on chain {manifest.chain_id} ({manifest.evm} build)",
            ("contract", "address", "block", "gas"),
            [
                (name, d.address, d.block, f"{manifest.gas[f'deploy {name}']:,}")
                for name, d in manifest.contracts.items()
            ],
        )
        fields(
            "deployment",
            {
                "evm build": f"{manifest.evm} (probed: the newest build this chain runs)",
                "manifest": saved.resolve() if saved else "not saved (embedded chain ends with this command)",
            },
        )
    if keep and chain.node:
        lines = [
            f"{chain.node.NAME} left running at {chain.url} (pid {chain.node.pid}); for the next commands:",
            f"export OFFNET_RPC={chain.url} OFFNET_DEPLOYMENTS={opts.deployments.resolve()}",
        ]
        for line in lines:
            (note if as_json else say)(line)
