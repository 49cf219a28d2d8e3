"""`offnet reputation PROVIDER`: the provider's track record as the ledger aggregates it.

A score is shown with the facts behind it: a member without history is "new", not 0 %.
"""

from __future__ import annotations

from dataclasses import asdict

import click

from offnet.cli.options import ChainOptions, chain_options
from offnet.cli.output import echo_json, json_option, table


def percent(ppm: int) -> str:
    return f"{ppm / 10_000:.1f}%"


def score_text(reputation) -> str:
    """`93.2% (24 facts)` or `new (no history yet)`."""
    if reputation.new:
        return "new (no history yet)"
    return f"{percent(reputation.overall_ppm)} ({reputation.samples} facts)"


def _score(ppm: int, samples: int) -> str:
    return f"{percent(ppm)} (n={samples})" if samples else "new (n=0)"


@click.command()
@chain_options
@click.argument("provider")
@json_option
def reputation(opts: ChainOptions, provider: str, as_json: bool) -> None:
    """PROVIDER's quote timeliness, delivery, SLA compliance and overall score."""
    provider = opts.address_of(provider, "provider address")
    rep = opts.suite().ledger.reputation(provider)
    if as_json:
        echo_json({"provider": provider, **asdict(rep), "samples": rep.samples, "new": rep.new})
        return
    delivered = rep.orders_delivered + rep.orders_failed
    rows = [
        ("overall", _score(rep.overall_ppm, rep.samples)),
        ("quote timeliness", _score(rep.quote_timeliness_ppm, rep.quotes_requested)),
        ("on-time delivery", _score(rep.on_time_delivery_ppm, rep.orders_delivered)),
        ("delivery success", _score(rep.delivery_success_ppm, delivered)),
        ("SLA compliance", _score(rep.sla_compliance_ppm, rep.periods_reported)),
        (
            "average lateness",
            f"{rep.average_days_late_milli / 1000:.1f} days" if rep.orders_delivered else "-",
        ),
        (
            "average availability",
            f"{rep.average_availability_ppm / 10_000:.3f}%" if rep.periods_reported else "-",
        ),
        ("trouble tickets", f"{rep.trouble_tickets:,}"),
        (
            "average time to restore",
            f"{rep.average_restore_sec / 3600:.1f} h" if rep.trouble_tickets else "-",
        ),
        ("disputes lost", f"{rep.disputes_lost:,}"),
    ]
    table(
        f"reputation of {provider}",
        ("figure", "value"),
        rows,
        caption="n = the facts behind a score; 'new' = no history yet (not a bad record)",
    )
