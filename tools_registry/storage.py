"""Where the registry lives: SQLite in the user's data directory by default."""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langgraph.store.sqlite import SqliteStore

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


@contextlib.contextmanager
def sqlite_registry(path: Path) -> Iterator[ToolRegistry]:
    """Open (creating if needed) a registry in a SQLite file shared safely by processes.

    WAL journaling and a generous busy timeout let several processes write at once;
    SQLite serialises the writes, so none is lost.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=60)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA busy_timeout=60000")
        store = SqliteStore(connection, deserializer=_tolerant_json)
        store.setup()
        yield ToolRegistry(store)
    finally:
        connection.close()
