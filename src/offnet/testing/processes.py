"""A carrier's oracle as a real process for tests and the bench: `offnet oracle run` with its own YAML
config, SQLite file and log, the notifications a peer would send it, and a look into its database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import yaml
from eth_account.signers.local import LocalAccount
from sqlalchemy import create_engine, text

from offnet.sonata.models import SONATA_APIS

OFFNET = Path(sys.executable).parent / "offnet"
T = TypeVar("T")


def eventually(check: Callable[[], T], what: str, seconds: float = 120, step: float = 0.2) -> T:
    """Poll `check` until it returns something true; AssertionError naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            value = check()
        except (KeyError, TypeError, LookupError):  # the row is not there yet
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:g} s waiting for {what}")
        time.sleep(step)


def listener_path(event_type: str) -> str:
    """The MEF listener path of an event type (in whichever notification API it belongs to)."""
    for api in SONATA_APIS:
        if event_type in api.events:
            return api.listener_path(event_type)
    raise LookupError(f"unknown Sonata event type {event_type!r}")


class OracleProcess:
    """`offnet oracle run` for one carrier: `config` is its YAML data (secrets as env var names, the
    values in `secrets`), `key` the account it signs with (handed over in an environment variable)."""

    def __init__(
        self,
        name: str,
        workdir: Path,
        config: dict[str, Any],
        key: LocalAccount,
        *,
        secrets: dict[str, str] | None = None,
        database: str | None = None,
    ):
        self.name = name
        self.port = config["listen_port"]
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = database or f"sqlite:///{workdir / f'{name}.db'}"
        self.log = workdir / f"{name}.log"
        self.config_file = workdir / f"{name}.yaml"
        key_env = f"OFFNET_TEST_{name.upper().replace('-', '_')}_KEY"
        self.config = {**config, "private_key_env": key_env, "database": self.database_url}
        self.config_file.write_text(yaml.safe_dump(self.config))
        self.secrets = dict(secrets or {})
        self.env = {**os.environ, **self.secrets, key_env: "0x" + bytes(key.key).hex()}
        self.process: subprocess.Popen | None = None
        self._engine = None

    # --- the process ------------------------------------------------------------------------------

    def spawn(self) -> None:
        with open(self.log, "a") as out:
            self.process = subprocess.Popen(
                [str(OFFNET), "oracle", "run", "--config", str(self.config_file), "--log-format", "text"],
                env=self.env,
                stdout=out,
                stderr=out,
            )

    def wait_listening(self, seconds: float = 60) -> None:
        def listening() -> bool:
            assert self.process.poll() is None, (
                f"the {self.name} oracle exited: {self.log.read_text()[-2000:]}"
            )
            try:
                return httpx.get(f"{self.url}/healthz", timeout=1).status_code > 0  # any answer: it listens
            except httpx.HTTPError:
                return False

        eventually(listening, f"the {self.name} oracle to listen ({self.log})", seconds=seconds)

    def kill(self) -> None:
        """kill -9: no goodbye, no flush."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(15)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # --- what peers send it ---------------------------------------------------------------------

    def notify(
        self,
        peer: str,
        event_type: str,
        event_id: str,
        resource_id: str,
        *,
        event_time: str = "2026-07-01T08:00:00Z",
    ) -> int:
        """POST one thin notification as peer `peer` would (its inbound token); returns the status."""
        token = self.secrets[self._peer(peer)["inbound_token"]["env"]]
        body = {
            "eventId": event_id,
            "eventTime": event_time,
            "eventType": event_type,
            "event": {"id": resource_id},
        }
        response = httpx.post(
            self.url + listener_path(event_type),
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        return response.status_code

    def _peer(self, name: str) -> dict:
        return next(p for p in self.config["peers"] if p["name"] == name)

    # --- its database -----------------------------------------------------------------------------

    def rows(self, query: str, **params: Any) -> list[dict]:
        if self._engine is None:
            self._engine = create_engine(self.database_url.replace("postgresql://", "postgresql+psycopg://"))
        with self._engine.connect() as conn:
            return [dict(r) for r in conn.execute(text(query), params).mappings().all()]

    def outbox(self) -> dict[str, dict]:
        """Every outbox row by report id."""
        return {r["report_id"]: r for r in self.rows("select * from outbox")}

    def event(self, event_id: str) -> dict:
        """The stored notification with this eventId (KeyError until it is stored)."""
        found = self.rows("select * from events where event_id = :e", e=event_id)
        if not found:
            raise KeyError(event_id)
        return found[0]

    def order(self, order_id: bytes) -> dict:
        """What the oracle knows of an order (KeyError until it knows it)."""
        found = self.rows("select * from orders where order_id = :o", o="0x" + bytes(order_id).hex())
        if not found:
            raise KeyError(order_id)
        return found[0]
