"""The machine and the versions a bench run used, and the anvil node it measures on."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from offnet.build import compile_settings, project_root
from offnet.chain.anvil import Anvil, find_anvil
from offnet.chain.connect import Chain, connect
from offnet.exceptions import AnvilError
from offnet.testing.world import World

GAS_LIMIT = 2_000_000_000  # block gas limit of the bench anvil: room for a 10,000-founder registry


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def _anvil_version() -> str:
    try:
        out = subprocess.run(
            [str(find_anvil()), "--version"], capture_output=True, text=True, timeout=10
        ).stdout
        return out.strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "unknown"


def _solc() -> str:
    """The compiler and the settings every contract (offnet's and the anchors') is built with."""
    config = compile_settings(project_root())
    settings = config["settings"]
    runs = settings["optimizer"]["runs"]
    return f"{config['version']} (solc-js front, optimizer {runs} runs, {settings['evmVersion']})"


def _commit() -> str:
    """The repository's HEAD commit, '+ changes' when the work tree differs from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        return head + (" + uncommitted changes" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def load_average() -> list[float]:
    """1, 5 and 15 minute load averages (the bench shares the machine with whatever else runs)."""
    return [round(x, 2) for x in os.getloadavg()]


def describe() -> dict:
    """CPU, cores, memory, OS and the versions of solc, anvil, web3, Python and friends."""

    def version(package: str) -> str:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return "not installed"

    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "commit": _commit(),
        "load_average_at_start": load_average(),
        "memory_gib": _memory_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "solc": _solc(),
        "anvil": _anvil_version(),
        "web3": version("web3"),
        "eth-account": version("eth-account"),
        "httpx": version("httpx"),
        "offnet": version("offnet"),
    }


def start_anvil(attempts: int = 3) -> Chain:
    """A fresh anvil (automine) with a large block gas limit, connected over HTTP.

    A start is retried on another port: the free port may be taken by someone else before anvil binds it.
    """
    for attempt in range(attempts):
        try:
            node = Anvil(extra_args=("--gas-limit", str(GAS_LIMIT), "--disable-code-size-limit")).start()
            break
        except AnvilError:
            if attempt + 1 == attempts:
                raise
    chain = connect(rpc=node.url)
    chain.node = node  # stopped by chain.close()
    return chain


def bench_world(chain: Chain, *, extra_founders: list[str] | tuple[str, ...] = ()) -> World:
    """The test world on the bench anvil: a buyer, three providers and a one-seat council (all
    founders), two sponsors to admit; the buyer funded."""
    return World.create(
        chain,
        "bench",
        sellers=("provider-0", "provider-1", "provider-2"),
        keys=False,
        sponsors_required=2,
        extra_founders=extra_founders,
    )
