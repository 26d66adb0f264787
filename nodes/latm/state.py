"""The state of LATM's graphs: making a tool, using it, and dispatching requests."""

from __future__ import annotations

import operator
from typing import Annotated, Literal, NotRequired

from typing_extensions import TypedDict

from nodes.common.approval import Approval
from nodes.common.usage import ModelCall, TokenUsage, add_usage
from tools_registry.source import ToolSpec

Split = Literal["train", "valid"]
MakingStatus = Literal["making", "verified", "no_tool"]
Route = Literal["cached tool", "queued", "made now", "no tool"]


class Example(TypedDict):
    """A question of the task with its answer (gold, or the maker's own)."""

    question: str
    answer: str


class ExampleResult(TypedDict):
    """One example run through the current tool and its call."""

    split: Split
    question: str
    expected: str
    call: str
    answer: str | None
    passed: bool
    failure: str | None
    """Why it did not pass (an error, no output, a wrong answer), for the fix step."""


class ProposalRecord(TypedDict):
    """What became of one proposal: how far it got and what it cost."""

    index: int
    tool_code: str
    train_passed: int
    valid_passed: int
    fix_rounds: int
    verified: bool
    tokens: TokenUsage


class ToolMakingInput(TypedDict):
    """What the tool maker is given: a task and its demonstrations."""

    task: str
    """The task family's name; the tool is registered under it."""
    train: list[Example]
    """Demonstrations the tool is written from and tried on (LATM: 3)."""
    valid: list[Example]
    """Held-out examples the tool must pass before it is registered (LATM: 3)."""
    verified_by: NotRequired[Literal["gold", "self"]]
    """``gold`` for labelled answers (default), ``self`` for the maker's own answers."""


class ToolMakingState(ToolMakingInput, total=False):
    """Everything the tool maker knows while it makes one tool."""

    tool: ToolSpec | None
    """The current proposal, possibly fixed; None while no reply parsed."""
    train_calls: list[str]
    """The maker's call of the tool for each train question, in order."""
    valid_calls: list[str]
    """Its call for each validation question; empty until verify."""
    results: list[ExampleResult]
    """The last try of every example that has a call."""
    pending_failure: str | None
    """A reply that could not be used, waiting to be shown to fix."""
    proposal: int
    """0 for the first proposal, n for the n-th fresh one."""
    fix_rounds: int
    """Fix rounds used on the current proposal."""
    proposal_start: int
    """Where the current proposal's model calls begin in ``model_calls``."""
    proposals: Annotated[list[ProposalRecord], operator.add]
    """Every proposal that ended, oldest first."""
    status: MakingStatus
    reason: str | None
    """Why no tool was made (status ``no_tool``)."""
    card: str
    """The tool card a light model reads (status ``verified``)."""
    tool_id: str | None
    """The registry id of the verified tool."""
    approval: Approval | None
    """A person's decision on the verified tool (``approve_tools``): rejected ones are not stored."""
    tokens: Annotated[dict[str, TokenUsage], add_usage]
    model_calls: Annotated[list[ModelCall], operator.add]


class ToolUseInput(TypedDict):
    """A request and the tool to answer it with: a registry id, or the tool and its card."""

    request: str
    tool_id: NotRequired[str]
    """Look the tool up in the graph's store."""
    tool: NotRequired[ToolSpec]
    card: NotRequired[str]


class ToolUseState(ToolUseInput, total=False):
    """The tool user's work on one request."""

    task: str
    """The tool's family, as its record names it."""
    call: str
    answer: str | None
    failure: str | None
    repairs: int
    status: Literal["running", "solved", "failed"]
    tokens: Annotated[dict[str, TokenUsage], add_usage]
    model_calls: Annotated[list[ModelCall], operator.add]


class DispatchInput(TypedDict):
    """One request for the dispatcher."""

    request: str


class DispatchState(DispatchInput, total=False):
    """The dispatcher's decision for one request and how it was answered."""

    candidates: list[str]
    """The families of the cached tools the registry proposed, best first."""
    pending: list[str]
    """Families waiting for a tool, offered to the dispatcher too."""
    choice: str
    """A candidate family, a pending family, or ``none``."""
    family: str
    """The family the request belongs to, as decided."""
    route: Route
    tool_id: str | None
    answer: str | None
    waiters: list[dict[str, str | None]]
    """Requests answered with a tool made now: ``{"request", "answer"}``."""
    error: str | None
    tokens: Annotated[dict[str, TokenUsage], add_usage]
    model_calls: Annotated[list[ModelCall], operator.add]
