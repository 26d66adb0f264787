"""Requests of families that have no tool yet, waiting in the graph's store (they survive restarts)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from langgraph.store.base import BaseStore
from pydantic import BaseModel, ValidationError

QUEUE = ("toolmaker", "latm_queue")
FAMILIES = ("toolmaker", "latm_families")


class Waiting(BaseModel):
    """One queued request, with the maker's own answer to it once it has one."""

    key: str
    request: str
    label: str | None = None
    at: str


class RequestQueue:
    """Per-family queues of requests, and the families the maker could make no tool for."""

    def __init__(self, store: BaseStore) -> None:
        """Keep the queues in ``store``."""
        self.store = store

    def add(self, family: str, request: str, label: str | None) -> Waiting:
        """Queue ``request`` under ``family`` with the maker's answer to it (``label``)."""
        waiting = Waiting(
            key=uuid.uuid4().hex, request=request, label=label, at=datetime.now(UTC).isoformat()
        )
        self.store.put((*QUEUE, family), waiting.key, waiting.model_dump())
        return waiting

    def waiting(self, family: str) -> list[Waiting]:
        """The family's queued requests, oldest first; unreadable rows are skipped."""
        rows = []
        for item in self.store.search((*QUEUE, family), limit=10_000):
            try:
                rows.append(Waiting.model_validate(item.value))
            except ValidationError:
                continue
        return sorted(rows, key=lambda row: row.at)

    def families(self) -> dict[str, str]:
        """Each family with requests waiting, with its oldest request as an example."""
        found: dict[str, str] = {}
        for namespace in self.store.list_namespaces(prefix=QUEUE, limit=100_000):
            family = namespace[len(QUEUE)] if len(namespace) > len(QUEUE) else ""
            if family and (rows := self.waiting(family)):
                found[family] = rows[0].request
        return found

    def remove(self, family: str, key: str) -> None:
        """Take one queued request back."""
        self.store.delete((*QUEUE, family), key)

    def clear(self, family: str) -> None:
        """Remove the family's queued requests (they have been answered with its tool)."""
        for row in self.waiting(family):
            self.remove(family, row.key)

    def mark_no_tool(self, family: str, reason: str, example: str) -> None:
        """Remember that making failed: the family's requests go to the maker directly."""
        self.store.put(FAMILIES, family, {"status": "no_tool", "reason": reason, "example": example})

    def no_tool_families(self) -> dict[str, str]:
        """Each family the maker could make no tool for, with an example request."""
        return {
            str(item.key): str(item.value.get("example", ""))
            for item in self.store.search(FAMILIES, limit=100_000)
            if item.value.get("status") == "no_tool"
        }

    def no_tool_reason(self, family: str) -> str | None:
        """Why the family has no tool, if making failed for it."""
        item = self.store.get(FAMILIES, family)
        return str(item.value.get("reason", "")) if item else None
