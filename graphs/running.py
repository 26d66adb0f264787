"""Run a CREATOR-state graph on one problem and summarise the run (CLI, evaluation, tests)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal, cast

import openai
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command
from typing_extensions import TypedDict

from nodes.common.approval import Approval
from nodes.common.usage import ModelCall, TokenUsage
from nodes.creator.context import CreatorContext
from nodes.creator.state import Attempt, CreatorInput, GeneralVersion, Status
from nodes.latm.state import MakingStatus, ProposalRecord
from prompts import PromptError
from toolmaker.embedded.server import EmbeddedServerError
from toolmaker.embedded.weights import WeightsError
from tools_registry.source import ToolSpec

INTERRUPT = "__interrupt__"
"""The key under which a stream's update carries the interrupts the run stopped at."""

RUN_ERRORS = (openai.OpenAIError, EmbeddedServerError, WeightsError, PromptError, OSError)
"""Failures outside the model's code that end a run with a report instead of a crash."""

ProgressCallback = Callable[[str, dict[str, Any]], None]
"""Called after each node with the node's name and its state update."""


class SolveReport(TypedDict):
    """The outcome of one problem, as ``toolmaker solve --json`` prints it."""

    problem: str
    answer: str | None
    status: Status | None
    rounds: int
    tool: ToolSpec | None
    call: str
    attempts: list[Attempt]
    tokens: dict[str, TokenUsage]
    model_calls: list[ModelCall]
    """Every model call: node, role, model, tokens and seconds (costs per node, money)."""
    seconds: float
    error: str | None
    """Why the run stopped early (endpoint down, bad configuration); None otherwise."""
    tool_id: str | None
    """The registry id of the solved tool, when it was registered."""
    reused_tool_id: str | None
    """The registered tool that was reused instead of creating one, if any."""
    generality: list[str] | None
    """Why the final tool is not general (empty: it is); None when no tool solved the problem."""
    generality_before: list[str] | None
    """The same, for the first tool that solved it, before a general version was asked for."""
    general_version: GeneralVersion | None
    """How the request for a general version ended, when one was asked for."""
    waiting_for: dict[str, Any] | None
    """What the run stopped for (``approve_tools``: the new tool, for a person's decision), if it did."""
    approval: Approval | None
    """The person's decision on the new tool, once given."""


def describe_run_error(exc: Exception) -> str:
    """One line saying what failed outside the model's code, and where."""
    if isinstance(exc, openai.APITimeoutError):
        return f"the model endpoint {exc.request.url} did not answer in time, after its retries: {exc}"
    if isinstance(exc, openai.APIConnectionError):
        return f"cannot reach the model endpoint {exc.request.url}: {exc} Is the server running?"
    if isinstance(exc, openai.APIStatusError):
        return f"the model endpoint {exc.request.url} answered {exc.status_code}: {exc.message}"
    return f"{type(exc).__name__}: {exc}"


def stream_run(
    graph: CompiledStateGraph[Any, Any, Any, Any],
    inputs: Any,
    context: Any,
    *,
    config: RunnableConfig | None = None,
    on_progress: ProgressCallback | None = None,
) -> tuple[dict[str, Any], dict[str, Any] | None, str | None]:
    """Run ``graph`` on ``inputs``; its last state, what it stopped for (an interrupt) and why it failed.

    With ``inputs`` None, the checkpointed run of ``config``'s thread continues from its
    last finished step; with a ``Command(resume=...)``, a run that stopped for a person's
    decision goes on with it. Failures outside the models' code (a dead endpoint, a missing
    model) end the run with an error; the state recorded up to then is kept (and, with a
    checkpointer, in the thread, to resume).
    """
    state: dict[str, Any] = {}
    if inputs is None or isinstance(inputs, Command):
        state = dict(graph.get_state(config or {}).values)
    error: str | None = None
    waiting: dict[str, Any] | None = None
    checkpointed = isinstance(graph.checkpointer, BaseCheckpointSaver)
    try:
        # A checkpointed run saves each step before the next starts, so a kill loses at most that one.
        # Given to a graph without a checkpointer (a config of callbacks only), LangGraph 1.2 crashes on it.
        durability: Literal["sync"] | None = "sync" if checkpointed else None
        stream = graph.stream(
            inputs, config, context=context, stream_mode=["updates", "values"], durability=durability
        )
        for item in stream:
            mode, chunk = cast(tuple[str, Any], item)
            if mode == "values":
                state = dict(chunk)
            elif INTERRUPT in chunk:
                waiting = dict(chunk[INTERRUPT][0].value)
            elif on_progress is not None:
                for node, update in chunk.items():
                    on_progress(node, update or {})
    except RUN_ERRORS as exc:
        error = describe_run_error(exc)
    if waiting is not None and not checkpointed:
        kind = waiting.get("kind", "decision")
        error = f"the run stopped for a {kind} (approve_tools), but it has no checkpointer to resume it"
    return state, waiting, error


