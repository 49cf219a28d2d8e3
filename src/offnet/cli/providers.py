"""`offnet providers`: discovery from the local event index (synced incrementally before answering)."""

from __future__ import annotations

from pathlib import Path

import click

from offnet.cli.inputs import product, reputation_floor
from offnet.cli.options import ChainOptions, chain_options, path_option
from offnet.cli.output import echo_json, json_option, table

NEW_MEMBERS = ("include", "exclude", "only")


def synced_store(suite, index: str | None):
    """The local index brought up to the latest block, with a progress bar on stderr."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from offnet.indexer import EventIndexer, IndexStore, default_index_url
    from offnet.indexer.store import index_url

    chain = suite.chain
    store = IndexStore(index_url(index) if index else default_index_url(chain.chain_id))
    click.get_current_context().call_on_close(store.close)
    indexer = EventIndexer.of(suite, store)
    with Progress(
        TextColumn("indexing blocks"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task("sync", total=None)
        indexer.sync(progress=lambda done, total: progress.update(task, completed=done, total=total))
    return store


@click.command()
@chain_options
@click.option("--product", "product_name", required=True, help="access-eline or a MEF product spec URN")
@click.option("--country", required=True, help="ISO 3166-1 alpha-2 country code, e.g. GB")
@click.option("--min-reputation", help="overall reputation floor: 0..1 (0.9) or a percentage (90%)")
@click.option(
    "--new-members",
    type=click.Choice(NEW_MEMBERS),
    default="include",
    show_default=True,
    help="members without history: list them whatever the floor, leave them out, or list only them",
)
@path_option(
    "--index",
    "index",
    help="index file or SQLAlchemy URL [default ~/.offnet/index-<chainId>.db]",
)
@json_option
def providers(
    opts: ChainOptions,
    product_name: str,
    country: str,
    min_reputation: str | None,
    new_members: str,
    index: Path | None,
    as_json: bool,
) -> None:
    """Active members selling a product in a country, best reputation first."""
    from offnet.market.registry import country_code, country_text

    _, key = product(product_name)
    code = country_text(country_code(country))
    floor = reputation_floor(min_reputation)
    suite = opts.suite()
    store = synced_store(suite, str(index) if index else None)
    rows = store.providers(key, code, floor, new_members=new_members)
    if as_json:
        echo_json(
            [
                {
                    "address": r.address,
                    "name": r.name,
                    "sonataUrl": r.sonata_url,
                    "reputationPpm": r.reputation_ppm,
                    "reputationSamples": r.reputation_samples,
                    "new": r.new,
                }
                for r in rows
            ]
        )
        return
    new_note = {
        "include": "new members (no history) listed whatever the floor",
        "exclude": "new members left out",
        "only": "only new members",
    }[new_members]
    table(
        f"providers of {product_name} in {code}",
        ("provider", "name", "reputation", "Sonata API"),
        [
            (
                r.address,
                r.name or "-",
                "new (n=0)" if r.new else f"{r.reputation_ppm / 10_000:.1f}% (n={r.reputation_samples})",
                r.sonata_url or "-",
            )
            for r in rows
        ],
        caption=f"{len(rows)} found"
        + (f"; reputation >= {floor / 10_000:.1f}%" if floor else "")
        + f"; {new_note}; n = facts behind the score",
    )
