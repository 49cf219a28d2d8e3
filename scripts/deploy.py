"""Deploy the offnet suite through ape: `ape run deploy --network ethereum:local:foundry` (or any
network ape knows, e.g. `--network http://127.0.0.1:8545` for a running Ganache).

ape supplies the network connection; everything else is the offnet package's own deployment code
(offnet.deployment.deploy_suite), so `offnet deploy` and this script deploy the same thing: the
chain is probed and gets the Cancun or the Shanghai build of the contracts.

Signer: on local development chains, a throwaway deployer funded from the node's dev account (it
keeps no power after deployment); elsewhere the offnet keystore account named by OFFNET_ACCOUNT
(password from OFFNET_PASSWORD_FILE or an interactive prompt). Suite parameters come from the YAML
file named by OFFNET_DEPLOY_CONFIG when set; the manifest goes to OFFNET_DEPLOYMENTS (default
deployments/).
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from ape import networks
from offnet.chain.connect import RPC, Chain
from offnet.chain.tx import Sender
from offnet.deployment import DEFAULT_DEPLOYMENTS_DIR, SuiteConfig, deploy_suite
from offnet.testing.accounts import funded_account


def _signer(chain: Chain):
    if chain.is_local:
        return funded_account(chain)
    from offnet.wallet.signer import resolve_signer

    password_file = os.environ.get("OFFNET_PASSWORD_FILE")
    return resolve_signer(
        account=os.environ.get("OFFNET_ACCOUNT"), password_file=Path(password_file) if password_file else None
    )


def main() -> None:
    provider = networks.provider
    chain = Chain(w3=provider.web3, kind=RPC, url=getattr(provider, "uri", None))
    config_path = os.environ.get("OFFNET_DEPLOY_CONFIG")
    config = (
        SuiteConfig.from_file(Path(config_path)) if config_path else SuiteConfig(test_token=chain.is_local)
    )
    sender = Sender(chain, _signer(chain))
    suite = deploy_suite(chain, sender, config, progress=lambda msg: click.echo(f"  {msg}"))
    path = suite.manifest.save(Path(os.environ.get("OFFNET_DEPLOYMENTS", DEFAULT_DEPLOYMENTS_DIR)))
    for name, deployed in suite.manifest.contracts.items():
        click.echo(f"{name:16} {deployed.address}")
    click.echo(f"{suite.manifest.evm} build; manifest written to {path}")
