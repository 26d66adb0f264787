"""Checkpointed runs: the command line's graphs save each step (SQLite or PostgreSQL); killed runs resume."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite import SqliteSaver

from toolmaker.settings import Settings
from tools_registry.locks import PostgresLocks
from tools_registry.storage import SETUP_LOCK, connect_shared_sqlite


@contextmanager
def sqlite_checkpointer(path: Path) -> Iterator[SqliteSaver]:
    """A checkpointer on a SQLite file that processes may share (see ``connect_shared_sqlite``)."""
    connection, locks = connect_shared_sqlite(path)
    try:
        saver = SqliteSaver(connection)
        with locks.hold(SETUP_LOCK):
            saver.setup()
        yield saver
    finally:
        connection.close()


@contextmanager
def postgres_checkpointer(url: str) -> Iterator[BaseCheckpointSaver[Any]]:
    """LangGraph's ``PostgresSaver`` at ``url``: runs that any worker can list and resume."""
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg import Connection
    from psycopg.rows import dict_row

    with Connection.connect(url, autocommit=True, prepare_threshold=0, row_factory=dict_row) as connection:
        saver = PostgresSaver(connection)
        with PostgresLocks(url).hold(SETUP_LOCK):
            saver.setup()
        yield saver


def open_checkpointer(settings: Settings) -> AbstractContextManager[BaseCheckpointSaver[Any]]:
    """The configured run store: PostgreSQL with a database URL, else ``runs.sqlite`` in the data folder."""
    if settings.database_url is not None:
        return postgres_checkpointer(settings.database_url.get_secret_value())
    return sqlite_checkpointer(settings.runs_path)


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


def runs(saver: BaseCheckpointSaver[Any]) -> list[RunInfo]:
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


def item_thread(kind: str, results: Path, *parts: str) -> str:
    """The thread of one item of a benchmark's results file (``bench:/abs/rows.jsonl:item-7``)."""
    return ":".join([kind, str(results.resolve()), *parts])


def resume_or_start(graph: Any, inputs: Any, config: RunnableConfig, context: Any) -> Any:
    """``graph``'s final state on ``inputs`` in ``config``'s thread, finishing a run a kill cut short.

    A thread with saved steps goes on from its last one (or, finished, gives its state),
    so a killed benchmark item does not ask the model again for what it already answered.
    """
    return graph.invoke(
        None if has_saved_steps(graph, config) else inputs, config, context=context, durability="sync"
    )


def has_saved_steps(graph: Any, config: RunnableConfig) -> bool:
    """Whether ``config``'s thread has steps saved: its run is to be resumed, not started."""
    return bool(graph.get_state(config).values)
