"""Checkpointed runs: the command line's graphs save every step in a SQLite file, so a killed run resumes."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.sqlite import SqliteSaver


@contextmanager
def sqlite_checkpointer(path: Path) -> Iterator[SqliteSaver]:
    """A checkpointer on a SQLite file that several processes may use at once (WAL, busy timeout)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, check_same_thread=False, timeout=60)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        saver = SqliteSaver(connection)
        saver.setup()
        yield saver
    finally:
        connection.close()


def run_config(thread_id: str, graph: str, context: Any) -> RunnableConfig:
    """The config of a checkpointed run; its metadata keeps what a resume needs.

    The context goes in as JSON text (checkpoint metadata keeps only plain values); it
    holds model names and URLs, never a key.
    """
    metadata = {"toolmaker_graph": graph, "toolmaker_context": json.dumps(dataclasses.asdict(context))}
    return {"configurable": {"thread_id": thread_id}, "metadata": metadata}


@dataclasses.dataclass(frozen=True)
class RunInfo:
    """The newest checkpoint of one thread."""

    thread_id: str
    graph: str
    context: dict[str, Any]
    values: dict[str, Any]
    updated_at: str
    step: int


def runs(saver: SqliteSaver) -> list[RunInfo]:
    """Every checkpointed run, newest first."""
    found: dict[str, RunInfo] = {}
    for checkpoint in saver.list(None):
        thread_id = str(checkpoint.config["configurable"]["thread_id"])
        if thread_id in found or checkpoint.config["configurable"].get("checkpoint_ns"):
            continue
        metadata = checkpoint.metadata or {}
        found[thread_id] = RunInfo(
            thread_id=thread_id,
            graph=str(metadata.get("toolmaker_graph", "")),
            context=json.loads(str(metadata.get("toolmaker_context") or "{}")),
            values=dict(checkpoint.checkpoint["channel_values"]),
            updated_at=str(checkpoint.checkpoint["ts"]),
            step=int(metadata.get("step", -1)),
        )
    return list(found.values())
