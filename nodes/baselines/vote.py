"""vote: the compute-matched baseline samples several programs and takes the majority answer."""

from __future__ import annotations

from dataclasses import replace

from langgraph.runtime import Runtime

from nodes.common.asking import ask, problem_values
from nodes.common.context import context_of
from nodes.common.judging import judge, most_voted, program_files
from nodes.common.parsing import require_code
from nodes.common.usage import ModelCall, usage_update
from nodes.creator.context import CreatorContext
from nodes.creator.state import Attempt, CreatorState
from sandbox import Executor, Limits
from toolmaker.models import ChatModelFactory
from tools_registry.source import ToolSourceError

_SAMPLING_TEMPERATURE = 0.7


def vote(
    state: CreatorState, runtime: Runtime[CreatorContext], *, models: ChatModelFactory, executor: Executor
) -> dict[str, object]:
    """Sample ``vote_samples`` programs (temperature 0.7, seeds seed..seed+n-1), run each, vote.

    Give it as many samples as CREATOR spends model calls and the two use the same compute.
    """
    context = context_of(runtime, CreatorContext)
    temperature = context.temperature or _SAMPLING_TEMPERATURE
    calls: list[ModelCall] = []
    attempts: list[Attempt] = []
    for index in range(context.vote_samples):
        sample_context = replace(context, temperature=temperature, seed=context.seed + index)
        text, call_cost = ask(models, sample_context, "program", **problem_values(state))
        calls.append(call_cost)
        try:
            program = require_code(text, "program")
        except ToolSourceError as exc:
            attempts.append(Attempt(round=index, tool_code="", checks="", call="", result=None, answer=None,
                                    failure=str(exc), fixed="none"))  # fmt: skip
            continue
        main, modules = program_files("", "", program)
        result = executor.run(main, modules=modules, limits=Limits(wall_seconds=context.execution_timeout_s))
        verdict = judge(result, question=state["problem"], one_value=context.one_value_answers)
        attempts.append(Attempt(round=index, tool_code="", checks="", call=program, result=result,
                                answer=verdict.answer, failure=verdict.failure, fixed="none"))  # fmt: skip
    answers = [attempt["answer"] for attempt in attempts if attempt["answer"] is not None]
    if not answers:
        return {**usage_update(calls), "attempts": attempts, "answer": None, "status": "failed", "rounds": 0}
    answer = answers[most_voted(answers)[0]]
    return {**usage_update(calls), "attempts": attempts, "answer": answer, "status": "solved", "rounds": 0}
