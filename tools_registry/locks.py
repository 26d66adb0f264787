"""Locks that every worker of one store shares: a tool name's next version, a family's one making.

LangGraph's ``BaseStore`` has no compare-and-set, so what must happen once across workers
(giving out a version number, making a family's tool) runs under a lock of the store's
own kind: a thread lock for a store in memory, ``flock`` beside a SQLite file, an
advisory lock on PostgreSQL. The last two die with the process that holds them, so a
killed maker never leaves its family locked.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from langgraph.store.base import BaseStore


class Locks(Protocol):
    """Named locks, held by one holder at a time across every worker of a store."""

    def hold(self, name: str) -> contextlib.AbstractContextManager[None]:
        """Wait until ``name`` is free, and hold it for the ``with`` block."""
        ...


class ProcessLocks:
    """Locks within one process: enough for a store that only this process can see."""

    def __init__(self) -> None:
        """No lock is held yet."""
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    @contextlib.contextmanager
    def hold(self, name: str) -> Iterator[None]:
        """Hold ``name`` within this process."""
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            yield


class FileLocks:
    """``flock`` on one file per name in ``folder``: shared by the processes of one machine."""

    def __init__(self, folder: Path) -> None:
        """Keep the lock files in ``folder``."""
        self.folder = folder

    @contextlib.contextmanager
    def hold(self, name: str) -> Iterator[None]:
        """Hold ``name`` until the block ends, or until this process dies."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{hashlib.sha256(name.encode()).hexdigest()[:24]}.lock"
        with path.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def advisory_key(name: str) -> int:
    """A lock name as PostgreSQL's advisory-lock key (a signed 64-bit integer)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class PostgresLocks:
    """PostgreSQL session advisory locks, each on a connection of its own.

    The server releases a session lock when its connection ends, so a worker that dies
    while it holds one frees it. Waiting is polling with ``pg_try_advisory_lock``: a
    worker blocked inside ``pg_advisory_lock`` would hold a transaction open, and the
    ``CREATE INDEX CONCURRENTLY`` of a worker setting up the tables waits for every open
    transaction to end, so the two would wait for each other for ever.
    """

    def __init__(self, url: str, *, poll_s: float = 0.25) -> None:
        """Take the locks on the server at ``url``, looking at most every ``poll_s`` seconds while waiting."""
        self.url, self.poll_s = url, poll_s

    @contextlib.contextmanager
    def hold(self, name: str) -> Iterator[None]:
        """Hold ``name`` on the server until the block ends or this worker's connection dies."""
        import psycopg

        key, pause = advisory_key(name), 0.01
        with psycopg.connect(self.url, autocommit=True) as connection:
            while not connection.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]:  # type: ignore[index]
                time.sleep(pause)
                pause = min(2 * pause, self.poll_s)
            try:
                yield
            finally:
                connection.execute("SELECT pg_advisory_unlock(%s)", (key,))


_ATTACHED: weakref.WeakKeyDictionary[BaseStore, Locks] = weakref.WeakKeyDictionary()
_ATTACHING = threading.Lock()


def attach_locks(store: BaseStore, locks: Locks) -> None:
    """Make ``locks`` the locks of every registry and queue on ``store``."""
    with _ATTACHING:
        _ATTACHED[store] = locks


def locks_of(store: BaseStore) -> Locks:
    """The locks attached to ``store``; a store opened elsewhere gets locks of this process."""
    with _ATTACHING:
        found = _ATTACHED.get(store)
        if found is None:
            found = _ATTACHED[store] = ProcessLocks()
        return found
