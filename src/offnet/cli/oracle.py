"""`offnet oracle run|check|openapi`: one carrier's oracle relay from its config file."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from pathlib import Path

import click

from offnet.cli.options import path_option
from offnet.oracle.config import OracleConfig
from offnet.oracle.redact import RedactingFilter


class _JsonLogs(logging.Formatter):
    """One JSON object per line: what log shippers expect from a service."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


config_option = path_option("--config", "config_file", required=True, help="the carrier's oracle YAML file")


@click.group()
def oracle() -> None:
    """Run and inspect a carrier's oracle relay (Sonata events in, SLA reports on chain)."""


@oracle.command()
@config_option
@click.option("--log-format", type=click.Choice(["json", "text"]), default="json", show_default=True)
@click.option("--log-level", default="info", show_default=True)
def run(config_file: Path, log_format: str, log_level: str) -> None:
    """Serve the listener and relay until SIGINT/SIGTERM (graceful: in-flight work finishes)."""
    from offnet.oracle.service import Oracle

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        _JsonLogs() if log_format == "json" else logging.Formatter("%(asctime)s %(levelname)s %(message)s")
    )
    handler.addFilter(RedactingFilter())  # no secret (an RPC key in a URL, a token) in any log line
    logging.basicConfig(level=log_level.upper(), handlers=[handler], force=True)
    for chatty in ("httpx", "httpcore", "web3", "urllib3"):  # they log every request with its URL
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLogger().level))
    config = OracleConfig.load(config_file)
    service = Oracle(config)
    logging.getLogger("offnet.oracle").info(
        "oracle for %s listening on %s", config.member, config.callback_url
    )

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, service.request_exit)
        await service.serve()

    import uvloop  # libuv's event loop: less CPU per event than asyncio's own (bench measure 4)

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main())


@oracle.command()
@config_option
def check(config_file: Path) -> None:
    """Validate a config file: secrets readable, chain reachable, manifest present."""
    from offnet.chain.connect import connect
    from offnet.deployment import Manifest, Suite

    config = OracleConfig.load(config_file)
    for peer in config.peers:
        peer.inbound_token.read()
        if peer.outbound_token:
            peer.outbound_token.read()
    chain = connect(rpc=config.rpc)
    suite = Suite.attach(chain, Manifest.load(chain.chain_id, config.deployments))
    click.echo(
        f"ok: member {config.member}, chain {chain.chain_id}, ledger {suite.ledger.address}, "
        f"{len(config.peers)} peers"
    )


@oracle.command("dead-letters")
@config_option
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def dead_letters(config_file: Path, as_json: bool) -> None:
    """List the notifications and reports the oracle gave up on, with their reasons."""
    from offnet.oracle.store import Store

    store = Store(OracleConfig.load(config_file).database)
    found = store.dead_letters()
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    if not found:
        click.echo("no dead letters")
    for entry in found:
        what = entry.get("event_id") or entry.get("report_id")
        click.echo(
            f"{entry['what']} {what} from {entry.get('peer') or entry.get('source_peer')}: {entry['last_error']}"
        )


@oracle.command()
@config_option
def requeue(config_file: Path) -> None:
    """Re-drive every dead letter: dead notifications get a fresh retry budget, dead reports another send.

    Safe while the oracle runs (it picks them up on its next pass) and safe to repeat: report ids are
    content-derived, so nothing takes effect twice."""
    from offnet.oracle.store import Store

    store = Store(OracleConfig.load(config_file).database)
    events, reports = store.requeue_dead()
    click.echo(f"requeued {events} notification(s) and {reports} report(s)")


@oracle.command()
def openapi() -> None:
    """Print the listener's OpenAPI document."""
    from offnet.oracle.listener import create_listener_app
    from offnet.oracle.store import Store

    app = create_listener_app(Store("sqlite://"), [], signed_quotes=lambda buyer, rfq: None)
    click.echo(json.dumps(app.openapi(), indent=2))
