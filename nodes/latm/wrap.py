"""wrap: a verified tool becomes a tool card; give_up: no proposal passed, say why."""

from __future__ import annotations

from langgraph.runtime import Runtime

from nodes.common.context import context_of
from nodes.latm.context import LatmContext
from nodes.latm.examples import render_card
from nodes.latm.propose import proposal_record
from nodes.latm.state import ToolMakingState


def wrap(state: ToolMakingState, runtime: Runtime[LatmContext]) -> dict[str, object]:
    """The function with its imports and docstring, and the passing question → call demos."""
    tool = state["tool"]
    assert tool is not None  # routed here only when every example passed
    return {
        "card": render_card(tool, state["results"]),
        "status": "verified",
        "reason": None,
        "proposals": [proposal_record(state, verified=True)],
    }


def give_up(state: ToolMakingState, runtime: Runtime[LatmContext]) -> dict[str, object]:
    """Record the last proposal and why the task has no tool; requests fall back to the maker."""
    failed = [result for result in state.get("results", []) if not result["passed"]]
    last = state.get("pending_failure") or (failed[0]["failure"] if failed else "no example passed")
    context = context_of(runtime, LatmContext)
    reason = (
        f"no proposal passed every train and validation example after {context.max_proposals} proposals "
        f"with {context.max_fix_rounds} fix rounds each; the last failure: {last}"
    )
    return {"status": "no_tool", "reason": reason, "proposals": [proposal_record(state, verified=False)]}
