"""Deploy the offnet suite through ape: `ape run deploy --network ethereum:local:foundry`.

ape supplies the network connection; everything else is the offnet package's own deployment code
(offnet.deployment.deploy_suite), so `offnet deploy` and this script deploy the same thing.

Signer: on local networks, ape's first test account; elsewhere the offnet keystore account named by
OFFNET_ACCOUNT (password from OFFNET_PASSWORD_FILE or an interactive prompt). Suite parameters come
from the YAML file named by OFFNET_DEPLOY_CONFIG when set.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from eth_account import Account

from ape import accounts, networks
from offnet.chain.connect import RPC, Chain
from offnet.chain.tx import Sender
from offnet.deployment import DEFAULT_DEPLOYMENTS_DIR, SuiteConfig, deploy_suite


def _signer(is_local: bool):
    if is_local:
        return Account.from_key(accounts.test_accounts[0].private_key)
    from offnet.wallet.signer import resolve_signer

    password_file = os.environ.get("OFFNET_PASSWORD_FILE")
    return resolve_signer(
        account=os.environ.get("OFFNET_ACCOUNT"), password_file=Path(password_file) if password_file else None
    )


def main() -> None:
    provider = networks.provider
    chain = Chain(w3=provider.web3, kind=RPC, url=getattr(provider, "uri", None))
    is_local = provider.network.name == "local"
    config_path = os.environ.get("OFFNET_DEPLOY_CONFIG")
    config = SuiteConfig.from_file(Path(config_path)) if config_path else SuiteConfig(test_token=is_local)
    sender = Sender(chain, _signer(is_local))
    suite = deploy_suite(chain, sender, config, progress=lambda msg: click.echo(f"  {msg}"))
    path = suite.manifest.save(Path(os.environ.get("OFFNET_DEPLOYMENTS", DEFAULT_DEPLOYMENTS_DIR)))
    for name, deployed in suite.manifest.contracts.items():
        click.echo(f"{name:16} {deployed.address}")
    click.echo(f"manifest written to {path}")
