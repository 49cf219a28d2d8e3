"""`offnet explorer` as a real process for tests and the bench: started on a free local port, ready
once its /api/status answers, stopped by its own pid."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import httpx

from offnet.chain.anvil import free_port
from offnet.testing.processes import OFFNET
from offnet.testing.world import wait_until


class ExplorerProcess:
    """`offnet explorer ARGS --port P`; `log` keeps what it printed."""

    def __init__(self, *args: str, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.args = [str(OFFNET), "explorer", *args, "--port", str(self.port)]
        self.process: subprocess.Popen | None = None

    def start(self, seconds: float = 60) -> ExplorerProcess:
        with open(self.log, "a") as out:
            self.process = subprocess.Popen(self.args, stdout=out, stderr=out)

        def answering() -> bool:
            assert self.process is not None and self.process.poll() is None, (
                f"offnet explorer exited: {self.log.read_text()[-2000:]}"
            )
            try:
                return httpx.get(f"{self.url}/api/status", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(answering, f"offnet explorer to answer ({self.log})", seconds=seconds)
        return self

    def api(self, path: str) -> Any:
        """GET /api{path} as JSON; LookupError when the index does not hold it (yet), HTTPStatusError
        for any other refusal."""
        answer = httpx.get(f"{self.url}/api{path}", timeout=30)
        if answer.status_code == 404:
            raise LookupError(answer.json().get("error", path))
        answer.raise_for_status()
        return answer.json()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> ExplorerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
