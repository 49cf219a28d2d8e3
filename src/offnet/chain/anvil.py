"""A real anvil node from node_modules, started on a free loopback port and stopped when done."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from offnet.exceptions import AnvilError

ANVIL_RELATIVE = Path("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")


def find_anvil() -> Path:
    """Locate the anvil binary: $OFFNET_ANVIL, node_modules above the cwd or the package, then PATH."""
    explicit = os.environ.get("OFFNET_ANVIL")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise AnvilError(f"OFFNET_ANVIL={explicit} is not a file")
        return path
    for start in (Path.cwd(), Path(__file__).resolve().parent):
        for folder in (start, *start.parents):
            candidate = folder / ANVIL_RELATIVE
            if candidate.is_file():
                return candidate
    on_path = shutil.which("anvil")
    if on_path:
        return Path(on_path)
    raise AnvilError("anvil not found: run `npm ci` in the offnet repository, or set OFFNET_ANVIL")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Anvil:
    """Runs `anvil` as a child process. Use as a context manager, or call start() and stop()."""

    def __init__(
        self,
        port: int | None = None,
        *,
        chain_id: int = 31337,
        block_time: float | None = None,
        accounts: int = 10,
        extra_args: tuple[str, ...] = (),
    ):
        self.port = port or free_port()
        self.chain_id = chain_id
        self.block_time = block_time
        self.accounts = accounts
        self.extra_args = extra_args
        self.process: subprocess.Popen | None = None
        self._log = None
        self._detached = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> Anvil:
        binary = find_anvil()
        args = [
            str(binary),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--chain-id",
            str(self.chain_id),
            "--accounts",
            str(self.accounts),
            "--hardfork",
            "cancun",
            "--silent",
        ]
        if self.block_time:
            args += ["--block-time", str(self.block_time)]
        args += list(self.extra_args)
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - open while the node runs; closed in stop()
        # Its own session: a Ctrl-C meant for us does not kill the node under a kept deployment.
        self.process = subprocess.Popen(
            args, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._log.seek(0)
                raise AnvilError(
                    f"anvil exited with {self.process.returncode}: {self._log.read().decode()[-500:]}"
                )
            try:
                r = httpx.post(
                    self.url,
                    json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
                    timeout=1.0,
                )
                if r.status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise AnvilError(f"anvil did not answer on {self.url} within {timeout:.0f}s")

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

    def __enter__(self) -> Anvil:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
