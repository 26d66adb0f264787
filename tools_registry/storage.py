"""Where the registry lives: SQLite in the user's data directory by default, PostgreSQL for many workers."""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langgraph.store.sqlite import SqliteStore

from toolmaker.settings import Settings
from tools_registry.locks import FileLocks, PostgresLocks, attach_locks
from tools_registry.registry import ToolRegistry

logger = logging.getLogger(__name__)
CORRUPT = "__unreadable_row__"


def _tolerant_json(raw: Any) -> dict[str, Any]:
    """Decode a row; a corrupt one becomes a marker the registry skips, not a crash."""
    try:
        value = json.loads(bytes(raw) if not isinstance(raw, str | bytes) else raw)
    except (ValueError, TypeError) as exc:
        return {CORRUPT: str(exc)}
    return value if isinstance(value, dict) else {CORRUPT: f"a row holds {type(value).__name__}"}


SETUP_LOCK = "toolmaker:setup"
"""Held while a worker creates or migrates the tables, so that workers starting together do not race."""


def connect_shared_sqlite(path: Path, **options: Any) -> tuple[sqlite3.Connection, FileLocks]:
    """A connection, in WAL mode, to a SQLite file that processes share, and the file's locks.

    WAL journaling and a generous busy timeout let several processes write at once;
    SQLite serialises the writes, so none is lost. Switching a new file to WAL does not
    wait for a write lock another connection holds ("database is locked" at once), so
    processes opening a new file together would fail: the switch runs under the file's
    setup lock, and once the file is in WAL, switching again changes nothing.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    locks = FileLocks(path.with_name(f"{path.name}.locks"))
    connection = sqlite3.connect(path, check_same_thread=False, timeout=60, **options)
    try:
        with locks.hold(SETUP_LOCK):
            connection.execute("PRAGMA journal_mode=WAL")
    except BaseException:
        connection.close()
        raise
    return connection, locks


@contextlib.contextmanager
def sqlite_registry(path: Path) -> Iterator[ToolRegistry]:
    """Open (creating if needed) a registry in a SQLite file shared safely by processes.

    See :func:`connect_shared_sqlite`. Creating the tables, and what must happen once
    across processes, runs under ``flock`` locks beside the file.
    """
    connection, locks = connect_shared_sqlite(path, isolation_level=None)
    try:
        store = SqliteStore(connection, deserializer=_tolerant_json)
        with locks.hold(SETUP_LOCK):
            store.setup()
        attach_locks(store, locks)
        yield ToolRegistry(store)
    finally:
        connection.close()


@contextlib.contextmanager
def postgres_registry(url: str) -> Iterator[ToolRegistry]:
    """Open a registry on LangGraph's ``PostgresStore`` at ``url``, shared by any number of workers."""
    from langgraph.store.postgres import PostgresStore
    from psycopg import Connection
    from psycopg.rows import dict_row

    locks = PostgresLocks(url)
    with Connection.connect(url, autocommit=True, prepare_threshold=0, row_factory=dict_row) as connection:
        store = PostgresStore(connection, deserializer=_tolerant_json)
        with locks.hold(SETUP_LOCK):
            store.setup()
        attach_locks(store, locks)
        yield ToolRegistry(store)


def open_registry(settings: Settings) -> contextlib.AbstractContextManager[ToolRegistry]:
    """The configured registry: PostgreSQL with a database URL, else the SQLite file in the data directory."""
    if settings.database_url is not None:
        return postgres_registry(settings.database_url.get_secret_value())
    return sqlite_registry(settings.registry_path)