def solve(
    graph: CompiledStateGraph[Any, Any, Any, Any],
    problem: CreatorInput | Command[Any] | None,
    context: CreatorContext,
    *,
    on_progress: ProgressCallback | None = None,
    config: RunnableConfig | None = None,
) -> SolveReport:
    """Run ``graph`` on ``problem`` (or resume it: see ``stream_run``), streaming node updates; report it."""
    started = time.monotonic()
    state, waiting, error = stream_run(graph, problem, context, config=config, on_progress=on_progress)
    tool = state.get("tool")
    return SolveReport(
        problem=state.get("problem", problem["problem"] if isinstance(problem, dict) else ""),
        answer=state.get("answer"),
        status=state.get("status") if error is None else "failed",
        rounds=state.get("rounds", 0),
        tool=tool,
        call=state.get("call", ""),
        attempts=state.get("attempts", []),
        tokens=state.get("tokens", {}),
        model_calls=state.get("model_calls", []),
        seconds=round(time.monotonic() - started, 2),
        error=error,
        tool_id=state.get("tool_id"),
        reused_tool_id=state.get("reused_tool_id"),
        generality=state.get("generality"),
        generality_before=state.get("generality_before"),
        general_version=state.get("general_version"),
        waiting_for=waiting,
        approval=state.get("approval"),
    )


class RequestReport(TypedDict):
    """One request through the LATM dispatcher, as ``toolmaker latm solve --json`` prints it."""

    request: str
    route: str | None
    """``cached tool``, ``queued``, ``made now`` or ``no tool``."""
    family: str | None
    answer: str | None
    tool_id: str | None
    waiters: list[dict[str, str | None]]
    """Earlier requests answered with a tool made for this one's family."""
    tokens: dict[str, TokenUsage]
    model_calls: list[ModelCall]
    seconds: float
    error: str | None
    waiting_for: dict[str, Any] | None
    """What the run stopped for (``approve_tools``: a made tool, for a person's decision), if it did."""


def dispatch_request(
    graph: CompiledStateGraph[Any, Any, Any, Any],
    request: str | Command[Any] | None,
    context: Any,
    *,
    config: RunnableConfig | None = None,
) -> RequestReport:
    """Run the dispatcher on ``request`` (or resume it: see ``stream_run``); failures become ``error``.

    Streamed, so the calls made before a failure are still reported and priced.
    """
    started = time.monotonic()
    inputs = {"request": request} if isinstance(request, str) else request
    state, waiting, error = stream_run(graph, inputs, context, config=config)
    return RequestReport(
        request=state.get("request", request if isinstance(request, str) else ""),
        route=state.get("route"),
        family=state.get("family"),
        answer=state.get("answer"),
        tool_id=state.get("tool_id"),
        waiters=state.get("waiters", []),
        tokens=state.get("tokens", {}),
        model_calls=state.get("model_calls", []),
        seconds=round(time.monotonic() - started, 2),
        error=error,
        waiting_for=waiting,
    )


class MakeReport(TypedDict):
    """One tool making, as ``toolmaker latm make --json`` prints it."""

    task: str
    status: MakingStatus | None
    tool_id: str | None
    reason: str | None
    """Why no tool was made, or why the run stopped early."""
    card: str | None
    proposals: list[ProposalRecord]
    tokens: dict[str, TokenUsage]
    seconds: float
    """The maker's model time."""
    dollars: float
    approval: Approval | None
    waiting_for: dict[str, Any] | None
    """What the run stopped for (``approve_tools``: the verified tool, for a person's decision), if it did."""
    error: str | None
