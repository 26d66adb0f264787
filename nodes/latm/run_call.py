"""run_call: the tool and the user's call run in the sandbox; the last printed line is the answer."""

from __future__ import annotations

from langgraph.runtime import Runtime

from nodes.common.context import context_of
from nodes.common.judging import judge, program_files
from nodes.latm.context import LatmContext
from nodes.latm.state import ToolUseState
from sandbox import Executor, Limits


def run_call(state: ToolUseState, runtime: Runtime[LatmContext], *, executor: Executor) -> dict[str, object]:
    """Run the call (the request's text is in ``question``); ``solved``, or ``failed`` when out of repairs."""
    context = context_of(runtime, LatmContext)
    if not state.get("failure"):
        main, modules = program_files(state["tool"]["code"], "", state["call"], question=state["request"])
        verdict = judge(
            executor.run(main, modules=modules, limits=Limits(wall_seconds=context.execution_timeout_s)),
            question=state["request"],
        )
        if verdict.answer is not None:
            return {"answer": verdict.answer, "failure": None, "status": "solved"}
        failure = verdict.failure
    else:
        failure = state["failure"]
    done = state.get("repairs", 0) >= context.user_repair_rounds
    return {"answer": None, "failure": failure, "status": "failed" if done else "running"}
