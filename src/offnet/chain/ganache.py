"""A real Ganache node from node_modules (npm `ganache`): an EVM that stops at Shanghai, where the
offnet suite runs its Shanghai build (no MCOPY, no transient storage)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from offnet.chain.node import LocalNode, find_in_node_modules
from offnet.exceptions import ChainError

GANACHE_RELATIVE = Path("node_modules/ganache/dist/node/cli.js")


def find_ganache() -> Path:
    """Locate Ganache's CLI script: $OFFNET_GANACHE, node_modules above the cwd or the package."""
    return find_in_node_modules(GANACHE_RELATIVE, "OFFNET_GANACHE", "ganache", ChainError)


class Ganache(LocalNode):
    """Runs `ganache` (with the machine's Node.js) as a child process."""

    NAME = "ganache"

    def __init__(
        self,
        port: int | None = None,
        *,
        chain_id: int = 1337,
        accounts: int = 10,
        hardfork: str = "shanghai",
        balance_ether: int = 1000,
        genesis_time: int | None = None,
    ):
        super().__init__(port, chain_id=chain_id, accounts=accounts, genesis_time=genesis_time)
        self.hardfork = hardfork
        self.balance_ether = balance_ether

    def command(self) -> list[str]:
        script = find_ganache()
        node = shutil.which("node")
        if script.suffix == ".js" and node is None:
            raise ChainError("ganache needs Node.js: install Node.js 20 so that `node` runs")
        return [
            *([node] if script.suffix == ".js" else []),
            str(script),
            "--server.host",
            "127.0.0.1",
            "--server.port",
            str(self.port),
            "--chain.chainId",
            str(self.chain_id),
            "--chain.hardfork",
            self.hardfork,
            "--wallet.totalAccounts",
            str(self.accounts),
            "--wallet.defaultBalance",
            str(self.balance_ether),
            "--logging.quiet",
            *(
                []
                if self.genesis_time is None
                else [
                    "--chain.time",
                    datetime.fromtimestamp(self.genesis_time, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "--miner.timestampIncrement",
                    "1",
                ]
            ),
        ]
