"""A development node (anvil, Ganache) run from node_modules as a child process on a free loopback
port, stopped when done: the shared machinery; `anvil.py` and `ganache.py` say how each is started."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from offnet.exceptions import ChainError


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_in_use(port: int) -> bool:
    """True when something already accepts connections on 127.0.0.1:`port`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def find_in_node_modules(relative: Path, env: str, program: str, error: type[ChainError]) -> Path:
    """A program of an npm package: $`env`, node_modules above the cwd or this package, then PATH."""
    explicit = os.environ.get(env)
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise error(f"{env}={explicit} is not a file")
        return path
    for start in (Path.cwd(), Path(__file__).resolve().parent):
        for folder in (start, *start.parents):
            candidate = folder / relative
            if candidate.is_file():
                return candidate
    on_path = shutil.which(program)
    if on_path:
        return Path(on_path)
    raise error(f"{program} not found: run `npm ci` in the offnet repository, or set {env}")


class LocalNode:
    """A development node run as a child process; use as a context manager, or start() and stop()."""

    NAME = "node"
    ERROR: type[ChainError] = ChainError

    def __init__(
        self, port: int | None = None, *, chain_id: int, accounts: int = 10, genesis_time: int | None = None
    ):
        """`genesis_time`: a fixed clock (the genesis block at that unix time, each later block one
        second after the previous whatever the wall clock says; time moves only when told to), so a
        scripted run mines the same timestamps every time. None: the wall clock, as nodes usually do."""
        if port is not None and port_in_use(port):
            raise self.ERROR(f"port {port} is already in use: stop what listens there or pick another port")
        self.port = port or free_port()
        self.chain_id = chain_id
        self.accounts = accounts
        self.genesis_time = genesis_time
        self.process: subprocess.Popen | None = None
        self._log = None
        self._detached = False
        self._scratch: str | None = None  # a folder of the node's own, removed when it stops

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        """The command line that starts the node on self.port."""
        raise NotImplementedError

    def environment(self, scratch: str) -> dict[str, str] | None:
        """The node's environment, given a scratch folder that is removed when it stops (None: ours)."""
        return None

    def start(self, timeout: float = 30.0) -> LocalNode:
        args = self.command()
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - open while the node runs; closed in stop()
        self._scratch = tempfile.mkdtemp(prefix=f"offnet-{self.NAME}-")
        # Its own session: a Ctrl-C meant for us does not kill the node under a kept deployment.
        self.process = subprocess.Popen(
            args,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=self.environment(self._scratch),
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._log.seek(0)
                raise self.ERROR(
                    f"{self.NAME} exited with {self.process.returncode}: {self._log.read().decode()[-500:]}"
                )
            try:
                r = httpx.post(
                    self.url,
                    json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
                    timeout=1.0,
                )
                if r.status_code == 200:
                    self.ready()
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise self.ERROR(f"{self.NAME} did not answer on {self.url} within {timeout:.0f}s")

    def ready(self) -> None:
        """Settings made over RPC once the node answers (nothing by default)."""

    def rpc(self, method: str, params: list) -> object:
        """One JSON-RPC call to the node (its error as self.ERROR)."""
        answer = httpx.post(
            self.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, timeout=10.0
        ).json()
        if "error" in answer:
            raise self.ERROR(f"{self.NAME} refused {method}: {answer['error'].get('message')}")
        return answer.get("result")

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def detach(self) -> None:
        """Leave the node running after this program exits (`offnet deploy --keep`)."""
        self._detached = True

    def stop(self) -> None:
        if self._detached:
            return
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self._log:
            self._log.close()
            self._log = None
        if self._scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def __enter__(self) -> LocalNode:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
