"""The CREATOR graph's state: what the nodes read and the partial updates they return."""

from __future__ import annotations

import operator
from typing import Annotated, Literal, NotRequired

from typing_extensions import TypedDict

from nodes.common.approval import Approval
from nodes.common.usage import ModelCall, TokenUsage, add_usage
from sandbox.result import ExecutionResult
from tools_registry.source import ToolSpec

Status = Literal["running", "solved", "failed"]
FixTarget = Literal["tool", "call", "both", "none"]
GeneralVersion = Literal["general", "still single-use", "answered otherwise", "failed"]
"""How the request for a general version ended: only a version that answers as the tool it
generalizes replaces it (``general`` or ``still single-use``); otherwise that tool stands."""


class Attempt(TypedDict):
    """One execution of the current tool and call, with its verdict."""

    round: int
    """0 for the first run, n for the run after the n-th rectification."""
    tool_code: str
    checks: str
    """The model's own ``assert`` checks of the tool, run before the call."""
    call: str
    result: ExecutionResult | None
    """None when nothing could run (the model's code could not be parsed)."""
    answer: str | None
    failure: str | None
    """Why this attempt is not accepted, in words shown to the rectify step."""
    fixed: FixTarget
    """What the rectification before this attempt changed (``none`` for round 0)."""


class Fallback(TypedDict):
    """A solved run's tool, call and answer, kept while a general version of the tool is asked for."""

    tool: ToolSpec
    checks: str
    call: str
    answer: str


class Candidate(TypedDict):
    """One of the tools and calls whose answers vote (``agree``): the solved one, or a sampled one."""

    tool: ToolSpec | None
    checks: str
    """The self-checks run with this candidate's call: its tool's own (empty when they are off)."""
    call: str
    answer: str | None
    failure: str | None
    """Why it gave no answer."""


class CreatorInput(TypedDict):
    """What a caller gives the CREATOR graph."""

    problem: str
    """The question to solve, in natural language."""
    table: NotRequired[str]
    """Optional table or reference text the problem refers to."""


class CreatorState(CreatorInput, total=False):
    """Everything the CREATOR graph knows about one problem."""

    tool: ToolSpec | None
    """The created (possibly rectified) tool; None until one parses."""
    checks: str
    """The model's ``assert`` checks of the tool."""
    call: str
    """Code that calls the tool for this problem and prints the answer."""
    pending_failure: str | None
    """A parse failure of the last model reply, waiting to be shown to rectify."""
    last_fix: FixTarget
    """What the last rectification changed."""
    attempts: Annotated[list[Attempt], operator.add]
    """Every execution so far, oldest first."""
    rounds: int
    """Rectification rounds used."""
    answer: str | None
    """The accepted answer (the last line the call printed)."""
    status: Status
    tokens: Annotated[dict[str, TokenUsage], add_usage]
    """Tokens and calls per model role."""
    model_calls: Annotated[list[ModelCall], operator.add]
    """Every model call, with its node, model and seconds (per-node costs and money)."""
    generality: list[str]
    """Why the solved run's tool is not general (empty: it is); such a tool is registered single-use."""
    generality_before: list[str]
    """The same, for the first tool that solved the problem (before a general version was asked for)."""
    general_version: GeneralVersion | None
    """How the request for a general version of a single-use tool ended (None: none was asked for)."""
    fallback: Fallback | None
    """The solved run kept while rectify writes a general version; restored if that version fails."""
    rectify_request: str | None
    """What rectify is asked to change when it is not the last attempt's failure."""
    candidates: list[Candidate]
    """The candidates that voted on the answer (``agree_candidates`` > 1), the solved one first."""
    unchanged_is_an_answer: bool
    """Rectify was asked to judge the candidates' split: giving the code back unchanged says it is right."""
    reused_tool_id: str | None
    """The registered tool retrieve chose instead of creating one, if any."""
    reuse_score: float
    """Its retrieval score."""
    tool_id: str | None
    """The registry id the solved tool was stored under."""
    approval: Approval | None
    """A person's decision on the new tool (``approve_tools``): rejected ones are not stored."""
