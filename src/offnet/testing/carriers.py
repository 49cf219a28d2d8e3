"""A small marketplace of carriers for integration tests, benchmarks and the demo.

Each carrier gets a member account, a reference Sonata seller (its own "Sonata system") served over
real HTTP, and an oracle with its own SQLite file and listener. Everything runs against one chain
(anvil in practice) whose clock the sellers follow, so moving chain time moves the whole market.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from offnet.chain.anvil import free_port
from offnet.chain.connect import Chain, connect
from offnet.oracle.config import OracleConfig
from offnet.oracle.service import Oracle
from offnet.serving import serve_in_thread
from offnet.sonata.seller import create_seller_app
from offnet.testing.world import CREDITS

OPERATOR = "*"


def chain_clock(chain: Chain, ahead: int = 0, ttl: float = 0.0):
    """A seller clock that reads the chain's latest block time (`ahead` seconds fast: a skewed clock), at
    most once every `ttl` seconds (0: on every call; a busy seller caches it, or every GET it serves
    costs a JSON-RPC call)."""
    if ttl <= 0:
        return lambda: datetime.fromtimestamp(chain.now() + ahead, UTC)
    read: list = [float("-inf"), None]

    def now() -> datetime:
        if time.monotonic() - read[0] > ttl:
            read[:] = [time.monotonic(), datetime.fromtimestamp(chain.now() + ahead, UTC)]
        return read[1]

    return now


@dataclass
class Carrier:
    """One carrier of the test market and the URLs of its running parts."""

    name: str
    account: LocalAccount
    profile: str
    seller_url: str = ""
    oracle_url: str = ""
    oracle: Oracle | None = None
    loop: asyncio.AbstractEventLoop | None = None
    thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        self.address = self.account.address
        # Bearer tokens: the carrier's oracle at its own Sonata system; its Sonata system's notifications.
        self.operator_token, self.notification_token = f"{self.name}-operator", f"{self.name}-notifies"

    def token_at(self, seller: Carrier) -> str:
        """The bearer token this carrier presents to `seller` (its Sonata API and its oracle)."""
        return f"{self.name}-at-{seller.name}"

    def call(self, coroutine, timeout: float = 60.0):
        """Run a coroutine on this carrier's oracle loop and wait for its result."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)


@dataclass
class TestMarket:
    """Carriers with running sellers and oracles; stop() ends everything."""

    chain: Chain
    carriers: dict[str, Carrier]
    stack: ExitStack = field(default_factory=ExitStack)
    _http: Any = field(default=None, repr=False)

    def __getitem__(self, name: str) -> Carrier:
        return self.carriers[name]

    def settle_sellers(self) -> None:
        """Bring every seller up to its clock and deliver its pending notifications, one seller after
        the other (each call returns once its deliveries are done): the oracles then find them stored."""
        if self._http is None:
            import httpx

            self._http = self.stack.enter_context(httpx.Client(timeout=60))  # keep-alive: ~5 ms a call
        for carrier in sorted(self.carriers.values(), key=lambda c: c.name):
            response = self._http.get(
                f"{carrier.seller_url}/simulator/notifications",
                headers={"Authorization": f"Bearer {carrier.operator_token}"},
            )
            response.raise_for_status()


def _secret_env(name: str, value: str) -> dict:
    variable = "OFFNET_TEST_SECRET_" + "".join(c if c.isalnum() else "_" for c in name).upper()
    os.environ[variable] = value
    return {"env": variable}


