"""The tool registry: created tools on a LangGraph ``BaseStore``, versioned and searchable."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from langgraph.store.base import BaseStore
from pydantic import ValidationError

from tools_registry.analysis import argument_schema, content_hash
from tools_registry.locks import locks_of
from tools_registry.record import Demo, LatmInfo, Provenance, ToolRecord, ToolStats, VerifiedExample
from tools_registry.search import ToolIndex
from tools_registry.source import ToolSpec

TOOLS = ("toolmaker", "tools")
EVENTS = ("toolmaker", "tool_events")
META = ("toolmaker", "registry")
HEADS = ("toolmaker", "tool_heads")
_GENERATION = "generation"
_PAGE = 500
logger = logging.getLogger(__name__)


class ToolRegistry:
    """Created tools, persisted in any LangGraph store.

    The same normalised code is the same tool: adding it again records another creation
    instead of a duplicate. A changed implementation under a known name becomes the next
    immutable version, linked to the one before. Counters are separate event rows, so
    concurrent writers never overwrite each other's counts; a name's next version is given
    out under that name's lock, so no two workers give out the same one.
    """

    def __init__(self, store: BaseStore) -> None:
        """Use ``store`` (``InMemoryStore`` in tests, SQLite or Postgres otherwise)."""
        self.store = store
        self.locks = locks_of(store)
        self._index: tuple[str, ToolIndex] | None = None

    def add(
        self,
        tool: ToolSpec,
        *,
        demos: Iterable[Demo] = (),
        verification: Iterable[VerifiedExample] = (),
        provenance: Provenance | None = None,
        tags: Iterable[str] = (),
        latm: LatmInfo | None = None,
        single_use: str | None = None,
    ) -> ToolRecord:
        """Store a tool (or count one more creation of a stored one) and return its record."""
        digest = content_hash(tool["code"])
        tool_id = f"{tool['name']}@{digest[:12]}"
        with self._name_lock(tool["name"]):
            existing = self.get(tool_id)
            if existing is None:
                latest = self._head(tool["name"])
                existing = ToolRecord(
                    id=tool_id,
                    name=tool["name"],
                    version=latest.version + 1 if latest else 1,
                    source=tool["code"],
                    signature=tool["signature"],
                    parameters=argument_schema(tool["code"], tool["name"]),
                    description=tool["docstring"],
                    demos=list(demos),
                    verification=list(verification),
                    provenance=provenance or Provenance(),
                    content_hash=digest,
                    tags=sorted(set(tags)),
                    previous=latest.id if latest else None,
                    latm=latm,
                    single_use=single_use,
                )
                self.store.put(TOOLS, tool_id, existing.model_dump(mode="json"))
                self.store.put(HEADS, tool["name"], {"id": tool_id, "version": existing.version})
                self._touch()
        self._event(tool_id, "created")
        return existing

    def restore(self, record: ToolRecord) -> None:
        """Put back a record kept elsewhere (``model_dump``), with its id, version and lineage.

        It becomes its name's latest version unless a later one is stored; its counters start
        at none, since they were never part of the record.
        """
        with self._name_lock(record.name):
            self.store.put(TOOLS, record.id, record.model_dump(mode="json"))
            head = self._head(record.name)
            if head is None or head.version <= record.version:
                self.store.put(HEADS, record.name, {"id": record.id, "version": record.version})
        self._touch()

    def records(self, name: str | None = None) -> Iterator[ToolRecord]:
        """Every readable record (of one name); unreadable rows are skipped with a warning."""
        offset = 0
        where = {"name": name} if name is not None else None
        while page := self.store.search(TOOLS, filter=where, limit=_PAGE, offset=offset):
            offset += len(page)
            for item in page:
                try:
                    yield ToolRecord.model_validate(item.value)
                except ValidationError as exc:
                    logger.warning("skipping unreadable tool row %r: %s", item.key, exc.errors()[0]["msg"])

    def tools(self, name: str | None = None) -> list[ToolRecord]:
        """Records sorted by name and version, optionally of one name only."""
        return sorted(self.records(name), key=lambda record: (record.name, record.version))

    def get(self, name_or_id: str, version: int | None = None) -> ToolRecord | None:
        """A record by id (``name@hash``), or by name: the given version, else the latest."""
        if "@" in name_or_id:
            try:
                item = self.store.get(TOOLS, name_or_id)
                return ToolRecord.model_validate(item.value) if item else None
            except ValidationError:
                logger.warning("tool row %r is unreadable", name_or_id)
                return None
        if version is None and (head := self._head(name_or_id)) is not None:
            return head
        versions = [r for r in self.tools(name_or_id) if version is None or r.version == version]
        return versions[-1] if versions else None

    def _head(self, name: str) -> ToolRecord | None:
        """The latest version of ``name``, through its head row (no scan of the registry)."""
        head = self.store.get(HEADS, name)
        return self.get(str(head.value.get("id"))) if head else None

    def remove(self, name_or_id: str, version: int | None = None) -> int:
        """Delete one version, or every version of a name; return how many were deleted."""
        if "@" in name_or_id:
            doomed = [record for record in [self.get(name_or_id)] if record]
        else:
            doomed = [r for r in self.tools(name_or_id) if version is None or r.version == version]
        for name in sorted({record.name for record in doomed}):
            with self._name_lock(name):
                for record in (record for record in doomed if record.name == name):
                    self.store.delete(TOOLS, record.id)
                    self.store.delete(HEADS, record.name)
                    for event in self.store.search((*EVENTS, record.id), limit=100_000):
                        self.store.delete(event.namespace, event.key)
                if remaining := self.tools(name):
                    self.store.put(HEADS, name, {"id": remaining[-1].id, "version": remaining[-1].version})
        if doomed:
            self._touch()
        return len(doomed)

    def record_use(self, tool_id: str, ok: bool) -> None:
        """Count one use of a tool, and whether it failed."""
        self._event(tool_id, "used" if ok else "failed")

    def stats(self, tool_id: str) -> ToolStats:
        """Creations, uses and failures of a tool."""
        kinds = [item.value.get("kind") for item in self.store.search((*EVENTS, tool_id), limit=100_000)]
        return ToolStats(
            created=kinds.count("created"),
            uses=kinds.count("used") + kinds.count("failed"),
            failures=kinds.count("failed"),
        )

    def search(self, query: str, k: int = 5) -> list[tuple[ToolRecord, float]]:
        """The ``k`` reusable records that best match ``query``, with scores in [0, 1].

        Single-use tools are never found.

        The index is rebuilt only when the registry changed since it was built (any
        process's write changes the registry's generation marker).
        """
        generation = self.generation()
        if self._index is None or self._index[0] != generation or not generation:
            self._index = (generation, ToolIndex([r for r in self.tools() if not r.single_use]))
        return self._index[1].search(query, k)

    def _name_lock(self, name: str) -> contextlib.AbstractContextManager[None]:
        """The lock under which a name's versions and head change, one for every writer."""
        return self.locks.hold(f"toolmaker:tool:{name}")

    def generation(self) -> str:
        """A marker that changes whenever any process adds or removes a tool ("" before the first)."""
        item = self.store.get(META, _GENERATION)
        return str(item.value.get("id")) if item else ""

    def _touch(self) -> None:
        """Mark the registry as changed, after the change itself is written."""
        self.store.put(META, _GENERATION, {"id": uuid.uuid4().hex})

    def _event(self, tool_id: str, kind: str) -> None:
        value = {"kind": kind, "at": datetime.now(UTC).isoformat()}
        self.store.put((*EVENTS, tool_id), uuid.uuid4().hex, value)
