"""`ape run deploy` deploys the same linked suite through ape's own network management: the Cancun
build on ape's anvil, the Shanghai build on a Ganache (which stops at Shanghai)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from offnet.chain.ganache import Ganache

pytestmark = pytest.mark.ape
ROOT = Path(__file__).resolve().parents[2]
ANVIL_DIR = ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin"
SUITE = {"CarrierRegistry", "TestStablecoin", "OrderEscrow", "SlaLedger", "ContractNotary", "RfqMarket"}


def ape_run_deploy(network: str, deployments: Path) -> dict:
    """`ape run deploy --network NETWORK`; the manifest it wrote."""
    env = dict(
        os.environ,
        OFFNET_DEPLOYMENTS=str(deployments),
        SOLCX_BINARY_PATH=str(ROOT / ".solcx"),
        PATH=f"{ANVIL_DIR}:{Path(sys.executable).parent}:{os.environ['PATH']}",
    )
    done = subprocess.run(
        [str(Path(sys.executable).parent / "ape"), "run", "deploy", "--network", network],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    [manifest] = deployments.glob("*.json")
    return json.loads(manifest.read_text())


def test_ape_run_deploy__on_foundry__writes_a_manifest_of_the_linked_suite(tmp_path):
    manifest = ape_run_deploy("ethereum:local:foundry", tmp_path)
    assert manifest["chain_id"] == 31337 and manifest["evm"] == "cancun"
    assert set(manifest["contracts"]) == SUITE
    assert "deploy RfqMarket" in manifest["gas"]


def test_ape_run_deploy__on_ganache__deploys_the_shanghai_build(tmp_path):
    with Ganache() as node:
        manifest = ape_run_deploy(node.url, tmp_path)
    assert manifest["chain_id"] == 1337 and manifest["evm"] == "shanghai"
    assert set(manifest["contracts"]) == SUITE
