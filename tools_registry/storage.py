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


@contextlib.contextmanager
def sqlite_registry(path: Path) -> Iterator[ToolRegistry]:
    """Open (creating if needed) a registry in a SQLite file shared safely by processes.

    WAL journaling and a generous busy timeout let several processes write at once;
    SQLite serialises the writes, so none is lost. Creating the tables, and what must
    happen once across processes, runs under ``flock`` locks beside the file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=60)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA busy_timeout=60000")
        store = SqliteStore(connection, deserializer=_tolerant_json)
        locks = FileLocks(path.with_name(f"{path.name}.locks"))
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
