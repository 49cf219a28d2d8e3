"""Options shared by every command that touches a chain: which chain, which account, which manifest.

Each has an environment variable, so a session sets them once (`export OFFNET_RPC=...
OFFNET_DEPLOYMENTS=... OFFNET_KEYSTORE_DIR=...`) and commands work from any folder.
"""

from __future__ import annotations

import functools
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING

import click

from offnet.cli.inputs import address
from offnet.exceptions import InvalidInput

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from offnet.chain.connect import Chain
    from offnet.chain.tx import Sender
    from offnet.deployment import Suite

CHAINS = ("embedded", "anvil", "ganache")
DEPLOYMENTS_ENV = "OFFNET_DEPLOYMENTS"


@dataclass
class ChainOptions:
    """What the user asked for on the command line; connects lazily, closes on exit."""

    chain_kind: str
    rpc: str | None
    confirmations: int
    deployments: Path
    account: str | None
    password_file: Path | None
    password_env: str | None
    private_key_env: str | None
    keystore_dir: Path | None
    port: int | None = None
    _chain: Chain | None = field(default=None, repr=False)

    def chain(self) -> Chain:
        if self._chain is None:
            from offnet.chain.connect import connect

            self._chain = connect(
                self.chain_kind, rpc=self.rpc, confirmations=self.confirmations, port=self.port
            )
            click.get_current_context().call_on_close(self._chain.close)
        return self._chain

    def signer(self, *, required: bool = True) -> LocalAccount | None:
        """The account that signs: --account (keystore) or --private-key-env (CI)."""
        from offnet.wallet.signer import signer_of

        return signer_of(self, required=required)

    def sender(self) -> Sender:
        from offnet.chain.tx import Sender

        return Sender(self.chain(), self.signer())

    def address(self) -> str:
        """The address of --account (read from its keystore, no password) or of --private-key-env."""
        if self.account and not self.private_key_env:
            return self.address_of(self.account, "--account")
        return self.signer().address

    def address_of(self, value: str, what: str = "address") -> str:
        """An address typed as 0x hex (EIP-55 checked) or as the name of an account in the keystore."""
        if value.lower().startswith("0x"):
            return address(value, what)
        from offnet.wallet.keystore import Keystore

        keystore = Keystore(self.keystore_dir)
        if value not in {entry.name for entry in keystore.entries()}:
            raise InvalidInput(
                f"invalid {what}: {value!r} is not a 0x-prefixed 20-byte address, nor an account in "
                f"{keystore.directory}"
            )
        return address(keystore.address(value), what)

    def suite(self) -> Suite:
        from offnet.deployment import Manifest, Suite

        chain = self.chain()
        return Suite.attach(chain, Manifest.load(chain.chain_id, self.deployments))


def path_option(*param_decls: str, **attrs):
    """An option naming a file or folder, passed to the command as a `Path`."""
    return click.option(*param_decls, type=click.Path(path_type=Path), **attrs)


def path_argument(*param_decls: str, **attrs):
    """An argument naming a file or folder, passed to the command as a `Path`."""
    return click.argument(*param_decls, type=click.Path(path_type=Path), **attrs)


def rpc_option(help_text: str):
    """--rpc URL (or $OFFNET_RPC), with what it means for the command."""
    return click.option("--rpc", envvar="OFFNET_RPC", help=help_text)


deployments_option = path_option(
    "--deployments",
    envvar=DEPLOYMENTS_ENV,
    default=Path("deployments"),
    show_default=True,
    help=f"folder of deployment manifests (<chainId>.json) [env {DEPLOYMENTS_ENV}]",
)


# The ChainOptions fields that `chain_options` reads from the command line (one option each).
_OPTION_FIELDS = tuple(f.name for f in fields(ChainOptions) if f.init and f.default is MISSING)


def chain_options(command):
    """Decorator adding the chain and account options; passes `opts: ChainOptions`."""

    @click.option(
        "--chain",
        "chain_kind",
        type=click.Choice(CHAINS),
        default="embedded",
        show_default=True,
        help="embedded eth-tester chain, or an anvil or Ganache started from node_modules",
    )
    @rpc_option("JSON-RPC URL of any EVM node (overrides --chain) [env OFFNET_RPC]")
    @click.option(
        "--confirmations",
        type=click.IntRange(1, 64),
        default=1,
        show_default=True,
        help="blocks a transaction needs before it counts",
    )
    @deployments_option
    @click.option(
        "--account", envvar="OFFNET_ACCOUNT", help="keystore account that signs [env OFFNET_ACCOUNT]"
    )
    @path_option(
        "--password-file",
        envvar="OFFNET_PASSWORD_FILE",
        help="read the keystore password from this file [env OFFNET_PASSWORD_FILE]",
    )
    @click.option("--password-env", help="read the keystore password from this environment variable")
    @click.option(
        "--private-key-env", help="sign with the private key held in this environment variable (CI)"
    )
    @path_option(
        "--keystore-dir",
        envvar="OFFNET_KEYSTORE_DIR",
        help="keystore folder [default ~/.offnet/keystores]",
    )
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        opts = ChainOptions(**{name: kwargs.pop(name) for name in _OPTION_FIELDS})
        return command(*args, opts=opts, **kwargs)

    return wrapper
