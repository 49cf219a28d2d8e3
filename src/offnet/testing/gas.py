"""The committed gas snapshots: operation name -> gas used, compared exactly by the tests.

Gas is deterministic on a given EVM, so any change to a contract that moves a figure shows up as
a failing test until the snapshot is regenerated on purpose with `make gas-snapshot`. Each EVM build
of the contracts has its own snapshot, measured by the same tests: `gas-snapshot.json` for the
default (Cancun) build, `gas-snapshot.<evm>.json` for the others.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

from offnet.chain.artifacts import DEFAULT_EVM

UPDATE_ENV = "OFFNET_UPDATE_GAS_SNAPSHOT"


def snapshot_path(folder: Path, evm: str = DEFAULT_EVM) -> Path:
    """The snapshot file of one EVM build in `folder`."""
    return folder / ("gas-snapshot.json" if evm == DEFAULT_EVM else f"gas-snapshot.{evm}.json")


class GasSnapshot:
    """Checks measured gas against a JSON file, or records it when regenerating.

    Budgets (DESIGN.md) are the design target of the default build and are asserted for it only; the
    other builds' figures are compared exactly with their own snapshot (the Shanghai build keeps its
    reentrancy lock in storage, a little over 1.9k gas more per guarded call).
    """

    def __init__(self, path: Path, *, budgets: bool = True):
        self.path = path
        self.budgets = budgets
        self.expected: dict[str, int] = json.loads(path.read_text()) if path.exists() else {}
        self.measured: dict[str, int] = {}
        self.updating = os.environ.get(UPDATE_ENV) == "1"

    def check(self, name: str, gas_used: int, *, budget: int | None = None) -> None:
        """Record `gas_used` under `name`; assert it is within `budget` and equals the snapshot."""
        previous = self.measured.get(name)
        assert previous in (None, gas_used), f"gas for {name} measured twice with different values"
        self.measured[name] = gas_used
        if budget is not None and self.budgets:
            assert gas_used <= budget, f"{name} used {gas_used} gas, over its budget of {budget}"
        if self.updating:
            return
        assert name in self.expected, f"{name} is not in {self.path.name}: run `make gas-snapshot`"
        assert gas_used == self.expected[name], (
            f"{name} used {gas_used} gas, the snapshot says {self.expected[name]} "
            f"(regenerate with `make gas-snapshot` if the change is intended)"
        )

    def save(self) -> None:
        """Write measured figures (merged over the file) when regenerating."""
        if not self.updating or not self.measured:
            return
        # Re-read under a lock: several test runs may regenerate different parts at once.
        with open(self.path.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            current = json.loads(self.path.read_text()) if self.path.exists() else {}
            merged = {**current, **self.measured}
            self.path.write_text(json.dumps(dict(sorted(merged.items())), indent=2) + "\n")
