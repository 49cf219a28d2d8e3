"""`offnet explorer`: the marketplace explorer, a web page over the event index kept in sync with the chain."""

from __future__ import annotations

from pathlib import Path

import click

from offnet.cli.options import deployments_option, rpc_option

DEFAULT_PORT = 8000
REMOTE_MARGIN = 12  # blocks kept below the tip of a chain that can reorganise (about 2.5 min on Ethereum)


@click.command()
@rpc_option(
    "JSON-RPC URL of the chain to follow [env OFFNET_RPC]; without it the explorer serves --database as it "
    "stands (e.g. the demo's out/index.db after its chain stopped)"
)
@click.option(
    "--database", help="index file or SQLAlchemy URL [default with --rpc: ~/.offnet/index-<chainId>.db]"
)
@deployments_option
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True)
@click.option(
    "--confirmations",
    type=click.IntRange(0, 1024),
    default=None,
    help=f"reorganisation margin: blocks kept below the tip [default 0 on a local dev chain, {REMOTE_MARGIN} "
    "elsewhere]",
)
@click.option(
    "--poll", type=click.FloatRange(0.05, 3600), default=2.0, show_default=True, help="seconds between syncs"
)
def explorer(
    rpc: str | None,
    database: str | None,
    deployments: Path,
    host: str,
    port: int,
    confirmations: int | None,
    poll: float,
) -> None:
    """Serve the marketplace explorer: providers, RFQs, orders, contract check, council (and /api/...)."""
    from offnet.chain.connect import connect
    from offnet.deployment import Manifest, Suite
    from offnet.explorer import Follower, create_app
    from offnet.indexer import EventIndexer, IndexStore, default_index_url
    from offnet.indexer.store import index_url
    from offnet.serving import http_server

    follower = None
    if rpc:
        chain = connect(rpc=rpc)
        suite = Suite.attach(chain, Manifest.load(chain.chain_id, deployments))
        store = IndexStore(index_url(database) if database else default_index_url(chain.chain_id))
        margin = confirmations if confirmations is not None else (0 if chain.is_local else REMOTE_MARGIN)
        follower = Follower(EventIndexer.of(suite, store, confirmations=margin), poll=poll, rpc=rpc)
        source = f"following {rpc} {margin} block{'s' if margin != 1 else ''} below the tip"
    else:
        if not database:
            raise click.UsageError(
                "give --rpc URL to follow a chain, or --database to serve an index as it is"
            )
        if "://" not in database and not Path(database).expanduser().is_file():
            raise FileNotFoundError(f"no index database at {database}")
        store = IndexStore(index_url(database))
        source = "serving the index as it stands (no --rpc: not following a chain)"
    app = create_app(store, follower)
    if follower is not None:
        follower.start()
    click.echo(f"offnet explorer on http://{host}:{port}/ ({store.url}; {source}); Ctrl-C stops it")
    try:
        http_server(app, host, port, lifespan="on").run()
    finally:
        if follower is not None:
            follower.stop()
        store.close()
