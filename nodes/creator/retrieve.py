"""retrieve: reuse a registered tool that matches the problem instead of creating one."""

from __future__ import annotations

from langgraph.runtime import Runtime

from nodes.common.asking import problem_text
from nodes.common.context import context_of
from nodes.creator.context import CreatorContext
from nodes.creator.state import CreatorState
from tools_registry import ToolRegistry


def retrieve(state: CreatorState, runtime: Runtime[CreatorContext]) -> dict[str, object]:
    """Search the graph's store for a tool that fits; take the best one above the threshold.

    Does nothing unless ``reuse_tools`` is on and the graph was compiled with a store, so
    the default run stays faithful to the paper: every problem creates its own tool.
    """
    context = context_of(runtime, CreatorContext)
    if not context.reuse_tools or runtime.store is None:
        return {}
    matches = ToolRegistry(runtime.store).search(problem_text(state), k=1)
    if not matches or matches[0][1] < context.reuse_threshold:
        return {}
    record, score = matches[0]
    return {
        "tool": record.spec(),
        "reused_tool_id": record.id,
        "reuse_score": score,
        "status": "running",
        "rounds": 0,
    }


def reuses_stored_tool(state: CreatorState, registry: ToolRegistry) -> bool:
    """Whether the run used a registered tool as stored: rectify or the vote may have replaced it."""
    reused_id, tool = state.get("reused_tool_id"), state.get("tool")
    reused = registry.get(reused_id) if reused_id else None
    return reused is not None and tool is not None and reused.source == tool["code"]
