"""register: a verified tool enters the registry with its card, family and making cost."""

from __future__ import annotations

from langgraph.runtime import Runtime

from nodes.common.approval import approval_note, review_tool
from nodes.common.asking import model_name
from nodes.common.context import context_of
from nodes.common.usage import total_seconds, usage_of
from nodes.latm.context import LatmContext
from nodes.latm.examples import render_card
from nodes.latm.state import ToolMakingState
from prompts import prompt_label
from toolmaker.costs import PriceTable
from toolmaker.models import ChatModelFactory
from tools_registry import Demo, LatmInfo, MakingCost, Provenance, ToolRegistry, VerifiedExample


def register_tool(
    state: ToolMakingState, runtime: Runtime[LatmContext], *, models: ChatModelFactory, prices: PriceTable
) -> dict[str, object]:
    """Store the verified tool; without a store, the card in the state is the result.

    With ``approve_tools``, a person approves, rejects or edits it first (nothing is
    written before that: a resumed node starts again).
    """
    tool = state["tool"]
    if runtime.store is None or tool is None:
        return {"tool_id": None}
    context = context_of(runtime, LatmContext)
    calls = state.get("model_calls", [])
    maker = usage_of(calls, "maker")
    request = context.model_request("maker")
    maker_model = model_name(models(request), request)
    results = state["results"]
    provenance = Provenance(
        problem=state["train"][0]["question"] if state["train"] else "",
        method="latm",
        model=maker_model,
        prompt_variant=prompt_label(context.propose_prompt),
    )
    approval = None
    if context.approve_tools:
        shown = [
            {k: r[k] for k in ("split", "question", "call", "answer", "expected", "passed")} for r in results
        ]
        reviewed, approval = review_tool(tool, shown, provenance.model_dump(mode="json"))
        if reviewed is None:
            return {"tool_id": None, "approval": approval}
        tool = reviewed
        provenance.approval = approval_note(approval)
    record = ToolRegistry(runtime.store).add(
        tool,
        demos=[Demo(question=r["question"], call=r["call"], output=r["answer"] or "") for r in results],
        verification=[
            VerifiedExample(call=r["call"], output=r["answer"], expected=r["expected"], passed=r["passed"])
            for r in results
        ],
        provenance=provenance,
        tags=["latm", f"family:{state['task']}"],
        latm=LatmInfo(
            family=state["task"],
            card=state["card"]
            if approval is None or approval["decision"] != "edit"
            else render_card(tool, results),
            verified=state.get("verified_by", "gold"),
            maker_model=maker_model,
            making=MakingCost(
                input_tokens=maker["input"],
                output_tokens=maker["output"],
                calls=maker["calls"],
                seconds=total_seconds(calls),
                dollars=prices.dollars(calls),
            ),
        ),
    )
    return {"tool_id": record.id, "approval": approval}
