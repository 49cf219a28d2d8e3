"""`ape run deploy` deploys the same linked suite through ape's own network management."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.ape
ROOT = Path(__file__).resolve().parents[2]
ANVIL_DIR = ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin"


def test_ape_run_deploy__on_foundry__writes_a_manifest_of_the_linked_suite(tmp_path):
    env = dict(
        os.environ,
        OFFNET_DEPLOYMENTS=str(tmp_path),
        SOLCX_BINARY_PATH=str(ROOT / ".solcx"),
        PATH=f"{ANVIL_DIR}:{Path(sys.executable).parent}:{os.environ['PATH']}",
    )
    done = subprocess.run(
        [str(Path(sys.executable).parent / "ape"), "run", "deploy", "--network", "ethereum:local:foundry"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    manifest = json.loads((tmp_path / "31337.json").read_text())
    assert set(manifest["contracts"]) == {
        "CarrierRegistry",
        "TestStablecoin",
        "OrderEscrow",
        "SlaLedger",
        "ContractNotary",
        "RfqMarket",
    }
    assert "deploy RfqMarket" in manifest["gas"]
