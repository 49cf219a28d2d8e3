"""Entry point of the `offnet` console script: the command group and its one-line error policy."""

from __future__ import annotations

import json
import sys

import click
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from offnet import __version__
from offnet.chain.artifacts import artifact_names, load_artifact
from offnet.cli.account import account
from offnet.exceptions import AnvilError, ChainError, ContractRevert

console = Console()
err_console = Console(stderr=True)

# Failures a user can cause and fix: shown as one line, never a traceback (unless --debug).
# OSError covers an RPC or a peer that stopped answering mid-command (requests' ConnectionError).
USER_ERRORS = (ContractRevert, ChainError, AnvilError, LookupError, ValueError, OSError)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="offnet")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """offnet: buy and sell off-net circuits among carriers, on chain, through MEF LSO Sonata."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


cli.add_command(account)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def artifacts(as_json: bool) -> None:
    """List the compiled contracts shipped in this package."""
    rows = [
        (name, load_artifact(name).sha256, len(load_artifact(name).bytecode) // 2 - 1)
        for name in artifact_names()
    ]
    if as_json:
        click.echo(
            json.dumps([{"contract": n, "sha256": h, "initcodeBytes": b} for n, h, b in rows], indent=2)
        )
        return
    table = Table(title=f"offnet {__version__} packaged artifacts")
    table.add_column("contract")
    table.add_column("init code bytes", justify="right")
    table.add_column("sha256")
    for name, digest, size in rows:
        table.add_row(name, str(size), digest[:16])
    console.print(table)


def _register() -> None:
    from offnet.cli.award import award
    from offnet.cli.carrier import carrier
    from offnet.cli.contract import contract
    from offnet.cli.demo import demo
    from offnet.cli.deploy import deploy
    from offnet.cli.dev import dev
    from offnet.cli.explorer import explorer
    from offnet.cli.oracle import oracle
    from offnet.cli.order import order
    from offnet.cli.providers import providers
    from offnet.cli.quote import quote
    from offnet.cli.reputation import reputation
    from offnet.cli.rfq import rfq
    from offnet.cli.sla import sla
    from offnet.cli.sonata import sonata

    for command in (
        deploy,
        carrier,
        providers,
        rfq,
        quote,
        award,
        order,
        sla,
        reputation,
        contract,
        sonata,
        dev,
        oracle,
        explorer,
        demo,
    ):
        cli.add_command(command)


_register()


def one_line(exc: BaseException) -> str:
    """A user-facing error as one line (pydantic lists every field problem, joined)."""
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}" for e in exc.errors())
    return " ".join(str(exc).split())


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user errors print `error: ...` or `refused: Error(args)` in one line, exit 1."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        cli.main(args=argv, prog_name="offnet", standalone_mode=False)
    except click.exceptions.Abort:
        err_console.print("aborted")
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except USER_ERRORS as exc:
        if debug:
            raise
        prefix = "refused" if isinstance(exc, ContractRevert) else "error"
        err_console.print(f"{prefix}: {one_line(exc)}", markup=False, highlight=False, soft_wrap=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
