"""propose: the maker writes one generic function for the task from the train demos."""

from __future__ import annotations

from dataclasses import replace

from langgraph.runtime import Runtime

from nodes.common.asking import ask_as, unusable_reply
from nodes.common.context import context_of
from nodes.common.usage import usage_of, usage_update
from nodes.latm.context import LatmContext
from nodes.latm.examples import read_tool_and_calls, render_examples
from nodes.latm.state import ProposalRecord, ToolMakingState
from toolmaker.models import ChatModelFactory
from tools_registry.source import ToolSourceError


def proposal_record(state: ToolMakingState, verified: bool) -> ProposalRecord:
    """What the current proposal reached and cost, for the ``proposals`` history."""
    results = state.get("results", [])
    calls = state.get("model_calls", [])[state.get("proposal_start", 0) :]
    tool = state.get("tool")
    return ProposalRecord(
        index=state.get("proposal", 0),
        tool_code=tool["code"] if tool else "",
        train_passed=sum(r["passed"] for r in results if r["split"] == "train"),
        valid_passed=sum(r["passed"] for r in results if r["split"] == "valid"),
        fix_rounds=state.get("fix_rounds", 0),
        verified=verified,
        tokens=usage_of(calls, "maker"),
    )


def propose(
    state: ToolMakingState, runtime: Runtime[LatmContext], *, models: ChatModelFactory
) -> dict[str, object]:
    """Ask the maker for a function and its call on each train question.

    A first proposal samples at the context's temperature; each fresh one after a
    proposal that failed samples at ``proposal_temperature`` with another seed, and the
    failed proposal is recorded in ``proposals``.

    Raises:
        ValueError: No train or no validation example: a tool is verified on both.
    """
    if not state["train"] or not state["valid"]:
        raise ValueError("the tool maker needs at least one train and one validation example")
    context = context_of(runtime, LatmContext)
    first = "proposal" not in state
    index = 0 if first else state["proposal"] + 1
    if not first:
        context = replace(context, temperature=context.proposal_temperature, seed=context.seed + index)
    text, call_cost = ask_as(
        models,
        context,
        "propose",
        "maker",
        {"task": state["task"], "examples": render_examples(state["train"])},
    )
    update: dict[str, object] = {
        **usage_update([call_cost]),
        "proposal": index,
        "fix_rounds": 0,
        "proposal_start": len(state.get("model_calls", [])),
        "valid_calls": [],
        "results": [],
        "status": "making",
    }
    if not first:
        update["proposals"] = [proposal_record(state, verified=False)]
    try:
        tool, calls = read_tool_and_calls(text, len(state["train"]))
    except ToolSourceError as exc:
        return {
            **update,
            "tool": None,
            "train_calls": [],
            "pending_failure": unusable_reply("propose", "tool", exc, text),
        }
    return {**update, "tool": tool, "train_calls": calls, "pending_failure": None}
