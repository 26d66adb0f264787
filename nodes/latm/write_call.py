"""write_call: the light model reads the tool card and writes the call for one request."""

from __future__ import annotations

from langgraph.runtime import Runtime

from nodes.common.asking import ask_as, unusable_reply
from nodes.common.context import context_of
from nodes.common.parsing import call_from_code, require_code
from nodes.common.usage import usage_update
from nodes.latm.context import LatmContext
from nodes.latm.state import ToolUseState
from toolmaker.models import ChatModelFactory
from tools_registry import ToolRegistry, ToolSourceError, ToolSpec


class UnknownToolError(LookupError):
    """The request names a tool the registry does not have (or no store to look in)."""


def _tool_from_registry(state: ToolUseState, runtime: Runtime[LatmContext]) -> dict[str, object]:
    if "tool" in state and "card" in state:
        return {}
    tool_id = state.get("tool_id", "")
    record = ToolRegistry(runtime.store).get(tool_id) if runtime.store is not None and tool_id else None
    if record is None or record.latm is None:
        raise UnknownToolError(
            f"no LATM tool {tool_id!r} in the graph's store: give its id, or tool and card"
        )
    return {"tool": record.spec(), "card": record.latm.card, "task": record.latm.family}


def write_call(
    state: ToolUseState, runtime: Runtime[LatmContext], *, models: ChatModelFactory
) -> dict[str, object]:
    """Ask the user role for one call of the tool that prints this request's answer."""
    found = _tool_from_registry(state, runtime)
    tool: ToolSpec = found.get("tool") or state["tool"]  # type: ignore[assignment]
    card = str(found.get("card") or state["card"])
    text, call_cost = ask_as(
        models,
        context_of(runtime, LatmContext),
        "write_call",
        "user",
        {"card": card, "request": state["request"].strip()},
    )
    update: dict[str, object] = {**found, **usage_update([call_cost]), "repairs": 0, "status": "running"}
    try:
        call = call_from_code(require_code(text, "write_call"), tool["name"], tool["code"])
    except ToolSourceError as exc:
        return {**update, "call": "", "failure": unusable_reply("write_call", "call", exc, text)}
    return {**update, "call": call, "failure": None}
