"""register: keep a tool whose run succeeded in the graph's store, for later reuse."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from nodes.common.approval import approval_note, review_tool
from nodes.common.asking import model_name
from nodes.common.context import context_of
from nodes.creator.context import CreatorContext
from nodes.creator.retrieve import reuses_stored_tool
from nodes.creator.state import CreatorState
from prompts import prompt_label
from toolmaker.models import ChatModelFactory
from tools_registry import Demo, Provenance, ToolRegistry, VerifiedExample


def register(
    state: CreatorState, runtime: Runtime[CreatorContext], *, models: ChatModelFactory
) -> dict[str, object]:
    """Count a reused tool's use; add a solved run's new tool with its demo, checks and provenance.

    A reused tool's use is counted (failed or not) whenever the graph has a store; it is
    added again only if rectification changed it (a new version). Adding is skipped when
    ``register_tools`` is off. The call and its printed answer become the tool's usage
    demo; its self-checks, if any, its verification. A tool that is not general is stored
    single-use, with the reason: it is kept and counted, but never offered for reuse.

    With ``approve_tools``, a tool about to be added waits for a person's decision first
    (:func:`review_tool`): before anything is written, since a resumed node starts again.
    """
    context = context_of(runtime, CreatorContext)
    tool = state.get("tool")
    if runtime.store is None or tool is None:
        return {}
    registry = ToolRegistry(runtime.store)
    solved = state.get("status") == "solved"
    reused_id = state.get("reused_tool_id")
    unchanged = reuses_stored_tool(state, registry)
    adding = context.register_tools and solved and not unchanged
    checks = [line for line in state.get("checks", "").splitlines() if line.startswith("assert ")]
    approval = None
    if adding:
        request = context.model_request()
        provenance = Provenance(
            problem=state["problem"],
            method="creator",
            model=model_name(models(request), request),
            prompt_variant=prompt_label(context.create_prompt),
        )
    if adding and context.approve_tools:
        shown: list[dict[str, Any]] = [{"check": check} for check in checks]
        shown.append({"call": state.get("call", ""), "printed": state.get("answer")})
        reviewed, approval = review_tool(tool, shown, provenance.model_dump(mode="json"))
        if reviewed is None:
            adding = False
        else:
            tool = reviewed
            provenance.approval = approval_note(approval)
    if reused_id:
        registry.record_use(reused_id, ok=solved)
        if unchanged:
            return {"tool_id": reused_id}
    if not adding:
        return {"approval": approval} if approval else {}
    record = registry.add(
        tool,
        # The run's answer, not the last attempt's: after a vote or a general version given up,
        # the last execution may be another tool's.
        demos=[Demo(call=state.get("call", ""), output=state.get("answer") or "")],
        verification=[VerifiedExample(call=check, passed=True) for check in checks],
        single_use="; ".join(state.get("generality", [])) or None,
        provenance=provenance,
    )
    return {"tool_id": record.id, "approval": approval}
