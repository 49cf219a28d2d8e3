"""Fixtures shared by every test: chains (embedded eth-tester, real anvil and Ganache), accounts, gas
snapshot.

`--evm shanghai` runs the embedded chain under Shanghai rules with the contracts' Shanghai build, and
checks gas against that build's snapshot (`make test` runs the gas tests that way too)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from offnet.chain import Chain, Sender, connect, load_artifact
from offnet.chain.artifacts import DEFAULT_EVM, EVM_BUILDS
from offnet.deployment import Suite, SuiteConfig, deploy_suite
from offnet.testing.accounts import funded_account
from offnet.testing.gas import GasSnapshot, snapshot_path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("SOLCX_BINARY_PATH", str(ROOT / ".solcx"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--evm",
        choices=EVM_BUILDS,
        default=DEFAULT_EVM,
        help="EVM rules of the embedded chain and the contracts' build it runs (and its gas snapshot)",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A test that checks gas against the snapshot is a gas test (`-m gas` selects them).
    for item in items:
        if "gas" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.gas)


@pytest.fixture(scope="session")
def evm(request: pytest.FixtureRequest) -> str:
    """The EVM build this session runs on the embedded chain (--evm)."""
    return request.config.getoption("--evm")


# --- chains -----------------------------------------------------------------------------------


# Chain time of the embedded chain at the start of the session: a fixed clock makes calldata
# (deadlines, dates) and hence gas identical on every run.
GENESIS_TIME = 1_900_000_000


@pytest.fixture(scope="session")
def embedded(evm: str) -> Iterator[Chain]:
    """The in-process eth-tester chain, shared by the session; each test runs in a snapshot."""
    with connect("embedded", evm=evm) as chain:
        chain.advance_time(GENESIS_TIME - chain.now())
        yield chain


@pytest.fixture(scope="session")
def anvil() -> Iterator[Chain]:
    """A real anvil from node_modules on a free port, stopped when the session ends."""
    with connect("anvil") as chain:
        yield chain


@pytest.fixture(scope="session")
def ganache() -> Iterator[Chain]:
    """A real Ganache from node_modules (Shanghai rules) on a free port, stopped when the session ends."""
    with connect("ganache") as chain:
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
def gas(evm: str) -> Iterator[GasSnapshot]:
    """Compare measured gas with the build's snapshot, tests/gas-snapshot[.shanghai].json (`make
    gas-snapshot` rewrites both)."""
    snapshot = GasSnapshot(snapshot_path(ROOT / "tests", evm), budgets=evm == DEFAULT_EVM)
    yield snapshot
    snapshot.save()


# --- the demo as a user runs it (`offnet demo`, a real subprocess): demo, report and explorer tests ---

OFFNET = ROOT / ".venv" / "bin" / "offnet"


@dataclass(frozen=True)
class DemoRunResult:
    """What one `offnet demo` left: its exit status, output and the out/ folder."""

    returncode: int
    stdout: str
    stderr: str
    out: Path


def _run_demo(out: Path, *args: str, timeout: float = 900) -> DemoRunResult:
    """`offnet demo --quiet --out OUT ARGS...` in a subprocess."""
    done = subprocess.run(
        [str(OFFNET), "demo", "--quiet", "--out", str(out), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return DemoRunResult(done.returncode, done.stdout, done.stderr, out)


@pytest.fixture(scope="session")
def run_demo():
    """Factory: `run_demo(out, *args)` runs `offnet demo --quiet --out OUT ARGS...` in a subprocess."""
    return _run_demo


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory) -> DemoRunResult:
    """Two RFQs, one month, seed 7, on a real anvil: a trouble ticket, a dispute ruled by the council
    and a contract notarised after the award (what the explorer's browser tests look at)."""
    return _run_demo(tmp_path_factory.mktemp("demo") / "out", "--rfqs", "2", "--months", "1", "--seed", "7")
