"""register: keep a tool whose run succeeded in the graph's store, for later reuse."""

from __future__ import annotations

from langgraph.runtime import Runtime

from nodes.context import CreatorContext
from nodes.state import CreatorState
from toolmaker.models import ChatModelFactory
from tools_registry import Demo, Provenance, ToolRegistry, VerifiedExample


def register(
    state: CreatorState, runtime: Runtime[CreatorContext], *, models: ChatModelFactory
) -> dict[str, object]:
    """Add the solved run's tool to the registry with its demo, checks and provenance.

    Skipped when ``register_tools`` is off or the graph has no store. The call and its
    printed answer become the tool's usage demo; its self-checks, if any, its verification.
    """
    context = runtime.context
    tool = state.get("tool")
    if not context.register_tools or runtime.store is None or tool is None:
        return {}
    last = state["attempts"][-1]
    checks = [line for line in state.get("checks", "").splitlines() if line.startswith("assert ")]
    request = context.model_request()
    model_name = str(getattr(models(request), "model_name", "") or request.model or request.role)
    record = ToolRegistry(runtime.store).add(
        tool,
        demos=[Demo(call=state.get("call", ""), output=last["answer"] or "")],
        verification=[VerifiedExample(call=check, passed=True) for check in checks],
        provenance=Provenance(
            problem=state["problem"],
            method="creator",
            model=model_name,
            prompt_variant=context.create_prompt,
        ),
    )
    return {"tool_id": record.id}
