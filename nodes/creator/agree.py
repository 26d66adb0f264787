"""agree: a second signal against silent wrong answers, from more sampled tools and calls.

Code that runs and prints a wrong number is what rectification cannot see. Once a tool
has answered, ``agree`` samples ``agree_candidates - 1`` more candidates (a new tool, a
new call, or both, at ``agree_temperature``) and runs each in the sandbox. An answer held
by a majority of all the candidates stands, with a tool, call and self-checks that gave
it. Without a majority the run goes to rectify, shown every candidate's answer and the
code behind it, so the model must judge which is right; if rectify's rounds end without
an answer, the first answer stands (execute restores it), as it does when no round is
left to judge in.
"""

from __future__ import annotations

from dataclasses import replace
from typing import cast

from langgraph.runtime import Runtime

from nodes.common.context import context_of
from nodes.common.judging import answer_key, judge, most_voted, program_files
from nodes.common.usage import ModelCall, usage_update
from nodes.creator.context import CreatorContext
from nodes.creator.create import create
from nodes.creator.decide import decide
from nodes.creator.state import Candidate, CreatorState
from sandbox import Executor, Limits
from toolmaker.models import ChatModelFactory
from tools_registry.source import ToolSpec


def agree(
    state: CreatorState, runtime: Runtime[CreatorContext], *, models: ChatModelFactory, executor: Executor
) -> dict[str, object]:
    """Sample more candidates for the solved problem and vote; a split goes to rectify.

    The calls it makes are recorded under the node ``agree``, so a compute-matched
    baseline sees them.
    """
    context = context_of(runtime, CreatorContext)
    tool = state.get("tool")
    if tool is None or state.get("answer") is None:
        raise ValueError("agree needs a tool that answered: route to it only after a solved execute")
    first = Candidate(
        tool=tool,
        checks=state.get("checks", ""),
        call=state.get("call", ""),
        answer=state["answer"],
        failure=None,
    )
    candidates = [first]
    calls: list[ModelCall] = []
    for index in range(1, context.agree_candidates):
        seeded = replace(context, seed=context.seed + index)
        candidate, asked = _sample(state, tool, runtime, seeded, models=models, executor=executor)
        candidates.append(candidate)
        calls += [{**call, "node": "agree"} for call in asked]
    update = {**usage_update(calls), "candidates": candidates}
    answered = [c for c in candidates if c["answer"] is not None]
    winner, votes = most_voted([cast(str, c["answer"]) for c in answered])
    if 2 * votes > len(candidates):
        chosen = answered[winner]
        return {**update, "tool": chosen["tool"], "checks": chosen["checks"], "call": chosen["call"],
                "answer": chosen["answer"]}  # fmt: skip
    if state.get("rounds", 0) >= context.max_rectify_rounds:
        return update  # no round left to judge the split in: the first answer stands
    return {
        **update,
        "status": "running",
        "rectify_request": _split(candidates),
        "unchanged_is_an_answer": True,
    }


def _sample(
    state: CreatorState,
    solved: ToolSpec,
    runtime: Runtime[CreatorContext],
    seeded: CreatorContext,
    *,
    models: ChatModelFactory,
    executor: Executor,
) -> tuple[Candidate, list[ModelCall]]:
    """One more candidate: a sampled tool or the solved one, then its call, run in the sandbox.

    A sampled tool brings its own self-checks (when they are on), run with its call as the
    first candidate's were; the solved tool keeps the checks it already passed.
    """
    sampled = runtime.override(context=replace(seeded, temperature=seeded.agree_temperature))
    greedy = runtime.override(context=seeded)
    asked: list[ModelCall] = []
    tool, checks = solved, state.get("checks", "")
    if seeded.agree_sampling != "calls":
        made = create(state, sampled, models=models)
        asked += _calls(made)
        if made["tool"] is None:
            return Candidate(
                tool=None, checks="", call="", answer=None, failure=str(made["pending_failure"])
            ), asked
        tool, checks = cast(ToolSpec, made["tool"]), str(made["checks"])
    decided = decide({**state, "tool": tool}, sampled if seeded.agree_sampling != "tools" else greedy,
                     models=models)  # fmt: skip
    asked += _calls(decided)
    call = str(decided.get("call", ""))
    if not call:
        return Candidate(
            tool=tool, checks=checks, call="", answer=None, failure=str(decided["pending_failure"])
        ), asked
    main, modules = program_files(tool["code"], checks, call)
    result = executor.run(main, modules=modules, limits=Limits(wall_seconds=seeded.execution_timeout_s))
    verdict = judge(result, checks, question=state["problem"], one_value=seeded.one_value_answers)
    return Candidate(
        tool=tool, checks=checks, call=call, answer=verdict.answer, failure=verdict.failure
    ), asked


def _calls(update: dict[str, object]) -> list[ModelCall]:
    return cast(list[ModelCall], update.get("model_calls", []))


def _split(candidates: list[Candidate]) -> str:
    """What rectify is shown when the candidates disagree: each one's code and answer."""
    shown = []
    for number, candidate in enumerate(candidates, start=1):
        code = candidate["tool"]["code"].strip() if candidate["tool"] else "# (no usable tool)"
        outcome = (
            candidate["answer"] if candidate["answer"] is not None else f"no answer: {candidate['failure']}"
        )
        shown.append(
            f"Candidate {number}:\n```python\n{code}\n\n{candidate['call']}\n```\nIt printed: {outcome}"
        )
    answers = {answer_key(c["answer"]) for c in candidates if c["answer"] is not None}
    why = (
        "tools written independently for this problem disagree, so at most one answer is right"
        if len(answers) > 1
        else "the other tools written independently for this problem gave no answer, so none confirms it"
    )
    return (
        f"The code above ran, but {why}:\n\n" + "\n\n".join(shown) + "\n\nJudge which answer is right. "
        "If the tool and call above are right, give them again unchanged; otherwise give the corrected code."
    )
