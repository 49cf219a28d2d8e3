"""`offnet reputation PROVIDER`: the provider's track record as the ledger aggregates it."""

from __future__ import annotations

from dataclasses import asdict

import click

from offnet.cli.inputs import address
from offnet.cli.options import ChainOptions, chain_options
from offnet.cli.output import echo_json, json_option, table


@click.command()
@chain_options
@click.argument("provider")
@json_option
def reputation(opts: ChainOptions, provider: str, as_json: bool) -> None:
    """PROVIDER's quote timeliness, delivery, SLA compliance and overall score."""
    provider = address(provider, "provider address")
    figures = asdict(opts.suite().ledger.reputation(provider))
    if as_json:
        echo_json({"provider": provider, **figures})
        return
    rows = [
        (
            name.replace("_", " "),
            f"{value / 10_000:.2f}%"
            if name.endswith("_ppm") and name != "availability_sum_ppm"
            else f"{value:,}",
        )
        for name, value in figures.items()
    ]
    table(
        f"reputation of {provider}",
        ("figure", "value"),
        rows,
        caption="scores with no data are 0; read the counts to tell 'no data' from 'bad'",
    )
