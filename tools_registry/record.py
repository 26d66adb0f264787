"""The record of one created tool, as the registry stores it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from tools_registry.source import ToolSpec


class Demo(BaseModel):
    """One worked use of the tool: the call and what it printed (and the request it answered)."""

    call: str
    output: str
    question: str = ""


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
    approval: str = ""
    """A person's decision before it was registered (``approve`` or ``edit``, with the reason), if asked."""
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class MakingCost(BaseModel):
    """What making a tool cost, over every proposal and fix."""

    input_tokens: int = 0
    output_tokens: int = 0
    calls: int = 0
    seconds: float = 0.0
    dollars: float = 0.0


class LatmInfo(BaseModel):
    """What a LATM tool's record adds: the task family it serves and how it was verified."""

    family: str
    """The task family (a Big-Bench task name, or one the dispatcher named)."""
    card: str
    """The tool card a light model reads: the function and question → call demos."""
    verified: Literal["gold", "self"]
    """``gold``: checked against labelled answers; ``self``: against the maker's own answers."""
    maker_model: str = ""
    making: MakingCost = Field(default_factory=MakingCost)


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
    latm: LatmInfo | None = None
    """Set on tools a LATM tool maker made and verified."""
    single_use: str | None = None
    """Why the tool serves only the problem it was made for (not general); such tools are never offered."""

    def spec(self) -> ToolSpec:
        """The tool as graphs hold it (name, code, docstring, signature)."""
        return ToolSpec(
            name=self.name, code=self.source, docstring=self.description, signature=self.signature
        )

    @property
    def passed_verification(self) -> bool:
        """Whether every recorded example passed (vacuously true without examples)."""
        return all(example.passed for example in self.verification)


class ToolStats(BaseModel):
    """Counters of a tool, summed from its event rows."""

    created: int = 0
    uses: int = 0
    failures: int = 0