def oracle_config(
    carrier: Carrier,
    others: list[Carrier],
    chain: Chain,
    workdir: Path,
    deployments: Path,
    port: int,
    *,
    seller_overrides: dict | None = None,
    **overrides,
) -> OracleConfig:
    """The oracle configuration of `carrier`, trading with `others` (secrets in environment variables).

    `seller_overrides` change fields of the seller section (e.g. prepaid_months); `overrides` the top level.
    An in-process (embedded) chain has no URL: the oracle is then handed the chain object itself.
    """
    peers = [
        {
            "name": other.name,
            "member": other.address,
            "sonata_url": other.seller_url,
            "oracle_url": other.oracle_url or None,
            "inbound_token": _secret_env(f"{carrier.name}-from-{other.name}", other.notification_token),
            "outbound_token": _secret_env(f"{carrier.name}-to-{other.name}", carrier.token_at(other)),
            "oracle_token": _secret_env(f"{carrier.name}-oracle-{other.name}", other.token_at(carrier)),
        }
        for other in others
    ]
    data = {
        "member": carrier.address,
        "rpc": chain.url or chain.kind,
        "deployments": str(deployments),
        "listen_port": port,
        "database": f"sqlite:///{workdir / (carrier.name + '.db')}",
        "peers": peers,
        "poll_interval": 0.2,
        "seller": {
            "sonata_url": carrier.seller_url,
            "operator_token": _secret_env(f"{carrier.name}-operator", carrier.operator_token),
            "notification_token": _secret_env(f"{carrier.name}-self", carrier.notification_token),
            "credits": asdict(CREDITS),
            "prepaid_months": 3,
            **(seller_overrides or {}),
        },
        **overrides,
    }
    return OracleConfig.model_validate(data)


@contextmanager
def running_market(
    chain: Chain,
    carriers: list[Carrier],
    workdir: Path,
    deployments: Path,
    *,
    seed: int = 1,
    on_sellers_started: Callable[[TestMarket], None] | None = None,
    seller_overrides: dict | None = None,
    seller_tick_seconds: float = 0.1,
    **oracle_overrides,
) -> Iterator[TestMarket]:
    """Start every carrier's seller and oracle (listener + loop); stop all of them on exit.

    `seller_tick_seconds`: how often each seller runs due transitions on its own (0: only when asked,
    by a request or `settle_sellers`, which a run that must replay exactly uses).

    `on_sellers_started(market)` runs once every seller serves (their URLs known) and before any
    oracle starts: the place to publish the sellers' URLs on chain (e.g. the members' profiles).
    """
    market = TestMarket(chain, {c.name: c for c in carriers})
    with market.stack:
        for carrier in carriers:
            tokens = {other.token_at(carrier): other.address for other in carriers if other is not carrier}
            tokens[carrier.operator_token] = OPERATOR
            # The id prefix too comes from the seed: the seller's random draws are keyed by ids.
            instance = hashlib.sha256(f"{seed}-{carrier.name}".encode()).hexdigest()[:6]
            app = create_seller_app(
                carrier.profile,
                f"{seed}-{carrier.name}",
                clock=chain_clock(chain),
                tokens=tokens,
                notification_token=carrier.notification_token,
                seller_id=carrier.address,
                instance=instance,
                tick_seconds=seller_tick_seconds,
            )
            carrier.seller_url = market.stack.enter_context(serve_in_thread(app))
        ports = {c.name: free_port() for c in carriers}
        for carrier in carriers:
            carrier.oracle_url = f"http://127.0.0.1:{ports[carrier.name]}"
        if on_sellers_started is not None:
            on_sellers_started(market)
        shared = chain if chain.url is None else None
        for carrier in carriers:
            others = [c for c in carriers if c is not carrier]
            config = oracle_config(
                carrier,
                others,
                chain,
                workdir,
                deployments,
                ports[carrier.name],
                seller_overrides=seller_overrides,
                **oracle_overrides,
            )
            _start_oracle(carrier, config, market.stack, chain=shared)
        yield market


def _start_oracle(
    carrier: Carrier, config: OracleConfig, stack: ExitStack, *, chain: Chain | None = None
) -> None:
    oracle = Oracle(config, chain=chain or connect(rpc=config.rpc), signer=carrier.account)
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        loop.run_until_complete(oracle.serve())

    thread = threading.Thread(target=run, name=f"oracle-{carrier.name}", daemon=True)
    thread.start()
    ready.wait(10)
    carrier.oracle, carrier.loop, carrier.thread = oracle, loop, thread

    def stop() -> None:
        loop.call_soon_threadsafe(oracle.request_exit)
        thread.join(timeout=15)

    stack.callback(stop)
