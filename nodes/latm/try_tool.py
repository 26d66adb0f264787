"""try: run the tool and the maker's calls on every example that has one, and grade them."""

from __future__ import annotations

from langgraph.runtime import Runtime

from nodes.common.context import context_of
from nodes.latm.context import LatmContext
from nodes.latm.examples import try_example
from nodes.latm.state import ExampleResult, ToolMakingState
from sandbox import Executor


def try_tool(
    state: ToolMakingState, runtime: Runtime[LatmContext], *, executor: Executor
) -> dict[str, object]:
    """Try the train calls (and the validation calls once verify wrote them) in the sandbox.

    A pending parse failure is left for the router: there is nothing to run.
    """
    tool = state.get("tool")
    if state.get("pending_failure") or tool is None:
        return {"results": []}
    results: list[ExampleResult] = []
    for split, examples, calls in (
        ("train", state["train"], state.get("train_calls", [])),
        ("valid", state["valid"], state.get("valid_calls", [])),
    ):
        for example, call in zip(examples, calls, strict=False):
            results.append(
                try_example(
                    executor,
                    tool,
                    call,
                    example,
                    split=split,  # type: ignore[arg-type]
                    task=state["task"],
                    timeout_s=context_of(runtime, LatmContext).execution_timeout_s,
                )
            )
    return {"results": results}
