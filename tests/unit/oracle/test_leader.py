"""Leadership of an oracle database on SQLite and PostgreSQL: one holder at a time, freed when the
holder dies (even by kill -9), lost when its session ends, and per database."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import textwrap

from sqlalchemy import create_engine, text

from offnet.oracle.leader import Leader, leader_lock
from offnet.oracle.store import Store, database_url
from offnet.testing.world import wait_until


def test_leader_lock__one_holder_at_a_time__the_next_takes_it_once_released(database):
    Store(database).close()
    first, second = leader_lock(database), leader_lock(database)
    try:
        assert first.acquire() and first.held()
        assert not second.acquire() and not second.held()
        first.release()
        assert second.acquire() and second.held()
        assert not first.acquire()
    finally:
        first.release()
        second.release()


def test_leader_lock__other_databases__do_not_exclude_each_other(database, make_database):
    kind = "postgresql" if database.startswith("postgresql") else "sqlite"
    other = make_database(kind)
    for url in (database, other):
        Store(url).close()
    mine, theirs = leader_lock(database), leader_lock(other)
    try:
        assert mine.acquire() and theirs.acquire()
    finally:
        mine.release()
        theirs.release()


def test_leader_lock__holder_killed_with_sigkill__the_lock_is_free_again(database):
    Store(database).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from offnet.oracle.leader import leader_lock
                lock = leader_lock({database!r})
                assert lock.acquire()
                print("held", flush=True)
                time.sleep(600)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    lock = leader_lock(database)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert not lock.acquire()
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        wait_until(lock.acquire, "the dead holder's lock to be free", seconds=60, interval=0.1)
    finally:
        holder.kill()
        lock.release()


def test_leader__postgresql_session_ended__the_holder_is_deposed_and_a_standby_leads(make_database):
    url = make_database("postgresql")
    Store(url).close()
    events: list[str] = []

    async def scenario() -> None:
        active, standby = Leader(leader_lock(url), interval=0.1), Leader(leader_lock(url), interval=0.1)

        def note(what: str):
            async def record() -> None:
                events.append(what)

            return record

        runs = [
            asyncio.create_task(active.run(note("active elected"), note("active deposed"))),
        ]
        while not active.active:
            await asyncio.sleep(0.05)
        runs.append(asyncio.create_task(standby.run(note("standby elected"), note("standby deposed"))))
        await asyncio.sleep(0.5)
        assert not standby.active  # the lock is taken: it stands by
        admin = create_engine(database_url(url))
        with admin.begin() as conn:  # the holder's session ends (as when its connection breaks)
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(l.pid) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                    "WHERE l.locktype = 'advisory' AND d.datname = current_database()"
                )
            )
        admin.dispose()
        for _ in range(200):
            if standby.active and not active.active:
                break
            await asyncio.sleep(0.05)
        for leader in (active, standby):
            leader.stop()
        await asyncio.gather(*runs)
        for leader in (active, standby):
            leader.release()

    asyncio.run(scenario())
    assert events[:1] == ["active elected"]
    assert set(events[1:]) == {"active deposed", "standby elected"}


def test_leader__a_database_in_memory__always_leads():
    lock = leader_lock("sqlite://")
    assert lock.acquire() and lock.held()
