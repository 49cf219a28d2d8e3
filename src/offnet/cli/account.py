"""`offnet account`: create, import, list and delete the encrypted keystores that sign for a carrier."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from offnet.cli.options import path_option
from offnet.wallet.keystore import KEYSTORE_DIR_ENV, AccountEntry, Keystore
from offnet.wallet.password import new_password, password_source
from offnet.wallet.signer import account_from_env

console = Console()
err_console = Console(stderr=True)

keystore_dir_option = click.option(
    "--keystore-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar=KEYSTORE_DIR_ENV,
    help=f"keystore folder [env {KEYSTORE_DIR_ENV}; default ~/.offnet/keystores]",
)
password_file_option = path_option(
    "--password-file",
    envvar="OFFNET_PASSWORD_FILE",
    help="read the password from this file's first line [env OFFNET_PASSWORD_FILE]",
)
password_env_option = click.option(
    "--password-env", metavar="VAR", help="read the password from this environment variable"
)
json_option = click.option("--json", "as_json", is_flag=True, help="machine-readable output")
LIGHT_SCRYPT_N = 2**12  # geth's light KDF


def _report(verb: str, entry: AccountEntry) -> None:
    console.print(
        f"{verb} account '{entry.name}' {entry.address or '(address unknown)'}", markup=False, highlight=False
    )
    err_console.print(f"keystore: {entry.path}", markup=False, highlight=False, soft_wrap=True)


@click.group()
def account() -> None:
    """Local accounts: encrypted keystores (scrypt) that sign transactions and EIP-712 messages."""


@account.command("new", short_help="Create a random account, encrypted.")
@click.argument("name")
@keystore_dir_option
@password_file_option
@password_env_option
@click.option(
    "--light-kdf",
    is_flag=True,
    help="scrypt at n=4096 (as geth --lightkdf): unlocks in milliseconds; for throwaway keys of a "
    "local chain, never for keys that hold value",
)
def new(
    name: str,
    keystore_dir: Path | None,
    password_file: Path | None,
    password_env: str | None,
    light_kdf: bool,
) -> None:
    """Create a random account NAME, encrypted with a new password."""
    keystore = Keystore(keystore_dir, scrypt_n=LIGHT_SCRYPT_N if light_kdf else None)
    keystore.ensure_free(name)  # before asking for a password
    password = new_password(password_source(password_file, password_env), name)
    _report("created", keystore.create(name, password))


@account.command("import", short_help="Import a keystore file or a private key.")
@click.argument("name")
@click.option(
    "--keystore",
    "keystore_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="a v3 JSON keystore (ape's ~/.ape/accounts/ALIAS.json, geth's keystore/UTC--...)",
)
@click.option("--private-key-env", metavar="VAR", help="environment variable holding the private key (hex)")
@keystore_dir_option
@password_file_option
@password_env_option
def import_(
    name: str,
    keystore_file: Path | None,
    private_key_env: str | None,
    keystore_dir: Path | None,
    password_file: Path | None,
    password_env: str | None,
) -> None:
    """Import account NAME from a keystore file (kept as it is, password unchanged) or a private key.

    A keystore file is checked by decrypting it with its password. A private key is read only from
    the environment variable named by --private-key-env, and encrypted with a new password.
    """
    if (keystore_file is None) == (private_key_env is None):
        raise click.UsageError("give exactly one of --keystore FILE or --private-key-env VAR")
    keystore = Keystore(keystore_dir)
    keystore.ensure_free(name)
    source = password_source(password_file, password_env)
    if keystore_file is not None:
        password = source.read(f"Password of keystore {keystore_file.name}")
        entry = keystore.import_keystore(name, keystore_file, password)
    else:
        key_account = account_from_env(private_key_env)
        entry = keystore.import_private_key(name, key_account.key, new_password(source, name))
    _report("imported", entry)


@account.command("list", short_help="List accounts and their addresses.")
@keystore_dir_option
@json_option
def list_(keystore_dir: Path | None, as_json: bool) -> None:
    """List the accounts in the keystore folder (no password needed)."""
    keystore = Keystore(keystore_dir)
    entries = keystore.entries()
    if as_json:
        rows = [
            {"name": e.name, "address": e.address, "path": str(e.path), "problem": e.problem} for e in entries
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    if not entries:
        err_console.print(
            f"no accounts in {keystore.directory} (create one with `offnet account new NAME`)",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        return
    table = Table(title="offnet accounts", caption=str(keystore.directory))
    table.add_column("account", no_wrap=True)
    table.add_column("address", no_wrap=True)
    table.add_column("note", overflow="fold")
    for entry in entries:
        table.add_row(entry.name, entry.address or "-", entry.problem or "")
    console.print(table)


@account.command("export-address", short_help="Print an account's address.")
@click.argument("name")
@keystore_dir_option
@json_option
def export_address(name: str, keystore_dir: Path | None, as_json: bool) -> None:
    """Print the address of account NAME (read from its keystore, no password needed)."""
    keystore = Keystore(keystore_dir)
    address = keystore.address(name)
    click.echo(json.dumps({"name": name, "address": address}) if as_json else address)


@account.command("delete", short_help="Delete an account's keystore.")
@click.argument("name")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@keystore_dir_option
def delete(name: str, yes: bool, keystore_dir: Path | None) -> None:
    """Delete the keystore of account NAME; its key is lost unless a copy exists elsewhere."""
    keystore = Keystore(keystore_dir)
    entry = keystore.lookup(name)  # a corrupted keystore can still be deleted
    if not yes:
        click.confirm(
            f"Delete account '{entry.name}' ({entry.address or 'address unknown'}) for good?", abort=True
        )
    _report("deleted", keystore.delete(entry.name))
