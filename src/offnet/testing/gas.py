"""The committed gas snapshot: operation name -> gas used, compared exactly by the tests.

Gas is deterministic on a given EVM, so any change to a contract that moves a figure shows up as
a failing test until the snapshot is regenerated on purpose with `make gas-snapshot`.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

UPDATE_ENV = "OFFNET_UPDATE_GAS_SNAPSHOT"


class GasSnapshot:
    """Checks measured gas against a JSON file, or records it when regenerating."""

    def __init__(self, path: Path):
        self.path = path
        self.expected: dict[str, int] = json.loads(path.read_text()) if path.exists() else {}
        self.measured: dict[str, int] = {}
        self.updating = os.environ.get(UPDATE_ENV) == "1"

    def check(self, name: str, gas_used: int, *, budget: int | None = None) -> None:
        """Record `gas_used` under `name`; assert it is within `budget` and equals the snapshot."""
        previous = self.measured.get(name)
        assert previous in (None, gas_used), f"gas for {name} measured twice with different values"
        self.measured[name] = gas_used
        if budget is not None:
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
