"""decide: the model writes the call of the tool for this very problem."""

from __future__ import annotations

from langgraph.runtime import Runtime

from nodes.common.asking import ask, problem_values, unusable_reply
from nodes.common.context import context_of
from nodes.common.parsing import call_from_code, require_code
from nodes.common.usage import usage_update
from nodes.creator.context import CreatorContext
from nodes.creator.state import CreatorState
from toolmaker.models import ChatModelFactory
from tools_registry.source import ToolSourceError, render_tool_signature


def decide(
    state: CreatorState, runtime: Runtime[CreatorContext], *, models: ChatModelFactory
) -> dict[str, object]:
    """Ask for code that calls the tool with this problem's values and prints the answer.

    The model sees the tool's signature and docstring only, as any later user of the
    tool would. A reply that never calls the tool becomes a ``pending_failure``.
    """
    tool = state.get("tool")
    if tool is None:
        return {}
    context = context_of(runtime, CreatorContext)
    text, call_cost = ask(
        models,
        context,
        "decide",
        **problem_values(state),
        tool=render_tool_signature(tool),
    )
    try:
        call = call_from_code(require_code(text, "decide"), tool["name"], tool["code"])
    except ToolSourceError as exc:
        failure = unusable_reply("decide", "call", exc, text)
        return {**usage_update([call_cost]), "call": "", "pending_failure": failure}
    return {**usage_update([call_cost]), "call": call, "pending_failure": None}
