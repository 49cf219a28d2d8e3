"""A real anvil node from node_modules (npm `@foundry-rs/anvil-linux-amd64`), Cancun rules."""

from __future__ import annotations

import os
from pathlib import Path

from offnet.chain.node import LocalNode, find_in_node_modules, free_port
from offnet.exceptions import AnvilError

ANVIL_RELATIVE = Path("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")

__all__ = ["Anvil", "find_anvil", "free_port"]


def find_anvil() -> Path:
    """Locate the anvil binary: $OFFNET_ANVIL, node_modules above the cwd or the package, then PATH."""
    return find_in_node_modules(ANVIL_RELATIVE, "OFFNET_ANVIL", "anvil", AnvilError)


class Anvil(LocalNode):
    """Runs `anvil` as a child process. Use as a context manager, or call start() and stop()."""

    NAME = "anvil"
    ERROR = AnvilError

    def __init__(
        self,
        port: int | None = None,
        *,
        chain_id: int = 31337,
        block_time: float | None = None,
        accounts: int = 10,
        hardfork: str = "cancun",
        genesis_time: int | None = None,
        extra_args: tuple[str, ...] = (),
    ):
        super().__init__(port, chain_id=chain_id, accounts=accounts, genesis_time=genesis_time)
        self.block_time = block_time
        self.hardfork = hardfork
        self.extra_args = extra_args

    def command(self) -> list[str]:
        args = [
            str(find_anvil()),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--chain-id",
            str(self.chain_id),
            "--accounts",
            str(self.accounts),
            "--hardfork",
            self.hardfork,
            "--silent",
        ]
        if self.block_time:
            args += ["--block-time", str(self.block_time)]
        if self.genesis_time is not None:
            args += ["--timestamp", str(self.genesis_time)]
        return args + list(self.extra_args)

    def environment(self, scratch: str) -> dict[str, str]:
        """anvil keeps the states of old blocks under $HOME/.foundry/anvil/tmp and leaves them there when
        it is stopped (hundreds of MB for a few thousand blocks): its home is the node's scratch folder,
        removed when the node stops."""
        return {**os.environ, "HOME": scratch}

    def ready(self) -> None:
        if self.genesis_time is not None:
            self.rpc("anvil_setBlockTimestampInterval", [1])
