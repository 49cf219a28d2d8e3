"""Fixtures shared by every test: chains (embedded eth-tester, real anvil), accounts, gas snapshot."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from offnet.chain import Chain, Sender, connect, load_artifact
from offnet.deployment import Suite, SuiteConfig, deploy_suite
from offnet.testing.accounts import funded_account
from offnet.testing.gas import GasSnapshot

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("SOLCX_BINARY_PATH", str(ROOT / ".solcx"))


# --- chains -----------------------------------------------------------------------------------


# Chain time of the embedded chain at the start of the session: a fixed clock makes calldata
# (deadlines, dates) and hence gas identical on every run.
GENESIS_TIME = 1_900_000_000


@pytest.fixture(scope="session")
def embedded() -> Iterator[Chain]:
    """The in-process eth-tester chain, shared by the session; each test runs in a snapshot."""
    with connect("embedded") as chain:
        chain.advance_time(GENESIS_TIME - chain.now())
        yield chain


@pytest.fixture(scope="session")
def anvil() -> Iterator[Chain]:
    """A real anvil from node_modules on a free port, stopped when the session ends."""
    with connect("anvil") as chain:
        yield chain


@pytest.fixture
def chain(embedded: Chain) -> Iterator[Chain]:
    """The embedded chain, returned to its previous state after the test."""
    snapshot = embedded.snapshot()
    yield embedded
    embedded.revert(snapshot)


@pytest.fixture
def anvil_suite(anvil: Chain) -> Iterator[tuple[Chain, Suite, LocalAccount]]:
    """The suite freshly deployed on the session's anvil with one founder (its council of one; one
    sponsor admits): (chain, suite, founder). Anvil is rewound afterwards."""
    base = anvil.snapshot()
    founder = funded_account(anvil, "anvil suite founder")
    suite = deploy_suite(
        anvil,
        Sender(anvil, funded_account(anvil, "anvil suite deployer")),
        SuiteConfig(founders=[founder.address], council_threshold=1, sponsors_required=1),
    )
    yield anvil, suite, founder
    anvil.revert(base)


# --- accounts ---------------------------------------------------------------------------------


@pytest.fixture
def make_account(chain: Chain) -> Callable[..., LocalAccount]:
    """Factory: a funded account on the embedded chain, the same addresses in every test run."""
    counter = iter(range(1, 10_000))
    return lambda label=None: funded_account(chain, label or f"account-{next(counter)}")


@pytest.fixture
def deployer(make_account) -> LocalAccount:
    return make_account()


# --- contracts --------------------------------------------------------------------------------


@pytest.fixture
def stablecoin(chain: Chain, deployer: LocalAccount):
    """A freshly deployed TestStablecoin (6 decimals, EIP-2612 permit)."""
    contract, _ = Sender(chain, deployer).deploy(load_artifact("TestStablecoin"))
    return contract


# --- gas snapshot -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def gas() -> Iterator[GasSnapshot]:
    """Compare measured gas with tests/gas-snapshot.json (`make gas-snapshot` rewrites it)."""
    snapshot = GasSnapshot(ROOT / "tests" / "gas-snapshot.json")
    yield snapshot
    snapshot.save()


# --- the demo's world -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    """`offnet demo` as a user runs it (a real subprocess, anvil, sellers and oracles), once per
    session: three RFQs, two months of service, seed 7 (a trouble ticket, a dispute ruled by the
    council, a contract notarised after the award). Returns the run and its out/ folder."""
    out = tmp_path_factory.mktemp("demo") / "out"
    done = subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "offnet"),
            "demo",
            "--rfqs",
            "3",
            "--months",
            "2",
            "--seed",
            "7",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    return done, out
