"""repair_call: the tool user sees its call's failure and writes the call again."""

from __future__ import annotations

from langgraph.runtime import Runtime

from nodes.common.asking import ask_as, unusable_reply
from nodes.common.context import context_of
from nodes.common.parsing import call_from_code, require_code
from nodes.common.usage import usage_update
from nodes.latm.context import LatmContext
from nodes.latm.state import ToolUseState
from toolmaker.models import ChatModelFactory
from tools_registry import ToolSourceError


def repair_call(
    state: ToolUseState, runtime: Runtime[LatmContext], *, models: ChatModelFactory
) -> dict[str, object]:
    """One repair round of the call (at most ``user_repair_rounds``); the tool itself is not changed."""
    tool = state["tool"]
    text, call_cost = ask_as(
        models,
        context_of(runtime, LatmContext),
        "repair_call",
        "user",
        {"card": state["card"], "request": state["request"].strip(), "call": state.get("call") or "# (none)",
         "failure": state.get("failure") or ""},
    )  # fmt: skip
    update: dict[str, object] = {**usage_update([call_cost]), "repairs": state.get("repairs", 0) + 1}
    try:
        call = call_from_code(require_code(text, "repair_call"), tool["name"], tool["code"])
    except ToolSourceError as exc:
        return {**update, "failure": unusable_reply("repair_call", "call", exc, text)}
    return {**update, "call": call, "failure": None}
