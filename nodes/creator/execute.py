"""execute: run tool, checks and call in the sandbox; accept an answer or ask to rectify."""

from __future__ import annotations

from langgraph.runtime import Runtime

from nodes.common.context import context_of
from nodes.common.judging import Verdict, judge, program_files
from nodes.creator.context import CreatorContext
from nodes.creator.state import Attempt, Candidate, CreatorState, Status
from sandbox import Executor, Limits


def execute(
    state: CreatorState, runtime: Runtime[CreatorContext], *, executor: Executor
) -> dict[str, object]:
    """Run the current tool and call once and record the attempt.

    Sets ``status`` to ``solved`` on an accepted answer, ``failed`` once
    ``max_rectify_rounds`` are used up (or the sandbox itself broke), else ``running``.
    A pending parse failure is recorded as an attempt without running anything. A run
    whose candidates split (``agree``) had an answer before rectify judged the split: if
    the rounds run out without a new one, the first candidate's tool, call and answer stand.
    """
    context = context_of(runtime, CreatorContext)
    tool = state.get("tool")
    tool_code = tool["code"] if tool else ""
    checks, call = state.get("checks", ""), state.get("call", "")
    result = None
    if pending := state.get("pending_failure"):
        verdict = Verdict(None, pending)
    else:
        main, modules = program_files(tool_code, checks, call)
        result = executor.run(main, modules=modules, limits=Limits(wall_seconds=context.execution_timeout_s))
        verdict = judge(result, checks, question=state["problem"], one_value=context.one_value_answers)
    rounds = state.get("rounds", 0)
    status: Status
    if verdict.answer is not None:
        status = "solved"
    elif verdict.infrastructure_error or rounds >= context.max_rectify_rounds:
        status = "failed"
    else:
        status = "running"
    attempt = Attempt(
        round=rounds,
        tool_code=tool_code,
        checks=checks,
        call=call,
        result=result,
        answer=verdict.answer,
        failure=verdict.failure,
        fixed=state.get("last_fix", "none"),
    )
    update: dict[str, object] = {"attempts": [attempt], "pending_failure": None}
    first = _first_candidate(state)
    # The first answer ran before the sandbox failed, so it stands even then; the attempt keeps the failure.
    if status == "failed" and first is not None:
        return {**update, "tool": first["tool"], "checks": first["checks"], "call": first["call"],
                "answer": first["answer"], "status": "solved"}  # fmt: skip
    return {**update, "answer": verdict.answer, "status": status}


def _first_candidate(state: CreatorState) -> Candidate | None:
    """The answer a split vote set aside while rectify judges it (none outside that judging)."""
    candidates = state.get("candidates") or []
    # A kept fallback means a general version is being written, after the vote was settled.
    if not candidates or state.get("fallback") is not None or candidates[0]["answer"] is None:
        return None
    return candidates[0]
