"""fix: show the maker which examples failed and how; take its fixed function and calls."""

from __future__ import annotations

from langgraph.runtime import Runtime

from nodes.common.asking import ask_as, unusable_reply
from nodes.common.context import context_of
from nodes.common.usage import usage_update
from nodes.latm.context import LatmContext
from nodes.latm.examples import read_tool_and_calls, render_examples
from nodes.latm.state import ExampleResult, ToolMakingState
from toolmaker.models import ChatModelFactory
from tools_registry.source import ToolSourceError

_NO_TOOL = "# (no usable function yet: write one)"


def _report(failed: list[ExampleResult]) -> str:
    return "\n\n".join(
        f"Example {number}\nQuestion: {result['question'].strip()}\nCall:\n{result['call']}\n"
        f"Expected answer: {result['expected']}\nWhat happened: {result['failure']}"
        for number, result in enumerate(failed, start=1)
    )


def fix(
    state: ToolMakingState, runtime: Runtime[LatmContext], *, models: ChatModelFactory
) -> dict[str, object]:
    """Ask for a fix of the failing examples: a new function and one call per failing example.

    The fixed calls replace the failing examples' calls; the other calls are kept.
    """
    tool = state.get("tool")
    results = state.get("results", [])
    failed_positions = [position for position, result in enumerate(results) if not result["passed"]]
    failed = [results[position] for position in failed_positions]
    if failed:
        failure = _report(failed)
    else:  # a reply that could not be read: every train example needs its call again
        examples = render_examples(state["train"])
        failure = f"{state.get('pending_failure')}\n\nThe examples to call it on:\n\n{examples}"
    wanted = len(failed) or len(state["train"])
    text, call_cost = ask_as(
        models,
        context_of(runtime, LatmContext),
        "fix",
        "maker",
        {"task": state["task"], "tool_code": tool["code"].strip() if tool else _NO_TOOL, "failures": failure,
         "count": str(wanted)},
    )  # fmt: skip
    update: dict[str, object] = {**usage_update([call_cost]), "fix_rounds": state.get("fix_rounds", 0) + 1}
    try:
        new_tool, new_calls = read_tool_and_calls(text, wanted, tool)
    except ToolSourceError as exc:
        return {**update, "pending_failure": unusable_reply("fix", "fix", exc, text)}
    train_calls = list(state.get("train_calls", []))
    valid_calls = list(state.get("valid_calls", []))
    if not failed_positions:
        train_calls, valid_calls = new_calls, []
    for position, call in zip(failed_positions, new_calls, strict=bool(failed_positions)):
        if position < len(train_calls):
            train_calls[position] = call
        else:
            valid_calls[position - len(train_calls)] = call
    return {**update, "tool": new_tool, "train_calls": train_calls, "valid_calls": valid_calls,
            "pending_failure": None}  # fmt: skip
