"""Entry point of the `offnet` console script and its one-line error policy.

Start-up is kept near a bare Python start: `--version` answers before anything is imported, and the
command group (offnet.cli.commands) imports a command's module only when that command runs.
"""

from __future__ import annotations

import sys

from offnet import __version__
from offnet.exceptions import ChainError, ContractRevert

# Failures a user can cause and fix: shown as one line, never a traceback (unless --debug).
# OSError covers an RPC or a peer that stopped answering mid-command (requests' ConnectionError).
USER_ERRORS = (ContractRevert, ChainError, LookupError, ValueError, OSError)


def one_line(exc: BaseException) -> str:
    """A user-facing error as one line (pydantic lists every field problem, joined)."""
    errors = getattr(exc, "errors", None)
    if type(exc).__name__ == "ValidationError" and callable(errors):  # pydantic's, not imported here
        return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}" for e in errors())
    if isinstance(exc, ContractRevert):
        from offnet.cli.output import describe_revert

        return describe_revert(exc)
    return " ".join(str(exc).split())


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user errors print `error: ...` or `refused: Error(args)` in one line, exit 1."""
    args = sys.argv[1:] if argv is None else list(argv)
    if args == ["--version"]:  # what click's version option prints, without importing click
        print(f"offnet, version {__version__}")
        return 0
    import click

    from offnet.cli.commands import cli

    debug = "--debug" in args
    try:
        cli.main(args=args, prog_name="offnet", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
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
        click.echo(f"{prefix}: {one_line(exc)}", err=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
