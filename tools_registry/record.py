"""The record of one created tool, as the registry stores it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field


class Demo(BaseModel):
    """One worked use of the tool: the call and what it printed."""

    call: str
    output: str


class VerifiedExample(BaseModel):
    """One example the tool was run on before it entered the registry."""

    call: str
    output: str | None = None
    expected: str | None = None
    passed: bool


class Provenance(BaseModel):
    """Where a tool came from."""

    problem: str = ""
    method: str = "creator"
    model: str = ""
    prompt_variant: str = ""
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class ToolRecord(BaseModel):
    """A stored tool version. Immutable except for its counters, which live apart."""

    id: str
    """``name@hash12``: the same normalised code always has the same id."""
    name: str
    version: int
    """1 for the first implementation under this name, then 2, 3, ..."""
    source: str
    signature: str
    parameters: dict[str, Any]
    """JSON schema of the arguments, read from the signature by AST."""
    description: str
    demos: list[Demo] = Field(default_factory=list)
    verification: list[VerifiedExample] = Field(default_factory=list)
    provenance: Provenance = Field(default_factory=Provenance)
    content_hash: str
    tags: list[str] = Field(default_factory=list)
    previous: str | None = None
    """Id of the version this one replaced (its lineage)."""

    @property
    def passed_verification(self) -> bool:
        """Whether every recorded example passed (vacuously true without examples)."""
        return all(example.passed for example in self.verification)


class ToolStats(BaseModel):
    """Counters of a tool, summed from its event rows."""

    created: int = 0
    uses: int = 0
    failures: int = 0
